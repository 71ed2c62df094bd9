//! The number functions through the evaluator: one table of source text and expected
//! rendering (or a substring of the error message) per function. The examples in
//! docs/functions/numbers.md are among these cases.

use infra_stdlib::testing::check;

#[test]
fn min_and_max() {
    check(&[
        ("min(12, 54, 3)", Ok("3")),
        ("min(7)", Ok("7")),
        ("min(2, 2)", Ok("2")),
        ("min(-1.5, 0, 2)", Ok("-1.5")),
        (r#"min(5, "2")"#, Ok("2")),
        ("min()", Err("`min` called with 0 arguments")),
        (r#"min(1, "x")"#, Err("argument 2 must be a number, found a string")),
        ("max(12, 54, 3)", Ok("54")),
        ("max(-7)", Ok("-7")),
        ("max(-1.5, -2)", Ok("-1.5")),
        ("max(0.1, 0.2)", Ok("0.2")),
        ("max(3, \"10\")", Ok("10")),
        ("max()", Err("`max` called with 0 arguments")),
        ("max(1, [2])", Err("argument 2 must be a number, found a list")),
    ]);
}

#[test]
fn abs() {
    check(&[
        ("abs(23)", Ok("23")),
        ("abs(0)", Ok("0")),
        ("abs(-12.4)", Ok("12.4")),
        ("abs(-0)", Ok("0")),
        (r#"abs("-3")"#, Ok("3")),
        ("abs(null)", Err("argument 1 must be a number, found null")),
        (r#"abs("three")"#, Err("argument 1 must be a number, found a string")),
    ]);
}

#[test]
fn ceil_and_floor() {
    check(&[
        ("ceil(5)", Ok("5")),
        ("ceil(5.1)", Ok("6")),
        ("ceil(-5.1)", Ok("-5")),
        ("ceil(-0.5)", Ok("0")),
        ("ceil(0.000001)", Ok("1")),
        ("ceil(true)", Err("argument 1 must be a number, found a bool")),
        ("floor(5)", Ok("5")),
        ("floor(4.9)", Ok("4")),
        ("floor(-4.1)", Ok("-5")),
        ("floor(0.5)", Ok("0")),
        (r#"floor("2.7")"#, Ok("2")),
        ("floor([])", Err("argument 1 must be a number, found a list")),
    ]);
}

#[test]
fn pow() {
    check(&[
        ("pow(3, 2)", Ok("9")),
        ("pow(4, 0)", Ok("1")),
        ("pow(2, -1)", Ok("0.5")),
        ("pow(4, 0.5)", Ok("2")),
        ("pow(-2, 3)", Ok("-8")),
        ("pow(0, 0)", Ok("1")),
        ("pow(0, -1)", Err("0 to the power of -1 is not a finite number")),
        ("pow(-8, 0.5)", Err("is not a finite number")),
        ("pow(10, 400)", Err("is not a finite number")),
        (r#"pow("a", 2)"#, Err("argument 1 must be a number")),
    ]);
}

#[test]
fn parseint() {
    check(&[
        (r#"parseint("100", 10)"#, Ok("100")),
        (r#"parseint("FF", 16)"#, Ok("255")),
        (r#"parseint("ff", 16)"#, Ok("255")),
        (r#"parseint("-10", 16)"#, Ok("-16")),
        (r#"parseint("+101", 2)"#, Ok("5")),
        (r#"parseint("1011111011101111", 2)"#, Ok("48879")),
        (r#"parseint("aA", 62)"#, Ok("656")),
        (r#"parseint("zz", 36)"#, Ok("1295")),
        (r#"parseint("0", 2)"#, Ok("0")),
        (r#"parseint("12", 2)"#, Err("cannot parse \"12\" as a base 2 integer")),
        (r#"parseint("FF", 10)"#, Err("base 10 uses the digits 0-9")),
        (r#"parseint("g", 16)"#, Err("base 16 uses the digits 0-9 and a-f (either case)")),
        (r#"parseint("0x10", 16)"#, Err("cannot parse \"0x10\" as a base 16 integer")),
        (r#"parseint("", 10)"#, Err("cannot parse \"\" as a base 10 integer")),
        (r#"parseint("-", 10)"#, Err("cannot parse")),
        (r#"parseint("1 0", 10)"#, Err("cannot parse")),
        (r#"parseint("10", 1)"#, Err("the base must be between 2 and 62, found 1")),
        (r#"parseint("10", 63)"#, Err("the base must be between 2 and 62, found 63")),
        (r#"parseint("10", 2.5)"#, Err("argument 2 must be a whole number")),
        (r#"parseint("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", 36)"#, Err("too large")),
    ]);
}

#[test]
fn signum() {
    check(&[
        ("signum(-13)", Ok("-1")),
        ("signum(0)", Ok("0")),
        ("signum(-0)", Ok("0")),
        ("signum(344)", Ok("1")),
        ("signum(0.001)", Ok("1")),
        ("signum(-0.5)", Ok("-1")),
        (r#"signum("x")"#, Err("argument 1 must be a number, found a string")),
    ]);
}

#[test]
fn log() {
    check(&[
        ("log(50, 10)", Ok("1.6989700043360185")),
        ("log(16, 2)", Ok("4")),
        ("log(8, 2)", Ok("3")),
        ("log(1, 10)", Ok("0")),
        ("log(10, 0)", Ok("0")),
        ("log(0, 10)", Err("the logarithm of 0 is minus infinity")),
        ("log(-1, 10)", Err("the logarithm of -1 is not a number")),
        ("log(10, 1)", Err("a logarithm in base 1 is infinite")),
        ("log(10, -2)", Err("a logarithm in base -2 is not a number")),
        ("log(\"x\", 2)", Err("argument 1 must be a number, found a string")),
    ]);
}
