//! Fuzzes the evaluator and the built-in functions: arbitrary text evaluated as one
//! expression must give a value or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = infra_stdlib::testing::eval(text);
    }
});
