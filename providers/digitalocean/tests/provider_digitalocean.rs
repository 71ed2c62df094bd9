//! The `digitalocean` provider through the provider interface against the DigitalOcean
//! stand-in behind Prism, which checks every request and response against
//! DigitalOcean's official API description (`cli/tests/support/prism.rs`): a Droplet
//! waited for until it is active, changed in place through actions (IPv6 turned on
//! among them), drifted, imported and deleted; SSH keys through a 429 storm and through
//! server errors; a domain and its records over paged lists;
//! a firewall; a VPC a Droplet joins; a volume and its attachment; a reserved IP and
//! its assignment; the data sources over paged lists; and a bad token.

use std::path::PathBuf;
use std::sync::Arc;

use infra_runtime::provider::{Attributes, CreateProgress, Provider, ProviderContext, ReadResult};
use infra_runtime::Value;
use serde_json::json;

#[path = "../../../cli/tests/support/prism.rs"]
mod prism;

use prism::{Prism, DIGITALOCEAN};

const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk admin\n";

fn configured(url: &str, token: &str) -> Arc<dyn Provider> {
    let config: Attributes =
        [("api_url", url), ("token", token)].into_iter().map(|(k, v)| (k.to_string(), Value::string(v))).collect();
    let context = ProviderContext { module_dir: PathBuf::from(".") };
    infra_provider_digitalocean::factory().configure(&config, &context).expect("configured")
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

/// Plans an update of `prior` to `config` and applies it. As the engine does before
/// planning, an optional, computed attribute the configuration leaves out takes its
/// prior value (a Droplet's `vpc_uuid`).
fn update(
    runtime: &tokio::runtime::Runtime,
    provider: &dyn Provider,
    kind: &str,
    prior: &Attributes,
    config: &Attributes,
) -> Attributes {
    let mut config = config.clone();
    if kind == "droplet" && config.get("vpc_uuid").is_none_or(Value::is_null) {
        config.insert("vpc_uuid".to_string(), prior["vpc_uuid"].clone());
    }
    let planned = provider.plan(kind, Some(prior), &config).expect("planned");
    assert_eq!(planned["id"], prior["id"], "planned as an update in place");
    runtime.block_on(provider.update(kind, prior, &planned)).expect("updated")
}

fn found(result: ReadResult) -> Attributes {
    match result {
        ReadResult::Found(attributes) => attributes,
        ReadResult::Gone => panic!("the object is gone"),
    }
}

fn droplet_config(name: &str) -> Attributes {
    attributes(&[
        ("name", Value::string(name)),
        ("region", Value::string("nyc3")),
        ("size", Value::string("s-1vcpu-1gb")),
        ("image", Value::string("debian-12-x64")),
        ("user_data", Value::string("#cloud-config\npackages: [nginx]\n")),
        ("tags", strings(&["web", "prod"])),
        ("ipv6", Value::bool(true)),
    ])
}

#[test]
fn a_droplet_is_active_before_create_returns_and_is_changed_drifted_imported_and_deleted() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = provider(&prism);
    let key = create(
        &runtime,
        provider.as_ref(),
        "ssh_key",
        &attributes(&[("name", Value::string("admin")), ("public_key", Value::string(KEY))]),
    );
    let mut config = droplet_config("web-1");
    config.insert("ssh_keys".to_string(), Value::list(vec![key["id"].clone()]));
    let created = create(&runtime, provider.as_ref(), "droplet", &config);
    assert_eq!(text(&created, "status"), "active");
    assert!(text(&created, "ipv4_address").starts_with("192.0.2."), "{created:?}");
    assert!(text(&created, "ipv4_address_private").starts_with("10.10."), "{created:?}");
    assert!(text(&created, "ipv6_address").starts_with("2001:db8::"), "{created:?}");
    assert_eq!(created["ipv6"], Value::bool(true));
    assert_eq!(created["backups"], Value::bool(false));
    assert_eq!(created["memory"], Value::number(1024.0));
    let id = text(&created, "id").to_string();
    assert_eq!(text(&created, "urn"), format!("do:droplet:{id}"));
    assert_eq!(created["user_data"], config["user_data"]);
    let gets = prism.requests().iter().filter(|r| **r == format!("GET /v2/droplets/{id}")).count();
    assert!(gets >= 2, "create returned before the Droplet was active: {:?}", prism.requests());

    // Read back: nothing differs from what create returned.
    let read = found(runtime.block_on(provider.read("droplet", &created)).expect("read"));
    assert_eq!(read, created);

    // In place: renamed, one tag fewer and one more, backups on; each action waited for.
    let mut changed = config.clone();
    changed.insert("name".to_string(), Value::string("web-2"));
    changed.insert("tags".to_string(), strings(&["web", "frontend"]));
    changed.insert("backups".to_string(), Value::bool(true));
    let updated = update(&runtime, provider.as_ref(), "droplet", &created, &changed);
    assert_eq!(text(&updated, "name"), "web-2");
    assert_eq!(updated["backups"], Value::bool(true));
    assert_eq!(updated["tags"], strings(&["web", "frontend"]));
    assert_eq!(text(&updated, "id"), id, "changed in place, not replaced");
    let (_, answer) = prism.api("GET", &format!("/v2/droplets/{id}"), None);
    assert_eq!(answer["droplet"]["name"], "web-2");
    assert_eq!(answer["droplet"]["tags"], json!(["frontend", "web"]));
    let action_polls = prism.requests().iter().filter(|r| r.starts_with("GET /v2/actions/")).count();
    assert!(action_polls >= 2, "the actions were not waited for: {:?}", prism.requests());

    // Drift: renamed behind Infra's back, then read as it is.
    prism.api("POST", &format!("/v2/droplets/{id}/actions"), Some(&json!({"type": "rename", "name": "renamed"})));
    let drifted = found(runtime.block_on(provider.read("droplet", &updated)).expect("read"));
    assert_eq!(text(&drifted, "name"), "renamed");

    // Import: what the API knows, the write-only settings left null.
    let imported = runtime.block_on(provider.import("droplet", &id)).expect("imported");
    assert_eq!(text(&imported, "region"), "nyc3");
    assert_eq!(text(&imported, "image"), "debian-12-x64");
    assert!(imported["user_data"].is_null());
    let bad = runtime.block_on(provider.import("droplet", "../account")).expect_err("refused");
    assert!(bad.message.contains("not a DigitalOcean id"), "{bad:?}");

    // Deleted behind Infra's back: gone, and deleting it again is no error.
    prism.api("DELETE", &format!("/v2/droplets/{id}"), None);
    assert!(matches!(runtime.block_on(provider.read("droplet", &updated)).expect("read"), ReadResult::Gone));
    runtime.block_on(provider.delete("droplet", &updated)).expect("deleting a gone Droplet succeeds");
    prism.assert_no_violations();
}

