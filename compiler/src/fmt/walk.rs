//! Finds every heredoc in a file, so verbatim re-indentation can leave them alone.

use crate::syntax::ast::{Expr, ExprKind, Item};
use crate::syntax::walk::{walk_expr, walk_items, Visitor};

/// The byte range of every heredoc, sorted by start.
pub(super) fn heredocs(items: &[Item]) -> Vec<(usize, usize)> {
    let mut heredocs = Heredocs(Vec::new());
    walk_items(&mut heredocs, items);
    let mut ranges = heredocs.0;
    ranges.sort_unstable();
    ranges
}

struct Heredocs(Vec<(usize, usize)>);

impl<'ast> Visitor<'ast> for Heredocs {
    fn visit_expr(&mut self, expr: &'ast Expr) {
        if matches!(expr.kind, ExprKind::Heredoc(_)) {
            self.0.push((expr.span.start as usize, expr.span.end as usize));
        }
        walk_expr(self, expr);
    }
}
