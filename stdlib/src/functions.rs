//! Signatures of the built-in functions: parameter and result types and a one-sentence
//! description each, for the checker and for editor hovers.
//!
//! Each function is one call to [`f`] plus a [`Build::doc`] line, so that the table reads
//! like a reference card. Parameter types are as wide as the function accepts (`any` where
//! it takes strings and collections alike); result types follow an argument through
//! [`Returns::SameAs`] and [`Returns::ElementOf`] where they can. A variadic function that
//! needs at least one argument (`min`, `concat`, `try`, ...) takes it as a required `first`
//! parameter, so that the checker rather than evaluation reports a call with none.

use infra_compiler::schema::{FunctionSignature, ParamSignature, Returns};
use infra_compiler::types::Type::{self, Any, Bool, Number, String as Str};

/// Every built-in function's signature.
pub fn all() -> Vec<FunctionSignature> {
    let groups = [
        strings(),
        collections(),
        numbers(),
        conversion(),
        encoding(),
        hashing(),
        network(),
        files(),
        time(),
        control(),
    ];
    groups.into_iter().flatten().collect()
}

/// A function with fixed, required parameters and no description yet.
fn f(name: &str, params: &[(&str, Type)], returns: Returns) -> FunctionSignature {
    FunctionSignature {
        name: name.to_string(),
        params: params.iter().map(|(name, ty)| param(name, ty.clone())).collect(),
        optional_params: 0,
        variadic: None,
        returns,
        description: String::new(),
        resource_only: false,
    }
}

fn param(name: &str, ty: Type) -> ParamSignature {
    ParamSignature { name: name.to_string(), ty }
}

fn ret(ty: Type) -> Returns {
    Returns::Type(ty)
}

/// The finishing touches on a signature made by [`f`].
trait Build {
    fn doc(self, description: &str) -> Self;
    /// The last `n` parameters may be left out.
    fn optional(self, n: usize) -> Self;
    /// Any number of further arguments of type `ty`.
    fn variadic(self, name: &str, ty: Type) -> Self;
    fn resource_only(self) -> Self;
}

impl Build for FunctionSignature {
    fn doc(mut self, description: &str) -> Self {
        self.description = description.to_string();
        self
    }

    fn optional(mut self, n: usize) -> Self {
        self.optional_params = n;
        self
    }

    fn variadic(mut self, name: &str, ty: Type) -> Self {
        self.variadic = Some(param(name, ty));
        self
    }

    fn resource_only(mut self) -> Self {
        self.resource_only = true;
        self
    }
}