/// IPv6 turned on is changed in place (the `enable_ipv6` action, waited for), its
/// address unknown until then; turned off, the Droplet is replaced, as Terraform does:
/// DigitalOcean has no action that takes IPv6 away.
#[test]
fn ipv6_is_turned_on_in_place_and_turning_it_off_replaces_the_droplet() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = provider(&prism);
    let mut config = droplet_config("web-1");
    config.insert("ipv6".to_string(), Value::bool(false));
    let created = create(&runtime, provider.as_ref(), "droplet", &config);
    assert!(created["ipv6_address"].is_null(), "{created:?}");
    let id = text(&created, "id").to_string();

    let mut on = config.clone();
    on.insert("ipv6".to_string(), Value::bool(true));
    on.insert("vpc_uuid".to_string(), created["vpc_uuid"].clone());
    let (planned, replacing) = provider.plan_replacing("droplet", Some(&created), &on).expect("planned");
    assert!(replacing.is_empty(), "{replacing:?}");
    assert!(!planned["ipv6_address"].is_known(), "the address is unknown until the action: {planned:?}");
    let updated = runtime.block_on(provider.update("droplet", &created, &planned)).expect("updated");
    assert_eq!(text(&updated, "id"), id, "changed in place, not replaced");
    assert_eq!(updated["ipv6"], Value::bool(true));
    assert!(text(&updated, "ipv6_address").starts_with("2001:db8::"), "{updated:?}");
    let actions = prism.requests().iter().filter(|r| **r == format!("POST /v2/droplets/{id}/actions")).count();
    assert_eq!(actions, 1, "{:?}", prism.requests());
    assert!(prism.requests().iter().any(|r| r.starts_with("GET /v2/actions/")), "the action was not waited for");
    let (_, answer) = prism.api("GET", &format!("/v2/droplets/{id}"), None);
    assert!(answer["droplet"]["features"].as_array().is_some_and(|f| f.contains(&json!("ipv6"))), "{answer}");
    let read = found(runtime.block_on(provider.read("droplet", &updated)).expect("read"));
    assert_eq!(read, updated);

    let mut off = on.clone();
    off.insert("ipv6".to_string(), Value::bool(false));
    let (_, replacing) = provider.plan_replacing("droplet", Some(&updated), &off).expect("planned");
    assert_eq!(replacing, ["ipv6"], "turning IPv6 off replaces the Droplet");
    runtime.block_on(provider.delete("droplet", &updated)).expect("deleted");
    prism.assert_no_violations();
}

