//! Fuzzes parse + check + fmt with arbitrary bytes as the only file of a module.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut loader = infra_compiler::MemoryLoader::new();
    loader.insert("m/main.infra", data.to_vec());
    let _ = infra_compiler::analyze(std::path::Path::new("m"), &loader, infra_stdlib::builtin());
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(formatted) = infra_compiler::fmt::format_source(infra_compiler::FileId(0), text) {
            // Formatting is idempotent on anything it accepts.
            let again = infra_compiler::fmt::format_source(infra_compiler::FileId(0), &formatted);
            assert_eq!(again.as_deref(), Ok(formatted.as_str()));
        }
    }
});
