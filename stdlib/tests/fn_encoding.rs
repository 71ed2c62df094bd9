//! The conversion and encoding functions, each as a table of calls and their expected
//! rendering (or a fragment of the expected error).

use infra_stdlib::testing::check;

#[test]
fn tostring() {
    check(&[
        ("tostring(\"x\")", Ok("\"x\"")),
        ("tostring(1.5)", Ok("\"1.5\"")),
        ("tostring(10)", Ok("\"10\"")),
        ("tostring(true)", Ok("\"true\"")),
        ("tostring(null)", Ok("null")),
        ("tostring([1])", Err("cannot convert a list to string\nuse `jsonencode`")),
        ("tostring()", Err("called with 0 arguments")),
    ]);
}

#[test]
fn tonumber() {
    check(&[
        ("tonumber(\"42\")", Ok("42")),
        ("tonumber(\"-1e3\")", Ok("-1000")),
        ("tonumber(\"2.5\")", Ok("2.5")),
        ("tonumber(7)", Ok("7")),
        ("tonumber(null)", Ok("null")),
        ("tonumber(\"abc\")", Err("cannot convert \"abc\" to number")),
        ("tonumber(true)", Err("cannot convert a bool to number")),
    ]);
}

#[test]
fn tobool() {
    check(&[
        ("tobool(\"true\")", Ok("true")),
        ("tobool(\"false\")", Ok("false")),
        ("tobool(false)", Ok("false")),
        ("tobool(null)", Ok("null")),
        ("tobool(\"yes\")", Err("cannot convert \"yes\" to bool")),
        ("tobool(1)", Err("cannot convert a number to bool")),
    ]);
}

#[test]
fn tolist() {
    check(&[
        ("tolist([\"a\", \"b\"])", Ok("[\"a\", \"b\"]")),
        ("tolist(toset([\"b\", \"a\"]))", Ok("[\"a\", \"b\"]")),
        // Mixed strings and numbers meet at strings, as in Terraform.
        ("tolist([\"a\", 1])", Ok("[\"a\", \"1\"]")),
        ("tolist([])", Ok("[]")),
        ("tolist(null)", Ok("null")),
        ("tolist(\"a\")", Err("cannot convert a string to list(any)")),
        ("tolist({ a = 1 })", Err("cannot convert a object to list")),
    ]);
}

#[test]
fn toset() {
    check(&[
        ("toset([\"b\", \"a\", \"b\"])", Ok("toset([\"a\", \"b\"])")),
        ("toset([1, \"1\"])", Ok("toset([\"1\"])")),
        ("toset([3, 1, 2])", Ok("toset([1, 2, 3])")),
        ("toset([])", Ok("toset([])")),
        ("toset(null)", Ok("null")),
        ("toset(\"a\")", Err("cannot convert a string to set(any)")),
    ]);
}

#[test]
fn tomap() {
    check(&[
        ("tomap({ a = 1, b = \"x\" })", Ok("{ a = \"1\", b = \"x\" }")),
        ("tomap({ \"a b\" = true })", Ok("{ \"a b\" = true }")),
        ("tomap({})", Ok("{}")),
        ("tomap(null)", Ok("null")),
        ("tomap([1])", Err("cannot convert a list to map(any)")),
        ("tomap(\"a\")", Err("only maps and objects convert to a map")),
    ]);
}

