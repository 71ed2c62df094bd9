//! The file and environment functions, each as a table of calls and their expected
//! rendering (or a fragment of the expected error), run in a temporary module directory.

use std::path::Path;

use infra_stdlib::testing::check_in;

/// A module directory with a few files; the `TempDir` deletes it when dropped.
fn module() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, contents: &[u8]| std::fs::write(dir.path().join(name), contents).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    write("hello.txt", b"hello\n");
    write("empty.txt", b"");
    write("sub/x.txt", b"x");
    write("bad.bin", &[0x66, 0xff, 0xfe]);
    write("greeting.tpl", b"Hello, ${name}!\n");
    write("count.tpl", b"${n + 1} ${join(\",\", items)}");
    write("broken.tpl", b"${missing}");
    write("list.tpl", b"${items}");
    write("self.tpl", b"${templatefile(\"self.tpl\", {})}");
    std::fs::create_dir_all(dir.path().join("sub/deep")).unwrap();
    write("sub/deep/y.md", b"y");
    write("t.csv", b"a,b\n1,2\n");
    write(".hidden", b"");
    dir
}

#[test]
fn file() {
    let dir = module();
    let absolute = format!("file(\"{}\")", dir.path().join("sub/x.txt").display());
    check_in(
        dir.path(),
        &[],
        &[
            ("file(\"hello.txt\")", Ok("\"hello\\n\"")),
            ("file(\"empty.txt\")", Ok("\"\"")),
            ("file(\"sub/x.txt\")", Ok("\"x\"")),
            ("file(\"./sub/../hello.txt\")", Ok("\"hello\\n\"")),
            (&absolute, Ok("\"x\"")),
            (
                "file(\"missing.txt\")",
                Err("no file exists at `missing.txt`\nrelative paths start at the module directory"),
            ),
            ("file(\"bad.bin\")", Err("`bad.bin` is not UTF-8 text (invalid byte at offset 1)")),
            ("file(\"sub\")", Err("`sub` is a directory, not a file")),
            ("file([])", Err("argument 1 must be a string")),
        ],
    );
}

#[test]
fn fileexists() {
    let dir = module();
    let absolute = format!("fileexists(\"{}\")", dir.path().join("hello.txt").display());
    check_in(
        dir.path(),
        &[],
        &[
            ("fileexists(\"hello.txt\")", Ok("true")),
            ("fileexists(\"sub/x.txt\")", Ok("true")),
            ("fileexists(\"sub/../empty.txt\")", Ok("true")),
            (&absolute, Ok("true")),
            ("fileexists(\"missing.txt\")", Ok("false")),
            ("fileexists(\"missing/x.txt\")", Ok("false")),
            ("fileexists(\"sub\")", Err("`sub` is a directory, not a file")),
            ("fileexists(null)", Err("argument 1 must be a string, found null")),
        ],
    );
}

#[test]
fn templatefile() {
    let dir = module();
    check_in(
        dir.path(),
        &[],
        &[
            ("templatefile(\"greeting.tpl\", { name = \"world\" })", Ok("\"Hello, world!\\n\"")),
            ("templatefile(\"count.tpl\", { n = 1, items = [\"a\", \"b\"] })", Ok("\"2 a,b\"")),
            ("templatefile(\"greeting.tpl\", { name = 7, unused = [] })", Ok("\"Hello, 7!\\n\"")),
            ("templatefile(\"empty.txt\", {})", Ok("\"\"")),
            ("templatefile(\"hello.txt\", {})", Ok("\"hello\\n\"")),
            ("templatefile(\"broken.tpl\", {})", Err("in template `broken.tpl`:")),
            ("templatefile(\"list.tpl\", { items = [1] })", Err("in template `list.tpl`: cannot interpolate a list")),
            ("templatefile(\"missing.tpl\", {})", Err("no file exists at `missing.tpl`")),
            ("templatefile(\"greeting.tpl\", { \"a-b\" = 1 })", Err("invalid template variable name \"a-b\"")),
            ("templatefile(\"greeting.tpl\", [])", Err("argument 2 must be a map, found a list")),
            ("templatefile(\"self.tpl\", {})", Err("templatefile cannot be called from inside a template")),
        ],
    );
    // The guard against nesting is cleared after each call, failed or not.
    check_in(dir.path(), &[], &[("templatefile(\"greeting.tpl\", { name = \"again\" })", Ok("\"Hello, again!\\n\""))]);
}

