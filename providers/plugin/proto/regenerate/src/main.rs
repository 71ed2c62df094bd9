//! Regenerates `providers/plugin/src/protocol/tfplugin{6,5}.rs` from the `.proto` files
//! beside this crate (see its `Cargo.toml`).

use std::path::Path;

fn main() {
    let proto = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the proto directory").to_path_buf();
    let out = proto.parent().expect("the crate").join("src/protocol");
    for (file, version) in [("tfplugin6.proto", 6), ("tfplugin5.proto", 5)] {
        let descriptors = protox::compile([proto.join(file)], [&proto]).expect("the .proto file compiles");
        tonic_prost_build::configure()
            .build_server(false)
            .build_transport(false)
            .out_dir(&out)
            .compile_fds(descriptors)
            .expect("code generation");
        // A module doc before the generator's output (the generated file is a module of
        // its own, `#[path]`-included by `protocol.rs`).
        let generated = out.join(format!("tfplugin{version}.rs"));
        let code = std::fs::read_to_string(&generated).expect("the generated file");
        let header = format!(
            "//! Plugin protocol version {version}: messages and the gRPC client, generated from\n\
             //! `providers/plugin/proto/{file}` by `providers/plugin/proto/regenerate`. Do not edit.\n\n"
        );
        std::fs::write(&generated, header + &code).expect("the generated file is written");
    }
    println!("wrote {}", out.display());
}
