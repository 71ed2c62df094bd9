//! The validators of the built-in providers' attributes accept what each API accepts and
//! refuse what it refuses, with the accepted form as the hint: the checker and the planner
//! run exactly these (`infra check` reports them as E0406).

use infra_compiler::schema::validate::Subject;
use infra_compiler::schema::{AttributeSchema, ProviderSchema, Schema, Validator};

fn provider(name: &str) -> ProviderSchema {
    infra_stdlib::providers::all().into_iter().find(|p| p.name == name).expect("a built-in provider")
}

/// The attribute at `path` of resource kind `kind` (data source when `data`): nested
/// block names, then the attribute's name.
fn attribute(provider_name: &str, kind: &str, path: &[&str]) -> AttributeSchema {
    let provider = provider(provider_name);
    let mut schema: &Schema = provider.resources.get(kind).or(provider.data_sources.get(kind)).expect("a kind");
    let (name, blocks) = path.split_last().expect("a path");
    for block in blocks {
        schema = &schema.block(block).expect("a block").schema;
    }
    schema.attribute(name).expect("an attribute").clone()
}

/// Runs every validator of the attribute on `subject`: the first refusal's message
/// and hint.
fn validate(attribute: &AttributeSchema, subject: Subject<'_>) -> Result<(), (String, String)> {
    for validator in &attribute.validators {
        let shown = match subject {
            Subject::Text(text) => Some(text.to_string()),
            Subject::Number(number) => Some(number.to_string()),
            Subject::Collection(_) => None,
        };
        validator
            .check(&attribute.name, subject, false)
            .map_err(|r| (r.message(&attribute.name, shown.as_deref()), r.help))?;
    }
    Ok(())
}

fn texts(attribute: &AttributeSchema, accepted: &[&str], refused: &[&str]) {
    for text in accepted {
        assert_eq!(validate(attribute, Subject::Text(text)), Ok(()), "`{}` = {text:?}", attribute.name);
    }
    for text in refused {
        assert!(validate(attribute, Subject::Text(text)).is_err(), "`{}` = {text:?} passed", attribute.name);
    }
}

fn numbers(attribute: &AttributeSchema, accepted: &[f64], refused: &[f64]) {
    for number in accepted {
        assert_eq!(validate(attribute, Subject::Number(*number)), Ok(()), "`{}` = {number}", attribute.name);
    }
    for number in refused {
        assert!(validate(attribute, Subject::Number(*number)).is_err(), "`{}` = {number} passed", attribute.name);
    }
}

#[test]
fn vpc_and_subnet_blocks_are_ipv4_networks_from_16_to_28() {
    for kind in ["vpc", "subnet"] {
        let cidr = attribute("aws", kind, &["cidr_block"]);
        texts(
            &cidr,
            &["10.0.0.0/16", "10.0.1.0/24", "172.31.0.0/28"],
            &["10.0.0.0/33", "10.0.0.0/8", "10.0.0.0/29", "10.0.1.5/24", "10.0.0.0", "fd00::/56"],
        );
    }
    let (message, help) =
        validate(&attribute("aws", "vpc", &["cidr_block"]), Subject::Text("10.0.0.0/33")).unwrap_err();
    assert_eq!(message, "`10.0.0.0/33` is not a CIDR block: the prefix length of an IPv4 block is at most 32");
    assert_eq!(help, "write an address and a prefix length, such as `10.0.0.0/16`");
}

#[test]
fn routes_and_rules_take_any_ipv4_block() {
    texts(&attribute("aws", "route_table", &["route", "cidr_block"]), &["0.0.0.0/0", "10.0.0.0/8"], &["0.0.0.0/33"]);
    let cidrs = attribute("aws", "security_group", &["ingress", "cidr_blocks"]);
    assert!(cidrs.validators.iter().all(Validator::checks_elements), "each element is a block");
    texts(&cidrs, &["0.0.0.0/0", "203.0.113.0/24", "198.51.100.7/32"], &["203.0.113.0/24/1", "10.0.0.300/32"]);
}

#[test]
fn instance_types_are_the_ones_ec2_offers() {
    let instance_type = attribute("aws", "instance", &["instance_type"]);
    texts(
        &instance_type,
        &["t3.micro", "t2.nano", "t3a.large", "t4g.small", "m5.xlarge", "m6i.2xlarge", "m7g.medium", "c5.9xlarge"],
        &["t3.mirco", "t3", "T3.MICRO", "m5.huge", ""],
    );
    texts(&instance_type, &["c6i.large", "c7g.16xlarge", "r5.24xlarge", "r6i.32xlarge", "m1.small"], &[]);
    let (message, help) = validate(&instance_type, Subject::Text("t3.mirco")).unwrap_err();
    assert_eq!(message, "`t3.mirco` is not a value `instance_type` accepts");
    assert_eq!(help, "did you mean `t3.micro`?");
}

