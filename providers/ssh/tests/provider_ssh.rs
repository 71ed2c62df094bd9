//! The `ssh` provider through the provider interface against a real OpenSSH server
//! (started on a free port of 127.0.0.1 and stopped when each test ends): files,
//! directories, commands and facts, drift, and every way a connection is refused.
//! The server runs on this machine, so what it wrote is checked on the local disk.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use infra_runtime::provider::{Attributes, Provider, ProviderContext, ProviderError, ReadResult};
use infra_runtime::Value;

#[path = "../../../cli/tests/support/sshd.rs"]
mod sshd;

use sshd::Sshd;

fn attributes(pairs: &[(&str, Value)]) -> Attributes {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn s(text: &str) -> Value {
    Value::string(text)
}

fn path_value(path: &Path) -> Value {
    Value::string(path.display().to_string())
}

fn text<'a>(attributes: &'a Attributes, name: &str) -> &'a str {
    attributes.get(name).and_then(Value::as_str).unwrap_or_default()
}

impl Sshd {
    /// The provider configured with the host key pinned, plus `extra` settings.
    fn provider_with(&self, extra: &[(&str, Value)]) -> Arc<dyn Provider> {
        let mut config = attributes(&[
            ("host", s("127.0.0.1")),
            ("port", Value::number(f64::from(self.port))),
            ("user", s(&self.user)),
            ("private_key", s(&self.private_key)),
        ]);
        for (name, value) in extra {
            config.insert(name.to_string(), value.clone());
        }
        let context = ProviderContext { module_dir: self.dir.path().to_path_buf() };
        infra_provider_ssh::factory().configure(&config, &context).expect("configured")
    }

    fn provider(&self) -> Arc<dyn Provider> {
        self.provider_with(&[("host_key", s(&self.host_key))])
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// Plans a create and performs it, as the engine would.
async fn create(provider: &Arc<dyn Provider>, kind: &str, config: &Attributes) -> Result<Attributes, ProviderError> {
    let planned = provider.plan(kind, None, config)?;
    provider.create(kind, &planned).await
}

async fn read(provider: &Arc<dyn Provider>, kind: &str, current: &Attributes) -> Attributes {
    match provider.read(kind, current).await.expect("read") {
        ReadResult::Found(found) => found,
        ReadResult::Gone => panic!("{kind} read as gone"),
    }
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o7777
}

#[test]
fn a_file_is_written_read_back_drifts_is_updated_and_deleted() {
    let sshd = Sshd::start();
    let path = sshd.scratch("files").join("motd");
    runtime().block_on(async {
        let provider = sshd.provider();
        let config = attributes(&[("path", path_value(&path)), ("content", s("hello\n")), ("mode", s("0640"))]);
        let created = create(&provider, "file", &config).await.expect("created");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello\n");
        assert_eq!(mode_of(&path), 0o640);
        assert_eq!(text(&created, "sha256"), "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
        assert_eq!(text(&created, "owner"), sshd.user);
        assert!(text(&created, "host_key_fingerprint").starts_with("SHA256:"));
        assert_eq!(text(&created, "id"), path.display().to_string());

        // Nothing changed: the read gives back what was recorded.
        assert_eq!(read(&provider, "file", &created).await, created);

        // Changed behind Infra's back: content and permissions show as drift.
        std::fs::write(&path, "tampered\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let drifted = read(&provider, "file", &created).await;
        assert_eq!(text(&drifted, "content"), "tampered\n");
        assert_eq!(text(&drifted, "mode"), "0666");
        assert_ne!(text(&drifted, "sha256"), text(&created, "sha256"));

        // The plan puts it back, in place.
        let planned = provider.plan("file", Some(&drifted), &config).expect("planned");
        assert_eq!(text(&planned, "sha256"), text(&created, "sha256"));
        let updated = provider.update("file", &drifted, &planned).await.expect("updated");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello\n");
        assert_eq!(mode_of(&path), 0o640);
        assert_eq!(read(&provider, "file", &updated).await, updated);

        provider.delete("file", &updated).await.expect("deleted");
        assert!(!path.exists());
        assert_eq!(provider.read("file", &updated).await.expect("read"), ReadResult::Gone);
        provider.delete("file", &updated).await.expect("deleting a deleted file is no error");
    });
}

#[test]
fn a_failing_validate_leaves_the_old_file_and_no_temporary_one() {
    let sshd = Sshd::start();
    let dir = sshd.scratch("validated");
    let path = dir.join("app.conf");
    std::fs::write(&path, "good\n").unwrap();
    runtime().block_on(async {
        let provider = sshd.provider();
        let checked = |content: &str| {
            attributes(&[
                ("path", path_value(&path)),
                ("content", s(content)),
                ("validate", s("grep -q '^good' %s || { echo 'config test failed' >&2; exit 1; }")),
            ])
        };
        let error = create(&provider, "file", &checked("bad\n")).await.expect_err("validate refuses");
        assert!(error.message.contains("`validate` refused"), "{}", error.message);
        assert!(error.message.contains("config test failed"), "{}", error.message);
        assert_eq!(error.attribute.as_deref(), Some("validate"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "good\n");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["app.conf"], "no temporary file is left behind");

        create(&provider, "file", &checked("good and new\n")).await.expect("validate accepts");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "good and new\n");
    });
}

#[test]
fn files_from_a_source_and_from_base64_and_the_data_source() {
    let sshd = Sshd::start();
    let dir = sshd.scratch("bodies");
    std::fs::write(sshd.dir.path().join("local.bin"), [0u8, 159, 146, 150]).unwrap();
    runtime().block_on(async {
        let provider = sshd.provider();
        let from_source = attributes(&[("path", path_value(&dir.join("a.bin"))), ("source", s("local.bin"))]);
        let created = create(&provider, "file", &from_source).await.expect("created from source");
        assert_eq!(std::fs::read(dir.join("a.bin")).unwrap(), [0u8, 159, 146, 150]);
        assert_eq!(text(&created, "mode"), "0644");
        // A `source` file's drift shows in `sha256`: the plan puts the source's hash back.
        std::fs::write(dir.join("a.bin"), "changed").unwrap();
        let drifted = read(&provider, "file", &created).await;
        assert_ne!(text(&drifted, "sha256"), text(&created, "sha256"));
        assert_eq!(drifted["source"], created["source"]);
        let planned = provider.plan("file", Some(&drifted), &from_source).expect("planned");
        assert_eq!(text(&planned, "sha256"), text(&created, "sha256"));

        let from_base64 = attributes(&[("path", path_value(&dir.join("b.bin"))), ("content_base64", s("AJ+Slg=="))]);
        create(&provider, "file", &from_base64).await.expect("created from base64");
        assert_eq!(std::fs::read(dir.join("b.bin")).unwrap(), [0u8, 159, 146, 150]);

        let data = provider.read_data("file", &attributes(&[("path", path_value(&dir.join("b.bin")))])).await;
        let data = data.expect("read");
        assert_eq!(text(&data, "content_base64"), "AJ+Slg==");
        assert!(data["content"].is_null(), "binary content is not text");
        assert_eq!(text(&data, "sha256"), text(&created, "sha256"));

        let error = provider.read_data("file", &attributes(&[("path", s("/nonexistent/file"))])).await.unwrap_err();
        assert_eq!(error.message, "there is no file `/nonexistent/file` on the server");
    });
}

#[test]
fn many_files_are_read_together() {
    let sshd = Sshd::start();
    let dir = sshd.scratch("many");
    runtime().block_on(async {
        let provider = sshd.provider();
        let mut created = Vec::new();
        for i in 0..20 {
            let config =
                attributes(&[("path", path_value(&dir.join(format!("f{i}")))), ("content", s(&format!("{i}\n")))]);
            created.push(create(&provider, "file", &config).await.expect("created"));
        }
        std::fs::remove_file(dir.join("f7")).unwrap();
        // A fresh provider (a new run), reading all files at once as the engine does.
        let provider = sshd.provider();
        let reads = created.iter().map(|c| provider.read("file", c));
        let results = futures_join_all(reads).await;
        for (i, result) in results.into_iter().enumerate() {
            match result.expect("read") {
                ReadResult::Gone => assert_eq!(i, 7),
                ReadResult::Found(found) => assert_eq!(found, created[i]),
            }
        }
    });
}

/// Polls every future to completion together on this task.
async fn futures_join_all<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = handles.iter().map(|_| None).collect();
    let mut handles: Vec<_> = handles.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, result) in handles.iter_mut().zip(results.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(output) => {
                        *result = Some(output);
                        *slot = None;
                    }
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    results.into_iter().map(|r| r.expect("finished")).collect()
}

#[test]
fn a_directory_is_made_kept_when_not_empty_and_forced() {
    let sshd = Sshd::start();
    let path = sshd.scratch("dirs").join("site/www");
    runtime().block_on(async {
        let provider = sshd.provider();
        let config = attributes(&[("path", path_value(&path)), ("mode", s("0750"))]);
        let created = create(&provider, "directory", &config).await.expect("created");
        assert!(path.is_dir());
        assert_eq!(mode_of(&path), 0o750);
        assert_eq!(created["force_destroy"], Value::bool(false));
        assert_eq!(read(&provider, "directory", &created).await, created);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert_eq!(text(&read(&provider, "directory", &created).await, "mode"), "0777");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o750)).unwrap();

        std::fs::write(path.join("index.html"), "hi").unwrap();
        let error = provider.delete("directory", &created).await.expect_err("not empty");
        assert!(error.message.contains("is not empty"), "{}", error.message);
        assert!(path.join("index.html").exists());

        let mut forced = created.clone();
        forced.insert("force_destroy", Value::bool(true));
        provider.delete("directory", &forced).await.expect("deleted with its contents");
        assert!(!path.exists());

        let file = sshd.scratch("dirs").join("plain");
        std::fs::write(&file, "x").unwrap();
        let error = create(&provider, "directory", &attributes(&[("path", path_value(&file))])).await.unwrap_err();
        assert!(error.message.ends_with("on the server is not a directory"), "{}", error.message);
        assert!(error.help.as_deref().is_some_and(|help| help.contains("remove what is there")), "{error:?}");
    });
}

