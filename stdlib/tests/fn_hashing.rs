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
        ("sha256({})", Err("argument 1 must be a string, found an object")),
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
        ("sha512(null)", Err("argument 1 must be a string, found null")),
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

#[test]
fn base64sha256() {
    check(&[
        ("base64sha256(\"hello\")", Ok("\"LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=\"")),
        ("base64sha256(\"\")", Ok("\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"")),
        ("base64sha256([])", Err("argument 1 must be a string, found a list")),
    ]);
}

#[test]
fn base64sha512() {
    check(&[
        (
            "base64sha512(\"hello\")",
            Ok("\"m3HSJL1i83hdltRq0+o9czGb+8KJDKra4t/3JRlnPKcjI8PZm6XBHXx6zG4UuMXaDEZjR1wuXDre9G9zvN7AQw==\""),
        ),
        (
            "base64sha512(\"✓\")",
            Ok("\"gbNumd3Yx/q2QH765yy3qc50nq37rbEZAQoIciv8Lb32Ud5ng5BGnhCEexdQucpfkRoRHAnLGyDAtVM8lsUU7Q==\""),
        ),
        ("base64sha512(null)", Err("argument 1 must be a string, found null")),
    ]);
}

#[test]
fn uuidv5() {
    check(&[
        ("uuidv5(\"dns\", \"www.terraform.io\")", Ok("\"a5008fae-b28c-5ba5-96cd-82b4c53552d6\"")),
        ("uuidv5(\"url\", \"https://www.terraform.io/\")", Ok("\"9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5\"")),
        ("uuidv5(\"oid\", \"1.3.6.1.4\")", Ok("\"af9d40a5-7a36-5c07-b23a-851cd99fbfa5\"")),
        ("uuidv5(\"x500\", \"CN=Test User 1, O=HashiCorp, C=US\")", Ok("\"0390afcb-44a0-53e1-adeb-46bf0856930b\"")),
        ("uuidv5(\"743ac3c0-3bf7-4a5c-9d4b-7b0d6f0b2d4e\", \"test\")", Ok("\"0221cf03-7842-5401-9823-1e199288313c\"")),
        ("uuidv5(\"nope\", \"x\")", Err("\"nope\" is not a namespace")),
        ("uuidv5(\"dns\", [])", Err("argument 2 must be a string, found a list")),
    ]);
}

/// A 1024-bit key made with `openssl genrsa`, in PKCS #1 and PKCS #8 form, and the
/// ciphertext of `secret text` that `openssl pkeyutl -encrypt` (PKCS #1 v1.5 padding)
/// made with it; Terraform 1.11 decrypts it to the same text.
const PKCS1: &str = include_str!("data/rsa/pkcs1.pem");
const PKCS8: &str = include_str!("data/rsa/pkcs8.pem");
const OPENSSH_ED25519: &str = include_str!("data/rsa/ed25519");
const CIPHERTEXT: &str = include_str!("data/rsa/ciphertext.b64");

#[test]
fn rsadecrypt() {
    let call = |ciphertext: &str, key: &str| format!("rsadecrypt(\"{}\", <<EOT\n{key}EOT\n)", ciphertext.trim());
    let cases = [
        (call(CIPHERTEXT, PKCS1), Ok("\"secret text\"")),
        (call(CIPHERTEXT, PKCS8), Ok("\"secret text\"")),
        (call("aGVsbG8=", PKCS1), Err("cannot decrypt: the ciphertext was not encrypted for this key, or is damaged")),
        (call("!!", PKCS1), Err("the ciphertext is not Base64")),
        (call(CIPHERTEXT, "not a key\n"), Err("the private key is not an RSA private key in PEM or OpenSSH form")),
        (call(CIPHERTEXT, OPENSSH_ED25519), Err("the private key is not an RSA key")),
    ];
    check(&cases.iter().map(|(src, want)| (src.as_str(), *want)).collect::<Vec<_>>());
}

/// No error quotes the key: a key is a secret even when it is not marked as one.
#[test]
fn rsadecrypt_errors_do_not_quote_the_key() {
    let body = PKCS1.lines().nth(1).unwrap();
    let broken = PKCS1.replace(body, &body.chars().rev().collect::<String>());
    for key in [PKCS1, broken.as_str(), OPENSSH_ED25519] {
        let src = format!("rsadecrypt(\"aGVsbG8=\", <<EOT\n{key}EOT\n)");
        let error = eval(&src).unwrap_err();
        for line in key.lines().filter(|line| !line.starts_with("-----")) {
            assert!(!error.contains(line), "{error}");
        }
    }
}

/// Regression: the `uuid` crate's own text ("invalid length: found 3") was the message.
#[test]
fn uuidv5_says_what_a_namespace_is() {
    check(&[(
        "uuidv5(\"abc\", \"x\")",
        Err("\"abc\" is not a namespace: it is neither `dns`, `url`, `oid` nor `x500`, nor a UUID\n\
             a namespace is `dns`, `url`, `oid`, `x500` or a UUID such as"),
    )]);
}
