//! The hashing functions, each as a table of calls and their expected rendering (or a
//! fragment of the expected error). Digests were checked against Python's `hashlib`.

use infra_stdlib::testing::{check, eval};

#[test]
fn sha1() {
    check(&[
        ("sha1(\"hello\")", Ok("\"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d\"")),
        ("sha1(\"\")", Ok("\"da39a3ee5e6b4b0d3255bfef95601890afd80709\"")),
        ("sha1(\"✓\")", Ok("\"698a879938bf4d71b92190d2b8f19c0e1d4abeef\"")),
        ("sha1(12)", Ok("\"7b52009b64fd0a2a49e6d8a939753077792b0554\"")),
        ("sha1([\"a\"])", Err("argument 1 must be a string, found a list")),
        ("sha1()", Err("called with 0 arguments")),
    ]);
}

#[test]
fn sha256() {
    check(&[
        ("sha256(\"hello\")", Ok("\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\"")),
        ("sha256(\"\")", Ok("\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"")),
        ("sha256(\"✓\")", Ok("\"1dabba21cdad44541f6b15796f8d22978fc7ea10c46aeceeeeb66c23b3ac7604\"")),
        ("sha256(12)", Ok("\"6b51d431df5d7f141cbececcf79edf3dd861c3b4069f0b11661a3eefacbba918\"")),
        ("sha256({})", Err("argument 1 must be a string, found a object")),
        ("sha256(\"a\", \"b\")", Err("called with 2 arguments")),
    ]);
}

#[test]
fn sha512() {
    check(&[
        (
            "sha512(\"hello\")",
            Ok("\"9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043\""),
        ),
        (
            "sha512(\"\")",
            Ok("\"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e\""),
        ),
        (
            "sha512(\"✓\")",
            Ok("\"81b36e99ddd8c7fab6407efae72cb7a9ce749eadfbadb119010a08722bfc2dbdf651de678390469e10847b1750b9ca5f911a111c09cb1b20c0b5533c96c514ed\""),
        ),
        ("length(sha512(\"x\"))", Ok("128")),
        ("sha512(null)", Err("argument 1 must be a string, found a null")),
    ]);
}

#[test]
fn md5() {
    check(&[
        ("md5(\"hello\")", Ok("\"5d41402abc4b2a76b9719d911017c592\"")),
        ("md5(\"\")", Ok("\"d41d8cd98f00b204e9800998ecf8427e\"")),
        ("md5(\"✓\")", Ok("\"900eba0c97923d74bd8d9e6190e07264\"")),
        ("md5(true)", Ok("\"b326b5062b2f0e69046810717534cb09\"")),
        ("md5([])", Err("argument 1 must be a string, found a list")),
    ]);
}

/// bcrypt salts randomly, so a result is checked by its form and by verifying it.
#[test]
fn bcrypt() {
    let hash = |src: &str| eval(src).map(|v| v.as_str().unwrap_or_default().to_string());
    let with_cost_4 = hash("bcrypt(\"hunter2\", 4)").unwrap();
    assert!(with_cost_4.starts_with("$2a$04$") && with_cost_4.len() == 60, "{with_cost_4}");
    assert!(bcrypt::verify("hunter2", &with_cost_4).unwrap());
    assert!(!bcrypt::verify("hunter3", &with_cost_4).unwrap());

    let default_cost = hash("bcrypt(\"hunter2\")").unwrap();
    assert!(default_cost.starts_with("$2a$10$"), "{default_cost}");
    assert!(bcrypt::verify("hunter2", &default_cost).unwrap());

    let longest = "a".repeat(72);
    let at_limit = hash(&format!("bcrypt(\"{longest}\", 4)")).unwrap();
    assert!(bcrypt::verify(&longest, &at_limit).unwrap());

    let empty = hash("bcrypt(\"\", 4)").unwrap();
    assert!(bcrypt::verify("", &empty).unwrap());
    assert_ne!(hash("bcrypt(\"a\", 4)").unwrap(), hash("bcrypt(\"a\", 4)").unwrap(), "salts differ");

    check(&[
        ("bcrypt(\"x\", 3)", Err("the cost must be from 4 to 31, found 3")),
        ("bcrypt(\"x\", 32)", Err("the cost must be from 4 to 31, found 32")),
        ("bcrypt(\"x\", -1)", Err("the cost must be from 4 to 31, found -1")),
        ("bcrypt(\"x\", 4.5)", Err("argument 2 must be a whole number, found 4.5")),
        (
            "bcrypt(\"${join(\"\", [for i in range(73) : \"a\"])}\", 4)",
            Err("the string is 73 bytes long; bcrypt uses at most 72"),
        ),
        ("bcrypt([1])", Err("argument 1 must be a string")),
    ]);
}
