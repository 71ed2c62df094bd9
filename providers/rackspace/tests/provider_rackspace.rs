//! The `rackspace` provider through the provider interface against Mimic (started on a
//! free port of 127.0.0.1 and stopped when the test ends): servers and key pairs made,
//! read, changed and deleted, each checked with python-novaclient; servers and key pairs made
//! elsewhere imported; pagination; many servers and key pairs read from their lists;
//! servers that fail or take time to build; credentials that are refused; a compute
//! endpoint given instead of the catalog's.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use infra_provider_rackspace::client::{Settings, Wait};
use infra_provider_rackspace::Rackspace;
use infra_runtime::provider::{Attributes, CreateProgress, Provider, ReadResult};
use infra_runtime::Value;

#[path = "../../../cli/tests/support/mimic.rs"]
mod mimic;

use mimic::Mimic;

/// An image Mimic's Nova lists in every region (Ubuntu 14.04).
const IMAGE: &str = "dd475bc9-ea59-4310-a4ef-dfdaeaab2ab6";
const PUBLIC_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHh0ZXN0a2V5Zm9yaW5mcmF0ZXN0c29ubHkxMjM0NTY3 test";

fn settings(mimic: &Mimic, username: &str) -> Settings {
    Settings {
        auth_url: Some(mimic.auth_url()),
        username: Some(username.to_string()),
        password: Some("hunter2-secret".to_string()),
        tenant_name: Some("infra-test".to_string()),
        region: Some("ORD".to_string()),
        ..Settings::default()
    }
}

/// The provider configured as its block would, polling every 50 ms.
fn provider(mimic: &Mimic) -> Rackspace {
    let mut provider = Rackspace::new(&settings(mimic, "tester")).expect("configured");
    provider.client.wait = Wait { timeout: Duration::from_secs(60), interval: Duration::from_millis(50) };
    provider
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

fn attributes(pairs: &[(&str, Value)]) -> Attributes {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn metadata(pairs: &[(&str, &str)]) -> Value {
    Value::map(pairs.iter().map(|(k, v)| (k.to_string(), Value::string(*v))).collect::<BTreeMap<_, _>>())
}

fn server(name: &str, metadata: Value) -> Attributes {
    attributes(&[
        ("name", Value::string(name)),
        ("flavor_id", Value::string("2")),
        ("image_id", Value::string(IMAGE)),
        ("metadata", metadata),
    ])
}

fn text<'a>(attributes: &'a Attributes, name: &str) -> &'a str {
    attributes.get(name).and_then(Value::as_str).unwrap_or_default()
}

/// The value of `field` in a `nova show` table.
fn field(table: &str, field: &str) -> String {
    table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells.len() > 2 && cells[1] == field).then(|| cells[2].to_string())
        })
        .next()
        .unwrap_or_default()
}