fn strings() -> Vec<FunctionSignature> {
    let text = |name: &str, doc: &str| f(name, &[("string", Str)], ret(Str)).doc(doc);
    vec![
        f("format", &[("format", Str)], ret(Str))
            .variadic("args", Any)
            .doc("Formats the arguments by a printf-style format string such as `%s-%03d`."),
        f("join", &[("separator", Str), ("list", Type::list(Str))], ret(Str))
            .doc("Concatenates the strings of a list, with the separator between each two."),
        f("split", &[("separator", Str), ("string", Str)], ret(Type::list(Str)))
            .doc("Divides a string into a list at each occurrence of the separator."),
        f("replace", &[("string", Str), ("substring", Str), ("replacement", Str)], ret(Str))
            .doc("Replaces every occurrence of a substring, or of a `/regex/`, by another."),
        text("lower", "Converts every letter of a string to lower case."),
        text("upper", "Converts every letter of a string to upper case."),
        text("title", "Converts the first letter of every word of a string to title (upper) case."),
        f("trim", &[("string", Str), ("cutset", Str)], ret(Str))
            .doc("Removes every character of the cutset from both ends of a string."),
        text("trimspace", "Removes whitespace from both ends of a string."),
        f("trimprefix", &[("string", Str), ("prefix", Str)], ret(Str))
            .doc("Removes the prefix from the start of a string, if it is there."),
        f("trimsuffix", &[("string", Str), ("suffix", Str)], ret(Str))
            .doc("Removes the suffix from the end of a string, if it is there."),
        f("substr", &[("string", Str), ("offset", Number), ("length", Number)], ret(Str))
            .doc("Extracts `length` characters from `offset` on; a length of -1 means all."),
        f("startswith", &[("string", Str), ("prefix", Str)], ret(Bool))
            .doc("Tells whether a string starts with the prefix."),
        f("endswith", &[("string", Str), ("suffix", Str)], ret(Bool))
            .doc("Tells whether a string ends with the suffix."),
        f("strcontains", &[("string", Str), ("substring", Str)], ret(Bool))
            .doc("Tells whether a string contains the substring."),
        // A string without capture groups, a list with unnamed ones, an object with named ones.
        f("regex", &[("pattern", Str), ("string", Str)], ret(Any))
            .doc("Returns the first match of a regular expression, or its capture groups."),
        f("regexall", &[("pattern", Str), ("string", Str)], ret(Type::list(Any)))
            .doc("Returns every match of a regular expression, each as `regex` would."),
        f("indent", &[("spaces", Number), ("string", Str)], ret(Str))
            .doc("Indents every line of a string but the first by the number of spaces."),
        text("chomp", "Removes newline characters from the end of a string."),
        text("strrev", "Reverses the characters of a string."),
        f("formatlist", &[("format", Str)], ret(Type::list(Str)))
            .variadic("args", Any)
            .doc("Formats each element of the list arguments, as `format` does, into a list of strings."),
    ]
}

fn collections() -> Vec<FunctionSignature> {
    let list = || Type::list(Any);
    let map = || Type::map(Any);
    let set = || Type::set(Any);
    vec![
        f("length", &[("value", Any)], ret(Number))
            .doc("Counts the characters of a string or the elements of a collection."),
        f("concat", &[("first", list())], ret(list()))
            .variadic("rest", list())
            .doc("Joins lists into one list, in order."),
        f("flatten", &[("list", list())], ret(list())).doc("Replaces every nested list by its elements, recursively."),
        f("distinct", &[("list", list())], Returns::SameAs(0))
            .doc("Removes duplicate elements from a list, keeping the first of each."),
        f("keys", &[("map", map())], ret(Type::list(Str))).doc("Lists the keys of a map or object, in lexical order."),
        f("values", &[("map", map())], ret(list()))
            .doc("Lists the values of a map or object, in the lexical order of their keys."),
        f("lookup", &[("map", map()), ("key", Str), ("default", Any)], Returns::ElementOf(0))
            .optional(1)
            .doc("Returns the value of a key in a map, or the default when the key is absent."),
        // A map when every argument is a map, an object otherwise.
        f("merge", &[], ret(Any))
            .variadic("maps", map())
            .doc("Combines maps or objects into one; a later key overrides an earlier one."),
        f("contains", &[("list", list()), ("value", Any)], ret(Bool))
            .doc("Tells whether a list or set contains the value."),
        f("element", &[("list", list()), ("index", Number)], Returns::ElementOf(0))
            .doc("Returns the element at an index of a list, wrapping around past the end."),
        f("index", &[("list", list()), ("value", Any)], ret(Number))
            .doc("Returns the index of the first element of a list equal to the value."),
        f("range", &[("start", Number), ("limit", Number), ("step", Number)], ret(Type::list(Number)))
            .optional(2)
            .doc("Lists numbers from start up to limit; `range(n)` counts from 0 to n - 1."),
        f("zipmap", &[("keys", Type::list(Str)), ("values", list())], ret(map()))
            .doc("Builds a map from a list of keys and a list of values of the same length."),
        f("slice", &[("list", list()), ("start", Number), ("end", Number)], Returns::SameAs(0))
            .doc("Returns the elements of a list from start (inclusive) to end (exclusive)."),
        // Terraform's `sort` orders strings only; numbers are converted to strings first.
        f("sort", &[("list", Type::list(Str))], ret(Type::list(Str))).doc("Sorts a list of strings in lexical order."),
        f("reverse", &[("list", list())], Returns::SameAs(0)).doc("Reverses the order of the elements of a list."),
        f("setunion", &[("first", set())], ret(set()))
            .variadic("rest", set())
            .doc("Returns the set of elements that are in any of the sets."),
        f("setintersection", &[("first", set())], ret(set()))
            .variadic("rest", set())
            .doc("Returns the set of elements that are in every one of the sets."),
        f("setsubtract", &[("a", set()), ("b", set())], ret(set()))
            .doc("Returns the set of elements of the first set that are not in the second."),
        f("one", &[("list", list())], Returns::ElementOf(0))
            .doc("Returns the only element of a list, or null for an empty list; more is an error."),
        f("alltrue", &[("list", Type::list(Bool))], ret(Bool))
            .doc("Tells whether every element of a list is true; true for an empty list."),
        f("anytrue", &[("list", Type::list(Bool))], ret(Bool))
            .doc("Tells whether any element of a list is true; false for an empty list."),
        f("sum", &[("list", Type::list(Number))], ret(Number)).doc("Adds up the numbers of a list."),
        f("coalesce", &[("first", Any)], ret(Any))
            .variadic("rest", Any)
            .doc("Returns the first argument that is neither null nor an empty string."),
        f("compact", &[("list", Type::list(Str))], ret(Type::list(Str)))
            .doc("Removes null and empty-string elements from a list of strings."),
        f("chunklist", &[("list", list()), ("size", Number)], ret(Type::list(list())))
            .doc("Splits a list into lists of at most `size` elements each."),
        f("transpose", &[("map", Type::map(Type::list(Str)))], ret(Type::map(Type::list(Str))))
            .doc("Swaps the keys and values of a map of lists of strings."),
        f("coalescelist", &[("first", Any)], ret(Any))
            .variadic("rest", Any)
            .doc("Returns the first argument that is a non-empty list."),
        f("matchkeys", &[("values", list()), ("keys", list()), ("searchset", list())], ret(list()))
            .doc("Keeps the values whose key, at the same index, is in the search set."),
        // A set when any argument is a set, a list otherwise.
        f("setproduct", &[("first", Any), ("second", Any)], ret(Any))
            .variadic("rest", Any)
            .doc("Returns every combination of one element from each of the collections."),
    ]
}