#[test]
fn commands_run_with_their_environment_and_directory_and_time_out() {
    let sshd = Sshd::start();
    let dir = sshd.scratch("commands");
    runtime().block_on(async {
        let provider = sshd.provider();
        let environment = Value::map([("GREETING".to_string(), s("it's me"))].into_iter().collect());
        let config = attributes(&[
            ("create", s("echo \"$GREETING in $(pwd)\"; echo warn >&2; touch made")),
            ("destroy", s("rm made")),
            ("environment", environment),
            ("working_dir", path_value(&dir)),
        ]);
        let created = create(&provider, "command", &config).await.expect("created");
        assert_eq!(text(&created, "stdout"), format!("it's me in {}\n", dir.display()));
        assert_eq!(text(&created, "stderr"), "warn\n");
        assert_eq!(created["exit_code"].as_number(), Some(0.0));
        assert!(dir.join("made").exists());
        provider.delete("command", &created).await.expect("destroyed");
        assert!(!dir.join("made").exists());

        // `creates` names what the command makes: when it exists, the command is skipped.
        std::fs::write(dir.join("done"), "").unwrap();
        let skipped = attributes(&[
            ("create", s("touch ran")),
            ("creates", path_value(&dir.join("done"))),
            ("working_dir", path_value(&dir)),
        ]);
        create(&provider, "command", &skipped).await.expect("created");
        assert!(!dir.join("ran").exists());

        let failing = attributes(&[("create", s("echo secret-argument >/dev/null; echo broken >&2; exit 3"))]);
        let error = create(&provider, "command", &failing).await.unwrap_err();
        assert_eq!(error.message, "the `create` command exited with status 3: broken");

        let slow = attributes(&[("create", s("sleep 30")), ("timeout", s("1s"))]);
        let error = create(&provider, "command", &slow).await.unwrap_err();
        assert_eq!(error.message, "the `create` command did not finish within 1s and was stopped");
        assert_eq!(error.attribute.as_deref(), Some("timeout"));
    });
}

#[test]
fn facts_describe_the_server() {
    let sshd = Sshd::start();
    runtime().block_on(async {
        let facts = sshd.provider().read_data("facts", &Attributes::new()).await.expect("facts");
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(text(&facts, "hostname"), hostname.trim());
        assert_eq!(text(&facts, "id"), hostname.trim());
        assert_eq!(text(&facts, "arch"), std::env::consts::ARCH);
        assert!(facts["cpus"].as_number().is_some_and(|n| n >= 1.0));
        assert!(facts["memory_mb"].as_number().is_some_and(|n| n >= 1.0));
        assert!(!text(&facts, "os_id").is_empty());
        assert!(!text(&facts, "kernel").is_empty());
        assert_eq!(text(&facts, "package_manager"), "apt");
    });
}

/// A command that would leave a mark if it ran.
fn marker_command(dir: &Path) -> Attributes {
    attributes(&[("create", Value::string(format!("touch {}", dir.join("ran").display())))])
}

#[test]
fn a_pinned_host_key_that_does_not_match_is_refused_naming_both_fingerprints() {
    let sshd = Sshd::start();
    let dir = sshd.scratch("pinned");
    runtime().block_on(async {
        let provider = sshd.provider_with(&[("host_key", s(&sshd.other_host_key()))]);
        let error = create(&provider, "command", &marker_command(&dir)).await.unwrap_err();
        assert!(error.message.contains("does not match `host_key`"), "{}", error.message);
        let fingerprints = error.message.matches("SHA256:").count();
        assert_eq!(fingerprints, 2, "both fingerprints: {}", error.message);
        assert_eq!(error.attribute.as_deref(), Some("host_key"));
        assert!(!dir.join("ran").exists(), "nothing ran");
    });
}

