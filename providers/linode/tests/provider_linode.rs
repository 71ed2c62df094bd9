//! The `linode` provider through the provider interface against the Linode stand-in
//! behind Prism, which checks every request and response against Linode's official API
//! description (`cli/tests/support/prism.rs`): an instance waited for until it runs,
//! changed in place, resized to another type, deployed with a StackScript, drifted,
//! imported and deleted; SSH keys through a 429 storm and through server errors; a
//! firewall over paged device lists; a domain and its records; and a bad token.

use std::path::PathBuf;
use std::sync::Arc;

use infra_runtime::provider::{Attributes, CreateProgress, Provider, ProviderContext, ReadResult};
use infra_runtime::Value;
use serde_json::{json, Value as Json};

#[path = "../../../cli/tests/support/prism.rs"]
mod prism;

use prism::{Prism, LINODE};

fn configured(url: &str, token: &str) -> Arc<dyn Provider> {
    let config: Attributes =
        [("api_url", url), ("token", token)].into_iter().map(|(k, v)| (k.to_string(), Value::string(v))).collect();
    let context = ProviderContext { module_dir: PathBuf::from(".") };
    infra_provider_linode::factory().configure(&config, &context).expect("configured")
}

fn provider(prism: &Prism) -> Arc<dyn Provider> {
    configured(&prism.url, &prism.token)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

fn attributes(pairs: &[(&str, Value)]) -> Attributes {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn strings(items: &[&str]) -> Value {
    Value::list(items.iter().map(|s| Value::string(*s)).collect())
}

fn text<'a>(attributes: &'a Attributes, name: &str) -> &'a str {
    attributes.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// Plans a create of `kind` from `config` and creates it.
fn create(runtime: &tokio::runtime::Runtime, provider: &dyn Provider, kind: &str, config: &Attributes) -> Attributes {
    let planned = provider.plan(kind, None, config).expect("planned");
    runtime.block_on(provider.create(kind, &planned)).expect("created")
}

fn found(result: ReadResult) -> Attributes {
    match result {
        ReadResult::Found(attributes) => attributes,
        ReadResult::Gone => panic!("the object is gone"),
    }
}

#[test]
fn an_instance_runs_before_create_returns_and_is_changed_drifted_imported_and_deleted() {
    let prism = Prism::start(&LINODE);
    let runtime = runtime();
    let provider = provider(&prism);
    let config = attributes(&[
        ("label", Value::string("web-1")),
        ("region", Value::string("us-east")),
        ("type", Value::string("g6-nanode-1")),
        ("image", Value::string("linode/debian12")),
        ("root_pass", Value::string("a-Long-root-pass-1")),
        ("tags", strings(&["web", "prod"])),
        ("private_ip", Value::bool(true)),
    ]);
    let created = create(&runtime, provider.as_ref(), "instance", &config);
    assert_eq!(text(&created, "status"), "running");
    assert_eq!(created["booted"], Value::bool(true));
    assert!(text(&created, "ip_address").starts_with("192.0.2."), "{created:?}");
    assert!(text(&created, "private_ip_address").starts_with("192.168."), "{created:?}");
    assert_eq!(created["specs"].as_map().and_then(|s| s.get("memory")), Some(&Value::number(1024.0)));
    assert_eq!(text(&created, "root_pass"), "a-Long-root-pass-1");
    let id = text(&created, "id").to_string();
    let gets = prism.requests().iter().filter(|r| **r == format!("GET /linode/instances/{id}")).count();
    assert!(gets >= 2, "create returned before the instance ran: {:?}", prism.requests());

    // Read back: nothing differs from what create returned.
    let read = found(runtime.block_on(provider.read("instance", &created)).expect("read"));
    assert_eq!(read, created);

    // In place: a new label and tags, and shut down.
    let mut changed = config.clone();
    changed.insert("label".to_string(), Value::string("web-2"));
    changed.insert("tags".to_string(), strings(&["web"]));
    changed.insert("booted".to_string(), Value::bool(false));
    let planned = provider.plan("instance", Some(&created), &changed).expect("planned");
    let updated = runtime.block_on(provider.update("instance", &created, &planned)).expect("updated");
    assert_eq!(text(&updated, "label"), "web-2");
    assert_eq!(text(&updated, "status"), "offline");
    let (_, linode) = prism.api("GET", &format!("/linode/instances/{id}"), None);
    assert_eq!(linode["label"], "web-2");
    assert_eq!(linode["tags"], json!(["web"]));

    // Drift: renamed behind Infra's back, then read as it is.
    prism.api("PUT", &format!("/linode/instances/{id}"), Some(&json!({"label": "renamed"})));
    let drifted = found(runtime.block_on(provider.read("instance", &updated)).expect("read"));
    assert_eq!(text(&drifted, "label"), "renamed");

    // Import: what the API knows, the write-only settings left null.
    let imported = runtime.block_on(provider.import("instance", &id)).expect("imported");
    assert_eq!(text(&imported, "region"), "us-east");
    assert_eq!(text(&imported, "image"), "linode/debian12");
    assert_eq!(imported["private_ip"], Value::bool(true));
    assert!(imported["root_pass"].is_null());
    let bad = runtime.block_on(provider.import("instance", "../profile")).expect_err("refused");
    assert!(bad.message.contains("not a Linode id"), "{bad:?}");

    // Deleted behind Infra's back: gone, and deleting it again is no error.
    prism.api("DELETE", &format!("/linode/instances/{id}"), None);
    let gone = runtime.block_on(provider.read("instance", &updated)).expect("read");
    assert!(matches!(gone, ReadResult::Gone));
    runtime.block_on(provider.delete("instance", &updated)).expect("deleting a gone instance succeeds");
    prism.assert_no_violations();
}

#[test]
fn an_instance_with_booted_false_is_offline_and_boots_in_place() {
    let prism = Prism::start(&LINODE);
    let runtime = runtime();
    let provider = provider(&prism);
    let config = attributes(&[
        ("region", Value::string("eu-west")),
        ("type", Value::string("g6-standard-1")),
        ("image", Value::string("linode/ubuntu24.04")),
        ("authorized_keys", strings(&["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk test"])),
        // Set, as the engine sets an optional, computed attribute the configuration
        // leaves out to its prior value before planning.
        ("private_ip", Value::bool(false)),
        ("booted", Value::bool(false)),
    ]);
    let created = create(&runtime, provider.as_ref(), "instance", &config);
    assert_eq!(text(&created, "status"), "offline");
    assert!(text(&created, "label").starts_with("linode"), "Linode names it: {created:?}");
    let mut booted = config.clone();
    booted.insert("booted".to_string(), Value::bool(true));
    let planned = provider.plan("instance", Some(&created), &booted).expect("planned");
    let updated = runtime.block_on(provider.update("instance", &created, &planned)).expect("updated");
    assert_eq!(text(&updated, "status"), "running");
    runtime.block_on(provider.delete("instance", &updated)).expect("deleted");
    prism.assert_no_violations();
}

#[test]
fn throttled_requests_wait_as_retry_after_says_and_succeed() {
    let prism = Prism::start(&LINODE);
    let runtime = runtime();
    let provider = provider(&prism);
    prism.control("throttle", json!({"count": 2, "retry_after": 1}));
    let config = attributes(&[
        ("label", Value::string("laptop")),
        ("ssh_key", Value::string("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk laptop\n")),
    ]);
    let start = std::time::Instant::now();
    let created = create(&runtime, provider.as_ref(), "sshkey", &config);
    assert!(start.elapsed() >= std::time::Duration::from_secs(2), "the two 429s were not waited out");
    let posts = prism.requests().iter().filter(|r| *r == "POST /profile/sshkeys").count();
    assert_eq!(posts, 3, "{:?}", prism.requests());
    // The key as configured, though Linode keeps it without the newline.
    assert_eq!(text(&created, "ssh_key"), "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk laptop\n");
    let read = found(runtime.block_on(provider.read("sshkey", &created)).expect("read"));
    assert_eq!(read, created);
    prism.assert_no_violations();
}

/// A new `type` resizes the Linode in place, as Terraform does: the same Linode, waited
/// for until it runs again as the new type; `resize_disk` grows the disk with it. A
/// smaller plan the grown disk does not fit is refused on `type` unless `resize_disk`
/// lets Linode shrink the disk too.
#[test]
fn a_new_type_resizes_the_instance_in_place_and_a_smaller_disk_needs_resize_disk() {
    let prism = Prism::start(&LINODE);
    let runtime = runtime();
    let provider = provider(&prism);
    let config = attributes(&[
        ("label", Value::string("web-1")),
        ("region", Value::string("us-east")),
        ("type", Value::string("g6-nanode-1")),
        ("image", Value::string("linode/debian12")),
        ("root_pass", Value::string("a-Long-root-pass-1")),
        // Set, as the engine sets an optional, computed attribute the configuration
        // leaves out to its prior value before planning.
        ("private_ip", Value::bool(false)),
    ]);
    let created = create(&runtime, provider.as_ref(), "instance", &config);
    let id = text(&created, "id").to_string();
    let with_type = |linode_type: &str, resize_disk: Option<bool>| {
        let mut changed = config.clone();
        changed.insert("type".to_string(), Value::string(linode_type));
        if let Some(resize_disk) = resize_disk {
            changed.insert("resize_disk".to_string(), Value::bool(resize_disk));
        }
        changed
    };

    let planned = provider.plan("instance", Some(&created), &with_type("g6-standard-1", Some(true))).expect("planned");
    assert_eq!(text(&planned, "id"), id, "kept in place");
    assert!(!planned["specs"].is_known(), "the specs are unknown until the resize: {planned:?}");
    let resized = runtime.block_on(provider.update("instance", &created, &planned)).expect("resized");
    assert_eq!(text(&resized, "id"), id);
    assert_eq!(text(&resized, "type"), "g6-standard-1");
    assert_eq!(text(&resized, "status"), "running");
    assert_eq!(resized["specs"].as_map().and_then(|s| s.get("memory")), Some(&Value::number(2048.0)));
    let requests = prism.requests();
    let resize_at = requests.iter().position(|r| *r == format!("POST /linode/instances/{id}/resize")).expect("resize");
    let gets_after = requests[resize_at..].iter().filter(|r| **r == format!("GET /linode/instances/{id}")).count();
    assert!(gets_after >= 2, "the resize was not waited for: {requests:?}");

    // Back down: the disk grown for the bigger plan does not fit the smaller one.
    let planned = provider.plan("instance", Some(&resized), &with_type("g6-nanode-1", Some(false))).expect("planned");
    let refused = runtime.block_on(provider.update("instance", &resized, &planned)).expect_err("refused");
    assert_eq!(refused.attribute.as_deref(), Some("type"), "{refused:?}");
    assert!(refused.message.contains("more disk than the new service plan allows"), "{refused:?}");
    let planned = provider.plan("instance", Some(&resized), &with_type("g6-nanode-1", Some(true))).expect("planned");
    let shrunk = runtime.block_on(provider.update("instance", &resized, &planned)).expect("resized with its disk");
    assert_eq!(text(&shrunk, "type"), "g6-nanode-1");
    assert_eq!(text(&shrunk, "id"), id);
    let read = found(runtime.block_on(provider.read("instance", &shrunk)).expect("read"));
    assert_eq!(read, shrunk);
    runtime.block_on(provider.delete("instance", &shrunk)).expect("deleted");
    prism.assert_no_violations();
}

/// An instance deployed with a StackScript sends `stackscript_id` and
/// `stackscript_data` as Linode's description says (Prism checks them): the stand-in
/// records the deployment (it runs no script). The data, sensitive and never read back,
/// stays as configured; a field the script declares left out is Linode's error on
/// `stackscript_data`.
#[test]
fn an_instance_deploys_a_stackscript_with_its_data() {
    let prism = Prism::start(&LINODE);
    let runtime = runtime();
    let provider = provider(&prism);
    let script = create(
        &runtime,
        provider.as_ref(),
        "stackscript",
        &attributes(&[
            ("label", Value::string("greeter")),
            (
                "script",
                Value::string("#!/bin/bash\n# <UDF name=\"greeting\" label=\"The greeting\" />\necho \"$GREETING\"\n"),
            ),
            ("images", strings(&["linode/debian12"])),
        ]),
    );
    let script_id: u64 = text(&script, "id").parse().expect("a numeric id");
    let data = Value::map([("greeting".to_string(), Value::string("hello"))].into_iter().collect());
    let config = attributes(&[
        ("region", Value::string("us-east")),
        ("type", Value::string("g6-nanode-1")),
        ("image", Value::string("linode/debian12")),
        ("root_pass", Value::string("a-Long-root-pass-1")),
        // The StackScript's id as it exposes it (a string), as `stackscript_id = boot.id`.
        ("stackscript_id", script["id"].clone()),
        ("stackscript_data", data.clone()),
    ]);
    let created = create(&runtime, provider.as_ref(), "instance", &config);
    assert_eq!(created["stackscript_id"], script["id"]);
    assert_eq!(created["stackscript_data"], data);
    let read = found(runtime.block_on(provider.read("instance", &created)).expect("read"));
    assert_eq!(read, created, "the write-only settings stay as configured");
    let deployments = prism.control("deployments", json!({}));
    let id: u64 = text(&created, "id").parse().expect("a numeric id");
    assert_eq!(
        deployments,
        json!([{"linode_id": id, "stackscript_id": script_id, "stackscript_data": {"greeting": "hello"}}])
    );
    let (_, answer) = prism.api("GET", &format!("/linode/stackscripts/{}", text(&script, "id")), None);
    assert_eq!(answer["deployments_total"], 1, "{answer}");
    // The deployment is no change to the StackScript: a refresh reads the count Linode
    // has now (as the state should hold it), and nothing else differs. The schema marks
    // the count `changed_by_others`, so the engine records it without a drift note.
    let refreshed = found(runtime.block_on(provider.read("stackscript", &script)).expect("read"));
    assert_eq!(refreshed["deployments_total"], Value::number(1.0), "read fresh: {refreshed:?}");
    let mut expected = script.clone();
    expected.insert("deployments_total".to_string(), Value::number(1.0));
    assert_eq!(refreshed, expected, "only the count changed");

    let mut without_data = config.clone();
    without_data.remove("stackscript_data");
    let planned = provider.plan("instance", None, &without_data).expect("planned");
    let refused = runtime.block_on(provider.create("instance", &planned)).expect_err("refused");
    assert_eq!(refused.attribute.as_deref(), Some("stackscript_data"), "{refused:?}");
    assert!(refused.message.contains("greeting is required"), "{refused:?}");
    // Regression: the message is a sentence ("Linode create the instance failed (400)").
    assert!(refused.message.starts_with("Linode could not create the instance (400): "), "{refused:?}");
    runtime.block_on(provider.delete("instance", &created)).expect("deleted");
    prism.assert_no_violations();
}

/// Server errors are retried with a backoff that doubles (250 ms, 500 ms, 1 s: no
/// `Retry-After` to go by), and the request then succeeds.
#[test]
fn server_errors_are_retried_with_backoff_and_succeed() {
    let prism = Prism::start(&LINODE);
    let runtime = runtime();
    let provider = provider(&prism);
    prism.control("fail", json!({"count": 3, "status": 503}));
    let config =
        attributes(&[("label", Value::string("laptop")), ("ssh_key", Value::string("ssh-ed25519 AAAA laptop"))]);
    let start = std::time::Instant::now();
    let created = create(&runtime, provider.as_ref(), "sshkey", &config);
    let elapsed = start.elapsed();
    assert!(elapsed >= std::time::Duration::from_millis(1750), "no backoff between the retries: {elapsed:?}");
    let posts = prism.requests().iter().filter(|r| *r == "POST /profile/sshkeys").count();
    assert_eq!(posts, 4, "{:?}", prism.requests());
    assert_eq!(text(&created, "label"), "laptop");
    prism.assert_no_violations();
}

/// A server error that lasts is given up after six attempts, as an error that says the
/// fault is Linode's and that the engine may retry once more.
#[test]
fn a_lasting_server_error_is_given_up_with_a_clear_error() {
    let prism = Prism::start(&LINODE);
    let runtime = runtime();
    let provider = provider(&prism);
    prism.control("fail", json!({"count": 1000, "status": 503}));
    let config = attributes(&[("label", Value::string("k")), ("ssh_key", Value::string("ssh-ed25519 AAAA k"))]);
    let planned = provider.plan("sshkey", None, &config).expect("planned");
    let error = runtime.block_on(provider.create("sshkey", &planned)).expect_err("given up");
    assert!(error.message.contains("a server error (503)"), "{error:?}");
    assert!(error.message.contains("gave up after 6 attempts"), "{error:?}");
    assert!(error.help.as_deref().unwrap_or_default().contains("Linode's side"), "{error:?}");
    assert!(error.retryable);
    let posts = prism.requests().iter().filter(|r| *r == "POST /profile/sshkeys").count();
    assert_eq!(posts, 6, "{:?}", prism.requests());
    prism.assert_no_violations();
}

/// A create (`POST`) answered with a server error other than 502 or 503 may have made
/// its object: it is sent once, and the error says why it was not sent again.
#[test]
fn a_create_that_failed_with_a_server_error_is_not_sent_again() {
    let prism = Prism::start(&LINODE);
    let runtime = runtime();
    let provider = provider(&prism);
    prism.control("fail", json!({"count": 1000, "status": 500}));
    let config = attributes(&[("label", Value::string("k")), ("ssh_key", Value::string("ssh-ed25519 AAAA k"))]);
    let planned = provider.plan("sshkey", None, &config).expect("planned");
    let error = runtime.block_on(provider.create("sshkey", &planned)).expect_err("failed");
    assert!(error.message.contains("a server error (500)") && error.message.contains("not sent again"), "{error:?}");
    assert!(error.help.as_deref().unwrap_or_default().contains("infra import"), "{error:?}");
    assert!(!error.retryable, "nor does the engine send it again");
    let posts = prism.requests().iter().filter(|r| *r == "POST /profile/sshkeys").count();
    assert_eq!(posts, 1, "{:?}", prism.requests());
    prism.assert_no_violations();
}

#[test]
fn a_bad_token_is_a_clear_error_that_does_not_repeat_it() {
    let prism = Prism::start(&LINODE);
    let runtime = runtime();
    let provider = configured(&prism.url, "not-the-token-0123");
    let config = attributes(&[("label", Value::string("k")), ("ssh_key", Value::string("ssh-ed25519 AAAA k"))]);
    let planned = provider.plan("sshkey", None, &config).expect("planned");
    let error = runtime.block_on(provider.create("sshkey", &planned)).expect_err("refused");
    assert!(error.message.contains("401"), "{error:?}");
    // The token, not the object: the same message for every resource that uses it, so
    // the engine reports it once.
    assert!(error.message.starts_with("Linode refused the token (401"), "{error:?}");
    assert!(error.about_configuration, "{error:?}");
    assert!(error.help.as_deref().unwrap_or_default().contains("LINODE_TOKEN"), "{error:?}");
    assert!(!format!("{error:?}").contains("not-the-token-0123"), "{error:?}");
    assert!(!error.retryable);
    prism.assert_no_violations();
}

#[test]
fn a_firewall_reads_every_page_of_its_devices_and_changes_in_place() {
    let prism = Prism::start(&LINODE);
    let runtime = runtime();
    let provider = provider(&prism);
    let instance = attributes(&[("region", Value::string("us-east")), ("type", Value::string("g6-nanode-1"))]);
    let ids: Vec<String> =
        (0..3).map(|_| text(&create(&runtime, provider.as_ref(), "instance", &instance), "id").to_string()).collect();
    prism.control("page_size", json!({"max": 2}));
    let rule = |label: &str, ports: &str| {
        Value::map(
            [
                ("label", Value::string(label)),
                ("action", Value::string("ACCEPT")),
                ("protocol", Value::string("TCP")),
                ("ports", Value::string(ports)),
                ("ipv4", strings(&["0.0.0.0/0"])),
                ("ipv6", strings(&["::/0"])),
                ("description", Value::null()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        )
    };
    let id_list = |ids: &[String]| Value::list(ids.iter().map(|i| Value::string(i.as_str())).collect());
    let config = attributes(&[
        ("label", Value::string("web-fw")),
        ("inbound_policy", Value::string("DROP")),
        ("outbound_policy", Value::string("ACCEPT")),
        ("inbound", Value::list(vec![rule("ssh", "22"), rule("web", "80,443")])),
        ("linodes", id_list(&ids)),
    ]);
    let created = create(&runtime, provider.as_ref(), "firewall", &config);
    assert_eq!(created["linodes"], id_list(&ids), "every page of devices was read");
    assert_eq!(created["inbound"], config["inbound"]);
    assert_eq!(created["disabled"], Value::bool(false));
    let pages = prism.requests().iter().filter(|r| r.ends_with("/devices")).count();
    assert!(pages >= 2, "{:?}", prism.requests());

    let mut changed = config.clone();
    changed.insert("inbound".to_string(), Value::list(vec![rule("web", "80,443")]));
    changed.insert("linodes".to_string(), id_list(&ids[1..]));
    changed.insert("disabled".to_string(), Value::bool(true));
    let planned = provider.plan("firewall", Some(&created), &changed).expect("planned");
    let updated = runtime.block_on(provider.update("firewall", &created, &planned)).expect("updated");
    assert_eq!(updated["linodes"], id_list(&ids[1..]));
    assert_eq!(updated["inbound"], changed["inbound"]);
    assert_eq!(text(&updated, "status"), "disabled");
    let imported = runtime.block_on(provider.import("firewall", text(&updated, "id"))).expect("imported");
    assert_eq!(imported["inbound"], changed["inbound"]);
    runtime.block_on(provider.delete("firewall", &updated)).expect("deleted");
    prism.assert_no_violations();
}

#[test]
fn a_domain_and_its_record_are_changed_imported_and_deleted() {
    let prism = Prism::start(&LINODE);
    let runtime = runtime();
    let provider = provider(&prism);
    let domain = create(
        &runtime,
        provider.as_ref(),
        "domain",
        &attributes(&[
            ("domain", Value::string("Example.org")),
            ("type", Value::string("master")),
            ("soa_email", Value::string("admin@example.org")),
        ]),
    );
    assert_eq!(text(&domain, "domain"), "Example.org");
    assert!(domain["description"].is_null(), "an empty description reads as unset: {domain:?}");
    let domain_id = text(&domain, "id").to_string();
    let record_config = attributes(&[
        ("domain_id", Value::string(domain_id.as_str())),
        ("record_type", Value::string("A")),
        ("name", Value::string("www")),
        ("target", Value::string("192.0.2.10")),
        ("ttl_sec", Value::number(300.0)),
    ]);
    let record = create(&runtime, provider.as_ref(), "domain_record", &record_config);
    let mut changed = record_config.clone();
    changed.insert("target".to_string(), Value::string("192.0.2.11"));
    let planned = provider.plan("domain_record", Some(&record), &changed).expect("planned");
    let updated = runtime.block_on(provider.update("domain_record", &record, &planned)).expect("updated");
    assert_eq!(text(&updated, "target"), "192.0.2.11");
    let import_id = format!("{domain_id},{}", text(&record, "id"));
    let imported = runtime.block_on(provider.import("domain_record", &import_id)).expect("imported");
    assert_eq!(imported, updated);
    runtime.block_on(provider.delete("domain_record", &updated)).expect("deleted");
    assert!(matches!(runtime.block_on(provider.read("domain_record", &updated)).expect("read"), ReadResult::Gone));
    runtime.block_on(provider.delete("domain", &domain)).expect("deleted");
    prism.assert_no_violations();
}

#[test]
fn a_volume_grows_moves_between_linodes_and_is_detached_before_it_is_deleted() {
    let prism = Prism::start(&LINODE);
    let runtime = runtime();
    let provider = provider(&prism);
    let instance = attributes(&[("region", Value::string("us-east")), ("type", Value::string("g6-nanode-1"))]);
    let first = create(&runtime, provider.as_ref(), "instance", &instance);
    let second = create(&runtime, provider.as_ref(), "instance", &instance);
    let config = attributes(&[
        ("label", Value::string("data")),
        ("region", Value::string("us-east")),
        ("linode_id", first["id"].clone()),
        ("size", Value::number(20.0)),
    ]);
    // Reported as soon as Linode names it, before the wait while it is `creating`: a wait
    // that times out or is interrupted (Ctrl-C) leaves it in the state.
    let (progress, reports) = CreateProgress::channel();
    let planned = provider.plan("volume", None, &config).expect("planned");
    let created = runtime.block_on(provider.create_reporting("volume", &planned, &progress)).expect("created");
    let reported = reports.borrow().clone().expect("reported");
    assert_eq!(reported["id"], created["id"]);
    assert_eq!(text(&created, "region"), "us-east");
    assert_eq!(text(&created, "status"), "active");
    let mut changed = config.clone();
    changed.insert("size".to_string(), Value::number(40.0));
    changed.insert("linode_id".to_string(), second["id"].clone());
    let planned = provider.plan("volume", Some(&created), &changed).expect("planned");
    let updated = runtime.block_on(provider.update("volume", &created, &planned)).expect("updated");
    assert_eq!(updated["size"], Value::number(40.0));
    assert_eq!(updated["linode_id"], second["id"]);
    let volume_id = text(&updated, "id").to_string();
    let requests = prism.requests();
    let detach = requests.iter().position(|r| *r == format!("POST /volumes/{volume_id}/detach"));
    let attach = requests.iter().position(|r| *r == format!("POST /volumes/{volume_id}/attach"));
    assert!(detach.is_some() && detach < attach, "{requests:?}");
    runtime.block_on(provider.delete("volume", &updated)).expect("deleted");
    let (status, _) = prism.api("GET", &format!("/volumes/{volume_id}"), None);
    assert_eq!(status, 404);
    prism.assert_no_violations();
}

fn filter(name: &str, values: &[&str], match_by: Option<&str>) -> Value {
    let mut block = vec![("name", Value::string(name)), ("values", strings(values))];
    if let Some(by) = match_by {
        block.push(("match_by", Value::string(by)));
    }
    Value::object(attributes(&block))
}

fn field(items: &Value, name: &str) -> Vec<String> {
    let items = items.as_list().expect("a list");
    items.iter().map(|item| item.as_map().and_then(|m| m.get(name)).map_or(String::new(), |v| format!("{v}"))).collect()
}

#[test]
fn data_sources_list_every_page_then_filter_and_order_as_asked() {
    let prism = Prism::start(&LINODE);
    let runtime = runtime();
    let provider = provider(&prism);
    prism.control("page_size", json!({"max": 2}));

    let all = runtime.block_on(provider.read_data("regions", &Attributes::new())).expect("regions");
    assert_eq!(all["regions"].as_list().map(<[Value]>::len), Some(6), "every page is read: {all:?}");
    let pages = prism.requests().iter().filter(|r| r.starts_with("GET /regions")).count();
    assert!(pages >= 3, "{:?}", prism.requests());

    let config = attributes(&[
        (
            "filter",
            Value::list(vec![filter("country", &["us"], None), filter("label", &["TX", "CA"], Some("substring"))]),
        ),
        ("order_by", Value::string("id")),
        ("order", Value::string("desc")),
    ]);
    let regions = runtime.block_on(provider.read_data("regions", &config)).expect("regions");
    assert_eq!(field(&regions["regions"], "id"), ["\"us-west\"", "\"us-central\""]);
    assert!(!text(&regions, "id").is_empty());

    let config = attributes(&[
        ("filter", Value::list(vec![filter("vcpus", &["1", "2"], None), filter("class", &["stand.*"], Some("re"))])),
        ("order_by", Value::string("memory")),
    ]);
    let types = runtime.block_on(provider.read_data("types", &config)).expect("types");
    assert_eq!(field(&types["types"], "id"), ["\"g6-standard-1\"", "\"g6-standard-2\""]);
    let first = types["types"].as_list().expect("types")[0].as_map().expect("an object").clone();
    let price = first["price"].as_map().expect("a price");
    assert_eq!(price["monthly"], Value::number(12.0));

    let config = attributes(&[
        ("filter", Value::list(vec![filter("vendor", &["Debian"], None)])),
        ("latest", Value::bool(true)),
    ]);
    let images = runtime.block_on(provider.read_data("images", &config)).expect("images");
    assert_eq!(images["images"].as_list().map(<[Value]>::len), Some(1), "{images:?}");

    let bad = attributes(&[("filter", Value::list(vec![filter("label", &["(unclosed"], Some("re"))]))]);
    let error = runtime.block_on(provider.read_data("images", &bad)).expect_err("a bad pattern is refused");
    assert!(error.message.contains("not a regular expression"), "{error:?}");
    prism.assert_no_violations();
}

/// Regression: removing an optional setting was planned, "applied" and planned again
/// forever, since an update left out null fields and Linode kept its value. Removed
/// settings are sent as Linode's "none" for them (a domain's description `null`, times
/// `0`, a StackScript's description `""`), so the read after the update is what the
/// configuration says.
#[test]
fn regression_removed_optional_settings_are_cleared_at_linode() {
    let prism = Prism::start(&LINODE);
    let runtime = runtime();
    let provider = provider(&prism);
    let apply = |kind: &str, prior: &Attributes, config: &Attributes| {
        let planned = provider.plan(kind, Some(prior), config).expect("planned");
        let updated = runtime.block_on(provider.update(kind, prior, &planned)).expect("updated");
        let read = found(runtime.block_on(provider.read(kind, &updated)).expect("read"));
        assert_eq!(read, updated, "the next plan would show a change of `{kind}`");
        // The next plan: nothing left to change.
        assert_eq!(provider.plan(kind, Some(&read), config).expect("planned"), read);
        updated
    };

    let zone = attributes(&[
        ("domain", Value::string("cleared.example.org")),
        ("type", Value::string("master")),
        ("soa_email", Value::string("admin@example.org")),
        ("status", Value::string("active")),
    ]);
    let mut described = zone.clone();
    described.insert("description".to_string(), Value::string("the zone"));
    described.insert("ttl_sec".to_string(), Value::number(300.0));
    described.insert("refresh_sec".to_string(), Value::number(3600.0));
    let domain = create(&runtime, provider.as_ref(), "domain", &described);
    let domain_id = text(&domain, "id").to_string();
    let domain = apply("domain", &domain, &zone);
    assert!(domain["description"].is_null() && domain["ttl_sec"].is_null(), "{domain:?}");
    let (_, at_linode) = prism.api("GET", &format!("/domains/{domain_id}"), None);
    assert_eq!((&at_linode["description"], &at_linode["ttl_sec"]), (&Json::Null, &json!(0)), "{at_linode}");
    assert_eq!(at_linode["refresh_sec"], 0, "{at_linode}");

    let record_config = attributes(&[
        ("domain_id", Value::string(domain_id.as_str())),
        ("record_type", Value::string("A")),
        ("name", Value::string("www")),
        ("target", Value::string("192.0.2.10")),
    ]);
    let mut with_ttl = record_config.clone();
    with_ttl.insert("ttl_sec".to_string(), Value::number(300.0));
    let record = create(&runtime, provider.as_ref(), "domain_record", &with_ttl);
    let record = apply("domain_record", &record, &record_config);
    let (_, at_linode) = prism.api("GET", &format!("/domains/{domain_id}/records/{}", text(&record, "id")), None);
    assert_eq!(at_linode["ttl_sec"], 0, "the domain's TTL: {at_linode}");

    let script_config = attributes(&[
        ("label", Value::string("cleared")),
        ("script", Value::string("#!/bin/bash\necho hello\n")),
        ("images", strings(&["linode/debian12"])),
    ]);
    let mut with_description = script_config.clone();
    with_description.insert("description".to_string(), Value::string("says hello"));
    with_description.insert("rev_note".to_string(), Value::string("first"));
    let script = create(&runtime, provider.as_ref(), "stackscript", &with_description);
    let script = apply("stackscript", &script, &script_config);
    let (_, at_linode) = prism.api("GET", &format!("/linode/stackscripts/{}", text(&script, "id")), None);
    assert_eq!((&at_linode["description"], &at_linode["rev_note"]), (&json!(""), &json!("")), "{at_linode}");
    prism.assert_no_violations();
}

/// Regression: `is_public = true` removed was planned as `true -> null` on every plan
/// (Linode never makes a public StackScript private). Left out, it keeps Linode's
/// value: no change; set to `false`, it is an error at plan time, on `is_public`.
#[test]
fn regression_a_public_stackscript_left_out_of_is_public_plans_no_change() {
    let prism = Prism::start(&LINODE);
    let runtime = runtime();
    let provider = provider(&prism);
    let config = attributes(&[
        ("label", Value::string("public-one")),
        ("script", Value::string("#!/bin/bash\necho hello\n")),
        ("images", strings(&["linode/debian12"])),
    ]);
    let mut public = config.clone();
    public.insert("is_public".to_string(), Value::bool(true));
    let script = create(&runtime, provider.as_ref(), "stackscript", &public);
    assert_eq!(script["is_public"], Value::bool(true));
    let planned = provider.plan("stackscript", Some(&script), &config).expect("planned");
    assert_eq!(planned, script, "no change planned");
    let read = found(runtime.block_on(provider.read("stackscript", &script)).expect("read"));
    assert_eq!(read, script);

    let mut private = config.clone();
    private.insert("is_public".to_string(), Value::bool(false));
    let refused = provider.plan("stackscript", Some(&script), &private).expect_err("refused at plan time");
    assert_eq!(refused.attribute.as_deref(), Some("is_public"), "{refused:?}");
    assert!(refused.message.contains("cannot be made private"), "{refused:?}");
    assert!(refused.help.as_deref().unwrap_or_default().contains("remove `is_public`"), "{refused:?}");
    prism.assert_no_violations();
}

/// Regression: a `master` domain without `soa_email` (which Linode requires) passed the
/// plan and failed at apply; it is refused at plan time, on `type`, with a hint.
#[test]
fn regression_a_master_domain_without_soa_email_is_refused_at_plan_time() {
    let provider = configured("http://127.0.0.1:9", "token");
    let config = attributes(&[("domain", Value::string("example.org")), ("type", Value::string("master"))]);
    let refused = provider.plan("domain", None, &config).expect_err("refused");
    assert_eq!(refused.attribute.as_deref(), Some("type"), "{refused:?}");
    assert!(refused.message.contains("`master` domain needs `soa_email`"), "{refused:?}");
    assert!(refused.help.as_deref().unwrap_or_default().contains("set `soa_email`"), "{refused:?}");
    let slave = attributes(&[
        ("domain", Value::string("example.org")),
        ("type", Value::string("slave")),
        ("master_ips", strings(&["192.0.2.53"])),
    ]);
    provider.plan("domain", None, &slave).expect("a slave zone needs no `soa_email`");
}

/// Regression: a create that never reached Linode (the connection refused) was
/// reported as "it may have made the object ... `infra import` it". It was never sent:
/// the error says so, points at `api_url`, and may be retried (the provider tried it
/// six times).
#[test]
fn regression_a_create_refused_a_connection_says_it_was_never_sent() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = closed.local_addr().expect("its address").port();
    drop(closed);
    let runtime = runtime();
    let provider = configured(&format!("http://127.0.0.1:{port}"), "token");
    let config = attributes(&[("label", Value::string("k")), ("ssh_key", Value::string("ssh-ed25519 AAAA k"))]);
    let planned = provider.plan("sshkey", None, &config).expect("planned");
    let error = runtime.block_on(provider.create("sshkey", &planned)).expect_err("refused");
    assert!(error.message.contains("the request was never sent"), "{error:?}");
    assert!(error.message.contains("gave up after 6 attempts"), "retried: {error:?}");
    assert!(!error.message.contains("may have made"), "{error:?}");
    let help = error.help.as_deref().unwrap_or_default();
    assert!(help.contains("`api_url`") && help.contains("LINODE_URL") && help.contains("safe"), "{error:?}");
    assert!(!help.contains("infra import"), "{error:?}");
    assert!(error.retryable, "nothing was made, so the engine may send it again");
}

/// Regression: `api_url` without its scheme failed each request with "builder error:
/// relative URL without a base", reported as a create that may have made its object.
/// Configuring the provider refuses it, on `api_url`; the schema's validator lets
/// `infra check` refuse a literal.
#[test]
fn regression_an_api_url_without_its_scheme_is_refused_when_configuring() {
    let config: Attributes = [("api_url", "127.0.0.1:18011"), ("token", "token")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::string(v)))
        .collect();
    let context = ProviderContext { module_dir: PathBuf::from(".") };
    let refused = infra_provider_linode::factory().configure(&config, &context).err().expect("refused");
    assert_eq!(refused.attribute.as_deref(), Some("api_url"), "{refused:?}");
    assert!(refused.message.contains("`127.0.0.1:18011` is not an address of the Linode API"), "{refused:?}");
    assert!(refused.help.as_deref().unwrap_or_default().contains("https://api.linode.com/v4"), "{refused:?}");
    let schema = infra_provider_linode::schema();
    let api_url = schema.config.attribute("api_url").expect("api_url");
    assert!(!api_url.validators.is_empty(), "`infra check` validates a literal `api_url`");
}