fn numbers() -> Vec<FunctionSignature> {
    let unary = |name: &str, doc: &str| f(name, &[("number", Number)], ret(Number)).doc(doc);
    vec![
        f("min", &[("first", Number)], ret(Number))
            .variadic("rest", Number)
            .doc("Returns the smallest of the numbers."),
        f("max", &[("first", Number)], ret(Number)).variadic("rest", Number).doc("Returns the largest of the numbers."),
        unary("abs", "Returns the absolute value of a number."),
        unary("ceil", "Rounds a number up to the nearest whole number."),
        unary("floor", "Rounds a number down to the nearest whole number."),
        f("pow", &[("base", Number), ("exponent", Number)], ret(Number))
            .doc("Raises the base to the power of the exponent."),
        f("log", &[("number", Number), ("base", Number)], ret(Number))
            .doc("Returns the logarithm of a number in the given base."),
        f("parseint", &[("string", Str), ("base", Number)], ret(Number))
            .doc("Parses a string as a whole number in the given base, from 2 to 62."),
        unary("signum", "Returns -1, 0 or 1 according to the sign of a number."),
    ]
}

fn conversion() -> Vec<FunctionSignature> {
    let to = |name: &str, ty: Type, doc: &str| f(name, &[("value", Any)], ret(ty)).doc(doc);
    vec![
        to("tostring", Str, "Converts a number, bool or string to a string."),
        to("tonumber", Number, "Converts a string or number to a number."),
        to("tobool", Bool, "Converts the string `\"true\"`, `\"false\"`, `\"1\"` or `\"0\"`, or a bool, to a bool."),
        to("tolist", Type::list(Any), "Converts a tuple or set to a list."),
        to("toset", Type::set(Any), "Converts a list or tuple to a set, dropping duplicates."),
        to("tomap", Type::map(Any), "Converts an object to a map."),
    ]
}

