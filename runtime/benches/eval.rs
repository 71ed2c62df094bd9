//! Micro-benchmarks of the evaluator: indexing into a resource of many instances,
//! templates, operators and `for` expressions, on values a module would hold.

use std::collections::BTreeMap;
use std::path::Path;

use infra_compiler::schema::NoSchemas;
use infra_compiler::syntax::ast::{Expr, FnDecl};
use infra_compiler::syntax::parse_expression;
use infra_compiler::{FileId, Span};
use infra_runtime::eval::{EvalResult, Evaluator, Globals, Locals};
use infra_runtime::function::{CallContext, FunctionResult, Functions};
use infra_runtime::value::Value;

fn main() {
    divan::main();
}

/// No built-in functions: the expressions measured call none.
struct NoFunctions;

impl Functions for NoFunctions {
    fn call(&self, _: &str, _: &[Value], _: &CallContext<'_>) -> Option<FunctionResult> {
        None
    }
}

/// A module's names: `web`, a resource of 10,000 instances with three attributes
/// each, and `names`, a list of 1,000 strings.
struct Module {
    values: BTreeMap<String, Value>,
}

impl Globals for Module {
    fn value(&self, name: &str, _: Span) -> Option<EvalResult> {
        self.values.get(name).cloned().map(Ok)
    }

    fn function(&self, _: &str) -> Option<&FnDecl> {
        None
    }

    fn with_value(&self, name: &str, _: Span, f: &mut dyn FnMut(&Value) -> EvalResult) -> Option<EvalResult> {
        self.values.get(name).map(f)
    }
}

fn module() -> Module {
    let instance = |i: usize| {
        Value::map(BTreeMap::from([
            ("id".to_string(), Value::string(format!("id-{i}"))),
            ("input".to_string(), Value::string(format!("in-{i}"))),
            ("output".to_string(), Value::string(format!("out-{i}"))),
        ]))
    };
    let web = Value::list((0..10_000).map(instance).collect());
    let names = Value::list((0..1_000).map(|i| Value::string(format!("node-{i}"))).collect());
    Module { values: BTreeMap::from([("web".to_string(), web), ("names".to_string(), names)]) }
}

fn expression(text: &str) -> Expr {
    match parse_expression(FileId(0), text) {
        Ok(expr) => expr,
        Err(diagnostics) => panic!("{text}: {diagnostics:?}"),
    }
}

fn run(bencher: divan::Bencher, text: &str) {
    let module = module();
    let env = |_: &str| None;
    let evaluator = Evaluator {
        functions: &NoFunctions,
        schemas: &NoSchemas,
        globals: &module,
        module_dir: Path::new("."),
        env: &env,
    };
    let expr = expression(text);
    bencher.bench_local(|| {
        let mut locals = Locals::with(vec![("i".to_string(), Value::number(4321.0))]);
        let value = evaluator.eval(&expr, &mut locals);
        assert!(value.is_ok(), "{text}: {value:?}");
        value
    });
}

#[divan::bench]
fn index_into_many_instances(bencher: divan::Bencher) {
    run(bencher, "web[i].id");
}

#[divan::bench]
fn template(bencher: divan::Bencher) {
    run(bencher, r#""${web[i].input}-${i}-suffix""#);
}

#[divan::bench]
fn operators(bencher: divan::Bencher) {
    run(bencher, "i > 100 && (i * 2 + 7) % 3 != 1 ? i / 4 - 1 : -i");
}

#[divan::bench]
fn for_over_a_thousand(bencher: divan::Bencher) {
    run(bencher, r#"{ for n in names : n => "${n}-x" if n != "node-7" }"#);
}
