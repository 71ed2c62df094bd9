//! The string functions through the evaluator: one table of source text and expected
//! rendering (or a substring of the error message) per function. The examples in
//! docs/functions/strings.md are among these cases.

use infra_stdlib::testing::check;

#[test]
fn format() {
    check(&[
        (r#"format("Hello, %s!", "Ander")"#, Ok(r#""Hello, Ander!""#)),
        (r#"format("web-%03d", 7)"#, Ok(r#""web-007""#)),
        (r#"format("%d items", 3)"#, Ok(r#""3 items""#)),
        (r#"format("%.2f", 3.14159)"#, Ok(r#""3.14""#)),
        (r#"format("%f", 1.5)"#, Ok(r#""1.500000""#)),
        (r#"format("%.0f", 2.5)"#, Ok(r#""2""#)),
        (r#"format("[%5d]", 42)"#, Ok(r#""[   42]""#)),
        (r#"format("[%-5s]", "ab")"#, Ok(r#""[ab   ]""#)),
        (r#"format("[%5s]", "ab")"#, Ok(r#""[   ab]""#)),
        (r#"format("[%05d]", -42)"#, Ok(r#""[-0042]""#)),
        (r#"format("%+d", 5)"#, Ok(r#""+5""#)),
        (r#"format("% d", 5)"#, Ok(r#"" 5""#)),
        (r#"format("[%-05d]", 3)"#, Ok(r#""[3    ]""#)),
        (r#"format("[%6.2f]", -1.5)"#, Ok(r#""[ -1.50]""#)),
        (r#"format("[%3s]", "é")"#, Ok(r#""[  é]""#)),
        (r#"format("%.3s", "abcdef")"#, Ok(r#""abc""#)),
        (r#"format("%q", "hi \"there\"")"#, Ok(r#""\"hi \\\"there\\\"\"""#)),
        (r#"format("%t", true)"#, Ok(r#""true""#)),
        (r#"format("%v", 1.5)"#, Ok(r#""1.5""#)),
        (r#"format("%v", [1, "a"])"#, Ok(r#""[1,\"a\"]""#)),
        (r#"format("%v", { a = 1 })"#, Ok(r#""{\"a\":1}""#)),
        (r#"format("%v", null)"#, Ok(r#""null""#)),
        (r#"format("%#v", "a")"#, Ok(r#""\"a\"""#)),
        (r#"format("%s", 12)"#, Ok(r#""12""#)),
        (r#"format("%d", "12")"#, Ok(r#""12""#)),
        (r#"format("%x %X %o %b", 255, 255, 8, 5)"#, Ok(r#""ff FF 10 101""#)),
        (r#"format("%#x", 255)"#, Ok(r#""0xff""#)),
        (r#"format("%e", 1500)"#, Ok(r#""1.500000e+03""#)),
        (r#"format("%.2E", 0.000123)"#, Ok(r#""1.23E-04""#)),
        (r#"format("%g", 100000)"#, Ok(r#""100000""#)),
        (r#"format("%g", 1000000)"#, Ok(r#""1e+06""#)),
        (r#"format("%g", 0.5)"#, Ok(r#""0.5""#)),
        (r#"format("%.3g", 1234.5678)"#, Ok(r#""1.23e+03""#)),
        (r#"format("%.3g", 1.5)"#, Ok(r#""1.5""#)),
        (r#"format("100%%")"#, Ok(r#""100%""#)),
        (r#"format("%[2]s-%[1]s", "a", "b")"#, Ok(r#""b-a""#)),
        (r#"format("no verbs")"#, Ok(r#""no verbs""#)),
        (r#"format("%s héllo %s", "ü", "é")"#, Ok(r#""ü héllo é""#)),
        (
            r#"format("%s and %s", "a")"#,
            Err("not enough arguments for \"%s\" at offset 7: it needs argument 2, found 1 argument"),
        ),
        (r#"format("%s", "a", "b")"#, Err("too many arguments: the format string uses 1 argument, found 2 arguments")),
        (r#"format("%z", 1)"#, Err("unrecognized format verb \"%z\" at offset 0")),
        (r#"format("50%", 1)"#, Err("ends inside the verb")),
        (r#"format("%d", 1.5)"#, Err("needs a whole number, found 1.5")),
        // Regression: whole numbers past 2^53 were refused ("needs a whole number, found
        // 1000000000000000000").
        (r#"format("%d", 1e18)"#, Ok(r#""1000000000000000000""#)),
        (r#"format("%d", -1e18)"#, Ok(r#""-1000000000000000000""#)),
        (r#"format("%x", 1e20)"#, Ok(r#""56bc75e2d63100000""#)),
        (r#"format("%d", 1e40)"#, Ok(r#""10000000000000000000000000000000000000000""#)),
        (r#"format("%x", 1e40)"#, Err("formats whole numbers below 2^128")),
        (r#"format("%d", "x")"#, Err("needs a number, found a string")),
        (r#"format("%s", [1])"#, Err("needs a string, found a list")),
        (r#"format("%s", null)"#, Err("needs a string, found null")),
        (r#"format("%t", 1)"#, Err("needs a bool, found a number")),
        (r#"format("%[3]s", "a")"#, Err("argument index")),
        (r#"format("%99999d", 1)"#, Err("larger than 10000")),
    ]);
}

#[test]
fn join() {
    check(&[
        (r#"join(", ", ["a", "b", "c"])"#, Ok(r#""a, b, c""#)),
        (r#"join(",", ["a"])"#, Ok(r#""a""#)),
        (r#"join(",", [])"#, Ok(r#""""#)),
        (r#"join("", ["a", "b"])"#, Ok(r#""ab""#)),
        (r#"join("-", [1, true, "x"])"#, Ok(r#""1-true-x""#)),
        (r#"join(",", toset(["b", "a"]))"#, Ok(r#""a,b""#)),
        (r#"join(",", ["a", null])"#, Err("element 1 of the list is null")),
        (r#"join(",", [["a"]])"#, Err("element 0 of the list must be a string, found a list")),
        (r#"join(",", "a")"#, Err("argument 2 must be a list")),
    ]);
}

#[test]
fn split() {
    check(&[
        (r#"split(",", "a,b,c")"#, Ok(r#"["a", "b", "c"]"#)),
        (r#"split(",", "a")"#, Ok(r#"["a"]"#)),
        (r#"split(",", "")"#, Ok(r#"[""]"#)),
        (r#"split(",", "a,,b,")"#, Ok(r#"["a", "", "b", ""]"#)),
        (r#"split("", "héy")"#, Ok(r#"["h", "é", "y"]"#)),
        (r#"split(", ", "a, b")"#, Ok(r#"["a", "b"]"#)),
        (r#"split(",", ["a"])"#, Err("argument 2 must be a string, found a list")),
    ]);
}

#[test]
fn replace() {
    check(&[
        (r#"replace("1 + 2 + 3", "+", "-")"#, Ok(r#""1 - 2 - 3""#)),
        (r#"replace("hello", "x", "y")"#, Ok(r#""hello""#)),
        (r#"replace("a.b.c", ".", "")"#, Ok(r#""abc""#)),
        (r#"replace("hello world", "/w.*d/", "there")"#, Ok(r#""hello there""#)),
        (r#"replace("a1b22", "/[0-9]+/", "N")"#, Ok(r#""aNbN""#)),
        (r#"replace("john smith", "/(\\w+) (\\w+)/", "$2 $1")"#, Ok(r#""smith john""#)),
        (r#"replace("k=v", "/(?P<key>\\w)=(?P<val>\\w)/", "$${val}:$${key}")"#, Ok(r#""v:k""#)),
        (r#"replace("a/b", "/", "|")"#, Ok(r#""a|b""#)),
        (r#"replace("ab", "", "-")"#, Ok(r#""-a-b-""#)),
        (r#"replace("x", "/[/", "y")"#, Err("invalid regular expression")),
    ]);
}

#[test]
fn lower_upper_title() {
    check(&[
        (r#"lower("HELLO World")"#, Ok(r#""hello world""#)),
        (r#"lower("ÀÉÎ")"#, Ok(r#""àéî""#)),
        (r#"lower("")"#, Ok(r#""""#)),
        (r#"lower(42)"#, Ok(r#""42""#)),
        (r#"lower([])"#, Err("argument 1 must be a string, found a list")),
        (r#"upper("hello World")"#, Ok(r#""HELLO WORLD""#)),
        // Regression: full case mapping made `ß` into `SS` and `ΣΣ` into `σς`; Terraform
        // (Go) maps one character to one character.
        (r#"upper("straße")"#, Ok(r#""STRAßE""#)),
        (r#"lower("ΣΑΣ")"#, Ok(r#""σασ""#)),
        (r#"lower("İ")"#, Ok(r#""i""#)),
        (r#"title("ßa")"#, Ok(r#""ßa""#)),
        (r#"upper("")"#, Ok(r#""""#)),
        (r#"upper("123-abc")"#, Ok(r#""123-ABC""#)),
        (r#"upper(null)"#, Err("argument 1 must be a string, found null")),
        (r#"title("hello world")"#, Ok(r#""Hello World""#)),
        (r#"title("hELLO")"#, Ok(r#""HELLO""#)),
        (r#"title("o'neil-smith")"#, Ok(r#""O'Neil-Smith""#)),
        (r#"title("snake_case words")"#, Ok(r#""Snake_case Words""#)),
        (r#"title("élan vital")"#, Ok(r#""Élan Vital""#)),
        (r#"title("")"#, Ok(r#""""#)),
        (r#"title({})"#, Err("argument 1 must be a string")),
    ]);
}

#[test]
fn trimming() {
    check(&[
        (r#"trim("?!hello?!", "!?")"#, Ok(r#""hello""#)),
        (r#"trim("  hello  ", " ")"#, Ok(r#""hello""#)),
        (r#"trim("hello", "")"#, Ok(r#""hello""#)),
        (r#"trim("aaa", "a")"#, Ok(r#""""#)),
        (r#"trim("xhix", "xy")"#, Ok(r#""hi""#)),
        (r#"trim("a", [])"#, Err("argument 2 must be a string")),
        (r#"trimspace("  hello\n\t ")"#, Ok(r#""hello""#)),
        (r#"trimspace("a b")"#, Ok(r#""a b""#)),
        (r#"trimspace("")"#, Ok(r#""""#)),
        (r#"trimspace("\u00a0x\u3000")"#, Ok(r#""x""#)),
        (r#"trimspace(" \n ")"#, Ok(r#""""#)),
        (r#"trimspace([" a "])"#, Err("argument 1 must be a string")),
        (r#"trimprefix("helloworld", "hello")"#, Ok(r#""world""#)),
        (r#"trimprefix("helloworld", "cat")"#, Ok(r#""helloworld""#)),
        (r#"trimprefix("aaab", "a")"#, Ok(r#""aab""#)),
        (r#"trimprefix("abc", "")"#, Ok(r#""abc""#)),
        (r#"trimprefix("ab", "abc")"#, Ok(r#""ab""#)),
        (r#"trimprefix(["a"], "a")"#, Err("argument 1 must be a string")),
        (r#"trimsuffix("helloworld", "world")"#, Ok(r#""hello""#)),
        (r#"trimsuffix("helloworld", "cat")"#, Ok(r#""helloworld""#)),
        (r#"trimsuffix("abbb", "b")"#, Ok(r#""abb""#)),
        (r#"trimsuffix("abc", "")"#, Ok(r#""abc""#)),
        (r#"trimsuffix("file.tar.gz", ".gz")"#, Ok(r#""file.tar""#)),
        (r#"trimsuffix("a", {})"#, Err("argument 2 must be a string")),
        (r#"chomp("hello\n")"#, Ok(r#""hello""#)),
        (r#"chomp("hello\r\n\n")"#, Ok(r#""hello""#)),
        (r#"chomp("hello")"#, Ok(r#""hello""#)),
        (r#"chomp("a\nb\n")"#, Ok(r#""a\nb""#)),
        (r#"chomp("hello \n")"#, Ok(r#""hello ""#)),
        (r#"chomp("")"#, Ok(r#""""#)),
        (r#"chomp([])"#, Err("argument 1 must be a string")),
    ]);
}

#[test]
fn substr() {
    check(&[
        (r#"substr("hello world", 1, 4)"#, Ok(r#""ello""#)),
        (r#"substr("hello", 0, -1)"#, Ok(r#""hello""#)),
        (r#"substr("hello", 2, -1)"#, Ok(r#""llo""#)),
        (r#"substr("hello", -3, 2)"#, Ok(r#""ll""#)),
        (r#"substr("hello", -10, 2)"#, Ok(r#""he""#)),
        (r#"substr("hello", 1, 100)"#, Ok(r#""ello""#)),
        (r#"substr("hello", 5, 1)"#, Ok(r#""""#)),
        (r#"substr("hello", 10, 1)"#, Ok(r#""""#)),
        (r#"substr("hello", 1, 0)"#, Ok(r#""""#)),
        (r#"substr("🤔🤷é", 1, 1)"#, Ok(r#""🤷""#)),
        (r#"substr("", 0, 1)"#, Ok(r#""""#)),
        (r#"substr("hello", 1.5, 1)"#, Err("argument 2 must be a whole number, found 1.5")),
        (r#"substr("hello", "x", 1)"#, Err("argument 2 must be a number")),
    ]);
}

#[test]
fn predicates() {
    check(&[
        (r#"startswith("hello world", "hello")"#, Ok("true")),
        (r#"startswith("hello world", "world")"#, Ok("false")),
        (r#"startswith("hello", "")"#, Ok("true")),
        (r#"startswith("", "a")"#, Ok("false")),
        (r#"startswith("Hello", "hello")"#, Ok("false")),
        (r#"startswith("a", [])"#, Err("argument 2 must be a string")),
        (r#"endswith("hello world", "world")"#, Ok("true")),
        (r#"endswith("hello world", "hello")"#, Ok("false")),
        (r#"endswith("hello", "")"#, Ok("true")),
        (r#"endswith("", "")"#, Ok("true")),
        (r#"endswith("v1.0", 0)"#, Ok("true")),
        (r#"endswith([], "a")"#, Err("argument 1 must be a string")),
        (r#"strcontains("hello world", "wor")"#, Ok("true")),
        (r#"strcontains("hello world", "wod")"#, Ok("false")),
        (r#"strcontains("hello", "")"#, Ok("true")),
        (r#"strcontains("", "a")"#, Ok("false")),
        (r#"strcontains("Hello", "hello")"#, Ok("false")),
        (r#"strcontains("a", null)"#, Err("argument 2 must be a string")),
    ]);
}

#[test]
fn regex() {
    check(&[
        (r#"regex("[a-z]+", "53453453.345345aaabbbccc23454")"#, Ok(r#""aaabbbccc""#)),
        (r#"regex("(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)", "2019-02-01")"#, Ok(r#"["2019", "02", "01"]"#)),
        (
            r#"regex("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?", "https://terraform.io/docs/")"#,
            Ok(r#"{ authority = "terraform.io", scheme = "https" }"#),
        ),
        (r#"regex("(a)|(b)", "b")"#, Ok(r#"[null, "b"]"#)),
        (r#"regex("", "abc")"#, Ok(r#""""#)),
        (r#"regex("(?i)HELLO", "say hello")"#, Ok(r#""hello""#)),
        (r#"regex("\\d+", "abc")"#, Err("the pattern did not match any part of the string")),
        (r#"regex("[", "x")"#, Err("invalid regular expression: unclosed character class")),
        (r#"regex("(", "x")"#, Err("patterns use RE2 syntax")),
        (r#"regex("(?P<a>x)(y)", "xy")"#, Err("mixes named and unnamed capture groups")),
    ]);
}

#[test]
fn regexall() {
    check(&[
        (r#"regexall("[a-z]+", "1234abcd5678efgh9")"#, Ok(r#"["abcd", "efgh"]"#)),
        (r#"regexall("[a-z]+", "1234")"#, Ok("[]")),
        (r#"length(regexall("[a-z]+", "1234abcd5678efgh9"))"#, Ok("2")),
        (r#"regexall("(\\w)=(\\d)", "a=1 b=2")"#, Ok(r#"[["a", "1"], ["b", "2"]]"#)),
        (r#"regexall("(?P<k>\\w)=(?P<v>\\d)", "a=1")"#, Ok(r#"[{ k = "a", v = "1" }]"#)),
        // An empty match right after another match is skipped, as in Go.
        (r#"regexall("a*", "baaa")"#, Ok(r#"["", "aaa"]"#)),
        (r#"regexall("a{2,1}", "x")"#, Err("invalid regular expression")),
        (r#"regexall("(x)(?P<n>y)", "xy")"#, Err("mixes named and unnamed")),
    ]);
}

#[test]
fn indent() {
    check(&[
        (r#"indent(2, "[\n  foo,\n  bar,\n]\n")"#, Ok(r#""[\n    foo,\n    bar,\n  ]\n  ""#)),
        (r#"indent(4, "one line")"#, Ok(r#""one line""#)),
        (r#"indent(0, "a\nb")"#, Ok(r#""a\nb""#)),
        (r#"indent(1, "a\n\nb")"#, Ok(r#""a\n \n b""#)),
        (r#"indent(3, "")"#, Ok(r#""""#)),
        (r#"indent(-1, "a\nb")"#, Err("spaces must be between 0 and 10000, found -1")),
        (r#"indent(1.5, "a")"#, Err("argument 1 must be a whole number")),
    ]);
}

/// Regression: `\w`, `\d`, `\s` and `\b` matched Unicode letters, digits and spaces,
/// and RE2 syntax such as `\Q...\E`, `[\d-z]` and octal escapes was refused.
#[test]
fn regular_expressions_are_re2() {
    check(&[
        (r#"regex("\\w+", "héllo")"#, Ok(r#""h""#)),
        (r#"regex("\\d+", "a\u0663 12")"#, Ok(r#""12""#)),
        (r#"regexall("\\s", "a\u00a0b c")"#, Ok(r#"[" "]"#)),
        (r#"regex("[\\d-z]+", "a-z9")"#, Ok(r#""-z9""#)),
        (r#"regex("\\Q1.5*\\E", "x1.5*")"#, Ok(r#""1.5*""#)),
        (r#"regex("\\101+", "xAAy")"#, Ok(r#""AA""#)),
        (r#"regex("\\pL+", "héllo")"#, Ok(r#""héllo""#)),
        (r##"replace("a1b22", "/\\d+/", "#")"##, Ok(r##""a#b#""##)),
    ]);
}

#[test]
fn strrev() {
    check(&[
        (r#"strrev("hello")"#, Ok(r#""olleh""#)),
        (r#"strrev("a")"#, Ok(r#""a""#)),
        (r#"strrev("")"#, Ok(r#""""#)),
        (r#"strrev("héllo 🤔")"#, Ok(r#""🤔 olléh""#)),
        (r#"strrev(123)"#, Ok(r#""321""#)),
        // Strings are in normal form C, so a decomposed `é` is one character, as in
        // Terraform; a combination with no composed form (`q` + U+0301) still splits.
        ("strrev(\"xe\u{301}\")", Ok("\"\u{e9}x\"")),
        ("strrev(\"xq\u{301}\")", Ok("\"\u{301}qx\"")),
        (r#"strrev(["a"])"#, Err("argument 1 must be a string")),
    ]);
}

#[test]
fn formatlist() {
    check(&[
        (r#"formatlist("Hello, %s!", ["Valentina", "Ander"])"#, Ok(r#"["Hello, Valentina!", "Hello, Ander!"]"#)),
        (
            r#"formatlist("%s, %s!", "Salutations", ["Valentina", "Ander"])"#,
            Ok(r#"["Salutations, Valentina!", "Salutations, Ander!"]"#),
        ),
        (r#"formatlist("%s", [])"#, Ok("[]")),
        (r#"formatlist("x")"#, Ok(r#"["x"]"#)),
        (r#"formatlist("%s", "a")"#, Ok(r#"["a"]"#)),
        (r#"formatlist("%03d-%s", [1, 2], toset(["a", "b"]))"#, Ok(r#"["001-a", "002-b"]"#)),
        (r#"formatlist("%s %s", ["a"], ["b", "c"])"#, Err("argument 3 has 2 elements but argument 2 has 1")),
        (r#"formatlist("%d", ["a"])"#, Err("\"%d\" at offset 0 needs a number, found a string")),
        (r#"formatlist("%s")"#, Err("not enough arguments")),
    ]);
}

/// Regression of #18 (item 8): Terraform ignores the width and flags of `%t`.
#[test]
fn format_t_ignores_width() {
    check(&[
        (r#"format("%5t", true)"#, Ok(r#""true""#)),
        (r#"format("%-6t|", false)"#, Ok(r#""false|""#)),
        (r#"format("%t", "true")"#, Ok(r#""true""#)),
    ]);
}

/// Regression: `%d` and `%f` wrote a large whole number's binary value
/// (`format("%d", 1e23)` was "99999999999999991611392") where a template writes the
/// shortest decimal ("100000000000000000000000"), as Terraform does for both.
#[test]
fn format_writes_large_whole_numbers_as_templates_do() {
    check(&[
        (r#"format("%d", 1e23) == "${1e23}""#, Ok("true")),
        (r#"format("%d", 1e23)"#, Ok(r#""100000000000000000000000""#)),
        (r#"format("%f", 1e23)"#, Ok(r#""100000000000000000000000.000000""#)),
        (r#"format("%.2f", -1e22)"#, Ok(r#""-10000000000000000000000.00""#)),
        (r#"format("%.0f", 1e23)"#, Ok(r#""100000000000000000000000""#)),
        (r#"format("%x", 1e23)"#, Ok(r#""152d02c7e14af6800000""#)),
        (
            r#"format("%b", 1e23)"#,
            Ok(r#""10101001011010000001011000111111000010100101011110110100000000000000000000000""#),
        ),
        (r#"format("%f", 0.1)"#, Ok(r#""0.100000""#)),
        // `%v` writes a number as a template does; Terraform switches to exponent form.
        (r#"format("%v", 1e21)"#, Ok(r#""1000000000000000000000""#)),
        (r#"format("%v", 123456789012)"#, Ok(r#""123456789012""#)),
    ]);
}

/// Regression: "there are 1 arguments".
#[test]
fn format_counts_arguments_in_words() {
    check(&[
        (
            r#"format("%[2]d", 1)"#,
            Err("the argument index in \"%[2]d\" at offset 0 is out of range: found 1 argument\n"),
        ),
        (r#"format("%[3]d", 1, 2)"#, Err("is out of range: found 2 arguments\n")),
    ]);
}

/// Regression: `title("ǆemal")` was "Ǆemal"; the first letter takes its title case (Go's
/// `unicode.ToTitle`), which for these digraphs, Georgian and Greek with ypogegrammeni is
/// not the upper case. Every cased letter was compared with Terraform 1.11.
#[test]
fn title_uses_the_title_case_of_a_letter() {
    check(&[
        (r#"title("ǆemal")"#, Ok(r#""ǅemal""#)),
        (r#"title("Ǆemal ǉubljana ǌ ǳ")"#, Ok(r#""ǅemal ǈubljana ǋ ǲ""#)),
        (r#"title("ანა")"#, Ok(r#""ანა""#)),
        (r#"title("ᾀ ᾳ ῃ ῳ ᾈ")"#, Ok(r#""ᾈ ᾼ ῌ ῼ ᾈ""#)),
        (r#"title("ﬁx ŉ")"#, Ok(r#""ﬁx ŉ""#)),
    ]);
}

/// Regression: the `regex` crate's own text ("Compiled regex exceeds size limit of
/// 10485760 bytes.") was the message.
#[test]
fn regex_too_large_says_why_in_its_own_words() {
    check(&[(
        r#"regex("(a{1000}){1000}", "a")"#,
        Err("the regular expression is too large: compiled, it would take more than 10 MiB\n\
             a counted repetition such as `{1000}`"),
    )]);
}