fn encoding() -> Vec<FunctionSignature> {
    let encode = |name: &str, doc: &str| f(name, &[("value", Any)], ret(Str)).doc(doc);
    let decode = |name: &str, doc: &str| f(name, &[("string", Str)], ret(Any)).doc(doc);
    let text = |name: &str, doc: &str| f(name, &[("string", Str)], ret(Str)).doc(doc);
    vec![
        encode("jsonencode", "Encodes a value as a JSON string."),
        decode("jsondecode", "Decodes a JSON string into a value."),
        encode("yamlencode", "Encodes a value as a YAML document."),
        decode("yamldecode", "Decodes a YAML document into a value."),
        text("base64encode", "Encodes the UTF-8 bytes of a string in Base64."),
        text("base64decode", "Decodes a Base64 string whose bytes are UTF-8 text."),
        text("urlencode", "Percent-encodes a string for use in a URL query."),
        text("base64gzip", "Compresses the UTF-8 bytes of a string with gzip and encodes them in Base64."),
        f("textencodebase64", &[("string", Str), ("encoding", Str)], ret(Str))
            .doc("Encodes a string in a character encoding such as `UTF-16LE`, then in Base64."),
        f("textdecodebase64", &[("source", Str), ("encoding", Str)], ret(Str))
            .doc("Decodes Base64 to bytes and reads them as text in a character encoding."),
        f("csvdecode", &[("string", Str)], ret(Type::list(Type::map(Str))))
            .doc("Decodes CSV text with a header line into a list of maps, one per row."),
    ]
}

fn hashing() -> Vec<FunctionSignature> {
    let hash = |name: &str, doc: &str| f(name, &[("string", Str)], ret(Str)).doc(doc);
    vec![
        hash("sha1", "Returns the SHA-1 hash of a string, in hexadecimal."),
        hash("sha256", "Returns the SHA-256 hash of a string, in hexadecimal."),
        hash("sha512", "Returns the SHA-512 hash of a string, in hexadecimal."),
        hash("md5", "Returns the MD5 hash of a string, in hexadecimal."),
        hash("base64sha256", "Returns the SHA-256 hash of a string, in Base64."),
        hash("base64sha512", "Returns the SHA-512 hash of a string, in Base64."),
        f("uuidv5", &[("namespace", Str), ("name", Str)], ret(Str))
            .doc("Returns the name-based (version 5) UUID of a name in a namespace."),
        f("rsadecrypt", &[("ciphertext", Str), ("privatekey", Str)], ret(Str))
            .doc("Decrypts Base64 ciphertext encrypted with RSA (PKCS #1 v1.5) by a PEM private key."),
        // A random salt makes every result different, so a plan could never settle.
        f("bcrypt", &[("string", Str), ("cost", Number)], ret(Str))
            .optional(1)
            .resource_only()
            .doc("Hashes a string with bcrypt and a random salt, at the given cost (default 10)."),
    ]
}

fn network() -> Vec<FunctionSignature> {
    vec![
        f("cidrsubnet", &[("prefix", Str), ("newbits", Number), ("netnum", Number)], ret(Str))
            .doc("Returns subnet `netnum` of a CIDR prefix lengthened by `newbits` bits."),
        f("cidrhost", &[("prefix", Str), ("hostnum", Number)], ret(Str))
            .doc("Returns the IP address of host number `hostnum` within a CIDR prefix."),
        f("cidrnetmask", &[("prefix", Str)], ret(Str))
            .doc("Returns the netmask of an IPv4 CIDR prefix in dotted-decimal notation."),
        f("cidrsubnets", &[("prefix", Str)], ret(Type::list(Str)))
            .variadic("newbits", Number)
            .doc("Allocates consecutive subnets of a CIDR prefix, one per `newbits` argument."),
    ]
}