#[test]
fn a_size_that_does_not_exist_is_the_apis_message() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = provider(&prism);
    let mut config = droplet_config("web");
    config.insert("size".to_string(), Value::string("s-99vcpu-1tb"));
    let planned = provider.plan("droplet", None, &config).expect("planned");
    let error = runtime.block_on(provider.create("droplet", &planned)).expect_err("refused");
    assert!(error.message.contains("invalid size"), "{error:?}");
    assert!(!error.retryable);
    // Regression: the error pointed at the resource with "the message says which"; it
    // points at `size` and names the data source that lists the sizes, as Linode's does.
    assert_eq!(error.attribute.as_deref(), Some("size"), "{error:?}");
    assert!(error.help.as_deref().unwrap_or_default().contains("`digitalocean.sizes`"), "{error:?}");
    prism.assert_no_violations();
}

/// Regression: an image DigitalOcean does not have pointed at the resource with the
/// generic help; it points at `image` and names the data source that finds images.
#[test]
fn an_image_that_does_not_exist_points_at_image_and_names_the_data_source() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = provider(&prism);
    let mut config = droplet_config("web");
    config.insert("image".to_string(), Value::string("plan9-x64"));
    let planned = provider.plan("droplet", None, &config).expect("planned");
    let error = runtime.block_on(provider.create("droplet", &planned)).expect_err("refused");
    assert!(error.message.contains("invalid image"), "{error:?}");
    assert_eq!(error.attribute.as_deref(), Some("image"), "{error:?}");
    assert!(error.help.as_deref().unwrap_or_default().contains("`digitalocean.image`"), "{error:?}");
    prism.assert_no_violations();
}

/// Regression: a Droplet made from `image = deb.id` ("150000001") was replaced when the
/// configuration named the same image by its slug. The two name one image (the Droplet
/// reads back with both), so the plan keeps the form state has and changes nothing; a
/// different image still replaces it.
#[test]
fn an_image_named_by_id_or_by_slug_is_the_same_image_and_plans_no_change() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = provider(&prism);
    let mut config = droplet_config("web");
    config.insert("image".to_string(), Value::string("150000001"));
    let created = create(&runtime, provider.as_ref(), "droplet", &config);
    assert_eq!(text(&created, "image"), "150000001");
    let plan = |image: &str| {
        let mut config = config.clone();
        config.insert("image".to_string(), Value::string(image));
        config.insert("vpc_uuid".to_string(), created["vpc_uuid"].clone());
        let (planned, _) = runtime.block_on(provider.plan_async("droplet", Some(&created), &config)).expect("planned");
        planned
    };
    let same = plan("debian-12-x64");
    assert_eq!(text(&same, "image"), "150000001", "the same image, by slug");
    assert_eq!(same["id"], created["id"], "planned in place: {same:?}");
    assert_eq!(text(&plan("ubuntu-24-04-x64"), "image"), "ubuntu-24-04-x64", "another image");

    // And the other way round: made by slug, named by id.
    let by_slug = create(&runtime, provider.as_ref(), "droplet", &droplet_config("web-2"));
    let mut config = droplet_config("web-2");
    config.insert("image".to_string(), Value::string("150000001"));
    config.insert("vpc_uuid".to_string(), by_slug["vpc_uuid"].clone());
    let (planned, _) = runtime.block_on(provider.plan_async("droplet", Some(&by_slug), &config)).expect("planned");
    assert_eq!(text(&planned, "image"), "debian-12-x64");
    prism.assert_no_violations();
}

