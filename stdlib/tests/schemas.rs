//! Tests of the promises users and the checker rely on in the built-in schemas and signatures.

use infra_compiler::schema::{AttributeSchema, Returns, Schema, Schemas};
use infra_compiler::types::Type;
use infra_stdlib::{builtin, Stdlib};

/// Every built-in function. A function leaving this list breaks configurations that call it,
/// so removing one must be a deliberate edit here.
const FUNCTION_NAMES: &[&str] = &[
    "abs",
    "abspath",
    "alltrue",
    "anytrue",
    "base64decode",
    "base64encode",
    "base64gzip",
    "base64sha256",
    "base64sha512",
    "basename",
    "bcrypt",
    "can",
    "ceil",
    "chomp",
    "chunklist",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "csvdecode",
    "dirname",
    "distinct",
    "element",
    "endswith",
    "env",
    "file",
    "filebase64",
    "filebase64sha256",
    "filebase64sha512",
    "fileexists",
    "filemd5",
    "fileset",
    "filesha1",
    "filesha256",
    "filesha512",
    "flatten",
    "floor",
    "format",
    "formatdate",
    "formatlist",
    "indent",
    "index",
    "issensitive",
    "join",
    "jsondecode",
    "jsonencode",
    "keys",
    "length",
    "log",
    "lookup",
    "lower",
    "matchkeys",
    "max",
    "md5",
    "merge",
    "min",
    "nonsensitive",
    "one",
    "parseint",
    "pathexpand",
    "plantimestamp",
    "pow",
    "range",
    "regex",
    "regexall",
    "replace",
    "reverse",
    "rsadecrypt",
    "sensitive",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "sha1",
    "sha256",
    "sha512",
    "signum",
    "slice",
    "sort",
    "split",
    "startswith",
    "strcontains",
    "strrev",
    "substr",
    "sum",
    "templatefile",
    "templatestring",
    "textdecodebase64",
    "textencodebase64",
    "timeadd",
    "timecmp",
    "title",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    "transpose",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "try",
    "upper",
    "urlencode",
    "uuidv5",
    "values",
    "yamldecode",
    "yamlencode",
    "zipmap",
];

/// Every resource kind and data source, named `provider.kind` or `data provider.kind`.
fn all_kinds(stdlib: &Stdlib) -> Vec<(String, &Schema)> {
    let mut kinds = Vec::new();
    for name in stdlib.provider_names() {
        let provider = stdlib.provider(name).expect("a listed provider exists");
        for (kind, schema) in &provider.resources {
            kinds.push((format!("{name}.{kind}"), schema));
        }
        for (kind, schema) in &provider.data_sources {
            kinds.push((format!("data {name}.{kind}"), schema));
        }
    }
    kinds
}

fn attribute<'a>(stdlib: &'a Stdlib, provider: &str, kind: &str, name: &str) -> &'a AttributeSchema {
    let provider = stdlib.provider(provider).expect("provider exists");
    let schema = provider.resources.get(kind).expect("resource kind exists");
    schema.attribute(name).expect("attribute exists")
}

#[test]
fn provider_names_are_sorted_and_complete() {
    let names = builtin().provider_names();
    assert_eq!(
        names,
        ["aws", "digitalocean", "exec", "linode", "local", "null", "qemu", "rackspace", "random", "ssh", "time", "tls"]
    );
}

#[test]
fn function_names_match_the_list() {
    let names = builtin().function_names();
    assert_eq!(names, FUNCTION_NAMES);
}

#[test]
fn every_kind_has_a_computed_string_id() {
    let stdlib = Stdlib::new();
    for (kind, schema) in all_kinds(&stdlib) {
        let id = schema.attribute("id").unwrap_or_else(|| panic!("`{kind}` has no `id`"));
        assert!(id.is_computed_only(), "`{kind}.id` is not computed-only");
        assert_eq!(id.ty, Type::String, "`{kind}.id` is not a string");
    }
}