#[test]
fn a_server_is_created_read_changed_and_deleted_as_nova_sees_it() {
    let mimic = Mimic::start();
    let runtime = runtime();
    let provider = provider(&mimic);

    let key = attributes(&[("name", Value::string("deployer")), ("public_key", Value::string(PUBLIC_KEY))]);
    let key = runtime.block_on(provider.create("compute_keypair", &key)).expect("key pair created");
    assert_eq!(text(&key, "id"), "deployer");
    assert!(!text(&key, "fingerprint").is_empty());
    assert!(mimic.nova(&["keypair-list"]).contains("deployer"));

    let mut planned = server("web-1", metadata(&[("role", "web")]));
    planned.insert("key_pair", Value::string("deployer"));
    planned.insert("user_data", Value::string("#cloud-config\n"));
    let public_net = Value::string("00000000-0000-0000-0000-000000000000");
    planned.insert("networks", Value::list(vec![public_net.clone()]));
    let created = runtime.block_on(provider.create("compute_instance", &planned)).expect("server created");
    let id = text(&created, "id").to_string();
    assert_eq!(text(&created, "status"), "ACTIVE");
    assert!(!text(&created, "admin_pass").is_empty());
    assert!(!text(&created, "access_ip_v4").is_empty());
    assert!(text(&created, "access_ip_v6").contains(':'));
    // Nova reports neither; they are what was asked for.
    assert_eq!(text(&created, "user_data"), "#cloud-config\n");
    assert_eq!(created["networks"], Value::list(vec![public_net]));

    let shown = mimic.nova(&["show", "web-1"]);
    assert_eq!(field(&shown, "name"), "web-1");
    assert_eq!(field(&shown, "status"), "ACTIVE");
    assert_eq!(field(&shown, "key_name"), "deployer");
    assert!(field(&shown, "metadata").contains(r#""role": "web""#), "{shown}");

    // Read back: nothing changed, and what Nova does not report is kept.
    let read = runtime.block_on(provider.read("compute_instance", &created)).expect("read");
    assert_eq!(read, ReadResult::Found(created.clone()));

    // Metadata changed behind Infra's back is drift; the update puts it back.
    mimic.set_metadata_item(&id, "owner", "someone-else");
    let ReadResult::Found(drifted) = runtime.block_on(provider.read("compute_instance", &created)).expect("read")
    else {
        panic!("the server is gone")
    };
    assert_eq!(drifted["metadata"], metadata(&[("owner", "someone-else"), ("role", "web")]));
    let mut wanted = created.clone();
    wanted.insert("metadata", metadata(&[("role", "api")]));
    let updated = runtime.block_on(provider.update("compute_instance", &drifted, &wanted)).expect("updated");
    assert_eq!(updated["metadata"], metadata(&[("role", "api")]));
    assert_eq!(text(&updated, "admin_pass"), text(&created, "admin_pass"));
    let shown = mimic.nova(&["show", "web-1"]);
    assert!(field(&shown, "metadata").contains(r#""role": "api""#), "{shown}");
    assert!(!shown.contains("someone-else"), "{shown}");

    runtime.block_on(provider.delete("compute_instance", &updated)).expect("deleted");
    assert!(!mimic.nova(&["list"]).contains("web-1"));
    assert_eq!(runtime.block_on(provider.read("compute_instance", &updated)).expect("read"), ReadResult::Gone);
    // Deleting what is already gone is no error.
    runtime.block_on(provider.delete("compute_instance", &updated)).expect("deleted again");

    runtime.block_on(provider.delete("compute_keypair", &key)).expect("key pair deleted");
    assert!(!mimic.nova(&["keypair-list"]).contains("deployer"));
    assert_eq!(runtime.block_on(provider.read("compute_keypair", &key)).expect("read"), ReadResult::Gone);
    runtime.block_on(provider.delete("compute_keypair", &key)).expect("key pair deleted again");
}

#[test]
fn servers_and_key_pairs_made_elsewhere_are_imported_and_listed_page_by_page() {
    let mimic = Mimic::start();
    let runtime = runtime();
    let provider = provider(&mimic);
    let key_file = tempfile::NamedTempFile::new().expect("key file");
    std::fs::write(key_file.path(), PUBLIC_KEY).expect("write the key");
    mimic.nova(&["keypair-add", "--pub-key", &key_file.path().display().to_string(), "imported-key"]);
    let id = mimic.create_server("made-elsewhere", serde_json::json!({"team": "ops"}));

    let imported = runtime.block_on(provider.import("compute_instance", &id)).expect("imported");
    assert_eq!(text(&imported, "name"), "made-elsewhere");
    assert_eq!(text(&imported, "flavor_id"), "2");
    assert_eq!(text(&imported, "image_id"), IMAGE);
    assert_eq!(imported["metadata"], metadata(&[("team", "ops")]));
    assert!(imported["admin_pass"].is_null() && imported["user_data"].is_null());

    // Regression: `user_data` and `networks`, which Nova never reports, forced a
    // replacement after an import (the first apply destroyed the live server). Set
    // afterwards, they are an update in place that changes nothing at Nova and records them.
    let schema = infra_provider_rackspace::schema();
    let instance = &schema.resources["compute_instance"];
    let mut configured = imported.clone();
    configured.insert("user_data", Value::string("#!/bin/sh\necho hi\n"));
    let networks = ["00000000-0000-0000-0000-000000000000", "11111111-1111-1111-1111-111111111111"];
    configured.insert("networks", Value::list(networks.iter().map(|n| Value::string(*n)).collect()));
    for name in ["user_data", "networks"] {
        let attribute = instance.attribute(name).expect("in the schema");
        assert!(!attribute.forces_replacement_from(true), "`{name}` set after an import replaces the server");
        assert!(attribute.forces_replacement_from(false), "`{name}` changed from one value to another");
    }
    let (planned, replacing) = provider.plan_replacing("compute_instance", Some(&imported), &configured).expect("plan");
    assert!(replacing.is_empty());
    let before = mimic.requests().len();
    let updated = runtime.block_on(provider.update("compute_instance", &imported, &planned)).expect("updated");
    assert_eq!(text(&updated, "user_data"), "#!/bin/sh\necho hi\n");
    assert_eq!(updated["networks"], configured["networks"]);
    assert_eq!(text(&updated, "id"), id);
    let sent: Vec<String> = mimic.requests()[before..].iter().filter(|r| !r.starts_with("GET ")).cloned().collect();
    assert!(sent.iter().all(|r| r.ends_with("/tokens")), "nothing but reads is sent to Nova: {sent:?}");
    let ReadResult::Found(read) = runtime.block_on(provider.read("compute_instance", &updated)).expect("read") else {
        panic!("the imported server is gone")
    };
    assert_eq!(read, updated, "the recorded values are kept by a read");

    let key = runtime.block_on(provider.import("compute_keypair", "imported-key")).expect("imported");
    assert_eq!(text(&key, "public_key"), PUBLIC_KEY);
    let missing = runtime.block_on(provider.import("compute_keypair", "no-such-key")).expect_err("no key");
    assert_eq!(missing.message, "there is no `rackspace.compute_keypair` with id `no-such-key`");

    for n in 0..4 {
        runtime
            .block_on(provider.create("compute_instance", &server(&format!("s{n}"), Value::null())))
            .expect("created");
    }
    let all = runtime.block_on(infra_provider_rackspace::compute::servers(&provider.client, 2)).expect("listed");
    let mut names: Vec<&str> = all.iter().filter_map(|s| s["name"].as_str()).collect();
    names.sort();
    assert_eq!(names, ["made-elsewhere", "s0", "s1", "s2", "s3"]);
}

#[test]
fn a_server_in_error_is_an_error_and_one_still_building_is_waited_for() {
    let mimic = Mimic::start();
    let runtime = runtime();
    let provider = provider(&mimic);

    // Mimic puts a server whose metadata has `server_error` into ERROR. The server stays
    // (Infra deleting it here left the state naming a server the next plan took for one
    // deleted outside of Infra): it is reported again, in ERROR, and a plan replaces it.
    let failing = server("broken", metadata(&[("server_error", "1")]));
    let (progress, reports) = CreateProgress::channel();
    let error =
        runtime.block_on(provider.create_reporting("compute_instance", &failing, &progress)).expect_err("ERROR");
    assert!(error.message.contains("went into status ERROR"), "{}", error.message);
    assert!(error.help.clone().unwrap_or_default().contains("the next apply replaces it"), "{error:?}");
    let reported = reports.borrow().clone().expect("the server was reported");
    assert_eq!(text(&reported, "status"), "ERROR");
    assert_eq!(field(&mimic.nova(&["show", "broken"]), "status"), "ERROR");
    let ReadResult::Found(read) = runtime.block_on(provider.read("compute_instance", &reported)).expect("read") else {
        panic!("the server in ERROR is gone")
    };
    let (planned, replacing) = provider.plan_replacing("compute_instance", Some(&read), &failing).expect("planned");
    assert_eq!(replacing, ["fault"]);
    assert!(!planned["fault"].is_known());
    assert!(!text(&read, "fault").is_empty());
    // A server that is not in ERROR is planned as usual.
    let (_, replacing) = provider.plan_replacing("compute_instance", None, &failing).expect("planned");
    assert!(replacing.is_empty());
    runtime.block_on(provider.delete("compute_instance", &read)).expect("deleted");
    assert!(!mimic.nova(&["list"]).contains("broken"));

    // `server_building` keeps it in BUILD for that many seconds of Mimic's clock, which
    // moves only when told to: a thread moves it while the provider polls.
    let building = server("slow", metadata(&[("server_building", "30")]));
    let done = AtomicBool::new(false);
    let created = std::thread::scope(|scope| {
        let ticker = scope.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(200));
                mimic.tick(5.0);
            }
        });
        let created = runtime.block_on(provider.create("compute_instance", &building));
        done.store(true, Ordering::SeqCst);
        ticker.join().expect("ticker");
        created
    });
    assert_eq!(text(&created.expect("built"), "status"), "ACTIVE");

    // Past `timeouts.create`, a server still building is an error naming it; it was
    // reported (id and root password) as soon as Nova answered, so the engine keeps it.
    let mut stuck = server("stuck", metadata(&[("server_building", "100000")]));
    stuck.insert("timeouts", Value::map([("create".to_string(), Value::string("1s"))].into()));
    let (progress, reports) = CreateProgress::channel();
    let started = std::time::Instant::now();
    let error =
        runtime.block_on(provider.create_reporting("compute_instance", &stuck, &progress)).expect_err("timeout");
    assert!(started.elapsed() < Duration::from_secs(30), "the block's timeout, not the client's 60 s");
    assert!(error.message.contains("is still BUILD after 1 s"), "{}", error.message);
    assert!(error.help.unwrap_or_default().contains("the state keeps it"));
    let reported = reports.borrow().clone().expect("the server was reported");
    let id = text(&reported, "id").to_string();
    assert!(!text(&reported, "admin_pass").is_empty());
    let shown = mimic.nova(&["show", "stuck"]);
    assert_eq!((field(&shown, "id"), field(&shown, "status").as_str()), (id, "BUILD"));
}

