//! Parsing: source text to [`ast`] with spans, with per-item error recovery.

pub mod ast;
pub mod lexical;
mod lower;
mod parser;
pub mod walk;

pub use parser::{fast_parser_coverage, parse_expression, parse_file, parse_file_with_pest, parse_var_file, Parsed};
pub(crate) use parser::{parse_reader, READ_PIECE};