#[test]
fn abspath() {
    let cwd = std::env::current_dir().unwrap();
    let relative = format!("\"{}\"", cwd.join("x/y").display());
    let here = format!("\"{}\"", cwd.display());
    check_in(
        Path::new("."),
        &[],
        &[
            ("abspath(\"/a/b/../c\")", Ok("\"/a/c\"")),
            ("abspath(\"/a/./b/\")", Ok("\"/a/b\"")),
            ("abspath(\"/\")", Ok("\"/\"")),
            ("abspath(\"/../..\")", Ok("\"/\"")),
            ("abspath(\"x/./y\")", Ok(&relative)),
            ("abspath(\"x/y/..//y\")", Ok(&relative)),
            ("abspath(\"\")", Ok(&here)),
            ("abspath([1])", Err("argument 1 must be a string, found a list")),
        ],
    );
}

#[test]
fn env() {
    let dir = module();
    let env = [("REGION", "eu-west-1"), ("EMPTY", "")];
    check_in(
        dir.path(),
        &env,
        &[
            ("env(\"REGION\")", Ok("\"eu-west-1\"")),
            ("env(\"REGION\", \"us-east-1\")", Ok("\"eu-west-1\"")),
            ("env(\"EMPTY\", \"fallback\")", Ok("\"\"")),
            ("env(\"MISSING\", \"fallback\")", Ok("\"fallback\"")),
            ("env(\"MISSING\", null)", Ok("null")),
            (
                "env(\"MISSING\")",
                Err("environment variable `MISSING` is not set\nset it before running infra, or give a default"),
            ),
            ("env(\"\")", Err("\"\" is not an environment variable name")),
            ("env(\"A=B\")", Err("\"A=B\" is not an environment variable name")),
            ("env(\"MISSING\", [])", Err("argument 2 must be a string, found a list")),
        ],
    );
}

#[test]
fn file_hashes() {
    let dir = module();
    check_in(
        dir.path(),
        &[],
        &[
            ("filebase64(\"hello.txt\")", Ok("\"aGVsbG8K\"")),
            ("filebase64(\"bad.bin\")", Ok("\"Zv/+\"")),
            ("filebase64(\"empty.txt\")", Ok("\"\"")),
            ("filebase64sha256(\"hello.txt\")", Ok("\"WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=\"")),
            (
                "filebase64sha512(\"hello.txt\")",
                Ok("\"58IrmUxZ2c8rSOVJseJGZmNgRZMNPafBrLKZ0cO3+TH5Sq5B7dosKyB6NuEPi8uNRSI+VIePWzFufOO2vAGWKQ==\""),
            ),
            ("filemd5(\"hello.txt\")", Ok("\"b1946ac92492d2347c6235b4d2611184\"")),
            ("filesha1(\"hello.txt\")", Ok("\"f572d396fae9206628714fb2ce00f72e94f2258f\"")),
            ("filesha256(\"hello.txt\")", Ok("\"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\"")),
            (
                "filesha512(\"hello.txt\")",
                Ok("\"e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931f94aae41edda2c2b207a36e10f8bcb8d45223e54878f5b316e7ce3b6bc019629\""),
            ),
            ("filemd5(\"bad.bin\")", Ok("\"ea091e523f9ccdd27ec431f133bc27f8\"")),
            ("filemd5(\"missing.txt\")", Err("no file exists at `missing.txt`")),
            ("filesha256(\"sub\")", Err("`sub` is a directory, not a file")),
            ("filebase64([])", Err("argument 1 must be a string, found a list")),
        ],
    );
}

#[test]
fn fileset() {
    let dir = module();
    check_in(
        dir.path(),
        &[],
        &[
            ("fileset(\".\", \"*.txt\")", Ok("toset([\"empty.txt\", \"hello.txt\"])")),
            ("fileset(\".\", \"**/*.md\")", Ok("toset([\"sub/deep/y.md\"])")),
            ("fileset(\".\", \"sub/**\")", Ok("toset([\"sub/deep/y.md\", \"sub/x.txt\"])")),
            ("fileset(\"sub\", \"*\")", Ok("toset([\"x.txt\"])")),
            ("fileset(\".\", \"sub/*\")", Ok("toset([\"sub/x.txt\"])")),
            ("fileset(\".\", \"./sub/../sub/*\")", Ok("toset([\"sub/x.txt\"])")),
            ("fileset(\".\", \"{hello,t}.*\")", Ok("toset([\"hello.txt\", \"t.csv\"])")),
            ("fileset(\".\", \"[a-h]*\")", Ok("toset([\"bad.bin\", \"broken.tpl\", \"count.tpl\", \"empty.txt\", \"greeting.tpl\", \"hello.txt\"])")),
            ("fileset(\".\", \"s?b/x.txt\")", Ok("toset([\"sub/x.txt\"])")),
            ("fileset(\".\", \".h*\")", Ok("toset([\".hidden\"])")),
            ("length(fileset(\".\", \"**\"))", Ok("12")),
            ("fileset(\"missing\", \"*\")", Ok("toset([])")),
            ("fileset(\".\", \"[\")", Err("invalid glob pattern \"[\"")),
            ("fileset([], \"*\")", Err("argument 1 must be a string, found a list")),
        ],
    );
}