/// Regression: `api_url = "https://api.digitalocean.com/v2"` sent requests to
/// `/v2/v2/droplets`, which failed with a 404. A trailing `/v2` (and `/`) is the API's
/// own prefix and is taken off.
#[test]
fn an_api_url_ending_in_v2_reaches_the_same_paths() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = configured(&format!("{}/v2/", prism.url), &prism.token);
    let config = attributes(&[("name", Value::string("k")), ("public_key", Value::string(KEY))]);
    let created = create(&runtime, provider.as_ref(), "ssh_key", &config);
    assert_eq!(text(&created, "name"), "k");
    assert!(prism.requests().iter().any(|r| r == "POST /v2/account/keys"), "{:?}", prism.requests());
    prism.assert_no_violations();
}

/// Regression: a create refused a connection by `api_url` was reported as "no answer
/// came ...; it was not sent again, since it may have made the object", with help to
/// import it. It never reached the API: the error says so and points at `api_url`.
#[test]
fn a_create_that_never_reached_the_api_says_it_was_never_sent() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}", closed.local_addr().expect("its address"));
    drop(closed);
    let runtime = runtime();
    let provider = configured(&url, "a-token");
    let config = attributes(&[("name", Value::string("k")), ("public_key", Value::string(KEY))]);
    let planned = provider.plan("ssh_key", None, &config).expect("planned");
    let error = runtime.block_on(provider.create("ssh_key", &planned)).expect_err("refused");
    assert!(error.message.contains("never sent"), "{error:?}");
    assert!(!error.message.contains("may have made"), "{error:?}");
    let help = error.help.as_deref().unwrap_or_default();
    assert!(help.contains("`api_url`") && help.contains("DIGITALOCEAN_API_URL"), "{error:?}");
    assert!(!help.contains("infra import"), "{error:?}");
}

/// Regression: an `api_url` without a scheme failed every request with "relative URL
/// without a base". Configuring the provider refuses it, pointing at `api_url` (the
/// schema's validator refuses a literal one at `infra check`).
#[test]
fn an_api_url_without_a_scheme_is_refused_when_configuring() {
    for url in ["api.digitalocean.com", "localhost:4010", "ftp://example.com"] {
        let config: Attributes =
            [("api_url", url), ("token", "t")].into_iter().map(|(k, v)| (k.to_string(), Value::string(v))).collect();
        let context = ProviderContext { module_dir: PathBuf::from(".") };
        let Err(error) = infra_provider_digitalocean::factory().configure(&config, &context) else {
            panic!("`{url}` was accepted");
        };
        assert_eq!(error.attribute.as_deref(), Some("api_url"), "{error:?}");
        assert!(error.help.as_deref().unwrap_or_default().contains("https://"), "{error:?}");
    }
}

#[test]
fn throttled_requests_wait_as_retry_after_says_and_succeed() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = provider(&prism);
    prism.control("throttle", json!({"count": 2, "retry_after": 1}));
    let config = attributes(&[("name", Value::string("laptop")), ("public_key", Value::string(KEY))]);
    let start = std::time::Instant::now();
    let created = create(&runtime, provider.as_ref(), "ssh_key", &config);
    assert!(start.elapsed() >= std::time::Duration::from_secs(2), "the two 429s were not waited out");
    let posts = prism.requests().iter().filter(|r| *r == "POST /v2/account/keys").count();
    assert_eq!(posts, 3, "{:?}", prism.requests());
    // The key as configured, though DigitalOcean keeps it without the newline.
    assert_eq!(text(&created, "public_key"), KEY);
    assert!(!text(&created, "fingerprint").is_empty());
    let read = found(runtime.block_on(provider.read("ssh_key", &created)).expect("read"));
    assert_eq!(read, created);
    let mut renamed = config.clone();
    renamed.insert("name".to_string(), Value::string("desk"));
    let updated = update(&runtime, provider.as_ref(), "ssh_key", &created, &renamed);
    assert_eq!(text(&updated, "name"), "desk");
    runtime.block_on(provider.delete("ssh_key", &updated)).expect("deleted");
    prism.assert_no_violations();
}

/// Server errors are retried with a backoff that doubles (250 ms, 500 ms, 1 s: no
/// `Retry-After` to go by), and the request then succeeds.
#[test]
fn server_errors_are_retried_with_backoff_and_succeed() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = provider(&prism);
    prism.control("fail", json!({"count": 3, "status": 502}));
    let config = attributes(&[("name", Value::string("laptop")), ("public_key", Value::string(KEY))]);
    let start = std::time::Instant::now();
    let created = create(&runtime, provider.as_ref(), "ssh_key", &config);
    let elapsed = start.elapsed();
    assert!(elapsed >= std::time::Duration::from_millis(1750), "no backoff between the retries: {elapsed:?}");
    let posts = prism.requests().iter().filter(|r| *r == "POST /v2/account/keys").count();
    assert_eq!(posts, 4, "{:?}", prism.requests());
    assert_eq!(text(&created, "name"), "laptop");
    prism.assert_no_violations();
}