fn files() -> Vec<FunctionSignature> {
    let file_hash = |name: &str, doc: &str| f(name, &[("path", Str)], ret(Str)).doc(doc);
    let path = |name: &str, doc: &str| f(name, &[("path", Str)], ret(Str)).doc(doc);
    vec![
        f("file", &[("path", Str)], ret(Str)).doc("Reads a UTF-8 file, relative to the module's directory."),
        f("fileexists", &[("path", Str)], ret(Bool))
            .doc("Tells whether a file exists, relative to the module's directory."),
        f("templatefile", &[("path", Str), ("vars", Type::map(Any))], ret(Str))
            .doc("Renders a file as a string template with the given variables in scope."),
        f("abspath", &[("path", Str)], ret(Str))
            .doc("Turns a path relative to the working directory into an absolute one."),
        file_hash("filebase64", "Reads a file's bytes and encodes them in Base64."),
        file_hash("filemd5", "Returns the MD5 hash of a file's content, in hexadecimal."),
        file_hash("filesha1", "Returns the SHA-1 hash of a file's content, in hexadecimal."),
        file_hash("filesha256", "Returns the SHA-256 hash of a file's content, in hexadecimal."),
        file_hash("filesha512", "Returns the SHA-512 hash of a file's content, in hexadecimal."),
        file_hash("filebase64sha256", "Returns the SHA-256 hash of a file's content, in Base64."),
        file_hash("filebase64sha512", "Returns the SHA-512 hash of a file's content, in Base64."),
        f("fileset", &[("path", Str), ("pattern", Str)], ret(Type::set(Str)))
            .doc("Lists the files under a directory whose relative paths match a glob pattern."),
        f("templatestring", &[("template", Str), ("vars", Type::map(Any))], ret(Str))
            .doc("Renders a string as a template with the given variables in scope."),
        path("basename", "Returns the last element of a path."),
        path("dirname", "Returns a path without its last element."),
        path("pathexpand", "Replaces a leading `~` in a path by the home directory."),
    ]
}

fn time() -> Vec<FunctionSignature> {
    vec![
        f("formatdate", &[("format", Str), ("time", Str)], ret(Str))
            .doc("Formats an RFC 3339 timestamp by a format such as `DD MMM YYYY hh:mm ZZZ`."),
        f("timeadd", &[("timestamp", Str), ("duration", Str)], ret(Str))
            .doc("Adds a duration such as `1h30m` (or `-10m`) to an RFC 3339 timestamp."),
        f("timecmp", &[("timestamp_a", Str), ("timestamp_b", Str)], ret(Number))
            .doc("Compares two RFC 3339 timestamps: -1 if the first is earlier, 1 if later, 0 if equal."),
        f("plantimestamp", &[], ret(Str))
            .doc("Returns the time the plan was made, in RFC 3339 form; the same for every call in a plan."),
    ]
}

/// Functions about the environment and about errors.
fn control() -> Vec<FunctionSignature> {
    vec![
        f("env", &[("name", Str), ("default", Str)], ret(Str))
            .optional(1)
            .doc("Reads an environment variable, or returns the default when it is unset."),
        f("try", &[("expression", Any)], ret(Any))
            .variadic("fallbacks", Any)
            .doc("Returns the value of the first argument that evaluates without an error."),
        f("can", &[("expression", Any)], ret(Bool)).doc("Tells whether an expression evaluates without an error."),
        f("sensitive", &[("value", Any)], Returns::SameAs(0))
            .doc("Marks a value sensitive: it is shown as `(sensitive value)` wherever it goes."),
        f("nonsensitive", &[("value", Any)], Returns::SameAs(0))
            .doc("Removes the sensitive mark from a value that has one; an error on a value without one."),
        f("issensitive", &[("value", Any)], ret(Bool)).doc("Tells whether a value is marked sensitive."),
    ]
}
