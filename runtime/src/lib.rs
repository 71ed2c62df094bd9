//! Values, evaluation, plan and apply for Infra.
//!
//! This release ships the front end (`infra-compiler`); the runtime — values with unknown
//! and sensitive marks, the provider interface, plan, apply and state — is the next
//! milestone. The crate exists now so the workspace has its final shape.
