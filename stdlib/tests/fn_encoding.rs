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
        ("tolist({ a = 1 })", Err("cannot convert an object to list")),
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

/// Regressions: `yamlencode` wrote YAML that did not decode to the value it was given
/// (blank lines lost from a literal block, a block whose first line starts with a space,
/// a multi-line key as a block scalar, `0o7` unquoted and read back as the number 7).
#[test]
fn yamlencode_output_decodes_to_the_same_value() {
    check(&[
        (r#"yamldecode(yamlencode({ i = "\n\n" }))"#, Ok(r#"{ i = "\n\n" }"#)),
        (r#"yamldecode(yamlencode({ i = "a\n\n" }))"#, Ok(r#"{ i = "a\n\n" }"#)),
        (r#"yamldecode(yamlencode({ i = "\n a" }))"#, Ok(r#"{ i = "\n a" }"#)),
        (r#"yamldecode(yamlencode({ i = " a\nb" }))"#, Ok(r#"{ i = " a\nb" }"#)),
        (r#"yamldecode(yamlencode({ "a\nb" = "x" }))"#, Ok(r#"{ "a\nb" = "x" }"#)),
        (
            r#"yamldecode(yamlencode(["0o7", "0x1F", "+.inf", "1_000", "2001-12-14", "yes", "~"]))"#,
            Ok(r#"["0o7", "0x1F", "+.inf", "1_000", "2001-12-14", "yes", "~"]"#),
        ),
        (r#"yamlencode({ i = "\n\n" })"#, Ok(r#""i: \"\\n\\n\"\n""#)),
        (r#"yamlencode({ i = " a\nb" })"#, Ok(r#""i: \" a\\nb\"\n""#)),
        (r#"yamlencode({ "a\nb" = "x" })"#, Ok(r#""\"a\\nb\": x\n""#)),
        (r#"yamlencode(["0o7"])"#, Ok(r#""- \"0o7\"\n""#)),
        (r#"yamlencode({ s = " a\nb" })"#, Ok(r#""s: \" a\\nb\"\n""#)),
        (r#"yamlencode(["0o7", "x"])"#, Ok(r#""- \"0o7\"\n- x\n""#)),
        // A literal block where it represents the string exactly.
        (r#"yamlencode({ s = "a\n  b\n" })"#, Ok(r#""s: |\n  a\n    b\n""#)),
        (r#"yamlencode([["x\ny"]])"#, Ok(r#""- - |-\n    x\n    y\n""#)),
        // Characters YAML reads as line breaks, and ones it does not allow, are escaped.
        (r#"yamlencode("a\u2028b\u0085\u0007")"#, Ok(r#""\"a\\u2028b\\u0085\\u0007\"\n""#)),
        (r#"yamlencode("a\rb")"#, Ok(r#""\"a\\rb\"\n""#)),
    ]);
}

/// A key longer than YAML allows for an implicit key is written as an explicit one, at
/// every depth.
#[test]
fn yamlencode_writes_long_keys_as_explicit_keys() {
    check(&[
        (
            r#"yamlencode({ (join("", [for i in range(1100) : "k"])) = 1 }) == "? ${join("", [for i in range(1100) : "k"])}\n: 1\n""#,
            Ok("true"),
        ),
        (
            r#"yamldecode(yamlencode({ (join("", [for i in range(1100) : "k"])) = 1 })) == { (join("", [for i in range(1100) : "k"])) = 1 }"#,
            Ok("true"),
        ),
        (
            r#"yamldecode(yamlencode([{ a = { (join("", [for i in range(1100) : "k"])) = [1, { b = 2 }] } }])) == [{ a = { (join("", [for i in range(1100) : "k"])) = [1, { b = 2 }] } }]"#,
            Ok("true"),
        ),
    ]);
}

mod yaml_round_trip {
    use proptest::prelude::*;

    /// The language's literal for `text`. `quote` leaves `%{` as it is (a directive in a
    /// quoted string), so it is escaped here.
    fn literal(text: &str) -> String {
        infra_runtime::value::quote(text).replace("%{", "%%{")
    }

    /// Characters that YAML treats specially somewhere, and some that it does not.
    const PIECES: &[&str] = &[
        "a", "Z", "é", "😀", " ", "  ", "\n", "\t", "\r", "\"", "'", "\\", ":", ": ", "#", " #", "-", "- ", "?", "|",
        ">", "{", "}", "[", "]", ",", "&", "*", "!", "%", "@", "`", "0", "7", ".", "0o", "0x", "e", "+", "_", "~",
        "yes", "No", "null", "true", ".inf", "---", "...", "<<", "=", "\u{85}", "\u{a0}", "\u{2028}", "\u{feff}",
        "\u{0}", "\u{1b}", "\u{7f}", "\u{fffe}",
    ];

    fn tricky_string() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(PIECES), 0..8).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// `yamldecode(yamlencode(v))` is `v` for a string at the top, as a mapping value,
        /// as a key and in a sequence, nested.
        #[test]
        fn strings_survive_yamlencode_then_yamldecode(text in tricky_string()) {
            let text = literal(&text);
            let source = format!("{{ {text} = [{text}, {{ k = {text} }}], s = {text} }}");
            for value in [text.clone(), source] {
                let expected = infra_stdlib::testing::eval(&value).expect("the value evaluates");
                let encoded = infra_stdlib::testing::eval(&format!("yamlencode({value})")).expect("encodes");
                let decoded = infra_stdlib::testing::eval(&format!("yamldecode(yamlencode({value}))"));
                prop_assert_eq!(decoded, Ok(expected), "YAML: {}", encoded);
            }
        }
    }
}

/// Regression: `tobool("1")` was an error; Terraform converts `"1"` and `"0"` too.
#[test]
fn tobool_converts_one_and_zero_as_terraform_does() {
    check(&[
        (r#"tobool("1")"#, Ok("true")),
        (r#"tobool("0")"#, Ok("false")),
        (r#"tobool("01")"#, Err("cannot convert \"01\" to bool")),
        (r#"tobool("TRUE")"#, Err("the strings \"true\", \"false\", \"1\" and \"0\" convert")),
    ]);
}

/// Regressions: `jsondecode` refused arrays and objects nested deeper than 127 (serde_json's
/// limit, with its own words), and a lone UTF-16 surrogate escape, where Terraform decodes
/// it as U+FFFD.
#[test]
fn jsondecode_reads_deep_nesting_up_to_the_language_limit() {
    check(&[
        (
            r#"length(jsonencode(jsondecode("${join("", [for i in range(256) : "["])}${join("", [for i in range(256) : "]"])}")))"#,
            Ok("512"),
        ),
        (
            r#"jsondecode("${join("", [for i in range(200) : "{\"a\":"])}1${join("", [for i in range(200) : "}"])}") != null"#,
            Ok("true"),
        ),
        (
            r#"jsondecode("[1,\n ${join("", [for i in range(300) : "["])}${join("", [for i in range(300) : "]"])}]")"#,
            Err("the JSON is nested more than 256 levels deep at line 2 column 257\n\
                 jsondecode reads arrays and objects nested up to 256 levels deep"),
        ),
        // Brackets inside strings do not count.
        (r#"length(jsondecode("\"${join("", [for i in range(300) : "["])}\""))"#, Ok("300")),
    ]);
}

#[test]
fn jsondecode_reads_a_lone_surrogate_as_the_replacement_character() {
    check(&[
        (r#"jsondecode("\"\\ud800\"")"#, Ok("\"\u{fffd}\"")),
        (r#"jsondecode("\"\\ud800\\u0041\"")"#, Ok("\"\u{fffd}A\"")),
        (r#"jsondecode("\"\\udc00\\ud800x\"")"#, Ok("\"\u{fffd}\u{fffd}x\"")),
        (r#"jsondecode("[\"\\ud800\\ud83d\\ude00\"]")"#, Ok("[\"\u{fffd}😀\"]")),
        (r#"jsondecode("\"\\ud83d\\ude00\"")"#, Ok("\"😀\"")),
        // An escaped backslash is not the start of an escape.
        (r#"jsondecode("\"\\\\ud800\"")"#, Ok(r#""\\ud800""#)),
        (r#"jsondecode("\"\\u12\"")"#, Err("invalid JSON")),
    ]);
}

/// Regression: the `base64` crate's own text ("Invalid symbol 32, offset 2.") was the
/// message. Offsets count in the argument as written, line breaks included.
#[test]
fn base64_errors_say_what_is_wrong_and_where() {
    check(&[
        (
            r#"base64decode("aG Vs")"#,
            Err("invalid Base64: \" \" at offset 2 is not a Base64 character\n\
                 the standard alphabet is `A-Z a-z 0-9 + /`, with `=` padding at the end"),
        ),
        (r#"base64decode("aGVs\nbG8é")"#, Err("invalid Base64: \"é\" at offset 8 is not a Base64 character")),
        (r#"base64decode("aG=s")"#, Err("invalid Base64: the padding `=` at offset 2 is not at the end")),
        (r#"base64decode("aGVsbG8")"#, Err("invalid Base64: the `=` padding at the end is missing or too long")),
        (r#"base64decode("aGVsb")"#, Err("invalid Base64: 5 Base64 characters do not make whole bytes")),
        (
            r#"base64decode("aGVsbG9=")"#,
            Err("invalid Base64: the last character, \"9\" at offset 6, does not end a whole byte"),
        ),
        (r#"textdecodebase64("a!==", "UTF-8")"#, Err("invalid Base64: \"!\" at offset 1 is not a Base64 character")),
    ]);
}