#[test]
fn jsonencode() {
    check(&[
        ("jsonencode({ b = 1, a = [true, null] })", Ok(r#""{\"a\":[true,null],\"b\":1}""#)),
        ("jsonencode(3.0)", Ok(r#""3""#)),
        ("jsonencode(2.5)", Ok(r#""2.5""#)),
        ("jsonencode(-0.25)", Ok(r#""-0.25""#)),
        ("jsonencode(\"<b>\\n\")", Ok(r#""\"<b>\\n\"""#)),
        ("jsonencode(null)", Ok(r#""null""#)),
        ("jsonencode(toset([2, 1]))", Ok(r#""[1,2]""#)),
        ("jsonencode({})", Ok(r#""{}""#)),
        ("jsonencode()", Err("called with 0 arguments")),
    ]);
}

#[test]
fn jsondecode() {
    check(&[
        (r#"jsondecode("{\"b\": 1, \"a\": [true, null]}")"#, Ok("{ a = [true, null], b = 1 }")),
        (r#"jsondecode("2.5")"#, Ok("2.5")),
        (r#"jsondecode("\"x\"")"#, Ok("\"x\"")),
        (r#"jsondecode(" [] ")"#, Ok("[]")),
        (r#"jsondecode(jsonencode({ x = [1, "a"] }))"#, Ok("{ x = [1, \"a\"] }")),
        (r#"jsondecode("{\"a\":")"#, Err("invalid JSON: EOF while parsing a value at line 1 column 5")),
        (r#"jsondecode("[1,\n 2,]")"#, Err("invalid JSON: trailing comma at line 2 column 4")),
        (r#"jsondecode("")"#, Err("invalid JSON")),
        (r#"jsondecode("1 2")"#, Err("trailing characters at line 1 column 3")),
    ]);
}

#[test]
fn yamlencode() {
    check(&[
        ("yamlencode({ b = 1, a = [\"x\", true] })", Ok(r#""a:\n  - x\n  - true\nb: 1\n""#)),
        ("yamlencode(\"true\")", Ok(r#""\"true\"\n""#)),
        ("yamlencode(null)", Ok(r#""null\n""#)),
        ("yamlencode([])", Ok(r#""[]\n""#)),
        ("yamlencode(\"a\\nb\")", Ok(r#""\"a\\nb\"\n""#)),
        ("yamlencode({ s = \"a\\nb\" })", Ok(r#""s: |-\n  a\n  b\n""#)),
        ("yamlencode(2.5)", Ok(r#""2.5\n""#)),
        ("yamlencode({ \"1\" = { x = null } })", Ok(r#""\"1\":\n  x: null\n""#)),
        ("yamlencode()", Err("called with 0 arguments")),
    ]);
}

#[test]
fn yamldecode() {
    check(&[
        (r#"yamldecode("a: 1\nb: [x, true]")"#, Ok("{ a = 1, b = [\"x\", true] }")),
        (r#"yamldecode("- 1.5\n- ~\n- \"7\"")"#, Ok("[1.5, null, \"7\"]")),
        (r#"yamldecode("1: one\ntrue: yes")"#, Ok("{ \"1\" = \"one\", true = \"yes\" }")),
        (r#"yamldecode("")"#, Ok("null")),
        (r#"yamldecode("--- # nothing\n")"#, Ok("null")),
        (r#"yamldecode("a: &x 1\nb: *x")"#, Ok("{ a = 1, b = 1 }")),
        (r#"yamldecode(yamlencode({ s = "a\nb", n = [1] }))"#, Ok("{ n = [1], s = \"a\\nb\" }")),
        (r#"yamldecode("a: [")"#, Err("invalid YAML at line 2 column 1: while parsing a node")),
        (r#"yamldecode("a: b: c")"#, Err("invalid YAML at line 1 column 5: mapping values are not allowed")),
        (r#"yamldecode("a: 1\n---\nb: 2")"#, Err("the string holds 2 YAML documents")),
        (r#"yamldecode("a: 1\na: 2")"#, Err("invalid YAML at line 2 column 4: duplicate key")),
        (r#"yamldecode("!!int abc")"#, Err("a YAML value does not match its tag")),
        (r#"yamldecode("x: .inf")"#, Err("the YAML number `.inf` is not a finite number")),
        (r#"yamldecode("? [1]\n: x")"#, Err("a YAML mapping key must be a string")),
    ]);
}

#[test]
fn base64encode() {
    check(&[
        ("base64encode(\"hello\")", Ok("\"aGVsbG8=\"")),
        ("base64encode(\"\")", Ok("\"\"")),
        ("base64encode(\"✓\")", Ok("\"4pyT\"")),
        ("base64encode(12)", Ok("\"MTI=\"")),
        ("base64encode([1])", Err("argument 1 must be a string, found a list")),
    ]);
}

#[test]
fn base64decode() {
    check(&[
        ("base64decode(\"aGVsbG8=\")", Ok("\"hello\"")),
        ("base64decode(\"\")", Ok("\"\"")),
        ("base64decode(\"4pyT\")", Ok("\"✓\"")),
        ("base64decode(base64encode(\"a b\"))", Ok("\"a b\"")),
        ("base64decode(\"aGVsbG8\")", Err("invalid Base64")),
        ("base64decode(\"a!==\")", Err("invalid Base64")),
        ("base64decode(\"/w==\")", Err("the decoded bytes are not UTF-8 text")),
    ]);
}

#[test]
fn urlencode() {
    check(&[
        ("urlencode(\"a b&c=d\")", Ok("\"a+b%26c%3Dd\"")),
        ("urlencode(\"-_.~\")", Ok("\"-_.~\"")),
        ("urlencode(\"\")", Ok("\"\"")),
        ("urlencode(\"é\")", Ok("\"%C3%A9\"")),
        ("urlencode(\"100%\")", Ok("\"100%25\"")),
        ("urlencode(\"a/b?c\")", Ok("\"a%2Fb%3Fc\"")),
        ("urlencode({})", Err("argument 1 must be a string")),
    ]);
}

#[test]
fn base64gzip() {
    // The compressed bytes are zlib's, not Go's, so they differ from Terraform's; the
    // header (no time, OS unknown) and what they decompress to are the same.
    check(&[
        ("substr(base64gzip(\"hello\"), 0, 12)", Ok("\"H4sIAAAAAAAA\"")),
        ("base64gzip(\"hello\")", Ok("\"H4sIAAAAAAAA/8tIzcnJBwCGphA2BQAAAA==\"")),
        ("base64gzip(\"\")", Ok("\"H4sIAAAAAAAA/wMAAAAAAAAAAAA=\"")),
        ("base64gzip([])", Err("argument 1 must be a string, found a list")),
    ]);
}

#[test]
fn textencodebase64() {
    check(&[
        ("textencodebase64(\"Hello World\", \"UTF-16LE\")", Ok("\"SABlAGwAbABvACAAVwBvAHIAbABkAA==\"")),
        ("textencodebase64(\"Hello World\", \"UTF-16BE\")", Ok("\"AEgAZQBsAGwAbwAgAFcAbwByAGwAZA==\"")),
        ("textencodebase64(\"Hello World\", \"UTF-8\")", Ok("\"SGVsbG8gV29ybGQ=\"")),
        ("textencodebase64(\"ü\", \"ISO-8859-1\")", Ok("\"/A==\"")),
        ("textencodebase64(\"€\", \"windows-1252\")", Ok("\"gA==\"")),
        ("textencodebase64(\"😀\", \"utf-16le\")", Ok("\"PdgA3g==\"")),
        ("textencodebase64(\"Hello World\", \"nope\")", Err("\"nope\" is not a supported encoding name")),
        (
            "textencodebase64(\"€\", \"ISO-8859-1\")",
            Err("the string has characters that cannot be written in ISO-8859-1"),
        ),
        ("textencodebase64(\"✓\", \"windows-1252\")", Err("cannot be written in windows-1252")),
    ]);
}

#[test]
fn textdecodebase64() {
    check(&[
        ("textdecodebase64(\"SABlAGwAbABvACAAVwBvAHIAbABkAA==\", \"UTF-16LE\")", Ok("\"Hello World\"")),
        ("textdecodebase64(\"AEgAZQBsAGwAbwAgAFcAbwByAGwAZA==\", \"UTF-16BE\")", Ok("\"Hello World\"")),
        ("textdecodebase64(\"/A==\", \"ISO-8859-1\")", Ok("\"ü\"")),
        ("textdecodebase64(\"gA==\", \"windows-1252\")", Ok("\"€\"")),
        ("textdecodebase64(\"SGVsbG8=\", \"UTF-8\")", Ok("\"Hello\"")),
        ("textdecodebase64(\"!!\", \"UTF-8\")", Err("invalid Base64")),
        ("textdecodebase64(\"/w==\", \"UTF-8\")", Err("the decoded bytes are not valid UTF-8 text")),
        ("textdecodebase64(\"AA==\", \"UTF-16LE\")", Err("the decoded bytes are not valid UTF-16LE text")),
        ("textdecodebase64(\"AA==\", \"nope\")", Err("\"nope\" is not a supported encoding name")),
    ]);
}

#[test]
fn csvdecode() {
    check(&[
        (
            "csvdecode(\"a,b,c\\n1,2,3\\n4,5,6\")",
            Ok(r#"[{ a = "1", b = "2", c = "3" }, { a = "4", b = "5", c = "6" }]"#),
        ),
        ("csvdecode(\"a,b\\n1,2\\n\")", Ok(r#"[{ a = "1", b = "2" }]"#)),
        ("csvdecode(\"a,b\\n\")", Ok("[]")),
        ("csvdecode(\"a,b\\r\\n1,2\\r\\n\")", Ok(r#"[{ a = "1", b = "2" }]"#)),
        ("csvdecode(\"a\\n\\n1\\n\")", Ok(r#"[{ a = "1" }]"#)),
        (r#"csvdecode("\"a b\",c\n\"x,\"\"y\",z")"#, Ok(r#"[{ "a b" = "x,\"y", c = "z" }]"#)),
        ("csvdecode(\" a , b \\n 1 , 2 \")", Ok(r#"[{ " a " = " 1 ", " b " = " 2 " }]"#)),
        (r#"csvdecode("a\n\"multi\nline\"")"#, Ok(r#"[{ a = "multi\nline" }]"#)),
        ("csvdecode(\"\")", Err("missing header line")),
        ("csvdecode(\"a,b\\n1\")", Err("CSV parse error on line 2: wrong number of fields")),
        ("csvdecode(\"a,b\\n1,2,3\")", Err("CSV parse error on line 2: wrong number of fields")),
        ("csvdecode(\"a,a\\n1,2\")", Err("duplicate column name \"a\"")),
    ]);
}

/// Regressions of #18 (item 8), each against Terraform 1.11's answer.
#[test]
fn base64decode_skips_line_breaks_as_terraform_does() {
    check(&[
        ("base64decode(\"aGVsbG8=\\n\")", Ok("\"hello\"")),
        ("base64decode(\"aGVs\\nbG8=\")", Ok("\"hello\"")),
        ("base64decode(\"aGVsbG8=\\r\\n\")", Ok("\"hello\"")),
        ("base64decode(\" aGVsbG8=\")", Err("invalid Base64")),
        ("base64decode(\"aGVsbG8\")", Err("invalid Base64")),
    ]);
}

#[test]
fn jsonencode_writes_numbers_in_plain_decimal() {
    check(&[
        ("jsonencode(1e-7)", Ok("\"0.0000001\"")),
        ("jsonencode(-1e-7)", Ok("\"-0.0000001\"")),
        ("jsonencode(1.5e-10)", Ok("\"0.00000000015\"")),
        ("jsonencode(1e21)", Ok("\"1000000000000000000000\"")),
        ("jsonencode(0.1)", Ok("\"0.1\"")),
        ("jsonencode([0 * -1, 2.5])", Ok("\"[0,2.5]\"")),
    ]);
}

#[test]
fn jsonencode_escapes_line_and_paragraph_separators() {
    check(&[
        ("jsonencode(\"a\\u2028b\\u2029\")", Ok("\"\\\"a\\\\u2028b\\\\u2029\\\"\"")),
        ("jsondecode(jsonencode(\"\\u2028\"))", Ok("\"\u{2028}\"")),
    ]);
}