/// A create (`POST`) answered with a server error other than 502 or 503 may have made
/// its object: it is sent once, and the error says why it was not sent again.
#[test]
fn a_create_that_failed_with_a_server_error_is_not_sent_again() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = provider(&prism);
    prism.control("fail", json!({"count": 1000, "status": 500}));
    let config = attributes(&[("name", Value::string("k")), ("public_key", Value::string(KEY))]);
    let planned = provider.plan("ssh_key", None, &config).expect("planned");
    let error = runtime.block_on(provider.create("ssh_key", &planned)).expect_err("failed");
    assert!(error.message.contains("a server error (500)") && error.message.contains("not sent again"), "{error:?}");
    assert!(error.help.as_deref().unwrap_or_default().contains("infra import"), "{error:?}");
    assert!(!error.retryable, "nor does the engine send it again");
    let posts = prism.requests().iter().filter(|r| *r == "POST /v2/account/keys").count();
    assert_eq!(posts, 1, "{:?}", prism.requests());
    prism.assert_no_violations();
}

/// A server error that lasts is given up after six attempts, as an error that says the
/// fault is DigitalOcean's and that the engine may retry once more.
#[test]
fn a_lasting_server_error_is_given_up_with_a_clear_error() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = provider(&prism);
    prism.control("fail", json!({"count": 1000, "status": 503}));
    let config = attributes(&[("name", Value::string("k")), ("public_key", Value::string(KEY))]);
    let planned = provider.plan("ssh_key", None, &config).expect("planned");
    let error = runtime.block_on(provider.create("ssh_key", &planned)).expect_err("given up");
    assert!(error.message.contains("a server error (503)"), "{error:?}");
    assert!(error.message.contains("gave up after 6 attempts"), "{error:?}");
    assert!(error.help.as_deref().unwrap_or_default().contains("DigitalOcean's side"), "{error:?}");
    assert!(error.retryable);
    let posts = prism.requests().iter().filter(|r| *r == "POST /v2/account/keys").count();
    assert_eq!(posts, 6, "{:?}", prism.requests());
    prism.assert_no_violations();
}

#[test]
fn a_bad_token_is_a_clear_error_that_does_not_repeat_it() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = configured(&prism.url, "not-the-token-0123");
    let config = attributes(&[("name", Value::string("k")), ("public_key", Value::string(KEY))]);
    let planned = provider.plan("ssh_key", None, &config).expect("planned");
    let error = runtime.block_on(provider.create("ssh_key", &planned)).expect_err("refused");
    assert!(error.message.contains("401"), "{error:?}");
    assert!(error.help.as_deref().unwrap_or_default().contains("DIGITALOCEAN_TOKEN"), "{error:?}");
    assert!(!format!("{error:?}").contains("not-the-token-0123"), "{error:?}");
    assert!(!error.retryable);
    prism.assert_no_violations();
}

#[test]
fn a_domain_and_its_record_are_changed_imported_and_deleted_and_lists_are_paged() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = provider(&prism);
    let domain = create(
        &runtime,
        provider.as_ref(),
        "domain",
        &attributes(&[("name", Value::string("example.org")), ("ip_address", Value::string("192.0.2.1"))]),
    );
    assert_eq!(text(&domain, "id"), "example.org");
    assert_eq!(text(&domain, "urn"), "do:domain:example.org");
    let record_config = attributes(&[
        ("domain", Value::string("example.org")),
        ("type", Value::string("A")),
        ("name", Value::string("www")),
        ("value", Value::string("192.0.2.10")),
        ("ttl", Value::number(300.0)),
    ]);
    let record = create(&runtime, provider.as_ref(), "record", &record_config);
    assert_eq!(text(&record, "fqdn"), "www.example.org");
    assert!(record["priority"].is_null(), "{record:?}");
    let mut changed = record_config.clone();
    changed.insert("value".to_string(), Value::string("192.0.2.11"));
    let updated = update(&runtime, provider.as_ref(), "record", &record, &changed);
    assert_eq!(text(&updated, "value"), "192.0.2.11");
    assert_eq!(text(&updated, "id"), text(&record, "id"));
    let import_id = format!("example.org,{}", text(&record, "id"));
    let imported = runtime.block_on(provider.import("record", &import_id)).expect("imported");
    assert_eq!(imported, updated);

    // The zone's records (three NS, the zone's A, www) over pages of two.
    prism.control("page_size", json!({"max": 2}));
    let client = infra_provider_digitalocean::client::Client::new(&prism.url, &prism.token).expect("client");
    let records =
        runtime.block_on(client.list("list the records", "/v2/domains/example.org/records", "domain_records"));
    assert_eq!(records.expect("listed").len(), 5);
    let pages = prism.requests().iter().filter(|r| *r == "GET /v2/domains/example.org/records").count();
    assert_eq!(pages, 3, "{:?}", prism.requests());

    runtime.block_on(provider.delete("record", &updated)).expect("deleted");
    assert!(matches!(runtime.block_on(provider.read("record", &updated)).expect("read"), ReadResult::Gone));
    runtime.block_on(provider.delete("domain", &domain)).expect("deleted");
    let (status, _) = prism.api("GET", "/v2/domains/example.org", None);
    assert_eq!(status, 404);
    prism.assert_no_violations();
}