#[test]
fn expected_kinds_exist() {
    let stdlib = Stdlib::new();
    let kinds: Vec<String> = all_kinds(&stdlib).into_iter().map(|(kind, _)| kind).collect();
    let expected = [
        "aws.eip",
        "aws.instance",
        "aws.internet_gateway",
        "aws.key_pair",
        "aws.route53_record",
        "aws.route53_zone",
        "aws.route_table",
        "aws.route_table_association",
        "aws.s3_bucket",
        "aws.s3_object",
        "aws.security_group",
        "aws.subnet",
        "aws.vpc",
        "data aws.ami",
        "data aws.availability_zones",
        "data aws.vpc",
        "digitalocean.domain",
        "digitalocean.droplet",
        "digitalocean.firewall",
        "digitalocean.record",
        "digitalocean.reserved_ip",
        "digitalocean.reserved_ip_assignment",
        "digitalocean.ssh_key",
        "digitalocean.volume",
        "digitalocean.volume_attachment",
        "digitalocean.vpc",
        "data digitalocean.image",
        "data digitalocean.regions",
        "data digitalocean.sizes",
        "exec.command",
        "data exec.json",
        "linode.domain",
        "linode.domain_record",
        "linode.firewall",
        "linode.instance",
        "linode.sshkey",
        "linode.stackscript",
        "linode.volume",
        "data linode.images",
        "data linode.regions",
        "data linode.types",
        "local.file",
        "data local.file",
        "null.resource",
        "qemu.cloudinit",
        "qemu.disk",
        "qemu.vm",
        "data qemu.cloudinit_config",
        "rackspace.compute_instance",
        "rackspace.compute_keypair",
        "random.id",
        "random.integer",
        "random.password",
        "ssh.command",
        "ssh.directory",
        "ssh.file",
        "ssh.group",
        "ssh.package",
        "ssh.service",
        "ssh.user",
        "data ssh.facts",
        "data ssh.file",
        "time.sleep",
        "tls.private_key",
    ];
    assert_eq!(kinds, expected);
}

#[test]
fn random_password_result_is_sensitive() {
    let result = attribute(builtin(), "random", "password", "result");
    assert!(result.sensitive && result.is_computed_only());
}

#[test]
fn local_file_path_is_required_and_forces_replacement() {
    let path = attribute(builtin(), "local", "file", "path");
    assert!(path.required && path.force_new && !path.computed);
    let mode = attribute(builtin(), "local", "file", "mode");
    assert!(mode.settable && mode.computed && !mode.required);
}

#[test]
fn tls_private_keys_are_sensitive_and_public_key_is_not() {
    let stdlib = builtin();
    for name in ["private_key_pem", "private_key_openssh"] {
        let key = attribute(stdlib, "tls", "private_key", name);
        assert!(key.sensitive && key.is_computed_only(), "`tls.private_key.{name}`");
    }
    assert!(!attribute(stdlib, "tls", "private_key", "public_key_openssh").sensitive);
}

#[test]
fn triggers_and_keepers_force_replacement() {
    let stdlib = Stdlib::new();
    for (kind, schema) in all_kinds(&stdlib) {
        for attribute in &schema.attributes {
            if attribute.name == "triggers" || attribute.name == "keepers" {
                assert!(attribute.force_new, "`{kind}.{}` does not force replacement", attribute.name);
            }
        }
    }
}

#[test]
fn schemas_are_well_formed() {
    let stdlib = Stdlib::new();
    for name in stdlib.provider_names() {
        let provider = stdlib.provider(name).expect("a listed provider exists");
        assert_eq!(provider.name, name);
        assert_sentence(&provider.description, name);
    }
    for (kind, schema) in all_kinds(&stdlib) {
        assert_sentence(&schema.description, &kind);
        for (i, attribute) in schema.attributes.iter().enumerate() {
            let what = format!("{kind}.{}", attribute.name);
            assert_sentence(&attribute.description, &what);
            assert!(!(attribute.required && attribute.computed), "`{what}` is required and computed");
            let later = &schema.attributes[i + 1..];
            assert!(later.iter().all(|a| a.name != attribute.name), "`{what}` is declared twice");
        }
    }
}

#[test]
fn arities() {
    let stdlib = builtin();
    let arity = |name: &str| {
        let function = stdlib.function(name).expect("function exists");
        (function.min_args(), function.max_args())
    };
    assert_eq!(arity("lookup"), (2, Some(3)));
    assert_eq!(arity("range"), (1, Some(3)));
    assert_eq!(arity("format"), (1, None));
    assert_eq!(arity("env"), (1, Some(2)));
    assert_eq!(arity("cidrsubnet"), (3, Some(3)));
    assert_eq!(arity("cidrsubnets"), (1, None));
    assert_eq!(arity("merge"), (0, None));
    assert_eq!(arity("length"), (1, Some(1)));
    // These need at least one argument; the checker catches a call with none.
    for name in ["min", "max", "concat", "coalesce", "setunion", "setintersection", "try"] {
        assert_eq!(arity(name), (1, None), "`{name}`");
    }
}