/// A refresh of many servers and key pairs reads `servers/detail` page by page and
/// `os-keypairs` once, counted in Mimic's access log, instead of one request per object;
/// a server deleted behind Infra's back is not in the list, is read by itself, and is
/// gone.
#[test]
fn many_servers_and_key_pairs_are_read_from_their_lists() {
    let mimic = Mimic::start();
    let runtime = runtime();
    let mut provider = provider(&mimic);
    provider.client.page_size = 4;
    let servers: Vec<Attributes> = (0..10)
        .map(|n| runtime.block_on(provider.create("compute_instance", &server(&format!("s{n}"), Value::null()))))
        .collect::<Result<_, _>>()
        .expect("servers created");
    let keys: Vec<Attributes> = (0..8)
        .map(|n| {
            let key =
                attributes(&[("name", Value::string(format!("k{n}"))), ("public_key", Value::string(PUBLIC_KEY))]);
            runtime.block_on(provider.create("compute_keypair", &key))
        })
        .collect::<Result<_, _>>()
        .expect("key pairs created");
    let gone = text(&servers[3], "id").to_string();
    mimic.nova(&["delete", "s3"]);

    // A fresh provider, as a new plan has: it authenticates, then reads.
    let mut provider = Rackspace::new(&settings(&mimic, "tester")).expect("configured");
    provider.client.page_size = 4;
    provider.expect_reads("compute_instance", servers.len());
    provider.expect_reads("compute_keypair", keys.len());
    let before = mimic.requests().len();
    for (n, server) in servers.iter().enumerate() {
        let read = runtime.block_on(provider.read("compute_instance", server)).expect("read");
        if n == 3 {
            assert_eq!(read, ReadResult::Gone);
        } else {
            assert_eq!(read, ReadResult::Found(server.clone()), "server {n}");
        }
    }
    for key in &keys {
        assert_eq!(
            runtime.block_on(provider.read("compute_keypair", key)).expect("read"),
            ReadResult::Found(key.clone())
        );
    }
    let compute = mimic.compute_path();
    let requests: Vec<String> = mimic.requests()[before..]
        .iter()
        .map(|r| r.replace(&compute, "NOVA"))
        .filter(|r| !r.contains("/tokens"))
        .collect();
    let (marker_1, marker_2) = (text(&servers[4], "id"), text(&servers[8], "id"));
    assert_eq!(
        requests,
        [
            "GET NOVA/servers/detail?limit=4".to_string(),
            format!("GET NOVA/servers/detail?limit=4&marker={marker_1}"),
            format!("GET NOVA/servers/detail?limit=4&marker={marker_2}"),
            format!("GET NOVA/servers/{gone}"),
            "GET NOVA/os-keypairs".to_string(),
        ]
    );
}

