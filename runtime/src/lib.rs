//! Values, evaluation, plan and apply for Infra.
//!
//! This crate owns the meaning of the language: [`value`] (values with unknown and
//! sensitive marks), [`convert`] (conversion to declared types), [`function`] (the
//! interface the built-in functions implement) and [`eval`] (evaluating expressions and
//! modules); [`plan`] plans and applies, [`state`] keeps what was applied behind the
//! `StateBackend` trait, and [`codes`] lists the diagnostic codes the runtime reports.
//! [`session`] is the one API front ends plan, apply, destroy and import through, and
//! [`saved_plan`] the plans `infra plan --out` saves.

pub mod address;
pub mod codes;
pub mod compare;
pub mod convert;
pub mod diff;
pub mod eval;
pub mod expand;
pub mod function;
pub mod inputs;
pub mod module;
pub mod plan;
pub mod provider;
pub mod salted;
pub mod saved_plan;
pub mod session;
pub mod state;
pub mod validate;
pub mod value;

pub use value::{Kind, Value};