#[test]
fn signatures_are_well_formed() {
    let stdlib = Stdlib::new();
    for name in stdlib.function_names() {
        let function = stdlib.function(name).expect("a listed function exists");
        assert_eq!(function.name, name);
        assert_sentence(&function.description, name);
        // `min_args` would underflow otherwise.
        assert!(function.optional_params <= function.params.len(), "`{name}` has too many optional parameters");
        if let Returns::SameAs(i) | Returns::ElementOf(i) = function.returns {
            assert!(i < function.params.len(), "`{name}` returns the type of a missing parameter");
        }
    }
}

#[test]
fn only_bcrypt_is_resource_only() {
    let stdlib = builtin();
    let resource_only: Vec<&str> = stdlib
        .function_names()
        .into_iter()
        .filter(|name| stdlib.function(name).is_some_and(|f| f.resource_only))
        .collect();
    assert_eq!(resource_only, ["bcrypt"]);
}

#[test]
fn signatures_display_for_hovers() {
    let display = |name: &str| builtin().function(name).expect("function exists").display();
    assert_eq!(display("lookup"), "lookup(map: map(any), key: string, default?: any): any");
    assert_eq!(display("format"), "format(format: string, args...: any): string");
    assert_eq!(display("range"), "range(start: number, limit?: number, step?: number): list(number)");
}

#[test]
fn builtin_is_shared() {
    assert!(std::ptr::eq(builtin(), builtin()));
    assert_eq!(builtin().function_names(), Stdlib::default().function_names());
}

/// Descriptions show in editor hovers as one sentence.
fn assert_sentence(description: &str, what: &str) {
    assert!(description.ends_with('.'), "the description of `{what}` is not a sentence: {description:?}");
    assert!(description.starts_with(|c: char| c.is_uppercase()), "the description of `{what}` is not capitalised");
}

#[test]
fn aws_credentials_are_sensitive_and_the_rest_of_the_configuration_is_not() {
    let provider = builtin().provider("aws").expect("aws exists");
    for attribute in &provider.config.attributes {
        let secret = matches!(attribute.name.as_str(), "access_key" | "secret_key");
        assert_eq!(attribute.sensitive, secret, "`provider aws` setting `{}`", attribute.name);
    }
}

#[test]
fn ssh_keys_and_passwords_are_sensitive_and_the_rest_of_the_configuration_is_not() {
    let provider = builtin().provider("ssh").expect("ssh exists");
    for attribute in &provider.config.attributes {
        let secret = matches!(attribute.name.as_str(), "private_key" | "password");
        assert_eq!(attribute.sensitive, secret, "`provider ssh` setting `{}`", attribute.name);
    }
}

/// Every `ssh` resource and data source records the server's host key, so that a changed
/// key is an error rather than accepted silently (docs/providers/ssh.md, "Host keys").
#[test]
fn every_ssh_kind_records_the_host_key_fingerprint() {
    let provider = builtin().provider("ssh").expect("ssh exists");
    for (kind, schema) in provider.resources.iter().chain(&provider.data_sources) {
        let attribute = schema.attribute("host_key_fingerprint").unwrap_or_else(|| panic!("ssh.{kind}"));
        assert!(attribute.is_computed_only(), "ssh.{kind}");
    }
}

/// What replaces an AWS object when it changes, as AWS itself allows no other way; every
/// other setting, `tags` included, changes in place.
#[test]
fn aws_force_new_attributes_are_those_aws_cannot_change_in_place() {
    let expected: &[(&str, &[&str])] = &[
        ("eip", &["domain"]),
        ("instance", &["ami", "instance_type", "subnet_id", "security_groups", "key_name", "user_data"]),
        ("internet_gateway", &[]),
        ("key_pair", &["key_name", "public_key"]),
        ("route53_record", &["zone_id", "name", "type"]),
        ("route53_zone", &["name"]),
        ("route_table", &["vpc_id"]),
        ("route_table_association", &["subnet_id"]),
        ("s3_bucket", &["bucket"]),
        ("s3_object", &["bucket", "key"]),
        ("security_group", &["name", "description", "vpc_id"]),
        ("subnet", &["vpc_id", "cidr_block", "availability_zone"]),
        ("vpc", &["cidr_block"]),
    ];
    let provider = builtin().provider("aws").expect("aws exists");
    assert_eq!(provider.resources.len(), expected.len());
    for (kind, force_new) in expected {
        let schema = provider.resources.get(*kind).unwrap_or_else(|| panic!("aws.{kind} exists"));
        let actual: Vec<&str> = schema.attributes.iter().filter(|a| a.force_new).map(|a| a.name.as_str()).collect();
        assert_eq!(&actual, force_new, "aws.{kind}");
        if let Some(tags) = schema.attribute("tags") {
            assert!(tags.settable && !tags.force_new, "aws.{kind}.tags changes in place");
        }
    }
}
