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
            ("fileexists(null)", Err("argument 1 must be a string, found a null")),
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