#[test]
fn a_firewall_protects_droplets_by_id_and_tag_and_changes_in_place() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = provider(&prism);
    let droplet = create(&runtime, provider.as_ref(), "droplet", &droplet_config("web"));
    let rule = |ports: Option<&str>| {
        let mut rule = vec![
            ("protocol", Value::string("tcp")),
            ("source_addresses", strings(&["0.0.0.0/0", "::/0"])),
            ("source_droplet_ids", Value::null()),
            ("source_tags", Value::null()),
        ];
        rule.push(("port_range", ports.map_or_else(Value::null, Value::string)));
        Value::map(rule.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    };
    let config = attributes(&[
        ("name", Value::string("web-fw")),
        ("droplet_ids", Value::list(vec![droplet["id"].clone()])),
        ("tags", strings(&["web"])),
        ("inbound_rule", Value::list(vec![rule(Some("22")), rule(Some("80")), rule(Some("443"))])),
    ]);
    let created = create(&runtime, provider.as_ref(), "firewall", &config);
    assert_eq!(created["inbound_rule"], config["inbound_rule"]);
    assert_eq!(created["droplet_ids"], config["droplet_ids"]);
    assert_eq!(text(&created, "status"), "succeeded");
    let read = found(runtime.block_on(provider.read("firewall", &created)).expect("read"));
    assert_eq!(read, created);

    let mut changed = config.clone();
    changed.insert("inbound_rule".to_string(), Value::list(vec![rule(Some("22"))]));
    changed.insert("droplet_ids".to_string(), Value::list(Vec::new()));
    let updated = update(&runtime, provider.as_ref(), "firewall", &created, &changed);
    assert_eq!(updated["inbound_rule"], changed["inbound_rule"]);
    let firewall_id = text(&updated, "id").to_string();
    let (_, answer) = prism.api("GET", &format!("/v2/firewalls/{firewall_id}"), None);
    assert_eq!(answer["firewall"]["inbound_rules"].as_array().map(Vec::len), Some(1));
    assert_eq!(answer["firewall"]["droplet_ids"], json!([]));
    let imported = runtime.block_on(provider.import("firewall", &firewall_id)).expect("imported");
    assert_eq!(imported["inbound_rule"], changed["inbound_rule"]);
    runtime.block_on(provider.delete("firewall", &updated)).expect("deleted");
    prism.assert_no_violations();
}

