//! What every provider family shares: building schemas ([`schema`]), reading attributes
//! ([`attributes`]) and the planning rule most resource kinds follow ([`plan`]).
//!
//! The built-in providers in `stdlib` and each provider family's own crate
//! (`providers/aws`, ...) depend on this crate, never on each other; `stdlib` registers
//! them all.

pub mod attributes;
pub mod plan;
pub mod schema;

pub use attributes::{attribute, known, whole_number};
pub use plan::{keep_computed, plan_attributes};
pub use schema::{kind, provider, resource_schema, unknown_kind};
