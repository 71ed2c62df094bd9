//! Table tests of the collection functions, evaluated through the real evaluator.
//!
//! Each case is an expression and either the value it renders to, in the language's
//! syntax, or a substring of the error (message, then help after a newline). The examples
//! in docs/functions/collections.md are checked the same way, so the docs cannot drift.

use infra_stdlib::testing::eval;

type Case = (&'static str, Result<&'static str, &'static str>);

/// Evaluates every case and reports all the failures at once.
fn check(cases: &[Case]) {
    let failures: Vec<String> = cases.iter().filter_map(|(src, expected)| failure(src, *expected)).collect();
    assert!(failures.is_empty(), "{} failing cases:\n{}", failures.len(), failures.join("\n"));
}

fn failure(src: &str, expected: Result<&str, &str>) -> Option<String> {
    let actual = eval(src).map(|value| value.to_string());
    let passed = match (&expected, &actual) {
        (Ok(want), Ok(got)) => want == got,
        (Err(want), Err(got)) => got.contains(want),
        _ => false,
    };
    (!passed).then(|| format!("{src}\n    expected {expected:?}\n    got      {actual:?}"))
}

/// The collection functions, as functions.rs declares them.
const NAMES: &[&str] = &[
    "length",
    "concat",
    "flatten",
    "distinct",
    "keys",
    "values",
    "lookup",
    "merge",
    "contains",
    "element",
    "index",
    "range",
    "zipmap",
    "slice",
    "sort",
    "reverse",
    "setunion",
    "setintersection",
    "setsubtract",
    "one",
    "alltrue",
    "anytrue",
    "sum",
    "coalesce",
    "compact",
    "chunklist",
    "transpose",
    "coalescelist",
    "matchkeys",
    "setproduct",
];

#[test]
fn every_collection_function_has_a_signature_an_implementation_and_docs() {
    let implemented = infra_stdlib::library::implemented();
    let signatures: Vec<String> = infra_stdlib::functions::all().into_iter().map(|f| f.name).collect();
    let docs = collections_doc();
    for name in NAMES {
        assert!(signatures.iter().any(|s| s == name), "`{name}` has no signature");
        assert!(implemented.contains(name), "`{name}` has no implementation");
        assert!(docs.contains(&format!("\n## `{name}`\n")), "`{name}` has no section in collections.md");
    }
}

fn collections_doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/functions/collections.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// Every example line of the docs: `` - `expr` → `value` `` or `` - `expr` → error: `text` ``,
/// where the text is a substring of the error.
#[test]
fn documented_examples_hold() {
    let docs = collections_doc();
    let mut examples = Vec::new();
    for line in docs.lines() {
        let Some((call, result)) = line.strip_prefix("- `").and_then(|rest| rest.split_once("` → ")) else {
            continue;
        };
        // Code spans may be delimited by two backticks, when they hold one.
        let expected = match result.strip_prefix("error: ") {
            Some(message) => Err(message.trim_matches('`')),
            None => Ok(result.trim_matches('`')),
        };
        examples.push((call, expected));
    }
    assert!(examples.len() >= 2 * NAMES.len(), "only {} examples found in collections.md", examples.len());
    let failures: Vec<String> = examples.iter().filter_map(|(src, expected)| failure(src, *expected)).collect();
    assert!(failures.is_empty(), "{} failing examples:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn length() {
    check(&[
        (r#"length("héllo")"#, Ok("5")),
        (r#"length("😀")"#, Ok("1")),
        (r#"length("")"#, Ok("0")),
        ("length([1, 2, 3])", Ok("3")),
        ("length(toset([1, 1, 2]))", Ok("2")),
        ("length({ a = 1, b = 2 })", Ok("2")),
        ("length({})", Ok("0")),
        ("length(null)", Err("argument 1 must be a string or a collection, found null")),
        ("length(5)", Err("found a number")),
    ]);
}

#[test]
fn concat() {
    check(&[
        ("concat([1], [2, 3])", Ok("[1, 2, 3]")),
        ("concat([])", Ok("[]")),
        (r#"concat(["a"], [], ["b", ["c"]])"#, Ok(r#"["a", "b", ["c"]]"#)),
        ("concat([1], toset([3, 2]))", Ok("[1, 2, 3]")),
        (r#"concat([1], "a")"#, Err("argument 2 must be a list, found a string")),
        ("concat()", Err("called with 0 arguments")),
    ]);
}

#[test]
fn flatten() {
    check(&[
        ("flatten([[1, 2], [3], []])", Ok("[1, 2, 3]")),
        ("flatten([1, [2, [3, [4]]]])", Ok("[1, 2, 3, 4]")),
        ("flatten([])", Ok("[]")),
        (r#"flatten([toset(["b", "a"]), ["c"]])"#, Ok(r#"["a", "b", "c"]"#)),
        ("flatten([{ a = [1] }, null])", Ok("[{ a = [1] }, null]")),
        (r#"flatten("abc")"#, Err("argument 1 must be a list, found a string")),
    ]);
}

#[test]
fn distinct() {
    check(&[
        ("distinct([1, 2, 1, 3, 2])", Ok("[1, 2, 3]")),
        (r#"distinct(["b", "a", "b"])"#, Ok(r#"["b", "a"]"#)),
        ("distinct([])", Ok("[]")),
        (r#"distinct([1, "1", 1])"#, Ok(r#"[1, "1"]"#)),
        ("distinct([[1], [1], { a = 1 }, { a = 1 }])", Ok("[[1], { a = 1 }]")),
        ("distinct(toset([2, 1]))", Ok("toset([1, 2])")),
        ("distinct({ a = 1 })", Err("argument 1 must be a list")),
    ]);
}

#[test]
fn keys() {
    check(&[
        ("keys({ b = 1, a = 2 })", Ok(r#"["a", "b"]"#)),
        ("keys({})", Ok("[]")),
        (r#"keys({ "x y" = 1, "10" = 2, "9" = 3 })"#, Ok(r#"["10", "9", "x y"]"#)),
        ("keys({ a = { b = 1 } })", Ok(r#"["a"]"#)),
        ("keys([1])", Err("argument 1 must be a map, found a list")),
        ("keys(null)", Err("found null")),
    ]);
}

#[test]
fn values() {
    check(&[
        ("values({ b = 1, a = 2 })", Ok("[2, 1]")),
        ("values({})", Ok("[]")),
        ("values({ a = [1], b = null })", Ok("[[1], null]")),
        (r#"values({ x = "s", y = true })"#, Ok(r#"["s", true]"#)),
        (r#"values("a")"#, Err("argument 1 must be a map, found a string")),
    ]);
}

#[test]
fn lookup() {
    check(&[
        (r#"lookup({ a = 1, b = 2 }, "a")"#, Ok("1")),
        (r#"lookup({ a = 1 }, "b", 0)"#, Ok("0")),
        (r#"lookup({ a = 1 }, "a", 0)"#, Ok("1")),
        (r#"lookup({ "1" = "x" }, 1)"#, Ok(r#""x""#)),
        (r#"lookup({ a = 1 }, "b", null)"#, Ok("null")),
        (r#"lookup({ a = 1, c = 2 }, "b")"#, Err(r#"key "b" not found; the keys are "a", "c""#)),
        (r#"lookup({ a = 1 }, "b")"#, Err("pass a third argument to return when the key is missing")),
        (r#"lookup({ alpha = 1 }, "alpah")"#, Err("did you mean `alpha`?")),
        (r#"lookup({}, "a")"#, Err("the map is empty")),
        (r#"lookup({ a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7 }, "z")"#, Err(r#""e" and 2 more"#)),
        (r#"lookup([1], "a")"#, Err("argument 1 must be a map, found a list")),
    ]);
}

#[test]
fn merge() {
    check(&[
        ("merge({ a = 1, b = 2 }, { b = 3, c = 4 })", Ok("{ a = 1, b = 3, c = 4 }")),
        ("merge()", Ok("{}")),
        ("merge({ a = 1 }, null)", Ok("{ a = 1 }")),
        ("merge({ a = { x = 1 } }, { a = { y = 2 } })", Ok("{ a = { y = 2 } }")),
        ("merge({}, {})", Ok("{}")),
        ("merge({ a = 1 }, [1])", Err("argument 2 must be a map, found a list")),
    ]);
}

#[test]
fn contains() {
    check(&[
        (r#"contains(["a", "b"], "b")"#, Ok("true")),
        (r#"contains(["a", "b"], "c")"#, Ok("false")),
        ("contains([], 1)", Ok("false")),
        (r#"contains([1, 2], "1")"#, Ok("false")),
        ("contains(toset([[1, 2]]), [1, 2])", Ok("true")),
        ("contains([{ a = 1 }], { a = 1 })", Ok("true")),
        ("contains([null], null)", Ok("true")),
        (r#"contains("abc", "a")"#, Err("argument 1 must be a list, found a string")),
    ]);
}

#[test]
fn element() {
    check(&[
        (r#"element(["a", "b", "c"], 1)"#, Ok(r#""b""#)),
        (r#"element(["a", "b", "c"], 3)"#, Ok(r#""a""#)),
        (r#"element(["a", "b", "c"], 7)"#, Ok(r#""b""#)),
        (r#"element(toset(["b", "a"]), 0)"#, Ok(r#""a""#)),
        ("element([], 0)", Err("cannot take an element of an empty list")),
        (r#"element(["a"], -1)"#, Err("the index must not be negative, found -1")),
        (r#"element(["a"], 1.5)"#, Err("argument 2 must be a whole number, found 1.5")),
    ]);
}

#[test]
fn index() {
    check(&[
        (r#"index(["a", "b", "c"], "b")"#, Ok("1")),
        (r#"index(["a", "b", "a"], "a")"#, Ok("0")),
        ("index([[1], [2]], [2])", Ok("1")),
        (r#"index(toset(["c", "a"]), "c")"#, Ok("1")),
        (r#"index([1, 2], "2")"#, Err(r#""2" is not in the list"#)),
        ("index([], 1)", Err("1 is not in the list")),
        ("index({ a = 1 }, 1)", Err("argument 1 must be a list")),
    ]);
}

#[test]
fn range() {
    check(&[
        ("range(3)", Ok("[0, 1, 2]")),
        ("range(0)", Ok("[]")),
        ("range(-3)", Ok("[0, -1, -2]")),
        ("range(1, 4)", Ok("[1, 2, 3]")),
        ("range(4, 1)", Ok("[4, 3, 2]")),
        ("range(1, 1)", Ok("[]")),
        ("range(0, 10, 3)", Ok("[0, 3, 6, 9]")),
        ("range(10, 0, -3)", Ok("[10, 7, 4, 1]")),
        ("range(0, 1, 0.25)", Ok("[0, 0.25, 0.5, 0.75]")),
        ("range(0, 1, 0.1)", Ok("[0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]")),
        ("range(1.5, 0, -0.3)", Ok("[1.5, 1.2, 0.9, 0.6, 0.3]")),
        ("range(0.1, 0.4, 0.1)", Ok("[0.1, 0.2, 0.3]")),
        ("range(-2.5)", Ok("[0, -1, -2]")),
        (r#"range("3")"#, Ok("[0, 1, 2]")),
        ("length(range(1048576))", Ok("1048576")),
        ("range(0, 5, 0)", Err("the step must not be zero")),
        ("range(0, 5, -1)", Err("the limit must not be greater than the start when the step is negative")),
        ("range(5, 0, 1)", Err("the limit must not be less than the start when the step is positive")),
        ("range(1048577)", Err("the range would have more than 1048576 elements")),
        ("range(0, 1, 1e-300)", Err("more than 1048576 elements")),
        ("range(-1e308, 1e308)", Err("more than 1048576 elements")),
        (r#"range("x")"#, Err("argument 1 must be a number, found a string")),
    ]);
}

#[test]
fn zipmap() {
    check(&[
        (r#"zipmap(["a", "b"], [1, 2])"#, Ok("{ a = 1, b = 2 }")),
        ("zipmap([], [])", Ok("{}")),
        (r#"zipmap(["a", "a"], [1, 2])"#, Ok("{ a = 2 }")),
        (r#"zipmap(["k"], [[1, 2]])"#, Ok("{ k = [1, 2] }")),
        (r#"zipmap([1, 2], ["x", "y"])"#, Ok(r#"{ "1" = "x", "2" = "y" }"#)),
        (r#"zipmap(["a"], [1, 2])"#, Err("1 keys but 2 values; both lists must have the same length")),
        (r#"zipmap([["a"]], [1])"#, Err("element 0 of argument 1 must be a string, found a list")),
        ("zipmap([null], [1])", Err("found null")),
    ]);
}

#[test]
fn slice() {
    check(&[
        (r#"slice(["a", "b", "c", "d"], 1, 3)"#, Ok(r#"["b", "c"]"#)),
        (r#"slice(["a", "b"], 0, 2)"#, Ok(r#"["a", "b"]"#)),
        (r#"slice(["a", "b"], 1, 1)"#, Ok("[]")),
        ("slice([], 0, 0)", Ok("[]")),
        ("slice(toset([3, 1, 2]), 0, 2)", Ok("toset([1, 2])")),
        (r#"slice(["a"], -1, 1)"#, Err("the start index must not be negative, found -1")),
        (r#"slice(["a"], 0, 2)"#, Err("the end index 2 is past the end of the list, whose length is 1")),
        (r#"slice(["a", "b"], 2, 1)"#, Err("the start index 2 is greater than the end index 1")),
        (r#"slice("ab", 0, 1)"#, Err("argument 1 must be a list")),
    ]);
}

#[test]
fn sort() {
    check(&[
        (r#"sort(["b", "a", "c"])"#, Ok(r#"["a", "b", "c"]"#)),
        ("sort([])", Ok("[]")),
        (r#"sort(["b", "B", "a", "A"])"#, Ok(r#"["A", "B", "a", "b"]"#)),
        ("sort([10, 9, 1])", Ok(r#"["1", "10", "9"]"#)),
        (r#"sort(["a", "a"])"#, Ok(r#"["a", "a"]"#)),
        (r#"sort(toset(["b", "a"]))"#, Ok(r#"["a", "b"]"#)),
        (r#"sort(["a", null])"#, Err("element 1 of argument 1 must be a string, found null")),
        (r#"sort(["a", ["b"]])"#, Err("found a list")),
    ]);
}

#[test]
fn reverse() {
    check(&[
        ("reverse([1, 2, 3])", Ok("[3, 2, 1]")),
        ("reverse([])", Ok("[]")),
        (r#"reverse([[1, 2], "a"])"#, Ok(r#"["a", [1, 2]]"#)),
        ("reverse(tolist(toset([2, 1])))", Ok("[2, 1]")),
        ("reverse(toset([1, 2]))", Err("cannot reverse a set: its elements are always in sorted order")),
        ("reverse(toset([1, 2]))", Err("reverse(tolist(...))")),
        (r#"reverse("abc")"#, Err("argument 1 must be a list, found a string")),
    ]);
}

#[test]
fn setunion() {
    check(&[
        (r#"setunion(["a", "b"], ["b", "c"])"#, Ok(r#"toset(["a", "b", "c"])"#)),
        ("setunion(toset([1]))", Ok("toset([1])")),
        ("setunion([], [])", Ok("toset([])")),
        (r#"setunion([1, 1], ["1"])"#, Ok(r#"toset([1, "1"])"#)),
        ("setunion([2], [1], [3, 2])", Ok("toset([1, 2, 3])")),
        ("setunion([1], 2)", Err("argument 2 must be a list, found a number")),
        ("setunion()", Err("called with 0 arguments")),
    ]);
}

#[test]
fn setintersection() {
    check(&[
        (r#"setintersection(["a", "b", "c"], ["b", "c", "d"], ["c", "b", "x"])"#, Ok(r#"toset(["b", "c"])"#)),
        (r#"setintersection(["a"], ["b"])"#, Ok("toset([])")),
        ("setintersection([2, 1, 2])", Ok("toset([1, 2])")),
        ("setintersection([[1]], [[1], [2]])", Ok("toset([[1]])")),
        (r#"setintersection([1], ["1"])"#, Ok("toset([])")),
        (r#"setintersection(["a"], "a")"#, Err("argument 2 must be a list, found a string")),
    ]);
}

#[test]
fn setsubtract() {
    check(&[
        (r#"setsubtract(["a", "b", "c"], ["b"])"#, Ok(r#"toset(["a", "c"])"#)),
        (r#"setsubtract(["a"], [])"#, Ok(r#"toset(["a"])"#)),
        (r#"setsubtract([], ["a"])"#, Ok("toset([])")),
        (r#"setsubtract([1, "1"], [1])"#, Ok(r#"toset(["1"])"#)),
        (r#"setsubtract(toset(["a", "b"]), toset(["a", "b"]))"#, Ok("toset([])")),
        (r#"setsubtract(["a"], null)"#, Err("argument 2 must be a list, found null")),
    ]);
}

#[test]
fn one() {
    check(&[
        ("one([])", Ok("null")),
        (r#"one(["a"])"#, Ok(r#""a""#)),
        ("one(toset([5, 5]))", Ok("5")),
        ("one([null])", Ok("null")),
        ("one([[1, 2]])", Ok("[1, 2]")),
        ("one([1, 2])", Err("the list must have zero or one elements, found 2")),
        (r#"one("a")"#, Err("argument 1 must be a list, found a string")),
    ]);
}

#[test]
fn alltrue() {
    check(&[
        ("alltrue([true, true])", Ok("true")),
        ("alltrue([])", Ok("true")),
        ("alltrue([true, false])", Ok("false")),
        (r#"alltrue(["true", true])"#, Ok("true")),
        ("alltrue([true, null])", Ok("false")),
        ("alltrue([false, 1])", Err("element 1 of argument 1 must be a bool, found a number")),
        ("alltrue(true)", Err("argument 1 must be a list, found a bool")),
    ]);
}

#[test]
fn anytrue() {
    check(&[
        ("anytrue([false, true])", Ok("true")),
        ("anytrue([])", Ok("false")),
        ("anytrue([false, null])", Ok("false")),
        (r#"anytrue(["true"])"#, Ok("true")),
        ("anytrue(toset([false]))", Ok("false")),
        (r#"anytrue([true, "yes"])"#, Err("element 1 of argument 1 must be a bool, found a string")),
        ("anytrue(true)", Err("argument 1 must be a list, found a bool")),
    ]);
}

#[test]
fn sum() {
    check(&[
        ("sum([1, 2, 3])", Ok("6")),
        ("sum([0.5, 0.25])", Ok("0.75")),
        (r#"sum([-1, "2"])"#, Ok("1")),
        ("sum(toset([1, 2]))", Ok("3")),
        ("sum([5])", Ok("5")),
        ("sum([])", Err("cannot sum an empty list")),
        ("sum([1, null])", Err("element 1 of argument 1 must be a number, found null")),
        (r#"sum(["x"])"#, Err("element 0 of argument 1 must be a number, found a string")),
        ("sum([1e308, 1e308])", Err("the sum is too large to represent")),
    ]);
}

#[test]
fn coalesce() {
    check(&[
        (r#"coalesce(null, "", "a", "b")"#, Ok(r#""a""#)),
        ("coalesce(1, 2)", Ok("1")),
        ("coalesce(null, [])", Ok("[]")),
        ("coalesce(null, false)", Ok("false")),
        (r#"coalesce(" ")"#, Ok(r#"" ""#)),
        (r#"coalesce("", null)"#, Err("every argument is null or an empty string")),
        ("coalesce(null)", Err("add a last argument that is always set")),
        ("coalesce()", Err("called with 0 arguments")),
    ]);
}

#[test]
fn compact() {
    check(&[
        (r#"compact(["a", "", "b", null])"#, Ok(r#"["a", "b"]"#)),
        ("compact([])", Ok("[]")),
        (r#"compact(["", null])"#, Ok("[]")),
        (r#"compact([1, "", true])"#, Ok(r#"["1", "true"]"#)),
        (r#"compact([" "])"#, Ok(r#"[" "]"#)),
        (r#"compact(["a", ["b"]])"#, Err("element 1 of argument 1 must be a string, found a list")),
        (r#"compact("a")"#, Err("argument 1 must be a list, found a string")),
    ]);
}

#[test]
fn chunklist() {
    check(&[
        ("chunklist([1, 2, 3, 4, 5], 2)", Ok("[[1, 2], [3, 4], [5]]")),
        ("chunklist([1, 2], 5)", Ok("[[1, 2]]")),
        ("chunklist([], 3)", Ok("[]")),
        ("chunklist([1, 2, 3], 0)", Ok("[[1, 2, 3]]")),
        ("chunklist(toset([3, 1, 2]), 2)", Ok("[[1, 2], [3]]")),
        ("chunklist([1, 2], -1)", Err("the chunk size must not be negative, found -1")),
        ("chunklist([1], 1.5)", Err("argument 2 must be a whole number, found 1.5")),
    ]);
}

#[test]
fn transpose() {
    check(&[
        (r#"transpose({ a = ["1", "2"], b = ["2", "3"] })"#, Ok(r#"{ "1" = ["a"], "2" = ["a", "b"], "3" = ["b"] }"#)),
        ("transpose({})", Ok("{}")),
        ("transpose({ a = [] })", Ok("{}")),
        (r#"transpose({ b = ["x"], a = ["x", "x"] })"#, Ok(r#"{ x = ["a", "a", "b"] }"#)),
        ("transpose({ a = [1] })", Ok(r#"{ "1" = ["a"] }"#)),
        (r#"transpose({ a = "x" })"#, Err(r#"the value of key "a" must be a list of strings, found a string"#)),
        ("transpose({ a = [null] })", Err("found null")),
        ("transpose([])", Err("argument 1 must be a map, found a list")),
    ]);
}

#[test]
fn coalescelist() {
    check(&[
        (r#"coalescelist([], ["a"])"#, Ok(r#"["a"]"#)),
        (r#"coalescelist(["a", "b"], ["c"])"#, Ok(r#"["a", "b"]"#)),
        (r#"coalescelist([1], ["a"])"#, Ok("[1]")),
        (r#"coalescelist(toset([]), toset(["x"]))"#, Ok(r#"toset(["x"])"#)),
        ("coalescelist([], [])", Err("every argument is an empty list")),
        (r#"coalescelist(null, ["a"])"#, Err("argument 1 must be a list, found null")),
        (r#"coalescelist("a")"#, Err("argument 1 must be a list, found a string")),
        ("coalescelist()", Err("called with 0 arguments")),
    ]);
}

#[test]
fn matchkeys() {
    check(&[
        (
            r#"matchkeys(["i-123", "i-abc", "i-def"], ["us-west", "us-east", "us-east"], ["us-east"])"#,
            Ok(r#"["i-abc", "i-def"]"#),
        ),
        ("matchkeys([], [], [])", Ok("[]")),
        (r#"matchkeys(["a", "b"], [1, 2], ["1"])"#, Ok(r#"["a"]"#)),
        (r#"matchkeys(["a", "b"], [1, 2], [2])"#, Ok(r#"["b"]"#)),
        (r#"matchkeys(["a", "b", "c"], ["x", "y", "x"], toset(["x"]))"#, Ok(r#"["a", "c"]"#)),
        ("matchkeys([1, 2], [3], [3])", Err("`values` has 2 elements but `keys` has 1")),
        ("matchkeys(1, [], [])", Err("argument 1 must be a list, found a number")),
    ]);
}

#[test]
fn setproduct() {
    check(&[
        (
            r#"setproduct(["development", "staging", "production"], ["app1", "app2"])"#,
            Ok(
                r#"[["development", "app1"], ["development", "app2"], ["staging", "app1"], ["staging", "app2"], ["production", "app1"], ["production", "app2"]]"#,
            ),
        ),
        (r#"setproduct([], ["a"])"#, Ok("[]")),
        (r#"setproduct(toset(["a", "b"]), ["x"])"#, Ok(r#"toset([["a", "x"], ["b", "x"]])"#)),
        (r#"setproduct([1, 2], ["x"], [true])"#, Ok(r#"[[1, "x", true], [2, "x", true]]"#)),
        (r#"setproduct(["a"])"#, Err("called with 1 arguments")),
        (r#"setproduct("a", ["b"])"#, Err("argument 1 must be a list, found a string")),
        ("setproduct(range(1100), range(1000))", Err("the product would have more than 1048576 elements")),
    ]);
}
