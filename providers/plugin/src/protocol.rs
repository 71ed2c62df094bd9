//! The plugin protocol's messages and gRPC clients, versions 6 and 5, generated from
//! Infra's own subset of Terraform's definitions (`providers/plugin/proto/*.proto`) by
//! `providers/plugin/proto/regenerate` and committed, so building needs no protobuf
//! compiler.

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod tfplugin6 {
    include!("protocol/tfplugin6.rs");
}

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod tfplugin5 {
    include!("protocol/tfplugin5.rs");
}