#[test]
fn the_data_sources_read_every_page_and_pick_one_image() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = provider(&prism);
    prism.control("page_size", json!({"max": 2}));
    let read = |kind: &str, config: &Attributes| runtime.block_on(provider.read_data(kind, config));
    let regions = read("regions", &Attributes::new()).expect("regions");
    let slugs = ["ams3", "fra1", "lon1", "nyc1", "nyc3", "sfo3", "sgp1", "tor1"];
    assert_eq!(regions["slugs"], strings(&slugs), "every page, sorted");
    let first = regions["regions"].as_list().and_then(|r| r.first()).and_then(Value::as_map).cloned();
    assert_eq!(first.and_then(|r| r.get("name").cloned()), Some(Value::string("Amsterdam 3")));
    let pages = prism.requests().iter().filter(|r| *r == "GET /v2/regions").count();
    assert_eq!(pages, 4, "{:?}", prism.requests());

    let sizes = read("sizes", &attributes(&[("region", Value::string("nyc3"))])).expect("sizes");
    assert_eq!(sizes["slugs"].as_list().map(<[Value]>::len), Some(5));
    assert_eq!(text(&sizes, "id"), "sizes-nyc3");

    let by_slug = read("image", &attributes(&[("slug", Value::string("debian-12-x64"))])).expect("image");
    assert_eq!(text(&by_slug, "distribution"), "Debian");
    assert_eq!(text(&by_slug, "name"), "12 x64");
    let by_name = read("image", &attributes(&[("name", Value::string("12 x64"))])).expect("image");
    assert_eq!(by_name, by_slug);
    let missing = read("image", &attributes(&[("slug", Value::string("plan9-x64"))])).expect_err("no such image");
    assert!(missing.message.contains("no image `plan9-x64`"), "{missing:?}");
    let neither = read("image", &Attributes::new()).expect_err("needs one");
    assert!(neither.message.contains("exactly one of"), "{neither:?}");
    prism.assert_no_violations();
}

#[test]
fn a_vpc_is_renamed_in_place_and_droplets_join_it() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = provider(&prism);
    let config = attributes(&[("name", Value::string("private")), ("region", Value::string("nyc3"))]);
    let vpc = create(&runtime, provider.as_ref(), "vpc", &config);
    assert!(text(&vpc, "ip_range").starts_with("10."), "DigitalOcean picks a range: {vpc:?}");
    assert!(vpc["description"].is_null(), "an empty description reads as unset: {vpc:?}");
    let mut droplet = droplet_config("inside");
    droplet.insert("vpc_uuid".to_string(), vpc["id"].clone());
    let droplet = create(&runtime, provider.as_ref(), "droplet", &droplet);
    assert_eq!(droplet["vpc_uuid"], vpc["id"]);

    let mut changed = config.clone();
    changed.insert("name".to_string(), Value::string("private-2"));
    changed.insert("description".to_string(), Value::string("the web tier"));
    changed.insert("ip_range".to_string(), vpc["ip_range"].clone());
    let updated = update(&runtime, provider.as_ref(), "vpc", &vpc, &changed);
    assert_eq!(text(&updated, "name"), "private-2");
    assert!(prism.requests().contains(&format!("PATCH /v2/vpcs/{}", text(&vpc, "id"))), "{:?}", prism.requests());
    let imported = runtime.block_on(provider.import("vpc", text(&vpc, "id"))).expect("imported");
    assert_eq!(imported, updated);
    runtime.block_on(provider.delete("vpc", &updated)).expect("deleted");
    prism.assert_no_violations();
}

#[test]
fn a_volume_grows_in_place_and_is_attached_and_detached() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = provider(&prism);
    let droplet = create(&runtime, provider.as_ref(), "droplet", &droplet_config("db"));
    let config = attributes(&[
        ("name", Value::string("data")),
        ("region", Value::string("nyc3")),
        ("size", Value::number(10.0)),
        ("initial_filesystem_type", Value::string("ext4")),
        ("tags", strings(&["db"])),
    ]);
    let volume = create(&runtime, provider.as_ref(), "volume", &config);
    assert_eq!(text(&volume, "filesystem_type"), "ext4");
    assert_eq!(volume["droplet_ids"], Value::list(Vec::new()));
    let attachment_config = attributes(&[("droplet_id", droplet["id"].clone()), ("volume_id", volume["id"].clone())]);
    let attachment = create(&runtime, provider.as_ref(), "volume_attachment", &attachment_config);
    let volume_id = text(&volume, "id").to_string();
    let (_, answer) = prism.api("GET", &format!("/v2/volumes/{volume_id}"), None);
    assert_eq!(answer["volume"]["droplet_ids"], json!([droplet["id"].as_str().and_then(|id| id.parse::<u64>().ok())]));

    let mut grown = config.clone();
    grown.insert("size".to_string(), Value::number(20.0));
    grown.insert("tags".to_string(), strings(&["db", "prod"]));
    let updated = update(&runtime, provider.as_ref(), "volume", &volume, &grown);
    assert_eq!(updated["size"], Value::number(20.0));
    assert_eq!(updated["tags"], strings(&["db", "prod"]));
    assert_eq!(updated["droplet_ids"], Value::list(vec![droplet["id"].clone()]));

    let imported = runtime.block_on(provider.import("volume_attachment", text(&attachment, "id"))).expect("imported");
    assert_eq!(imported, attachment);
    runtime.block_on(provider.delete("volume_attachment", &attachment)).expect("detached");
    assert!(matches!(
        runtime.block_on(provider.read("volume_attachment", &attachment)).expect("read"),
        ReadResult::Gone
    ));
    runtime.block_on(provider.delete("volume_attachment", &attachment)).expect("detaching again is no error");
    runtime.block_on(provider.delete("volume", &updated)).expect("deleted");
    let (status, _) = prism.api("GET", &format!("/v2/volumes/{volume_id}"), None);
    assert_eq!(status, 404);
    prism.assert_no_violations();
}

