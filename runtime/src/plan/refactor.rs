//! `moved`, `import` and `forget`: statements that change what state holds before a
//! module instance is planned, without touching any object.
//!
//! Addresses in a module's statements are relative to each of its instances. A move
//! renames every instance within its source (`moved web -> app` moves `web[0]` to
//! `app[0]`; `moved web -> net.web` moves into a module; `moved web[0] -> web["a"]`
//! changes a key). A move whose source state does not hold is fine when state already
//! holds its destination (it was applied before) or when the state is empty (a fresh
//! deployment of a configuration that kept its old moves); otherwise it names nothing
//! and is an error. Chains of moves and moves onto an occupied address are errors.

use infra_compiler::diagnostic::{codes, Diagnostic};
use infra_compiler::syntax::ast::{self, Item};

use super::engine::{display_frame, instance_key, Engine, Frame};
use super::PlannedInstance;
use crate::address::{Address, Step};
use crate::diff::{diff, Action};
use crate::eval::Locals;
use crate::state::{Action as JournalAction, JournalEntry, Mode, MoveError};
use crate::value::Name;

impl<'a> Engine<'_, 'a> {
    /// Applies the module instance's `moved` and `forget` statements to the state and
    /// registers its `import`s.
    pub fn refactor(&self, frame: &Frame<'a>) -> Result<(), Vec<Diagnostic>> {
        let module = frame.module();
        let mut errors = Vec::new();
        let mut moves = Vec::new();
        for (_, item) in module.items() {
            match item {
                Item::Moved(moved) => match (self.address(frame, &moved.from), self.address(frame, &moved.to)) {
                    (Ok(from), Ok(to)) => moves.push((from, to, moved)),
                    (from, to) => errors.extend(from.err().into_iter().chain(to.err())),
                },
                Item::Import(import) => {
                    if let Err(error) = self.register_import(frame, import) {
                        errors.push(error);
                    }
                }
                Item::Forget(forget) => {
                    if let Err(error) = self.apply_forget(frame, forget) {
                        errors.push(error);
                    }
                }
                _ => {}
            }
        }
        for (i, (from, to, moved)) in moves.iter().enumerate() {
            for (j, (other_from, _, other)) in moves.iter().enumerate() {
                if i != j && (to.is_within(other_from) || other_from.is_within(to)) {
                    errors.push(
                        Diagnostic::error(
                            codes::INVALID_MOVE,
                            format!("moves cannot be chained: `{to}` is moved again by another `moved`"),
                        )
                        .with_label(moved.to.span, "moved here")
                        .with_secondary(other.from.span, "and moved on from here")
                        .with_help(format!("move `{from}` straight to the final address in one statement")),
                    );
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        for (from, to, moved) in &moves {
            if let Err(error) = self.apply_move(frame, from, to, moved) {
                errors.push(error);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// A statement's address under the module instance's prefix, its keys evaluated.
    fn address(&self, frame: &Frame<'a>, address: &ast::Address) -> Result<Address, Diagnostic> {
        let mut steps = Vec::with_capacity(address.steps.len());
        for step in &address.steps {
            let key = match &step.key {
                None => None,
                Some(expr) => {
                    let value = frame.scope.evaluator().eval(expr, &mut Locals::new())?;
                    Some(instance_key(&value).ok_or_else(|| {
                        crate::eval::invalid_value(expr.span, "an address key must be a known string or whole number")
                            .with_help("write the key as a literal, such as `web[0]` or `web[\"a\"]`")
                    })?)
                }
            };
            steps.push(Step { name: step.name.name.clone(), key });
        }
        Ok(Address { steps }.within(&frame.prefix))
    }

    /// Moves what state holds within `from` to `to` (see [`State::move_instances`]),
    /// journaling each move when applying.
    ///
    /// [`State::move_instances`]: crate::state::State::move_instances
    fn apply_move(
        &self,
        frame: &Frame<'a>,
        from: &Address,
        to: &Address,
        moved: &ast::Moved,
    ) -> Result<(), Diagnostic> {
        self.check_still_declared(frame, from, to, moved)?;
        let result = self.state_mut().move_instances(from, to);
        let moves = match result {
            Ok(moves) => moves,
            Err(MoveError::NothingToMove) => return self.nothing_to_move(frame, from, to, moved),
            Err(MoveError::Occupied { to: new, .. } | MoveError::Collision { to: new }) => {
                return Err(Diagnostic::error(
                    codes::INVALID_MOVE,
                    format!("cannot move onto `{new}`: state already holds an object there"),
                )
                .with_label(moved.to.span, "occupied")
                .with_help(format!("forget or destroy what `{new}` holds first, or move to another address")))
            }
        };
        for (old, new) in moves {
            self.record_move(old, new, moved.to.span);
        }
        Ok(())
    }

    /// Journals a move state already made (when applying) and keeps it for the plan.
    fn record_move(&self, old: Address, new: Address, span: infra_compiler::Span) {
        if self.apply.is_some() {
            let instance = self.state.borrow().instances.get(&new).cloned();
            self.journal_now(JournalEntry::complete(self.serial(), old.clone(), JournalAction::Delete, None));
            self.journal_now(JournalEntry::complete(self.serial(), new.clone(), JournalAction::Import, instance));
        }
        self.moved.borrow_mut().insert(new, (old, span));
    }

    /// Terraform's implied move, for a declaration whose repetition changed: one that
    /// gained a `for` whose instances include `[0]` takes over the object state holds at
    /// its bare address (`note` becomes `note[0]`), and one that lost its `for` takes
    /// over `[0]`, unless state already holds the destination. Without it, adding
    /// `for i in range(n)` to a server would replace it. A module call's instance moves
    /// whole (`net.web` becomes `net[0].web`), which Terraform leaves to a `moved`.
    pub(super) fn implied_move(
        &self,
        frame: &Frame<'a>,
        (name, span): (&Name, infra_compiler::Span),
        repeat: Option<&ast::Repeat>,
        instances: &[crate::expand::Instance],
    ) {
        use crate::address::InstanceKey;
        let bare = frame.address(name.clone(), None);
        let first = frame.address(name.clone(), Some(InstanceKey::Index(0)));
        let (from, to) = match matches!(repeat, Some(ast::Repeat::For(_))) {
            true if instances.iter().any(|i| i.key == Some(InstanceKey::Index(0))) => (bare, first),
            false if instances.iter().any(|i| i.key.is_none()) => (first, bare),
            _ => return,
        };
        let moves: Vec<(Address, Address)> = {
            // Looked at first: the plan's state is the loaded one until something changes it.
            let state = self.state.borrow();
            let held = |at: &Address| state.instances.range(at..).next().is_some_and(|(a, _)| starts_with(a, at));
            if !held(&from) || held(&to) {
                return;
            }
            state
                .instances
                .range(&from..)
                .map(|(a, _)| a)
                .take_while(|a| starts_with(a, &from))
                .map(|a| {
                    let mut steps = to.steps.clone();
                    steps.extend_from_slice(&a.steps[from.steps.len()..]);
                    (a.clone(), Address { steps })
                })
                .collect()
        };
        let mut state = self.state_mut();
        for (old, new) in &moves {
            if let Some(instance) = state.instances.remove(old) {
                state.instances.insert(new.clone(), instance);
            }
        }
        drop(state);
        for (old, new) in moves {
            self.record_move(old, new, span);
        }
    }

    /// A move whose source state does not hold: fine when state holds its destination
    /// (it was applied before), the source is still declared, or the state is empty.
    fn nothing_to_move(
        &self,
        frame: &Frame<'a>,
        from: &Address,
        to: &Address,
        moved: &ast::Moved,
    ) -> Result<(), Diagnostic> {
        let state = self.state.borrow();
        let arrived = state.instances.keys().any(|a| a.is_within(to));
        let declared = moved.from.steps.first().is_some_and(|s| frame.module().decl(&s.name.name).is_some());
        if arrived || declared || state.instances.is_empty() {
            return Ok(());
        }
        Err(Diagnostic::error(
            codes::INVALID_MOVE,
            format!("nothing to move: state holds nothing at `{from}` (in {})", display_frame(&frame.prefix)),
        )
        .with_label(moved.from.span, "not in state, nor in the configuration")
        .with_help(
            "check the spelling against `infra state list`; remove the statement if the move was made in another \
             state, or if what it moved was removed from this one (`infra state rm`)",
        ))
    }

    /// A whole declaration moved to another name must no longer be declared.
    fn check_still_declared(
        &self,
        frame: &Frame<'a>,
        from: &Address,
        to: &Address,
        moved: &ast::Moved,
    ) -> Result<(), Diagnostic> {
        if self.state.borrow().instances.keys().all(|a| !a.is_within(from)) {
            return Ok(());
        }
        let first = moved.from.steps.first().map(|s| s.name.name.as_str()).unwrap_or_default();
        let renamed = moved.to.steps.first().map(|s| s.name.name.as_str()) != Some(first);
        if renamed
            && moved.from.steps.len() == 1
            && moved.from.steps[0].key.is_none()
            && frame.module().decl(first).is_some()
        {
            return Err(Diagnostic::error(
                codes::INVALID_MOVE,
                format!("cannot move `{from}`: the configuration still declares it"),
            )
            .with_label(moved.from.span, "still declared")
            .with_help(format!(
                "remove or rename the declaration of `{first}`; the move gives its objects to `{to}`"
            )));
        }
        Ok(())
    }

    fn register_import(&self, frame: &Frame<'a>, import: &ast::Import) -> Result<(), Diagnostic> {
        // `infra import` imports the one object it was given, as `terraform import`
        // does: the statements wait for a plan. Its walk plans only that instance, so
        // a statement's instance would otherwise look undeclared (E0211).
        if self.apply.is_some_and(|a| a.import_only) {
            return Ok(());
        }
        let address = self.address(frame, &import.to)?;
        let id = frame.scope.eval(&import.id)?;
        let Some(id) = id.as_str().filter(|_| id.is_wholly_known()) else {
            return Err(crate::eval::invalid_value(import.id.span, "the id to import must be a known string")
                .with_help("use a literal or values known before apply"));
        };
        if !self.state.borrow().instances.contains_key(&address) {
            self.imports.borrow_mut().insert(address, (id.to_string(), import.id.span));
        }
        Ok(())
    }

    fn apply_forget(&self, frame: &Frame<'a>, forget: &ast::Forget) -> Result<(), Diagnostic> {
        let address = self.address(frame, &forget.address)?;
        let first = forget.address.steps.first().map(|s| s.name.name.as_str()).unwrap_or_default();
        if forget.address.steps.len() == 1
            && forget.address.steps[0].key.is_none()
            && frame.module().decl(first).is_some()
        {
            return Err(Diagnostic::error(
                codes::INVALID_MOVE,
                format!("cannot forget `{address}`: the configuration still declares it"),
            )
            .with_label(forget.address.span, "still declared")
            .with_help(format!(
                "remove the declaration of `{first}` too; `forget` keeps its objects but stops managing them"
            )));
        }
        let forgotten: Vec<Address> =
            self.state.borrow().instances.keys().filter(|a| a.is_within(&address)).cloned().collect();
        for old in forgotten {
            let Some(instance) = self.state.borrow().instances.get(&old).cloned() else { continue };
            if instance.mode != Mode::Managed {
                self.state_mut().instances.remove(&old);
                continue;
            }
            let (provider_name, kind) = instance.resource_type.split_once('.').unwrap_or(("", ""));
            let factory = self.context.providers.iter().find(|f| f.name() == provider_name);
            let schema = factory.and_then(|f| f.schema().resources.get(kind).cloned()).unwrap_or_default();
            let mut planned_diff = diff(&schema, Some(&instance.attributes), None, false, false);
            planned_diff.action = Action::Forget;
            self.push(PlannedInstance {
                address: old.clone(),
                resource_type: instance.resource_type.clone(),
                mode: Mode::Managed,
                diff: planned_diff,
                sensitive: super::steps::sensitive_attributes(&schema, &instance.attributes),
                drifted_from: None,
                record_anyway: false,
                moved_from: None,
                imported: None,
            });
            if self.apply.is_some() {
                self.forget_now(&old);
            } else {
                self.state_mut().instances.remove(&old);
            }
        }
        Ok(())
    }
}

/// Whether `address` is `prefix` or within it, its keys equal (where
/// [`Address::is_within`] takes a step without a key for any key).
fn starts_with(address: &Address, prefix: &Address) -> bool {
    address.steps.starts_with(&prefix.steps)
}
