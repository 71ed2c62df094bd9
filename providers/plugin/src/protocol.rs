//! The plugin protocol's messages and gRPC clients, versions 6 and 5, generated from
//! Infra's own subset of Terraform's definitions (`providers/plugin/proto/*.proto`) by
//! `providers/plugin/proto/regenerate` and committed, so building needs no protobuf
//! compiler.

#[allow(clippy::all, clippy::pedantic, missing_docs)]
#[rustfmt::skip]
#[path = "protocol/tfplugin6.rs"]
pub mod tfplugin6;

#[allow(clippy::all, clippy::pedantic, missing_docs)]
#[rustfmt::skip]
#[path = "protocol/tfplugin5.rs"]
pub mod tfplugin5;
