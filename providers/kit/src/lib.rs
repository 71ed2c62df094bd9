//! What every provider family shares: building schemas ([`schema`]), reading attributes
//! ([`attributes`]), the planning rule most resource kinds follow ([`plan`]), JSON documents
//! of REST APIs as attributes ([`json`]), retrying HTTP calls ([`retry`]), reading many
//! objects of a kind from its list ([`listed`]) and ending polling waits and retry pauses
//! when the run is interrupted ([`stop`], [`Retrying`]).
//!
//! The built-in providers in `stdlib` and each provider family's own crate
//! (`providers/aws`, ...) depend on this crate, never on each other; `stdlib` registers
//! them all.

pub mod attributes;
#[cfg(feature = "canned")]
pub mod canned;
pub mod json;
pub mod listed;
pub mod plan;
pub mod retry;
pub mod schema;
pub mod stop;

pub use attributes::{attribute, is_unset, known, timeout, whole_number};
pub use plan::{keep_computed, plan_attributes};
pub use retry::{RetryInterrupted, Retrying};
pub use schema::{absent_block, kind, provider, resource_schema, timeouts_block, unknown_kind};
pub use stop::{Interrupted, Stop, Stopped};
