//! Starting plugins: the real terraform-provider-workato 0.16.0 completes go-plugin's
//! handshake, and plugins that exit, stay silent or speak another protocol are refused
//! with what went wrong (the misbehaving plugins are small shell scripts).

#[path = "../../../cli/tests/support/workato.rs"]
mod workato;

use std::path::{Path, PathBuf};
use std::time::Duration;

use infra_provider_plugin::handshake::{start, Address, ClientCertificate, HandshakeError, StartOptions};

/// A shell script plugin in `dir`.
fn script(dir: &Path, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("terraform-provider-fake");
    std::fs::write(&path, format!("#!/bin/sh\n{text}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn started(
    program: &Path,
    log: &Path,
    timeout: Duration,
) -> Result<infra_provider_plugin::handshake::PluginProcess, HandshakeError> {
    start(&StartOptions { program, log, timeout, client_certificate: None })
}

#[test]
fn the_workato_plugin_completes_the_handshake_on_a_unix_socket() {
    let program = workato::mirror()
        .join("registry.terraform.io/local/workato/0.16.0/linux_amd64/terraform-provider-workato_v0.16.0");
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("plugin.log");
    let plugin = started(&program, &log, Duration::from_secs(30)).unwrap();
    assert_eq!(plugin.handshake.protocol, 6);
    let Address::Unix(socket) = &plugin.handshake.address else { panic!("{:?}", plugin.handshake) };
    assert!(socket.exists(), "the plugin listens on {}", socket.display());
    assert_eq!(plugin.handshake.server_certificate, None, "no TLS without a client certificate");
    let socket = socket.clone();
    drop(plugin);
    // A killed go-plugin server leaves its socket behind; stopping it removes that too, so
    // a host that starts plugins many times does not fill the temporary directory.
    assert!(!socket.exists(), "{} is removed once the plugin is stopped", socket.display());
    // Its logs went to the log file, not to the host's output.
    assert!(std::fs::read_to_string(&log).unwrap().contains("plugin address"));
}

/// With a client certificate, the plugin serves TLS and answers with its own certificate
/// (Base64 DER, without padding, as go-plugin writes it).
#[test]
fn given_a_client_certificate_the_workato_plugin_answers_with_its_own() {
    use base64::Engine;
    let program = workato::mirror()
        .join("registry.terraform.io/local/workato/0.16.0/linux_amd64/terraform-provider-workato_v0.16.0");
    let dir = tempfile::tempdir().unwrap();
    let certificate = ClientCertificate::generate().unwrap();
    assert!(certificate.certificate_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let options = StartOptions {
        program: &program,
        log: &dir.path().join("plugin.log"),
        timeout: Duration::from_secs(30),
        client_certificate: Some(&certificate),
    };
    let plugin = start(&options).unwrap();
    let server = plugin.handshake.server_certificate.clone().expect("a server certificate");
    let der = base64::engine::general_purpose::STANDARD_NO_PAD.decode(server.trim_end_matches('=')).unwrap();
    assert_eq!(der[0], 0x30, "a DER sequence");
    assert!(der.len() > 200, "a whole certificate");
}

#[test]
fn a_plugin_that_exits_during_the_handshake_is_an_error_quoting_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let program = script(dir.path(), "echo 'cannot bind the socket' >&2\nexit 3");
    let error = started(&program, &dir.path().join("log"), Duration::from_secs(30)).err().unwrap();
    assert!(matches!(error, HandshakeError::Exited { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "it exited (exit status: 3) before its handshake; its log ends with: cannot bind the socket"
    );
}

#[test]
fn a_plugin_that_never_writes_a_handshake_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let program = script(dir.path(), "exec sleep 600");
    let error = started(&program, &dir.path().join("log"), Duration::from_millis(300)).err().unwrap();
    assert!(matches!(error, HandshakeError::NoHandshake(_)), "{error:?}");
}

#[test]
fn a_plugin_speaking_an_unsupported_protocol_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let program = script(dir.path(), "echo '1|4|unix|/tmp/nowhere|grpc|'\nexec sleep 600");
    let error = started(&program, &dir.path().join("log"), Duration::from_secs(30)).err().unwrap();
    assert_eq!(error.to_string(), "it speaks plugin protocol 4; Infra speaks protocols 5 and 6");
}

#[test]
fn the_plugin_is_given_the_magic_cookie_and_the_protocol_versions() {
    let dir = tempfile::tempdir().unwrap();
    let program = script(
        dir.path(),
        "[ \"$TF_PLUGIN_MAGIC_COOKIE\" = d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2 ] || exit 9\n\
         echo \"1|5|unix|/tmp/$PLUGIN_PROTOCOL_VERSIONS|grpc|\"\nexec sleep 600",
    );
    let plugin = started(&program, &dir.path().join("log"), Duration::from_secs(30)).unwrap();
    assert_eq!(plugin.handshake.protocol, 5);
    assert_eq!(plugin.handshake.address, Address::Unix(PathBuf::from("/tmp/6,5")));
}