#[test]
fn a_host_key_recorded_on_first_use_must_not_change() {
    let sshd = Sshd::start();
    let dir = sshd.scratch("first-use");
    runtime().block_on(async {
        let provider = sshd.provider_with(&[]);
        let created = create(&provider, "command", &attributes(&[("create", s("true"))])).await.expect("trusted");
        let seen = text(&created, "host_key_fingerprint").to_string();
        assert!(seen.starts_with("SHA256:"));
        assert_eq!(read(&provider, "command", &created).await, created);

        // The same resource, recorded against another server's key: a fresh provider
        // refuses the server before logging in, and a running one refuses the resource.
        let mut other = created.clone();
        other.insert("host_key_fingerprint", s("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        for provider in [sshd.provider_with(&[]), provider] {
            let error = provider.read("command", &other).await.unwrap_err();
            assert!(error.message.contains("changed"), "{}", error.message);
            assert!(error.message.contains("SHA256:AAAA") && error.message.contains(&seen), "{}", error.message);
            let mut update = other.clone();
            update.insert("create", Value::string(marker_command(&dir)["create"].as_str().unwrap()));
            update.insert("update", update["create"].clone());
            assert!(provider.update("command", &other, &update).await.is_err());
            assert!(!dir.join("ran").exists(), "nothing ran");
        }
    });
}

#[test]
fn known_hosts_is_checked_strictly() {
    let sshd = Sshd::start();
    let known = sshd.dir.path().join("known_hosts");
    std::fs::write(&known, format!("[127.0.0.1]:{} {}\n", sshd.port, sshd.host_key)).unwrap();
    let wrong = sshd.dir.path().join("known_hosts_other");
    std::fs::write(&wrong, format!("[127.0.0.1]:{} {}\n", sshd.port, sshd.other_host_key())).unwrap();
    let unlisted = sshd.dir.path().join("known_hosts_unlisted");
    std::fs::write(&unlisted, format!("example.com {}\n", sshd.host_key)).unwrap();
    runtime().block_on(async {
        let config = attributes(&[("create", s("true"))]);
        let accepted = sshd.provider_with(&[("known_hosts", s("known_hosts"))]);
        create(&accepted, "command", &config).await.expect("listed");
        for file in ["known_hosts_other", "known_hosts_unlisted"] {
            let refused = sshd.provider_with(&[("known_hosts", s(file))]);
            let error = create(&refused, "command", &config).await.unwrap_err();
            assert!(error.message.contains("is not accepted by"), "{}", error.message);
        }
        let missing = sshd.provider_with(&[("known_hosts", s("nope"))]);
        let error = create(&missing, "command", &config).await.unwrap_err();
        assert!(error.message.contains("does not exist"), "{}", error.message);
    });
}

#[test]
fn refused_logins_and_unreachable_hosts_are_clear_errors_without_secrets() {
    let sshd = Sshd::start();
    runtime().block_on(async {
        let config = attributes(&[("create", s("true"))]);
        let stranger = sshd.stranger_key();
        let refused = sshd.provider_with(&[("host_key", s(&sshd.host_key)), ("private_key", s(&stranger))]);
        let error = create(&refused, "command", &config).await.unwrap_err();
        assert_eq!(
            error.message,
            format!("`{}@127.0.0.1:{}` refused the login (tried the private key)", sshd.user, sshd.port)
        );
        assert!(!format!("{error:?}").contains("PRIVATE KEY"));

        let garbage = sshd.provider_with(&[("private_key", s("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n"))]);
        let error = create(&garbage, "command", &config).await.unwrap_err();
        assert_eq!(error.message, "`private_key` is not a private key Infra can read");
        assert!(!format!("{error:?}").contains("not a key"));

        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let unreachable = sshd.provider_with(&[("port", Value::number(f64::from(port)))]);
        let error = create(&unreachable, "command", &config).await.unwrap_err();
        assert!(
            error.message.starts_with(&format!("cannot connect to `{}@127.0.0.1:{port}`", sshd.user)),
            "{}",
            error.message
        );
        assert!(error.retryable);

        // `wait` keeps trying, then says how long it waited.
        let waiting = sshd.provider_with(&[("port", Value::number(f64::from(port))), ("wait", s("2s"))]);
        let error = create(&waiting, "command", &config).await.unwrap_err();
        assert!(error.message.ends_with("(after waiting 2s)"), "{}", error.message);
    });
}

#[test]
fn one_connection_serves_every_resource_of_a_provider() {
    let sshd = Sshd::start();
    runtime().block_on(async {
        let provider = sshd.provider();
        // Each command prints the client's port: the same connection, the same port.
        let config = attributes(&[("create", s("echo ${SSH_CLIENT:-none} | cut -d' ' -f2"))]);
        let first = create(&provider, "command", &config).await.expect("first");
        let second = create(&provider, "command", &config).await.expect("second");
        assert_eq!(text(&first, "stdout"), text(&second, "stdout"));
        assert_ne!(text(&first, "stdout").trim(), "none");
    });
}

#[test]
fn a_dropped_connection_is_opened_again_for_the_next_resource() {
    let sshd = Sshd::start();
    runtime().block_on(async {
        let provider = sshd.provider();
        let port = attributes(&[("create", s("echo ${SSH_CLIENT:-none} | cut -d' ' -f2"))]);
        let before = create(&provider, "command", &port).await.expect("first");
        // Kills the server's process for this session: the connection drops.
        let cut = "p=$$; while ! grep -qx 'sshd\\(-session\\)\\?' /proc/$p/comm; do p=$(cut -d' ' -f4 /proc/$p/stat); done; kill -9 $p";
        let error = create(&provider, "command", &attributes(&[("create", s(cut))])).await.unwrap_err();
        assert!(error.message.contains("the `create` command"), "{}", error.message);
        let after = create(&provider, "command", &port).await.expect("a new connection");
        assert_ne!(text(&before, "stdout"), text(&after, "stdout"), "another client port: another connection");
    });
}

/// The `bastion` block as the provider receives it.
fn bastion_block(bastion: &Sshd, host_key: &str) -> Value {
    let block: Attributes = attributes(&[
        ("host", s("127.0.0.1")),
        ("port", Value::number(f64::from(bastion.port))),
        ("user", s(&bastion.user)),
        ("private_key", s(&bastion.private_key)),
        ("host_key", s(host_key)),
    ]);
    Value::object(block)
}

#[test]
fn a_bastion_tunnels_the_connection_and_its_host_key_is_checked() {
    let target = Sshd::start();
    let bastion = Sshd::start();
    let closed = Sshd::start_with("PermitOpen none\n");
    let dir = target.scratch("through-bastion");
    runtime().block_on(async {
        let through = |jump: &Sshd, host_key: &str| {
            target.provider_with(&[("host_key", s(&target.host_key)), ("bastion", bastion_block(jump, host_key))])
        };
        let provider = through(&bastion, &bastion.host_key);
        let config = attributes(&[("path", path_value(&dir.join("hello"))), ("content", s("hi\n"))]);
        let created = create(&provider, "file", &config).await.expect("created through the bastion");
        assert_eq!(std::fs::read_to_string(dir.join("hello")).unwrap(), "hi\n");
        assert_eq!(read(&provider, "file", &created).await, created);

        // A bastion that forwards nothing: the tunnel is refused there.
        let provider = through(&closed, &closed.host_key);
        let error = create(&provider, "file", &config).await.unwrap_err();
        assert!(error.message.starts_with("the bastion"), "{}", error.message);
        assert!(error.message.contains("did not open a tunnel"), "{}", error.message);

        // The bastion's key is checked as strictly as the host's.
        let provider = through(&bastion, &bastion.other_host_key());
        let error = create(&provider, "file", &config).await.unwrap_err();
        assert!(error.message.starts_with("bastion: the host key of"), "{}", error.message);
        assert_eq!(error.message.matches("SHA256:").count(), 2, "{}", error.message);

        let unpinned = Value::map(
            [("host".to_string(), s("127.0.0.1")), ("port".to_string(), Value::number(f64::from(bastion.port)))]
                .into_iter()
                .collect(),
        );
        let provider = target.provider_with(&[("bastion", unpinned)]);
        let error = create(&provider, "file", &config).await.unwrap_err();
        assert!(error.message.contains("has no `host_key`"), "{}", error.message);
    });
}

/// An upload cut short (the operation abandoned mid-transfer, as when Infra is killed or
/// the connection drops) never leaves a partial file at `path`: the old file stays, or
/// the new one is there whole.
#[test]
fn an_upload_cut_short_leaves_the_old_file_whole() {
    let sshd = Sshd::start();
    let dir = sshd.scratch("cut");
    let path = dir.join("big");
    std::fs::write(&path, "old\n").unwrap();
    let content = "x".repeat(32 * 1024 * 1024);
    runtime().block_on(async {
        let provider = sshd.provider();
        let config = attributes(&[("path", path_value(&path)), ("content", s(&content))]);
        let planned = provider.plan("file", None, &config).expect("planned");
        // Wait for the connection first, so the cut falls in the upload.
        create(&provider, "directory", &attributes(&[("path", path_value(&dir))])).await.expect("connected");
        let upload = provider.create("file", &planned);
        let _ = tokio::time::timeout(std::time::Duration::from_millis(100), upload).await;
        // The script goes on after the cut; a command after it on the same connection
        // runs once the server has handled the channel's end.
        create(&provider, "command", &attributes(&[("create", s("sleep 1"))])).await.expect("still connected");
    });
    let now = std::fs::read(&path).unwrap();
    assert!(now == b"old\n" || now == content.as_bytes(), "a partial file of {} bytes", now.len());
    // The connection is closed now (the provider is gone): the server ends the upload's
    // input, the hash does not match, and the script removes its temporary file.
    let names = || -> Vec<_> { std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect() };
    let start = std::time::Instant::now();
    while names().len() > 1 && start.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(names(), ["big"], "no temporary file is left behind");
    assert!(std::fs::read(&path).unwrap() == now, "the file did not change after the cut");
}

/// `sudo = true` runs every command through `sudo -n`, quoting intact (the tests log in
/// as root, whom sudo lets through without a password).
#[test]
fn sudo_runs_commands_and_writes_as_root() {
    let sshd = Sshd::start();
    let dir = sshd.scratch("sudo");
    runtime().block_on(async {
        let provider = sshd.provider_with(&[("host_key", s(&sshd.host_key)), ("sudo", Value::bool(true))]);
        let config = attributes(&[("create", s("echo \"it's $(id -u) via ${SUDO_USER:-nobody}\""))]);
        let created = create(&provider, "command", &config).await.expect("ran");
        assert_eq!(text(&created, "stdout"), format!("it's 0 via {}\n", sshd.user));
        let file = attributes(&[("path", path_value(&dir.join("it's"))), ("content", s("quoted\n"))]);
        let written = create(&provider, "file", &file).await.expect("written");
        assert_eq!(text(&written, "owner"), "root");
        assert_eq!(std::fs::read_to_string(dir.join("it's")).unwrap(), "quoted\n");
    });
}

/// `agent = true` logs in with the keys of the agent at SSH_AUTH_SOCK (a real
/// `ssh-agent`, started for the test and stopped after it).
#[test]
fn the_agent_logs_in_with_its_keys() {
    use std::process::{Command, Stdio};
    let sshd = Sshd::start();
    let socket = sshd.dir.path().join("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .args(["-D", "-a"])
        .arg(&socket)
        .stdout(Stdio::null())
        .spawn()
        .expect("ssh-agent runs (openssh-client)");
    let start = std::time::Instant::now();
    while !socket.exists() && start.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let added = Command::new("ssh-add")
        .arg(sshd.dir.path().join("client_key"))
        .env("SSH_AUTH_SOCK", &socket)
        .stderr(Stdio::null())
        .status()
        .expect("ssh-add runs");
    assert!(added.success());
    // Each test is a process of its own under nextest, so the variable is this test's.
    std::env::set_var("SSH_AUTH_SOCK", &socket);
    runtime().block_on(async {
        let config = attributes(&[("create", s("echo agent"))]);
        let provider = sshd.provider_with(&[
            ("host_key", s(&sshd.host_key)),
            ("private_key", Value::null()),
            ("agent", Value::bool(true)),
        ]);
        let created = create(&provider, "command", &config).await.expect("logged in with the agent's key");
        assert_eq!(text(&created, "stdout"), "agent\n");
    });
    let _ = agent.kill();
    let _ = agent.wait();
}

/// Far more than the SSH window: the upload goes on while the server adjusts it.
#[test]
fn a_file_much_larger_than_the_ssh_window_is_uploaded_whole() {
    let sshd = Sshd::start();
    let path = sshd.scratch("big").join("big");
    let content = "x".repeat(24 * 1024 * 1024);
    runtime().block_on(async {
        let provider = sshd.provider();
        let config = attributes(&[("path", path_value(&path)), ("content", s(&content))]);
        let created = create(&provider, "file", &config).await.expect("created");
        assert_eq!(read(&provider, "file", &created).await, created);
    });
    assert_eq!(std::fs::read(&path).unwrap(), content.as_bytes());
}

/// Regression: `ssh.facts` and the data source `ssh.file` opened the shared connection
/// with no fingerprint to check, so on a server whose key changed they logged in and ran
/// their commands before any resource's record was compared.
#[test]
fn regression_data_sources_are_checked_against_the_recorded_host_key() {
    let mut sshd = Sshd::start();
    let secret = sshd.scratch("data-source").join("secret.txt");
    std::fs::write(&secret, "s3cret\n").unwrap();
    let recorded = runtime().block_on(async {
        // The very first connection to a host the state knows nothing of trusts its key.
        let provider = sshd.provider_with(&[]);
        provider.read_data("facts", &Attributes::new()).await.expect("first use");
        create(&provider, "command", &attributes(&[("create", s("true"))])).await.expect("trusted")
    });
    sshd.restart_with_new_host_key();
    runtime().block_on(async {
        // The next run: the state holds the command, recorded against the old key.
        let provider = sshd.provider_with(&[]);
        provider.expect_reads("command", 1);
        let file_config = attributes(&[("path", path_value(&secret))]);
        let facts_config = Attributes::new();
        let (facts, file, refresh) = tokio::join!(
            provider.read_data("facts", &facts_config),
            provider.read_data("file", &file_config),
            provider.read("command", &recorded),
        );
        let errors = [facts.map(drop).unwrap_err(), file.map(drop).unwrap_err(), refresh.map(drop).unwrap_err()];
        for error in errors {
            assert!(error.message.contains("changed"), "{}", error.message);
            assert!(error.message.contains(text(&recorded, "host_key_fingerprint")), "{}", error.message);
            assert!(!error.message.contains("s3cret"));
        }

        // A data source whose resources are never read (they all depend on it) is
        // refused rather than trusting the new key.
        let provider = sshd.provider_with(&[]);
        provider.expect_reads("command", 1);
        let error = provider.read_data("facts", &Attributes::new()).await.unwrap_err();
        assert!(error.message.contains("cannot be checked for this data source"), "{}", error.message);
        assert!(error.help.is_some_and(|help| help.contains("host_key")));
    });
}

fn keygen_of_type(path: &Path, algorithm: &str) -> String {
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", algorithm, "-N", "", "-C", "infra-test", "-f"])
        .arg(path)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
    std::fs::read_to_string(path.with_extension("pub")).expect("public key").trim().to_string()
}

fn fingerprint_of(public_key_file: &Path) -> String {
    let output = std::process::Command::new("ssh-keygen").arg("-lf").arg(public_key_file).output().expect("ssh-keygen");
    let line = String::from_utf8_lossy(&output.stdout).into_owned();
    line.split_whitespace().nth(1).expect("a fingerprint").to_string()
}

/// Regression: Infra always negotiated an ed25519 host key, so a correct `host_key` or
/// `known_hosts` entry for the server's RSA or ECDSA key was refused.
#[test]
fn regression_a_pinned_or_listed_rsa_or_ecdsa_host_key_is_accepted() {
    let keys = tempfile::tempdir().unwrap();
    let rsa = keygen_of_type(&keys.path().join("rsa_key"), "rsa");
    let ecdsa = keygen_of_type(&keys.path().join("ecdsa_key"), "ecdsa");
    let d = keys.path().display();
    let sshd = Sshd::start_with(&format!("HostKey {d}/rsa_key\nHostKey {d}/ecdsa_key\n"));
    let ecdsa_fingerprint = fingerprint_of(&keys.path().join("ecdsa_key.pub"));
    let rsa_fingerprint = fingerprint_of(&keys.path().join("rsa_key.pub"));
    std::fs::write(sshd.dir.path().join("known_rsa"), format!("[127.0.0.1]:{} {rsa}\n", sshd.port)).unwrap();
    runtime().block_on(async {
        let cases = [
            (("host_key", s(&rsa)), rsa_fingerprint.clone()),
            (("host_key", s(&ecdsa_fingerprint)), ecdsa_fingerprint.clone()),
            (("host_key", s(&ecdsa)), ecdsa_fingerprint.clone()),
            (("host_key", s(&rsa_fingerprint)), rsa_fingerprint.clone()),
            (("known_hosts", s("known_rsa")), rsa_fingerprint.clone()),
        ];
        for ((name, value), expected) in cases {
            let provider = sshd.provider_with(&[(name, value.clone())]);
            let created = create(&provider, "command", &attributes(&[("create", s("true"))]))
                .await
                .unwrap_or_else(|error| panic!("{name} = {value:?}: {}", error.message));
            assert_eq!(text(&created, "host_key_fingerprint"), expected);
        }
        // A fingerprint of no key of the server is still refused, naming both.
        let provider = sshd.provider_with(&[("host_key", s("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))]);
        let error = create(&provider, "command", &attributes(&[("create", s("true"))])).await.unwrap_err();
        assert!(error.message.contains("does not match `host_key`"), "{}", error.message);
    });
}

/// Regression: a command whose `create` ran but whose `read` failed was never reported,
/// so the engine did not record it and ran `create` again on the next apply.
#[test]
fn regression_a_command_reports_its_create_before_its_read_runs() {
    let sshd = Sshd::start();
    let dir = sshd.scratch("reported");
    runtime().block_on(async {
        let provider = sshd.provider();
        let config = attributes(&[
            ("create", Value::string(format!("echo x >> {}", dir.join("counter").display()))),
            ("read", Value::string(format!("cat {}", dir.join("missing").display()))),
        ]);
        let planned = provider.plan("command", None, &config).expect("planned");
        let (progress, reports) = infra_runtime::provider::CreateProgress::channel();
        let error = provider.create_reporting("command", &planned, &progress).await.unwrap_err();
        assert!(error.message.contains("`read` command"), "{}", error.message);
        let reported = reports.borrow().clone().expect("the create was reported");
        assert!(!text(&reported, "id").is_empty());
        assert!(text(&reported, "host_key_fingerprint").starts_with("SHA256:"));
        assert_eq!(std::fs::read_to_string(dir.join("counter")).unwrap(), "x\n");
    });
}

/// Regression: a symbolic link at a resource's `path` was read, written and imported
/// through. Now a link where a managed file or directory was reads as it gone, deleting
/// leaves the link (and what it points at) alone, a link cannot be imported, a new file
/// replacing a link takes none of its target's ownership, and only the data source
/// reads through a link.
#[test]
fn regression_a_symbolic_link_at_path_is_never_read_written_or_imported_through() {
    use std::os::unix::fs::MetadataExt;
    let sshd = Sshd::start();
    let dir = sshd.scratch("links");
    let target = dir.join("target");
    std::fs::write(&target, "the target's\n").unwrap();
    let target_dir = dir.join("target-dir");
    std::fs::create_dir(&target_dir).unwrap();
    std::fs::write(target_dir.join("kept"), "kept\n").unwrap();
    let file = dir.join("file");
    let directory = dir.join("directory");
    runtime().block_on(async {
        let provider = sshd.provider();
        let file_config = attributes(&[("path", path_value(&file)), ("content", s("the target's\n"))]);
        let made_file = create(&provider, "file", &file_config).await.expect("file");
        let made_directory =
            create(&provider, "directory", &attributes(&[("path", path_value(&directory))])).await.expect("directory");

        // Replaced by links outside Infra: gone, even to a file with the same content.
        std::fs::remove_file(&file).unwrap();
        std::os::unix::fs::symlink(&target, &file).unwrap();
        std::fs::remove_dir(&directory).unwrap();
        std::os::unix::fs::symlink(&target_dir, &directory).unwrap();
        for (kind, made) in [("file", &made_file), ("directory", &made_directory)] {
            assert_eq!(provider.read(kind, made).await.expect("read"), ReadResult::Gone, "{kind}");
        }

        // Deleting leaves the links and what they point at.
        provider.delete("file", &made_file).await.expect("file deleted");
        let mut forced = made_directory.clone();
        forced.insert("force_destroy".to_string(), Value::bool(true));
        provider.delete("directory", &forced).await.expect("directory deleted");
        assert!(std::fs::symlink_metadata(&file).unwrap().file_type().is_symlink());
        assert!(std::fs::symlink_metadata(&directory).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "the target's\n");
        assert_eq!(std::fs::read_to_string(target_dir.join("kept")).unwrap(), "kept\n");

        // Neither can be imported; the error names the link's target and says what to do.
        for (kind, path, points_at) in [("file", &file, &target), ("directory", &directory, &target_dir)] {
            let error = provider.import(kind, &path.display().to_string()).await.expect_err("a link");
            assert!(
                error.message.contains(&format!("is a symbolic link (to `{}`)", points_at.display())),
                "{kind}: {}",
                error.message
            );
            assert!(error.help.as_deref().is_some_and(|h| h.contains("by its own path")), "{kind}: {error:?}");
        }

        // The data source reads what the link points at, as `cat` does.
        let data = provider.read_data("file", &attributes(&[("path", path_value(&file))])).await.expect("data");
        assert_eq!(text(&data, "content"), "the target's\n");

        // A file written in place of a link to a file of another owner is the login
        // user's, as a new file is: nothing of the target is taken over.
        if sshd.user == "root" {
            std::os::unix::fs::chown(&target, Some(65534), Some(65534)).unwrap();
            let written = create(&provider, "file", &file_config).await.expect("written");
            let metadata = std::fs::symlink_metadata(&file).unwrap();
            assert!(metadata.is_file());
            assert_eq!((metadata.uid(), metadata.gid()), (0, 0));
            assert_eq!(text(&written, "owner"), "root");
            let target_metadata = std::fs::metadata(&target).unwrap();
            assert_eq!((target_metadata.uid(), target_metadata.gid()), (65534, 65534));
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "the target's\n");
        }
    });
}

/// Puts a directory where the file at `path` was, with a file of its own in it, as
/// someone who may write in the file's directory could.
fn plant_directory(path: &Path) {
    std::fs::remove_file(path).unwrap();
    std::fs::create_dir(path).unwrap();
    std::fs::write(path.join("kept"), "kept\n").unwrap();
}

/// A `validate` that, run by the write script between its check of `path` and its
/// rename, does what `plant` (a shell command) does to `path`: it stands for anyone on
/// the server acting during an upload or a slow `validate` such as `nginx -t`.
fn planting_validate(path: &Path, plant: &str) -> Value {
    s(&format!("p='{}'; rm -f -- \"$p\" && {plant} && test -s %s", path.display()))
}

/// The names in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// The plan of `config` over what the server has of `created`, applied (as `infra plan
/// -out` and `infra apply PLANFILE` would), with `meanwhile` run between the two.
async fn update_after(
    provider: &Arc<dyn Provider>,
    created: &Attributes,
    config: &Attributes,
    meanwhile: impl FnOnce(),
) -> Result<Attributes, ProviderError> {
    let refreshed = read(provider, "file", created).await;
    let planned = provider.plan("file", Some(&refreshed), config).expect("planned");
    meanwhile();
    provider.update("file", &refreshed, &planned).await
}

/// What a write that met a directory at `path` must have done: failed naming it, with a
/// hint, left nothing in the directory or beside it, and recorded nothing, so the next
/// refresh reads the directory (an error naming it) rather than the file it expected.
async fn assert_refused_by_the_directory(
    provider: &Arc<dyn Provider>,
    applied: Result<Attributes, ProviderError>,
    created: &Attributes,
    path: &Path,
) {
    let error = applied.expect_err("a directory at `path` fails the write");
    let shown = path.display();
    assert!(error.message.starts_with(&format!("`{shown}` on the server is a directory")), "{}", error.message);
    assert!(error.message.contains("nothing was put in the directory"), "{}", error.message);
    assert_eq!(error.attribute.as_deref(), Some("path"));
    assert!(error.help.as_deref().is_some_and(|h| h.contains("move the directory out of the way")), "{error:?}");
    assert_eq!(names_in(path), ["kept"], "nothing was moved into the directory");
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(names_in(path.parent().unwrap()), [name], "no temporary file is left beside it");
    let error = provider.read("file", created).await.expect_err("the refresh reads the directory");
    assert!(error.message.contains(&format!("`{shown}` on the server is not a regular file")), "{}", error.message);
}

/// Regression: a write ended with a plain `mv -f TMP PATH` unless `path` was a symbolic
/// link when the script looked, so a directory put at `path` after that look (during the
/// upload or a slow `validate`) got the new file moved into it under its temporary name,
/// and the apply reported success while `path` was no file at all. The rename is always
/// `mv -T` now: a directory at `path`, put there between the plan and the apply or
/// during the write, fails the write with an error naming it, and nothing lands in it.
#[test]
fn regression_a_directory_planted_at_a_files_path_fails_the_write_and_gets_nothing_moved_into_it() {
    let sshd = Sshd::start();
    let dir = sshd.scratch("planted");
    let path = dir.join("site.conf");
    runtime().block_on(async {
        let provider = sshd.provider();
        let content = |text: &str| attributes(&[("path", path_value(&path)), ("content", s(text))]);
        let created = create(&provider, "file", &content("v1\n")).await.expect("created");

        // Between `infra plan -out` and `infra apply PLANFILE`: found before the upload.
        let applied = update_after(&provider, &created, &content("v2\n"), || plant_directory(&path)).await;
        assert_refused_by_the_directory(&provider, applied, &created, &path).await;
        std::fs::remove_dir_all(&path).unwrap();

        // During the write, after the script's own check: the rename refuses it.
        let created = create(&provider, "file", &content("v1\n")).await.expect("created again");
        let mut during = content("v2\n");
        during.insert("validate".to_string(), planting_validate(&path, "mkdir -- \"$p\" && echo kept > \"$p/kept\""));
        let applied = update_after(&provider, &created, &during, || {}).await;
        assert_refused_by_the_directory(&provider, applied, &created, &path).await;

        // The directory moved away, the file reads as gone, and the next apply writes it.
        std::fs::remove_dir_all(&path).unwrap();
        assert_eq!(provider.read("file", &created).await.expect("read"), ReadResult::Gone);
        create(&provider, "file", &content("v2\n")).await.expect("created");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "v2\n");
    });
}

/// The same race with a symbolic link to a directory (a link `/srv/site/conf -> /etc`
/// would have had the file dropped into /etc): the rename replaces the link itself, as
/// it replaces any link at `path`, whether the link was there before the apply or came
/// during the write; nothing reaches the directory it points at.
#[test]
fn regression_a_link_to_a_directory_planted_at_a_files_path_is_replaced_not_moved_into() {
    let sshd = Sshd::start();
    let dir = sshd.scratch("planted-link");
    let path = dir.join("site.conf");
    let elsewhere = sshd.scratch("elsewhere");
    std::fs::write(elsewhere.join("kept"), "kept\n").unwrap();
    runtime().block_on(async {
        let provider = sshd.provider();
        let content = |text: &str| attributes(&[("path", path_value(&path)), ("content", s(text))]);
        let replaced = |updated: &Attributes, expected: &str| {
            assert!(std::fs::symlink_metadata(&path).unwrap().is_file(), "the link was replaced");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
            assert_eq!(names_in(&elsewhere), ["kept"], "nothing was moved into the linked directory");
            assert_eq!(names_in(&dir), ["site.conf"], "no temporary file is left beside it");
            assert_eq!(text(updated, "content"), expected);
        };
        let created = create(&provider, "file", &content("v1\n")).await.expect("created");

        // Between `infra plan -out` and `infra apply PLANFILE`.
        let plant = || {
            std::fs::remove_file(&path).unwrap();
            std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        };
        let updated = update_after(&provider, &created, &content("v2\n"), plant).await.expect("updated");
        replaced(&updated, "v2\n");
        assert_eq!(read(&provider, "file", &updated).await, updated);

        // During the write, after the script's own check.
        let mut during = content("v3\n");
        let plant = format!("ln -s -- '{}' \"$p\"", elsewhere.display());
        during.insert("validate".to_string(), planting_validate(&path, &plant));
        let updated = update_after(&provider, &updated, &during, || {}).await.expect("updated");
        replaced(&updated, "v3\n");
        assert_eq!(read(&provider, "file", &updated).await, updated);
    });
}

/// The same races on a server whose `mv` is BusyBox's (Alpine's, a router's): its
/// `mv -T` refuses a directory, and a link to a directory too. Either fails the write
/// with an error naming `path`, and nothing reaches the directory; the link is left.
#[test]
fn regression_with_busybox_mv_a_directory_or_a_link_to_one_planted_during_the_write_fails_it() {
    let busybox = Path::new("/bin/busybox");
    assert!(busybox.exists(), "{} is missing: apt-get install -y busybox-static", busybox.display());
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(busybox, bin.path().join("mv")).unwrap();
    let sshd = Sshd::start_with(&format!("SetEnv PATH={}:/usr/sbin:/usr/bin:/sbin:/bin\n", bin.path().display()));
    let dir = sshd.scratch("planted");
    let path = dir.join("site.conf");
    let elsewhere = sshd.scratch("elsewhere");
    std::fs::write(elsewhere.join("kept"), "kept\n").unwrap();
    runtime().block_on(async {
        let provider = sshd.provider();
        let which = attributes(&[("create", s("readlink -f \"$(command -v mv)\""))]);
        let which = create(&provider, "command", &which).await.expect("ran");
        let canonical = std::fs::canonicalize(busybox).unwrap();
        assert_eq!(text(&which, "stdout").trim(), canonical.display().to_string(), "the server's `mv` is BusyBox's");
        let content = |text: &str| attributes(&[("path", path_value(&path)), ("content", s(text))]);
        let planting = |plant: &str| {
            let mut config = content("v2\n");
            config.insert("validate".to_string(), planting_validate(&path, plant));
            config
        };

        let created = create(&provider, "file", &content("v1\n")).await.expect("created");
        let plant = planting("mkdir -- \"$p\" && echo kept > \"$p/kept\"");
        let applied = update_after(&provider, &created, &plant, || {}).await;
        assert_refused_by_the_directory(&provider, applied, &created, &path).await;
        std::fs::remove_dir_all(&path).unwrap();

        let created = create(&provider, "file", &content("v1\n")).await.expect("created again");
        let plant = planting(&format!("ln -s -- '{}' \"$p\"", elsewhere.display()));
        let error = update_after(&provider, &created, &plant, || {}).await.expect_err("the link is not replaced");
        let shown = path.display();
        assert!(
            error.message.starts_with(&format!(
                "`{shown}` on the server is a symbolic link that the server's `mv -T` would not replace"
            )),
            "{}",
            error.message
        );
        assert!(error.help.as_deref().is_some_and(|h| h.contains("remove the link")), "{error:?}");
        assert_eq!(std::fs::read_link(&path).unwrap(), elsewhere, "the link is left");
        assert_eq!(names_in(&elsewhere), ["kept"], "nothing was moved into the linked directory");
        assert_eq!(names_in(&dir), ["site.conf"], "no temporary file is left beside it");
        assert_eq!(provider.read("file", &created).await.expect("read"), ReadResult::Gone);
    });
}

/// A shell command that does what anyone who may write in `dir` could do to the write's
/// temporary entry for `name` there, once: a temporary file is replaced by a symbolic
/// link to `victim`; a directory (which they may not enter) is renamed away and one of
/// their own put at its name, holding a link named `name` to `victim`.
fn swap_temporary(dir: &Path, name: &str, victim: &Path) -> String {
    let (dir, victim) = (dir.display(), victim.display());
    format!(
        "for e in '{dir}'/.{name}.infra-*; do case \"$e\" in *.away) continue;; esac; \
         if [ -L \"$e\" ]; then continue; \
         elif [ -f \"$e\" ]; then mv -- \"$e\" \"$e.away\" && ln -s -- '{victim}' \"$e\"; \
         elif [ -d \"$e\" ]; then mv -- \"$e\" \"$e.away\" && mkdir -- \"$e\" && ln -s -- '{victim}' \"$e/{name}\"; fi; done"
    )
}

/// Regression: a write uploaded its content to a temporary file beside `path`, in the
/// file's own directory, and then ran `chmod`, `chown` and `chgrp` on that name. They
/// follow a symbolic link: anyone who may write in that directory (not sticky) could
/// swap the temporary file for a link to `/etc/shadow` during the write, and Infra,
/// running as root, gave it the file's mode and owner (then renamed the link to `path`).
/// The file is now written in a private 0700 directory the script works in: a link put
/// in place of the temporary file, or of that directory, just before the `chmod` (a
/// `chmod` first on the server's `PATH` plants it) or during `validate` is never
/// chmodded or chowned through, and never becomes `path`.
#[test]
fn regression_a_link_swapped_in_for_the_temporary_file_is_never_chmodded_or_chowned_through() {
    let bin = tempfile::tempdir().unwrap();
    let armed = bin.path().join("armed");
    let sshd_dir = tempfile::tempdir().unwrap();
    let dir = sshd_dir.path().join("shared");
    let victims = sshd_dir.path().join("victims");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&victims).unwrap();
    std::fs::set_permissions(sshd_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let victim = victims.join("shadow");
    let chmod = bin.path().join("chmod");
    std::fs::write(
        &chmod,
        format!(
            "#!/bin/sh\nif [ -e '{armed}' ] && ls -A -- '{shared}' | grep -q '^\\.site\\.conf\\.infra-'; then rm -- '{armed}'; {swap}; fi\n\
             exec /bin/chmod \"$@\"\n",
            armed = armed.display(),
            shared = dir.display(),
            swap = swap_temporary(&dir, "site.conf", &victim)
        ),
    )
    .unwrap();
    std::fs::set_permissions(&chmod, std::fs::Permissions::from_mode(0o755)).unwrap();
    let armed_mkdir = bin.path().join("armed-mkdir");
    let mkdir = bin.path().join("mkdir");
    std::fs::write(
        &mkdir,
        format!(
            "#!/bin/sh\n/bin/mkdir \"$@\" || exit\n\
             if [ -e '{armed}' ] && ls -A -- '{shared}' | grep -q '^\\.site\\.conf\\.infra-'; then rm -- '{armed}'; {swap}; fi\n",
            armed = armed_mkdir.display(),
            shared = dir.display(),
            swap = swap_temporary(&dir, "site.conf", &victim)
        ),
    )
    .unwrap();
    std::fs::set_permissions(&mkdir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let sshd = Sshd::start_with(&format!("SetEnv PATH={}:/usr/sbin:/usr/bin:/sbin:/bin\n", bin.path().display()));
    let path = dir.join("site.conf");
    let root = sshd.user == "root";
    runtime().block_on(async {
        let provider = sshd.provider();
        let content = |text: &str| {
            let mut config = attributes(&[("path", path_value(&path)), ("content", s(text)), ("mode", s("0644"))]);
            config.insert("owner".to_string(), s(&sshd.user));
            config
        };
        let check = |applied: Result<Attributes, ProviderError>, old: &str, new: &str| {
            use std::os::unix::fs::MetadataExt;
            let metadata = std::fs::symlink_metadata(&victim).unwrap();
            assert_eq!(metadata.mode() & 0o7777, 0o604, "the victim's mode was not changed through the link");
            if root {
                assert_eq!((metadata.uid(), metadata.gid()), (65534, 65534), "the victim's owner was not changed");
            }
            assert_eq!(std::fs::read_to_string(&victim).unwrap(), "secret\n");
            let written = std::fs::symlink_metadata(&path).unwrap();
            assert!(written.is_file(), "`path` is a file, not the link swapped in");
            match applied {
                Ok(updated) => {
                    assert_eq!(std::fs::read_to_string(&path).unwrap(), new);
                    assert_eq!(mode_of(&path), 0o644);
                    assert_eq!(text(&updated, "mode"), "0644");
                }
                Err(error) => {
                    assert!(error.message.contains("site.conf"), "{}", error.message);
                    assert_eq!(std::fs::read_to_string(&path).unwrap(), old, "a failed write leaves the old file");
                }
            }
            let swapped = names_in(&dir).iter().any(|name| name.ends_with(".away"));
            assert!(swapped, "the temporary entry was swapped: {:?}", names_in(&dir));
            // What the swap left beside the file (as the other user would) goes.
            for entry in std::fs::read_dir(&dir).unwrap() {
                let entry = entry.unwrap();
                if entry.file_name() != "site.conf" {
                    let kind = entry.file_type().unwrap();
                    if kind.is_dir() {
                        std::fs::remove_dir_all(entry.path()).unwrap();
                    } else {
                        std::fs::remove_file(entry.path()).unwrap();
                    }
                }
            }
        };
        let created = create(&provider, "file", &content("v1\n")).await.expect("created");
        std::fs::write(&victim, "secret\n").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o604)).unwrap();
        if root {
            std::os::unix::fs::chown(&victim, Some(65534), Some(65534)).unwrap();
        }

        // Just before the `chmod`, after the upload and its check.
        std::fs::write(&armed, "").unwrap();
        let applied = update_after(&provider, &created, &content("v2\n"), || {}).await;
        assert!(!armed.exists(), "the server's `chmod` planted the link");
        check(applied, "v1\n", "v2\n");

        // During `validate`, after the `chmod` and `chown`.
        let created = read(&provider, "file", &created).await;
        let mut during = content("v3\n");
        let swap = swap_temporary(&dir, "site.conf", &victim);
        during.insert("validate".to_string(), s(&format!("{swap}; test -s %s")));
        let applied = update_after(&provider, &created, &during, || {}).await;
        check(applied, "v2\n", "v3\n");

        // Between the making of the private directory and the script's entering it: it
        // finds a directory that is not its own, and fails without writing anything.
        let created = read(&provider, "file", &created).await;
        std::fs::write(&armed_mkdir, "").unwrap();
        let applied = update_after(&provider, &created, &content("v4\n"), || {}).await;
        assert!(!armed_mkdir.exists(), "the server's `mkdir` planted the directory");
        let error = applied.as_ref().expect_err("the write fails");
        assert!(error.message.contains("was replaced while the file was written"), "{}", error.message);
        let planted =
            names_in(&dir).into_iter().find(|name| name.starts_with(".site.conf.infra-") && !name.ends_with(".away"));
        let planted = dir.join(planted.expect("the other user's directory is there")).join("site.conf");
        assert!(std::fs::symlink_metadata(&planted).unwrap().is_symlink(), "nothing in it was removed");
        check(applied, "v3\n", "");
    });
}

/// The private directory a file is written in inherits the set-group-ID bit of a shared
/// directory (mode 2700): that is still the write's own directory, and the write goes
/// through, leaving nothing beside the file. (`validate` checks that the bit is there.)
#[test]
fn a_file_is_written_in_a_set_group_id_directory() {
    let sshd = Sshd::start();
    let dir = sshd.scratch("setgid");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o2775)).unwrap();
    let path = dir.join("site.conf");
    runtime().block_on(async {
        let provider = sshd.provider();
        let mut config = attributes(&[("path", path_value(&path)), ("content", s("v1\n"))]);
        config.insert("validate".to_string(), s("test -s %s && test -g \"$(dirname -- %s)\""));
        let created = create(&provider, "file", &config).await.expect("created");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "v1\n");
        assert_eq!(text(&created, "mode"), "0644");
        assert_eq!(names_in(&dir), ["site.conf"], "no temporary directory is left beside it");
    });
}