/// Ctrl-C (`Provider::stop`) ends the wait for an `attach` action at once, as an error
/// saying the action was still `in-progress`; the attachment was reported when the
/// action was taken, before the wait, so the engine keeps it and the next plan reads it
/// (attached: nothing to do).
#[test]
fn an_attachment_whose_wait_is_interrupted_was_reported_first() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = provider(&prism);
    let droplet = create(&runtime, provider.as_ref(), "droplet", &droplet_config("db"));
    let config = attributes(&[
        ("name", Value::string("data")),
        ("region", Value::string("nyc3")),
        ("size", Value::number(10.0)),
    ]);
    let volume = create(&runtime, provider.as_ref(), "volume", &config);
    let attachment_config = attributes(&[("droplet_id", droplet["id"].clone()), ("volume_id", volume["id"].clone())]);
    let planned = provider.plan("volume_attachment", None, &attachment_config).expect("planned");

    provider.stop();
    let (progress, reports) = CreateProgress::channel();
    let error =
        runtime.block_on(provider.create_reporting("volume_attachment", &planned, &progress)).expect_err("interrupted");
    assert!(error.message.starts_with("interrupted while waiting for action "), "{error:?}");
    assert!(error.message.contains("(run the volume action `attach`) to complete (it was `in-progress`)"), "{error:?}");
    assert!(!error.retryable);
    let reported = reports.borrow().clone().expect("reported before the wait");
    let id = format!("{},{}", text(&droplet, "id"), text(&volume, "id"));
    assert_eq!(text(&reported, "id"), id);

    // The next run, with a provider of its own, reads the attachment and cleans up.
    let next = self::provider(&prism);
    let read = found(runtime.block_on(next.read("volume_attachment", &reported)).expect("read"));
    assert_eq!(text(&read, "id"), id);
    runtime.block_on(next.delete("volume_attachment", &read)).expect("detached");
    runtime.block_on(next.delete("volume", &volume)).expect("deleted");
    runtime.block_on(next.delete("droplet", &droplet)).expect("deleted");
    prism.assert_no_violations();
}

#[test]
fn a_reserved_ip_is_assigned_and_unassigned() {
    let prism = Prism::start(&DIGITALOCEAN);
    let runtime = runtime();
    let provider = provider(&prism);
    let droplet = create(&runtime, provider.as_ref(), "droplet", &droplet_config("edge"));
    let reserved =
        create(&runtime, provider.as_ref(), "reserved_ip", &attributes(&[("region", Value::string("nyc3"))]));
    let ip = text(&reserved, "ip_address").to_string();
    assert_eq!(text(&reserved, "id"), ip);
    let config = attributes(&[("ip_address", Value::string(ip.as_str())), ("droplet_id", droplet["id"].clone())]);
    let assignment = create(&runtime, provider.as_ref(), "reserved_ip_assignment", &config);
    let (_, answer) = prism.api("GET", &format!("/v2/reserved_ips/{ip}"), None);
    assert_eq!(answer["reserved_ip"]["droplet"]["id"].to_string(), text(&droplet, "id"));
    let imported =
        runtime.block_on(provider.import("reserved_ip_assignment", text(&assignment, "id"))).expect("imported");
    assert_eq!(imported, assignment);
    runtime.block_on(provider.delete("reserved_ip_assignment", &assignment)).expect("unassigned");
    let (_, answer) = prism.api("GET", &format!("/v2/reserved_ips/{ip}"), None);
    assert!(answer["reserved_ip"]["droplet"].is_null(), "{answer}");
    runtime.block_on(provider.delete("reserved_ip", &reserved)).expect("released");
    runtime.block_on(provider.delete("reserved_ip", &reserved)).expect("releasing again is no error");
    prism.assert_no_violations();
}
