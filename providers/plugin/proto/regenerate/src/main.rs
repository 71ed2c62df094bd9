//! Regenerates `providers/plugin/src/protocol/tfplugin{6,5}.rs` from the `.proto` files
//! beside this crate (see its `Cargo.toml`).

use std::path::Path;

fn main() {
    let proto = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the proto directory").to_path_buf();
    let out = proto.parent().expect("the crate").join("src/protocol");
    for file in ["tfplugin6.proto", "tfplugin5.proto"] {
        let descriptors = protox::compile([proto.join(file)], [&proto]).expect("the .proto file compiles");
        tonic_prost_build::configure()
            .build_server(false)
            .build_transport(false)
            .out_dir(&out)
            .compile_fds(descriptors)
            .expect("code generation");
    }
    println!("wrote {}", out.display());
}