/// `api_url` replaces the catalog's compute endpoint: with a region the catalog does not
/// have (SYD), the provider still reaches Mimic's ORD Nova, where novaclient finds the
/// server.
#[test]
fn an_api_url_replaces_the_catalogs_compute_endpoint() {
    let mimic = Mimic::start();
    let runtime = runtime();
    let mut settings = settings(&mimic, "tester");
    settings.region = Some("SYD".to_string());
    settings.api_url = Some(format!("http://127.0.0.1:{}{}/", mimic.port, mimic.compute_path()));
    let mut provider = Rackspace::new(&settings).expect("configured");
    provider.client.wait = Wait { timeout: Duration::from_secs(60), interval: Duration::from_millis(50) };
    let created =
        runtime.block_on(provider.create("compute_instance", &server("direct", Value::null()))).expect("created");
    assert_eq!(field(&mimic.nova(&["show", "direct"]), "id"), text(&created, "id"));
    let requests = mimic.requests();
    assert!(requests.iter().any(|r| r == &format!("POST {}/servers", mimic.compute_path())), "{requests:?}");
}

#[test]
fn refused_credentials_and_unknown_regions_are_clear_errors_without_the_secret() {
    let mimic = Mimic::start();
    let runtime = runtime();
    mimic.refuse_user("intruder");
    let provider = Rackspace::new(&settings(&mimic, "intruder")).expect("configured");
    let error = runtime.block_on(provider.create("compute_keypair", &attributes(&[]))).expect_err("refused");
    assert_eq!(
        error.message,
        "Rackspace identity refused the credentials of user `intruder`: Unable to authenticate user with \
         credentials provided."
    );
    let help = error.help.clone().unwrap_or_default();
    assert!(help.contains("OS_PASSWORD"), "{help}");
    assert!(!format!("{error:?}").contains("hunter2-secret"));

    let mut elsewhere = settings(&mimic, "tester");
    elsewhere.region = Some("SYD".to_string());
    let provider = Rackspace::new(&elsewhere).expect("configured");
    let error = runtime.block_on(provider.read("compute_keypair", &attributes(&[]))).expect_err("no SYD");
    assert_eq!(error.message, "the service catalog has no compute endpoint in region `SYD`");
    assert_eq!(error.help.as_deref(), Some("the catalog's compute regions are `DFW`, `IAD`, `ORD`"));
}

/// Regression: an HTML error page (Mimic answers a rename, `PUT servers/ID`, with 405
/// and `<!doctype html>...Method Not Allowed`) was pasted whole into the error. It is
/// summarized: the status line and the page's title.
#[test]
fn an_html_error_page_is_summarized_not_pasted() {
    let mimic = Mimic::start();
    let runtime = runtime();
    let provider = provider(&mimic);
    let created =
        runtime.block_on(provider.create("compute_instance", &server("named", Value::null()))).expect("created");
    let mut renamed = created.clone();
    renamed.insert("name", Value::string("renamed"));
    let error = runtime.block_on(provider.update("compute_instance", &created, &renamed)).expect_err("405");
    let id = text(&created, "id");
    assert_eq!(
        error.message,
        format!(
            "Rackspace compute PUT servers/{id} failed with 405 Method Not Allowed: an HTML page titled `405 Method \
             Not Allowed`"
        )
    );
    assert!(error.help.clone().is_some_and(|help| help.contains("does not offer the operation")), "{error:?}");
    assert!(!error.retryable);
}