#[test]
fn templatestring() {
    let dir = module();
    check_in(
        dir.path(),
        &[],
        &[
            ("templatestring(\"Hello, $${name}!\", { name = \"world\" })", Ok("\"Hello, world!\"")),
            ("templatestring(\"$${a + b}\", { a = 1, b = 2 })", Ok("\"3\"")),
            ("templatestring(\"$${x}\", { x = true })", Ok("\"true\"")),
            ("templatestring(\"plain\", {})", Ok("\"plain\"")),
            ("templatestring(\"$${name}\", { \"a-b\" = 1, name = \"x\" })", Ok("\"x\"")),
            ("templatestring(\"$${upper(x)}\", { x = \"a\" })", Ok("\"A\"")),
            ("templatestring(\"$${x}\", { x = [1] })", Err("in the template: cannot interpolate a list")),
            (
                "templatestring(\"$${x}\", { x = null })",
                Err("in the template: cannot interpolate `null` into a string"),
            ),
            ("templatestring(\"$${unknown}\", {})", Err("in the template:")),
            ("templatestring(\"x\", [])", Err("argument 2 must be a map, found a list")),
            (
                "templatestring(\"$${templatestring(\\\"x\\\", {})}\", {})",
                Err("templatestring cannot be called from inside a template"),
            ),
            (
                "templatestring(\"$${templatefile(\\\"greeting.tpl\\\", { name = 1 })}\", {})",
                Err("templatefile cannot be called from inside a template"),
            ),
        ],
    );
    check_in(dir.path(), &[], &[("templatestring(\"ok\", {})", Ok("\"ok\""))]);
}

#[test]
fn basename_and_dirname() {
    check_in(
        Path::new("."),
        &[],
        &[
            ("basename(\"foo/bar/baz.txt\")", Ok("\"baz.txt\"")),
            ("basename(\"/\")", Ok("\"/\"")),
            ("basename(\"\")", Ok("\".\"")),
            ("basename(\"foo/\")", Ok("\"foo\"")),
            ("basename(\"foo//\")", Ok("\"foo\"")),
            ("dirname(\"foo/bar/baz.txt\")", Ok("\"foo/bar\"")),
            ("dirname(\"/\")", Ok("\"/\"")),
            ("dirname(\"\")", Ok("\".\"")),
            ("dirname(\"foo\")", Ok("\".\"")),
            ("dirname(\"/foo\")", Ok("\"/\"")),
            ("dirname(\"foo//bar/\")", Ok("\"foo/bar\"")),
            ("dirname(\"a/./b/../c/d\")", Ok("\"a/c\"")),
            ("dirname(\"../x\")", Ok("\"..\"")),
            ("basename([])", Err("argument 1 must be a string, found a list")),
        ],
    );
}

#[test]
fn pathexpand() {
    let home = [("HOME", "/home/ada")];
    check_in(
        Path::new("."),
        &home,
        &[
            ("pathexpand(\"~/x\")", Ok("\"/home/ada/x\"")),
            ("pathexpand(\"~\")", Ok("\"/home/ada\"")),
            ("pathexpand(\"~/\")", Ok("\"/home/ada\"")),
            ("pathexpand(\"~//a/../b\")", Ok("\"/home/ada/b\"")),
            ("pathexpand(\"x/~\")", Ok("\"x/~\"")),
            ("pathexpand(\"/etc/../x\")", Ok("\"/etc/../x\"")),
            ("pathexpand(\"\")", Ok("\"\"")),
            ("pathexpand(\"~user/x\")", Err("cannot expand `~` in `~user/x`: another user's home directory")),
        ],
    );
    check_in(
        Path::new("."),
        &[],
        &[("pathexpand(\"~/x\")", Err("cannot expand `~` in `~/x`: the HOME environment variable is not set"))],
    );
}

/// `file` and the other file functions read `~/...` from the home directory.
#[test]
fn file_functions_expand_the_home_directory() {
    let dir = module();
    let home = dir.path().join("sub");
    let home = home.to_str().unwrap();
    check_in(
        Path::new("."),
        &[("HOME", home)],
        &[
            ("file(\"~/x.txt\")", Ok("\"x\"")),
            ("fileexists(\"~/x.txt\")", Ok("true")),
            ("filemd5(\"~/x.txt\")", Ok("\"9dd4e461268c8034f5c8564e155c67a6\"")),
            ("fileset(\"~\", \"*.txt\")", Ok("toset([\"x.txt\"])")),
            ("file(\"~/missing\")", Err("no file exists at `~/missing`")),
        ],
    );
}
