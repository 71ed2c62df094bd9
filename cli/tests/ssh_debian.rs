//! The `ssh` provider's packages, services, users and groups against a real Debian 12
//! with systemd as PID 1 (`support/debian.rs`), never the machine the tests run on:
//! `infra` applies, plans, detects drift and imports, and the container is checked with
//! OpenSSH's own client.
//!
//! nextest runs each test in a process of its own, so each test boots its own container
//! (a few seconds from the cached root file system) and nothing is shared between them.

use std::path::Path;

use serde_json::Value as Json;

mod common;

use common::{fails, ok, outcome, write_module};

#[path = "support/debian.rs"]
mod debian;
#[path = "support/ports.rs"]
mod ports;

use debian::Debian;

fn module(dir: &Path, debian: &Debian, body: &str) {
    write_module(dir, &format!("{}{body}", debian.provider_block()));
}

fn apply(dir: &Path) -> String {
    ok(dir, &["apply", "--auto-approve"])
}

/// The plan as JSON.
fn plan(dir: &Path) -> Json {
    let printed = ok(dir, &["plan", "--json"]);
    serde_json::from_str(&printed).unwrap_or_else(|e| panic!("no JSON ({e}):\n{printed}"))
}

/// `(address, action)` of every planned change.
fn actions(plan: &Json) -> Vec<(String, String)> {
    let changes = plan["changes"].as_array().cloned().unwrap_or_default();
    changes
        .iter()
        .map(|c| (c["address"].as_str().unwrap_or("").to_string(), c["action"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn one(address: &str, action: &str) -> Vec<(String, String)> {
    vec![(address.to_string(), action.to_string())]
}

/// The planned value (as JSON text) of `attribute` of the change at `address`.
fn planned(plan: &Json, address: &str, attribute: &str) -> String {
    let changes = plan["changes"].as_array().cloned().unwrap_or_default();
    let change = changes.iter().find(|c| c["address"] == address).unwrap_or_else(|| panic!("{address} in {plan:#}"));
    let after = &change["attributes"][attribute]["after"];
    after.get("value").map_or_else(|| after.to_string(), Json::to_string)
}

/// Nothing to do: `plan --detailed-exitcode` exits 0.
#[track_caller]
fn converged(dir: &Path) {
    let (code, printed) = outcome(dir, &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "the plan should be empty:\n{printed}");
}

fn package(name: &str, body: &str) -> String {
    format!("resource ssh.package {name} {{\n  name = \"infra-test-{name}\"\n{body}}}\n")
}

#[test]
fn packages_install_at_a_pinned_or_the_newest_version_show_drift_and_are_removed() {
    let debian = Debian::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let version = |name: &str| debian.sh(&format!("cat /usr/share/infra-test-{name}/version"));
    let installed =
        |name: &str| debian.succeeds(&format!("dpkg -s infra-test-{name} | grep -qx 'Status: install ok installed'"));
    let body = |a_version: &str| {
        format!(
            "{}{}",
            package("a", &format!("  version = \"{a_version}\"\n")),
            package("b", "  state = \"latest\"\n  purge = true\n")
        )
    };
    module(dir.path(), &debian, &body("1.0"));
    apply(dir.path());
    assert_eq!((version("a"), version("b")), ("1.0".to_string(), "2.0".to_string()));
    converged(dir.path());

    // Another pin is an update in place (a downgrade works the same way).
    module(dir.path(), &debian, &body("2.0"));
    assert_eq!(actions(&plan(dir.path())), one("a", "update"));
    apply(dir.path());
    assert_eq!(version("a"), "2.0");
    converged(dir.path());

    // Drift: another version installed by hand, and a package removed by hand.
    debian.sh("apt-get install -q -y --allow-downgrades infra-test-a=1.0 >/dev/null 2>&1");
    debian.sh("apt-get remove -q -y infra-test-b >/dev/null 2>&1");
    let drifted = plan(dir.path());
    assert_eq!(actions(&drifted), [one("a", "update"), one("b", "create")].concat(), "{drifted:#}");
    assert_eq!(planned(&drifted, "a", "version"), "\"2.0\"", "{drifted:#}");
    apply(dir.path());
    assert_eq!((version("a"), version("b")), ("2.0".to_string(), "2.0".to_string()));
    converged(dir.path());

    // Import: the installed package is managed from then on, with nothing to change.
    debian.sh("apt-get install -q -y infra-test-c=1.0 >/dev/null 2>&1");
    module(dir.path(), &debian, &format!("{}{}", body("2.0"), package("c", "")));
    ok(dir.path(), &["import", "c", "infra-test-c"]);
    converged(dir.path());
    let state = ok(dir.path(), &["state", "show", "c"]);
    assert!(state.contains("installed_version") && state.contains("\"1.0\""), "{state}");

    // Destroy removes them all, `b` with its configuration (purge).
    ok(dir.path(), &["destroy", "--auto-approve"]);
    assert!(!installed("a") && !installed("b") && !installed("c"));
    assert!(!debian.succeeds("dpkg -s infra-test-b"), "purged");
}

#[test]
fn a_package_or_version_that_does_not_exist_is_a_clear_error() {
    let debian = Debian::start();
    let dir = tempfile::tempdir().expect("temp dir");
    module(dir.path(), &debian, "resource ssh.package nope {\n  name = \"infra-no-such-package\"\n}\n");
    let printed = fails(dir.path(), &["apply", "--auto-approve"]);
    assert!(printed.contains("no repository of the server has a package `infra-no-such-package`"), "{printed}");
    assert!(printed.contains("apt-cache search"), "the hint: {printed}");

    module(dir.path(), &debian, &package("a", "  version = \"9.9\"\n"));
    let printed = fails(dir.path(), &["apply", "--auto-approve"]);
    assert!(printed.contains("the package `infra-test-a` has no version `9.9`"), "{printed}");
    assert!(printed.contains("1.0") && printed.contains("2.0"), "the versions there are: {printed}");

    module(dir.path(), &debian, &package("a", "  version = \"1.0\"\n  state = \"latest\"\n"));
    let printed = fails(dir.path(), &["plan"]);
    assert!(printed.contains("`state` cannot be \"latest\""), "{printed}");
    module(dir.path(), &debian, &package("a", "  state = \"newest\"\n"));
    let printed = fails(dir.path(), &["plan"]);
    assert!(printed.contains("newest"), "{printed}");
}

/// A service whose process records each reload (SIGHUP) in /run/infra-demo.reloads.
const DEMO_UNIT: &str = r#"[Unit]
Description=Infra test service

[Service]
ExecStart=/bin/sh -c 'trap "echo reload >> /run/infra-demo.reloads" HUP; while :; do sleep 1 & wait; done'
ExecReload=/bin/kill -HUP $MAINPID

[Install]
WantedBy=multi-user.target
"#;

fn service_module(restart: &str, reload: &str) -> String {
    format!(
        "resource ssh.file unit {{\n  path    = \"/etc/systemd/system/infra-demo.service\"\n  content = {:?}\n}}\n\
         resource ssh.file settings {{\n  path    = \"/etc/infra-demo.conf\"\n  content = \"{reload}\\n\"\n}}\n\
         resource ssh.service demo {{\n  name       = \"infra-demo\"\n  enabled    = true\n  running    = true\n  \
         restart_on = [unit.sha256, \"{restart}\"]\n  reload_on  = [settings.sha256]\n}}\n",
        DEMO_UNIT
    )
}

#[test]
fn services_are_enabled_started_restarted_and_reloaded_when_what_they_watch_changes() {
    let debian = Debian::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let main_pid = || debian.sh("systemctl show -p MainPID --value infra-demo");
    let reloads = || debian.sh("cat /run/infra-demo.reloads 2>/dev/null | wc -l");
    module(dir.path(), &debian, &service_module("one", "a"));
    apply(dir.path());
    assert_eq!(debian.sh("systemctl is-enabled infra-demo; systemctl is-active infra-demo"), "enabled\nactive");
    converged(dir.path());
    let first = main_pid();

    // A changed watched value restarts the service: the plan says so, the process is new.
    module(dir.path(), &debian, &service_module("two", "a"));
    let restart = plan(dir.path());
    assert_eq!(actions(&restart), one("demo", "update"));
    assert_eq!(planned(&restart, "demo", "restarts"), "1", "{restart:#}");
    apply(dir.path());
    let second = main_pid();
    assert_ne!(first, second, "restarted");
    converged(dir.path());

    // A changed configuration file reloads it: same process, one reload more.
    module(dir.path(), &debian, &service_module("two", "b"));
    let reload = plan(dir.path());
    assert_eq!(actions(&reload), [one("demo", "update"), one("settings", "update")].concat(), "{reload:#}");
    assert_eq!(planned(&reload, "demo", "reloads"), "1", "{reload:#}");
    apply(dir.path());
    assert_eq!(main_pid(), second, "reloaded, not restarted");
    assert_eq!(reloads(), "1");
    converged(dir.path());

    // Drift: stopped and disabled by hand.
    debian.sh("systemctl disable --now -q infra-demo");
    let drifted = plan(dir.path());
    assert_eq!(actions(&drifted), one("demo", "update"), "{drifted:#}");
    assert_eq!(planned(&drifted, "demo", "running"), "true");
    assert_eq!(planned(&drifted, "demo", "enabled"), "true");
    apply(dir.path());
    assert_eq!(debian.sh("systemctl is-enabled infra-demo; systemctl is-active infra-demo"), "enabled\nactive");
    converged(dir.path());

    // Stopping is a setting like the others; a stopped service is not restarted.
    let stopped = service_module("three", "b").replace("running    = true", "running    = false");
    module(dir.path(), &debian, &stopped);
    apply(dir.path());
    assert_eq!(debian.run("systemctl is-active infra-demo").status.code(), Some(3), "inactive");
    converged(dir.path());

    // Import: by unit name, as it is. What it watches cannot be read from the server:
    // the plan starts watching it, which restarts and reloads nothing.
    ok(dir.path(), &["state", "rm", "demo"]);
    ok(dir.path(), &["import", "demo", "infra-demo"]);
    let imported = plan(dir.path());
    assert_eq!(actions(&imported), one("demo", "update"), "{imported:#}");
    assert_eq!(planned(&imported, "demo", "restarts"), "0", "{imported:#}");
    apply(dir.path());
    converged(dir.path());

    // A unit systemd does not have is a clear error.
    module(dir.path(), &debian, "resource ssh.service nope {\n  name    = \"infra-no-such\"\n  running = true\n}\n");
    let printed = fails(dir.path(), &["apply", "--auto-approve"]);
    assert!(printed.contains("systemd has no unit `infra-no-such`"), "{printed}");
}

const KEY_ONE: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl one@example";

#[test]
fn users_and_groups_are_made_changed_read_back_and_imported() {
    let debian = Debian::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let login_key = std::fs::read_to_string(debian.dir.path().join("client_key.pub")).expect("key");
    let body = |shell: &str, keys: &[&str]| {
        let keys: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
        format!(
            "resource ssh.group deployers {{\n  name = \"deployers\"\n  gid  = 2500\n}}\n\
             resource ssh.group ops {{\n  name   = \"ops\"\n  system = true\n}}\n\
             resource ssh.user deploy {{\n  name            = \"deploy\"\n  uid             = 2501\n  \
             groups          = [deployers.name, ops.name]\n  shell           = \"{shell}\"\n  \
             home            = \"/srv/deploy\"\n  authorized_keys = [{}]\n}}\n",
            keys.join(", ")
        )
    };
    module(dir.path(), &debian, &body("/bin/bash", &[login_key.trim(), KEY_ONE]));
    apply(dir.path());
    assert_eq!(debian.sh("getent passwd deploy"), "deploy:x:2501:2501::/srv/deploy:/bin/bash");
    assert_eq!(debian.sh("id -Gn deploy | tr ' ' '\\n' | sort | xargs"), "deploy deployers ops");
    assert!(debian.sh("getent group ops | cut -d: -f3").parse::<u32>().expect("gid") < 1000, "a system group");
    assert_eq!(debian.sh("stat -c '%U %a' /srv/deploy/.ssh/authorized_keys"), "deploy 600");
    converged(dir.path());
    // The user's own file, which sshd reads as the user, holds both keys.
    assert_eq!(debian.sh("su -s /bin/sh deploy -c 'cat ~/.ssh/authorized_keys' | wc -l"), "2");

    // Changes in place: the shell, one key fewer.
    module(dir.path(), &debian, &body("/bin/sh", &[login_key.trim()]));
    assert_eq!(actions(&plan(dir.path())), one("deploy", "update"));
    apply(dir.path());
    assert_eq!(debian.sh("getent passwd deploy | cut -d: -f7"), "/bin/sh");
    assert_eq!(debian.sh("cat /srv/deploy/.ssh/authorized_keys"), login_key.trim());
    converged(dir.path());

    // Drift: a key added by hand, a group left, a gid changed.
    debian.sh(&format!(
        "echo '{KEY_ONE}' >> /srv/deploy/.ssh/authorized_keys; gpasswd -q -d deploy ops; groupmod -g 2600 deployers"
    ));
    let drifted = plan(dir.path());
    let mut found = actions(&drifted);
    found.sort();
    assert_eq!(found, [one("deploy", "update"), one("deployers", "update")].concat(), "{drifted:#}");
    apply(dir.path());
    assert_eq!(debian.sh("id -Gn deploy | tr ' ' '\\n' | sort | xargs"), "deploy deployers ops");
    assert_eq!(debian.sh("getent group deployers | cut -d: -f3"), "2500");
    assert_eq!(debian.sh("cat /srv/deploy/.ssh/authorized_keys"), login_key.trim());
    converged(dir.path());

    // Import: forgotten, then found again by name, with nothing to change.
    for address in ["deploy", "deployers", "ops"] {
        ok(dir.path(), &["state", "rm", address]);
    }
    ok(dir.path(), &["import", "deployers", "deployers"]);
    ok(dir.path(), &["import", "ops", "ops"]);
    ok(dir.path(), &["import", "deploy", "deploy"]);
    converged(dir.path());

    // A user deleted by hand is made again; destroy removes users and groups.
    debian.sh("userdel deploy");
    assert_eq!(actions(&plan(dir.path())), one("deploy", "create"));
    apply(dir.path());
    ok(dir.path(), &["destroy", "--auto-approve"]);
    for name in ["passwd deploy", "group deployers", "group ops"] {
        assert!(!debian.succeeds(&format!("getent {name}")), "{name} is gone");
    }
    assert!(!debian.succeeds("test -e /srv/deploy/.ssh/authorized_keys"), "the keys Infra managed are gone");
}

/// `GET /` on 127.0.0.1:`port`: the response's head and body.
fn http_get(port: u16) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("nginx answers");
    stream.write_all(b"GET / HTTP/1.0\r\nHost: www.example.com\r\n\r\n").expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    response
}

/// Whether nginx serves a response containing `text` within a few seconds: its reload
/// returns once the master process has the signal, before its new workers answer.
fn served_soon(port: u16, text: &str) -> bool {
    for _ in 0..50 {
        if http_get(port).contains(text) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    false
}

/// examples/ssh-web applied to the container as its README says, with its inputs in a
/// file: nginx serves the page on a free port (never this machine's port 80), a second
/// plan is empty, a new page is only written, a new site file reloads nginx (same main
/// process), and the deploy user logs in with their key.
#[test]
fn the_ssh_web_example_serves_its_page_and_reloads_nginx_when_the_site_changes() {
    let debian = Debian::start();
    // Debian starts a service when its package is installed: nginx would take port 80 of
    // this machine (the container shares its network) before the example removes the
    // default site. The example's own `ssh.service` starts it.
    debian.sh("printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d");
    let (deploy_key, deploy_public) = debian.new_key("deploy_key");
    let http_port = ports::free_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/ssh-web/main.infra");
    let source = std::fs::read_to_string(example).expect("the example");
    write_module(dir.path(), &source);
    std::fs::write(
        dir.path().join("inputs.vars"),
        format!(
            "host = \"127.0.0.1\"\nport = {}\nprivate_key_path = {:?}\nhttp_port = {http_port}\ndeploy_key = {deploy_public:?}\n",
            debian.port,
            debian.dir.path().join("client_key").display().to_string()
        ),
    )
    .expect("inputs");
    fn with_inputs<'a>(args: &[&'a str]) -> Vec<&'a str> {
        [args, &["--var-file", "inputs.vars"]].concat()
    }
    let infra = |args: &[&str]| ok(dir.path(), &with_inputs(args));

    infra(&["apply", "--auto-approve"]);
    let page = http_get(http_port);
    assert!(page.contains("<h1>Hello from www.example.com</h1>"), "{page}");
    assert!(page.contains("X-Served-By: infra\r\n"), "{page}");
    let (code, printed) = outcome(dir.path(), &with_inputs(&["plan", "--detailed-exitcode"]));
    assert_eq!(code, 0, "nothing to do after apply:\n{printed}");
    let main_pid = || debian.sh("systemctl show -p MainPID --value nginx");
    let first = main_pid();

    // A new page is written; nginx is left alone.
    write_module(dir.path(), &source.replace("<h1>Hello from", "<h1>Welcome to"));
    let printed = infra(&["apply", "--auto-approve"]);
    assert!(printed.contains("page") && !printed.contains("reloads"), "{printed}");
    assert!(http_get(http_port).contains("<h1>Welcome to www.example.com</h1>"));

    // A new site file is checked by `nginx -t`, written, and nginx reloaded: the plan
    // says so, and the same main process serves the new configuration.
    let changed =
        source.replace("<h1>Hello from", "<h1>Welcome to").replace("X-Served-By infra;", "X-Served-By infra-2;");
    write_module(dir.path(), &changed);
    let printed = infra(&["plan"]);
    assert!(printed.contains("reloads") && printed.contains("0 -> 1"), "{printed}");
    infra(&["apply", "--auto-approve"]);
    assert!(served_soon(http_port, "X-Served-By: infra-2\r\n"), "the new site is served");
    assert_eq!(main_pid(), first, "reloaded, not restarted");
    let (code, printed) = outcome(dir.path(), &with_inputs(&["plan", "--detailed-exitcode"]));
    assert_eq!(code, 0, "nothing to do after the reload:\n{printed}");

    // A site file nginx refuses never replaces the one it serves.
    write_module(dir.path(), &changed.replace("index index.html;", "index index.html; no_such_directive on;"));
    let printed = fails(dir.path(), &with_inputs(&["apply", "--auto-approve"]));
    assert!(printed.contains("`validate` refused"), "{printed}");
    assert!(http_get(http_port).contains("X-Served-By: infra-2\r\n"));

    // The deploy user logs in with their key and may update the page.
    let login = debian.run_as("deploy", &deploy_key, "echo updated > /var/www/www.example.com/index.html && id -un");
    assert_eq!(String::from_utf8_lossy(&login.stdout).trim(), "deploy", "{}", String::from_utf8_lossy(&login.stderr));
}

#[test]
fn a_password_logs_in_and_never_shows() {
    let debian = Debian::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = "Corr3ct-Horse-Battery";
    debian.sh(&format!("useradd -m -s /bin/sh pat && echo 'pat:{secret}' | chpasswd"));
    // A second sshd in the container that takes passwords (the first takes keys only).
    let port = ports::free_port();
    debian.sh(&format!(
        "/usr/sbin/sshd -p {port} -o PasswordAuthentication=yes -o KbdInteractiveAuthentication=no \
         -o PidFile=/run/sshd-password.pid"
    ));
    // sshd returns as it goes into the background, before it listens: wait for its banner,
    // or a loaded machine's apply can knock before anyone answers.
    let start = std::time::Instant::now();
    while !ssh_banner(port) {
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "the password sshd did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    write_module(
        dir.path(),
        &format!(
            "input password: string {{ sensitive = true }}\n\
             provider ssh {{\n  host     = \"127.0.0.1\"\n  port     = {port}\n  user     = \"pat\"\n  password = password\n}}\n\
             resource ssh.file hello {{\n  path    = \"/home/pat/hello\"\n  content = \"hi from pat\\n\"\n}}\n"
        ),
    );
    let var = format!("password={secret}");
    let applied = ok(dir.path(), &["apply", "--auto-approve", "--var", &var]);
    assert!(!applied.contains(secret), "{applied}");
    assert_eq!(debian.sh("cat /home/pat/hello"), "hi from pat");
    assert_eq!(debian.sh("stat -c %U /home/pat/hello"), "pat");
    let (code, plan) = outcome(dir.path(), &["plan", "--detailed-exitcode", "--var", &var]);
    assert_eq!(code, 0, "{plan}");

    let wrong = "Wr0ng-Horse-Battery";
    let refused = fails(dir.path(), &["plan", "--var", &format!("password={wrong}")]);
    assert!(refused.contains("refused"), "{refused}");
    assert!(!refused.contains(wrong) && !refused.contains(secret), "{refused}");
    let state = std::fs::read_to_string(dir.path().join("infra.state.json")).expect("the state file");
    assert!(!state.contains(secret), "the password is not kept in state");
}

/// Whether an SSH server answers on `port` of 127.0.0.1 with its banner.
fn ssh_banner(port: u16) -> bool {
    use std::io::Read;
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
    let mut banner = [0u8; 4];
    stream.read_exact(&mut banner).is_ok() && &banner == b"SSH-"
}

/// Regressions: a system user without `home` got /home/NAME made with the skeleton
/// files (`home` was unknown in the plan, not unset, so `useradd -m` ran); a package
/// installed already was planned as "will be created" with no word that destroying the
/// resource removes it, and `apt-get remove` then took the packages that depend on it
/// (`ca-certificates` with `openssl`) though the plan named only the one.
#[test]
fn regression_a_system_user_gets_no_home_and_a_package_others_need_is_not_removed_with_them() {
    let debian = Debian::start();
    let dir = tempfile::tempdir().expect("temp dir");
    module(
        dir.path(),
        &debian,
        "resource ssh.user svc {\n  name   = \"svcacct\"\n  system = true\n}\n\
         resource ssh.package openssl {\n  name = \"openssl\"\n}\n",
    );
    let printed = ok(dir.path(), &["plan"]);
    assert!(printed.contains("the package `openssl` is installed on the server already"), "{printed}");
    apply(dir.path());
    assert!(!debian.succeeds("test -e /home/svcacct"), "no home made for a system user");
    assert!(debian.sh("id -u svcacct").parse::<u32>().expect("uid") < 1000);
    converged(dir.path());

    let printed = fails(dir.path(), &["destroy", "--auto-approve"]);
    assert!(printed.contains("would also remove") && printed.contains("`ca-certificates`"), "{printed}");
    assert!(printed.contains("infra state rm"), "{printed}");
    let installed = |name: &str| debian.succeeds(&format!("dpkg -s {name} | grep -qx 'Status: install ok installed'"));
    assert!(installed("openssl") && installed("ca-certificates"), "nothing was removed");
    assert!(!debian.succeeds("getent passwd svcacct"), "the user was deleted");
}

/// Regression: a symbolic link planted at a managed path by an unprivileged user was
/// followed by Infra running as root: an `ssh.directory` over a link to `/etc` made
/// `/etc` the user's (`chmod`, `chown` through the link), and an `ssh.file` where the
/// user's link to a file stood showed that file's content as drift. Now the plan names
/// each link, and apply replaces the links themselves, changing nothing they point at.
#[test]
fn regression_links_planted_at_managed_paths_are_replaced_never_written_through() {
    let debian = Debian::start();
    let dir = tempfile::tempdir().expect("temp dir");
    debian.sh(
        "useradd -m mallory && install -d -o mallory /srv/drop && \
         ln -s /etc/passwd /srv/drop/motd && ln -s /etc /srv/drop/site && chown -h mallory /srv/drop/motd /srv/drop/site",
    );
    let guarded = "sha256sum /etc/passwd /etc/shadow && stat -c '%a %U:%G' /etc";
    let before = debian.sh(guarded);
    module(
        dir.path(),
        &debian,
        "resource ssh.file motd {\n  path    = \"/srv/drop/motd\"\n  content = \"managed\\n\"\n  owner   = \"mallory\"\n}\n\
         resource ssh.directory site {\n  path  = \"/srv/drop/site\"\n  owner = \"mallory\"\n  mode  = \"0700\"\n}\n",
    );
    let printed = ok(dir.path(), &["plan"]);
    let squeezed: String = printed.chars().filter(|c| !c.is_whitespace() && *c != '│').collect();
    assert!(squeezed.contains("`/srv/drop/motd`ontheserverisasymboliclink(to`/etc/passwd`)"), "{printed}");
    assert!(squeezed.contains("`/srv/drop/site`ontheserverisasymboliclink(to`/etc`)"), "{printed}");
    apply(dir.path());
    assert_eq!(debian.sh(guarded), before, "nothing the links pointed at changed");
    assert_eq!(
        debian.sh("stat -c '%F %a %U' /srv/drop/motd && cat /srv/drop/motd"),
        "regular file 644 mallory\nmanaged"
    );
    assert_eq!(debian.sh("stat -c '%F %a %U' /srv/drop/site"), "directory 700 mallory");
    converged(dir.path());

    // Planted again, where Infra's file was: the plan makes it again, and nothing is read
    // or written through the link.
    debian.sh("rm /srv/drop/motd && ln -s /etc/shadow /srv/drop/motd");
    let (code, printed) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{printed}");
    assert!(printed.contains("motd has been deleted outside of Infra"), "{printed}");
    assert!(!printed.contains("root:"), "nothing of /etc/shadow is shown: {printed}");
    apply(dir.path());
    assert_eq!(debian.sh(guarded), before, "nothing the link pointed at changed");
    assert_eq!(debian.sh("stat -c '%F' /srv/drop/motd && cat /srv/drop/motd"), "regular file\nmanaged");
    converged(dir.path());
}

/// Regression: `ssh.user`'s `authorized_keys` were read and written by root through
/// whatever the user had put at `~/.ssh`: a user who replaced `~/.ssh` with a link to
/// `/root/.ssh` had Infra hand `/root/.ssh` to them and write their keys into root's
/// `authorized_keys`, and a link `~/.ssh/authorized_keys` to `/etc/shadow` showed the
/// shadow file's lines as keys in the plan. Now a linked `~/.ssh` is refused with an
/// error, the keys are read and written as the user, and a linked `authorized_keys` is
/// read as absent and replaced by the file, changing nothing it points at.
#[test]
fn regression_links_planted_in_a_users_ssh_directory_are_never_followed_by_root() {
    let debian = Debian::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, mallory_public) = debian.new_key("mallory_key");
    let guarded = "sha256sum /root/.ssh/authorized_keys /etc/shadow && stat -c '%a %U:%G' /root/.ssh";
    let body = |keys: &[&str]| {
        let keys: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
        format!(
            "resource ssh.user mallory {{\n  name            = \"mallory\"\n  authorized_keys = [{}]\n}}\n",
            keys.join(", ")
        )
    };
    module(dir.path(), &debian, &body(&[&mallory_public]));
    apply(dir.path());
    assert_eq!(
        debian.sh("stat -c '%F %a %U' /home/mallory/.ssh /home/mallory/.ssh/authorized_keys"),
        "directory 700 mallory\nregular file 600 mallory"
    );
    converged(dir.path());
    // Planted by the user, as the user.
    let as_mallory = |script: &str| debian.sh(&format!("su -s /bin/sh mallory -c '{script}'"));

    // `~/.ssh` a link to root's: the plan shows nothing of root's keys, the apply is
    // refused, and root's directory and keys are as they were.
    let before = debian.sh(guarded);
    let root_keys = debian.sh("cat /root/.ssh/authorized_keys");
    as_mallory("rm -r ~/.ssh && ln -s /root/.ssh ~/.ssh");
    module(dir.path(), &debian, &body(&[&mallory_public, KEY_ONE]));
    let printed = ok(dir.path(), &["plan"]);
    assert!(
        !printed.contains(root_keys.split_whitespace().nth(1).expect("a key")),
        "nothing of root's keys: {printed}"
    );
    let printed = fails(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(debian.sh(guarded), before, "root's keys and directory are unchanged");
    let squeezed: String = printed.chars().filter(|c| !c.is_whitespace() && *c != '│').collect();
    assert!(squeezed.contains("E0610"), "{printed}");
    assert!(squeezed.contains("`/home/mallory/.ssh`isasymboliclink"), "{printed}");

    // `authorized_keys` a link to /etc/shadow: read as absent, replaced by the file.
    as_mallory("rm ~/.ssh && mkdir -m 700 ~/.ssh && ln -s /etc/shadow ~/.ssh/authorized_keys");
    let (code, printed) = outcome(dir.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{printed}");
    assert!(!printed.contains("root:"), "nothing of /etc/shadow is shown: {printed}");
    apply(dir.path());
    assert_eq!(debian.sh(guarded), before, "nothing the link pointed at changed");
    assert_eq!(
        debian.sh("stat -c '%F %U' /home/mallory/.ssh/authorized_keys && cat /home/mallory/.ssh/authorized_keys"),
        format!("regular file mallory\n{mallory_public}\n{KEY_ONE}")
    );
    converged(dir.path());
    let state = ok(dir.path(), &["state", "show", "mallory"]);
    assert!(!state.contains("root:"), "{state}");
}

/// Regression: a user made by `useradd` whose keys were then refused (a link at
/// `~/.ssh`) was not recorded: the create failed after the user existed, and the next
/// apply said the user "exists on the server already" and asked for an import. The user
/// is now reported once made, so the state records it and the next apply writes the keys.
#[test]
fn a_user_made_before_its_keys_were_refused_is_recorded() {
    let debian = Debian::start();
    let dir = tempfile::tempdir().expect("temp dir");
    debian.sh("install -d -m 755 /srv/home-deploy && ln -s /tmp /srv/home-deploy/.ssh");
    module(
        dir.path(),
        &debian,
        &format!(
            "resource ssh.user deploy {{\n  name            = \"deploy\"\n  home            = \"/srv/home-deploy\"\n  \
             authorized_keys = [{KEY_ONE:?}]\n}}\n"
        ),
    );
    let printed = fails(dir.path(), &["apply", "--auto-approve"]);
    assert!(squeezed(&printed).contains("`/srv/home-deploy/.ssh`isasymboliclink"), "{printed}");
    assert!(debian.succeeds("getent passwd deploy"), "useradd ran before the keys were refused");
    let listed = ok(dir.path(), &["state", "list"]);
    assert!(listed.lines().any(|line| line.split_whitespace().next() == Some("deploy")), "recorded: {listed}");

    debian.sh("rm /srv/home-deploy/.ssh");
    let printed = apply(dir.path());
    assert!(!printed.contains("exists on the server already"), "{printed}");
    assert_eq!(debian.sh("cat /srv/home-deploy/.ssh/authorized_keys"), KEY_ONE);
    converged(dir.path());
}

/// What a root-owned directory of the container holds, with its mode and owner: for
/// checking that nothing Infra did as root reached it.
fn victim(debian: &Debian, path: &str) -> String {
    debian.sh(&format!("stat -c '%a %U:%G' {path} && ls -A {path} && cat {path}/file"))
}

/// `printed` without whitespace and box drawing, for messages the output wraps.
fn squeezed(printed: &str) -> String {
    printed.chars().filter(|c| !c.is_whitespace() && *c != '│').collect()
}

/// Regression: `ssh.user`'s home directory was made and written in by root through
/// whatever stood at its path: with `home` in a directory others may write to (a shared
/// `/srv/pub`, not sticky), another user who put a link to `/etc/infra-victim` there had
/// `useradd` adopt the link and root make `.ssh` in `/etc/infra-victim`, chowned to the
/// new user. Now a link at the home is refused before `useradd` and again before
/// anything is made in it, and a home owned by someone else is refused.
#[test]
fn regression_a_link_at_a_users_home_is_refused_never_followed_by_root() {
    let debian = Debian::start();
    let dir = tempfile::tempdir().expect("temp dir");
    debian.sh(
        "install -d -m 777 /srv/pub && install -d -m 755 /etc/infra-victim && echo keep > /etc/infra-victim/file && \
         useradd -m mallory",
    );
    let as_mallory = |script: &str| debian.sh(&format!("su -s /bin/sh mallory -c '{script}'"));
    let before = victim(&debian, "/etc/infra-victim");
    let body = |keys: &[&str]| {
        let keys: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
        format!(
            "resource ssh.user deploy {{\n  name            = \"deploy\"\n  home            = \"/srv/pub/deploy\"\n  \
             authorized_keys = [{}]\n}}\n",
            keys.join(", ")
        )
    };
    let refused = "thehomedirectory`/srv/pub/deploy`oftheuser`deploy`isasymboliclink";

    // Planted before the user is made: refused before `useradd`, nothing made anywhere.
    as_mallory("ln -s /etc/infra-victim /srv/pub/deploy");
    module(dir.path(), &debian, &body(&[KEY_ONE]));
    let printed = fails(dir.path(), &["apply", "--auto-approve"]);
    assert!(squeezed(&printed).contains("E0610"), "{printed}");
    assert!(squeezed(&printed).contains(refused), "{printed}");
    assert!(printed.contains("readlink -f"), "the hint: {printed}");
    assert_eq!(victim(&debian, "/etc/infra-victim"), before, "nothing was made or chowned through the link");
    assert!(!debian.succeeds("getent passwd deploy"), "no user was made");

    // Without the link the user is made as usual.
    as_mallory("rm /srv/pub/deploy");
    apply(dir.path());
    assert_eq!(
        debian.sh("stat -c '%F %U' /srv/pub/deploy /srv/pub/deploy/.ssh && cat /srv/pub/deploy/.ssh/authorized_keys"),
        format!("directory deploy\ndirectory deploy\n{KEY_ONE}")
    );
    converged(dir.path());

    // Swapped for a link once the user exists (the directory renamed away): the keys
    // are not written, nothing is made where the link leads.
    as_mallory("mv /srv/pub/deploy /srv/pub/deploy.old && ln -s /etc/infra-victim /srv/pub/deploy");
    let login_key = std::fs::read_to_string(debian.dir.path().join("client_key.pub")).expect("key");
    module(dir.path(), &debian, &body(&[KEY_ONE, login_key.trim()]));
    let printed = fails(dir.path(), &["apply", "--auto-approve"]);
    assert!(squeezed(&printed).contains(refused), "{printed}");
    assert_eq!(victim(&debian, "/etc/infra-victim"), before, "nothing was made or chowned through the link");

    // Swapped for a directory of another user's: refused too (its owner could put links
    // in it between root's steps, or read the keys).
    as_mallory("rm /srv/pub/deploy && mkdir /srv/pub/deploy");
    let printed = fails(dir.path(), &["apply", "--auto-approve"]);
    assert!(
        squeezed(&printed)
            .contains("thehomedirectory`/srv/pub/deploy`oftheuser`deploy`isownedbyneither`deploy`norroot"),
        "{printed}"
    );
    assert!(!debian.succeeds("test -e /srv/pub/deploy/.ssh"), "nothing made in it");

    // The user's own directory back: the keys are written.
    as_mallory("rmdir /srv/pub/deploy && mv /srv/pub/deploy.old /srv/pub/deploy");
    apply(dir.path());
    assert_eq!(debian.sh("wc -l < /srv/pub/deploy/.ssh/authorized_keys"), "2");
    converged(dir.path());
    assert_eq!(victim(&debian, "/etc/infra-victim"), before);
}

/// Regression: a new `home` at which another user had put a link (dangling, to
/// `/etc/infra-made`) was handed to `usermod -m`, which failed to move the home but
/// recorded the link as the user's home all the same; the next change of the keys then
/// had root make `/etc/infra-made` and a `.ssh` in it for the user. Now the link is
/// refused before `usermod` runs, and the user's home is left as it was.
#[test]
fn regression_moving_a_users_home_to_a_linked_path_is_refused() {
    let debian = Debian::start();
    let dir = tempfile::tempdir().expect("temp dir");
    debian.sh("install -d -m 777 /srv/pub && useradd -m mallory");
    let as_mallory = |script: &str| debian.sh(&format!("su -s /bin/sh mallory -c '{script}'"));
    let body = |home: &str| {
        format!(
            "resource ssh.user deploy {{\n  name            = \"deploy\"\n  home            = \"{home}\"\n  \
             authorized_keys = [{KEY_ONE:?}]\n}}\n"
        )
    };
    module(dir.path(), &debian, &body("/srv/pub/deploy"));
    apply(dir.path());
    converged(dir.path());

    as_mallory("ln -s /etc/infra-made /srv/pub/moved");
    module(dir.path(), &debian, &body("/srv/pub/moved"));
    for _ in 0..2 {
        let (code, printed) = outcome(dir.path(), &["apply", "--auto-approve"]);
        assert_eq!(debian.sh("getent passwd deploy | cut -d: -f6"), "/srv/pub/deploy", "the home is unchanged");
        assert_eq!(code, 1, "{printed}");
        assert!(
            squeezed(&printed).contains("thehomedirectory`/srv/pub/moved`oftheuser`deploy`isasymboliclink"),
            "{printed}"
        );
        assert!(!debian.succeeds("test -e /etc/infra-made"), "nothing made where the link leads");
        assert_eq!(debian.sh("cat /srv/pub/deploy/.ssh/authorized_keys"), KEY_ONE);
    }

    // Without the link the home moves, keys and all.
    as_mallory("rm /srv/pub/moved");
    apply(dir.path());
    assert_eq!(debian.sh("getent passwd deploy | cut -d: -f6"), "/srv/pub/moved");
    assert_eq!(
        debian.sh("stat -c %U /srv/pub/moved && cat /srv/pub/moved/.ssh/authorized_keys"),
        format!("deploy\n{KEY_ONE}")
    );
    assert!(!debian.succeeds("test -e /srv/pub/deploy"), "moved, not copied");
    converged(dir.path());
}