/// Regression: an `ssh.directory` was made with `mkdir -p` and then given its mode and
/// owner with `chmod`, `chown` and `chgrp` on `path`, which follow a symbolic link.
/// Anyone who may write in the directory's parent (not sticky) could swap the new
/// directory for a link to `/etc` in between, and Infra, running as root, gave `/etc`
/// the directory's mode and owner. Now the script enters the directory, checks that it
/// is the one at `path`, and changes `.`: a link swapped in just after the `mkdir` (a
/// `mkdir` first on the server's `PATH` plants it) or just before the `chmod` (a `chmod`
/// wrapper) is never chmodded or chowned through, and the apply fails saying so; the
/// next apply replaces the link with a directory. A `path` ending in `/` made the server
/// follow a link there: destroying such a directory replaced by a link to a directory
/// emptied that directory (`rm -rf -- LINK/`).
#[test]
fn regression_a_link_swapped_in_for_a_directory_being_made_is_never_chmodded_or_chowned_through() {
    use std::os::unix::fs::MetadataExt;
    let bin = tempfile::tempdir().unwrap();
    let sshd_dir = tempfile::tempdir().unwrap();
    let shared = sshd_dir.path().join("shared");
    let victim = sshd_dir.path().join("victims").join("etc");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join("kept"), "kept\n").unwrap();
    std::fs::set_permissions(sshd_dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o705)).unwrap();
    let path = shared.join("www");
    // Each wrapper, once armed, does what the other user would: renames the directory
    // at `path` away and puts a link to the victim in its place. Only when run on `path`
    // (or `.`): the login shell's own start-up may run `chmod` on other things.
    let wrapper = |tool: &str, armed: &Path| {
        let swap = format!(
            "p='{path}'\nfor a; do :; done\n\
             if [ -e '{armed}' ] && {{ [ \"$a\" = . ] || [ \"$a\" = \"$p\" ]; }} && [ -d \"$p\" ] && [ ! -L \"$p\" ]; then \
             rm -- '{armed}'; mv -- \"$p\" \"$p.away\" && ln -s -- '{victim}' \"$p\"; fi\n",
            path = path.display(),
            armed = armed.display(),
            victim = victim.display()
        );
        let body = match tool {
            "mkdir" => format!("#!/bin/sh\n/bin/mkdir \"$@\" || exit\n{swap}"),
            _ => format!("#!/bin/sh\n{swap}exec /bin/{tool} \"$@\"\n"),
        };
        let file = bin.path().join(tool);
        std::fs::write(&file, body).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    let armed_mkdir = bin.path().join("armed-mkdir");
    let armed_chmod = bin.path().join("armed-chmod");
    wrapper("mkdir", &armed_mkdir);
    wrapper("chmod", &armed_chmod);
    let sshd = Sshd::start_with(&format!("SetEnv PATH={}:/usr/sbin:/usr/bin:/sbin:/bin\n", bin.path().display()));
    let root = sshd.user == "root";
    if root {
        std::os::unix::fs::chown(&victim, Some(65534), Some(65534)).unwrap();
    }
    let group = std::process::Command::new("id").arg("-gn").output().expect("id -gn").stdout;
    let group = String::from_utf8(group).unwrap().trim().to_string();
    let config = |mode: &str| {
        attributes(&[("path", path_value(&path)), ("mode", s(mode)), ("owner", s(&sshd.user)), ("group", s(&group))])
    };
    let untouched = || {
        let metadata = std::fs::symlink_metadata(&victim).unwrap();
        assert!(metadata.is_dir());
        assert_eq!(metadata.mode() & 0o7777, 0o705, "the victim's mode was not changed through the link");
        if root {
            assert_eq!((metadata.uid(), metadata.gid()), (65534, 65534), "the victim's owner was not changed");
        }
        assert_eq!(names_in(&victim), ["kept"]);
    };
    let refused = |applied: Result<Attributes, ProviderError>| {
        untouched();
        let error = applied.expect_err("the swap fails the apply");
        let shown = path.display();
        assert!(
            error
                .message
                .starts_with(&format!("`{shown}` on the server was replaced by a link while it was being made")),
            "{}",
            error.message
        );
        assert!(error.message.ends_with("nothing was changed through it"), "{}", error.message);
        assert_eq!(error.attribute.as_deref(), Some("path"));
        assert!(error.help.as_deref().is_some_and(|h| h.contains("ls -ld --")), "{error:?}");
        assert_eq!(std::fs::read_link(&path).unwrap(), victim, "the link swapped in is left");
        std::fs::remove_dir(shared.join("www.away")).unwrap();
    };
    runtime().block_on(async {
        let provider = sshd.provider();

        // Just after the `mkdir`: the script enters the link's target, and sees it.
        std::fs::write(&armed_mkdir, "").unwrap();
        let applied = create(&provider, "directory", &config("0750")).await;
        assert!(!armed_mkdir.exists(), "the server's `mkdir` planted the link");
        refused(applied);

        // The next apply replaces the link (only the link) with the directory.
        let created = create(&provider, "directory", &config("0750")).await.expect("made in place of the link");
        untouched();
        assert!(std::fs::symlink_metadata(&path).unwrap().is_dir());
        assert_eq!(mode_of(&path), 0o750);
        assert_eq!(text(&created, "mode"), "0750");
        assert_eq!(names_in(&shared), ["www"]);

        // Just before the `chmod` of an update: the script works on the directory it
        // stands in (renamed away), and its second check sees the link.
        std::fs::write(&armed_chmod, "").unwrap();
        let refreshed = read(&provider, "directory", &created).await;
        let planned = provider.plan("directory", Some(&refreshed), &config("0700")).expect("planned");
        let applied = provider.update("directory", &refreshed, &planned).await;
        assert!(!armed_chmod.exists(), "the server's `chmod` planted the link");
        untouched();
        assert_eq!(mode_of(&shared.join("www.away")), 0o700, "the directory itself got the mode");
        refused(applied);

        // A `path` with a trailing slash names the link, not the directory it points at
        // (the server follows a link named `LINK/`): a directory replaced by a link reads
        // as gone, destroying it with its contents leaves the link and the victim's
        // contents alone, and making it again replaces the link.
        let site = shared.join("site");
        let slashed = attributes(&[("path", s(&format!("{}/", site.display()))), ("force_destroy", Value::bool(true))]);
        let made = create(&provider, "directory", &slashed).await.expect("made");
        std::fs::remove_dir(&site).unwrap();
        std::os::unix::fs::symlink(&victim, &site).unwrap();
        assert_eq!(provider.read("directory", &made).await.expect("read"), ReadResult::Gone);
        provider.delete("directory", &made).await.expect("deleted");
        untouched();
        assert_eq!(std::fs::read_link(&site).unwrap(), victim, "the link is left");
        create(&provider, "directory", &slashed).await.expect("made in place of the link");
        assert!(std::fs::symlink_metadata(&site).unwrap().is_dir());
        untouched();
    });
}
