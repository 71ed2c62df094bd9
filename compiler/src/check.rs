//! placeholder
use crate::{Diagnostic, Schemas};
use crate::resolve::Module;
pub struct Tables;
pub fn check_modules(_: &[Module], _: &dyn Schemas, _: &mut Vec<Diagnostic>) -> Tables { Tables }