#[test]
fn security_group_rules_take_known_protocols_and_ports() {
    for direction in ["ingress", "egress"] {
        texts(
            &attribute("aws", "security_group", &[direction, "protocol"]),
            &["tcp", "udp", "icmp", "-1"],
            &["TCP", "http", "6"],
        );
        for port in ["from_port", "to_port"] {
            numbers(
                &attribute("aws", "security_group", &[direction, port]),
                &[-1.0, 0.0, 22.0, 65535.0],
                &[65536.0, -2.0, 80.5],
            );
        }
    }
}

#[test]
fn route53_records_take_record_types_and_a_ttl_in_range() {
    texts(
        &attribute("aws", "route53_record", &["type"]),
        &["A", "AAAA", "CNAME", "TXT", "MX"],
        &["a", "ANAME", "SOAP"],
    );
    numbers(&attribute("aws", "route53_record", &["ttl"]), &[0.0, 300.0, 2_147_483_647.0], &[-1.0, 2_147_483_648.0]);
    let records = attribute("aws", "route53_record", &["records"]);
    assert!(validate(&records, Subject::Collection(0)).is_err(), "a record set has at least one value");
    assert_eq!(validate(&records, Subject::Collection(2)), Ok(()));
}

#[test]
fn s3_bucket_names_follow_the_naming_rules() {
    texts(
        &attribute("aws", "s3_bucket", &["bucket"]),
        &["logs", "my-bucket.example", "a1b", &"a".repeat(63)],
        &["ab", "My-Bucket", "my_bucket", "-logs", "logs-", &"a".repeat(64)],
    );
    texts(&attribute("aws", "s3_object", &["key"]), &["index.html", "a/b/c"], &["", &"k".repeat(1025)]);
}

#[test]
fn aws_names_descriptions_user_data_and_tags_have_their_limits() {
    texts(&attribute("aws", "key_pair", &["key_name"]), &["deploy"], &["", &"k".repeat(256)]);
    texts(&attribute("aws", "security_group", &["name"]), &["web"], &[""]);
    texts(&attribute("aws", "instance", &["user_data"]), &["#!/bin/sh\n"], &[&"x".repeat(16 * 1024 + 1)]);
    let tags = attribute("aws", "vpc", &["tags"]);
    assert_eq!(validate(&tags, Subject::Collection(50)), Ok(()));
    assert!(validate(&tags, Subject::Collection(51)).is_err(), "AWS allows 50 tags");
    texts(&attribute("aws", "availability_zones", &["state"]), &["available"], &["up"]);
}

#[test]
fn durations_modes_keys_and_lengths_of_the_local_providers() {
    for name in ["create_duration", "destroy_duration"] {
        texts(&attribute("time", "sleep", &[name]), &["100ms", "1m30s", "0"], &["5", "5 minutes", "-1s", ""]);
    }
    texts(&attribute("exec", "command", &["timeout"]), &["2s", "1h"], &["2", "soon"]);
    texts(&attribute("exec", "command", &["create"]), &["true"], &["", "   "]);
    assert!(validate(&attribute("exec", "json", &["program"]), Subject::Collection(0)).is_err());
    texts(
        &attribute("local", "file", &["mode"]),
        &["0644", "644", "0600", "0777", "7"],
        &["0999", "1777", "rw-r--r--", "00644", ""],
    );
    texts(&attribute("local", "file", &["path"]), &["a"], &[""]);
    texts(&attribute("tls", "private_key", &["algorithm"]), &["ED25519", "RSA"], &["ed25519", "ECDSA"]);
    numbers(&attribute("tls", "private_key", &["rsa_bits"]), &[2048.0, 3072.0, 4096.0], &[1024.0, 2049.0]);
    numbers(&attribute("random", "password", &["length"]), &[1.0, 4096.0], &[0.0, 4097.0]);
    numbers(&attribute("random", "id", &["byte_length"]), &[8.0], &[0.0]);
}

/// Every pattern compiles: one that did not would refuse nothing.
#[test]
fn every_pattern_compiles() {
    fn patterns(schema: &Schema, found: &mut Vec<String>) {
        for attribute in &schema.attributes {
            for validator in &attribute.validators {
                if let Validator::Regex { pattern, .. } = validator {
                    found.push(pattern.clone());
                }
            }
        }
        for block in &schema.blocks {
            patterns(&block.schema, found);
        }
    }
    let mut found = Vec::new();
    for provider in infra_stdlib::providers::all() {
        patterns(&provider.config, &mut found);
        for schema in provider.resources.values().chain(provider.data_sources.values()) {
            patterns(schema, &mut found);
        }
    }
    assert!(found.len() >= 3, "{found:?}");
    for pattern in found {
        assert!(regex::Regex::new(&pattern).is_ok(), "{pattern}");
    }
}
