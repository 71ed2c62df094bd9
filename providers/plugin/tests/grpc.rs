//! Talking gRPC to the real terraform-provider-workato 0.16.0 over TLS on its Unix
//! socket: the protocol version it chose, its schema, and a stop.

#[path = "../../../cli/tests/support/workato.rs"]
mod workato;

use std::path::PathBuf;
use std::time::Duration;

use infra_compiler::types::Type;
use infra_provider_plugin::client::{learn_schema, Connection};
use infra_provider_plugin::handshake::{start, ClientCertificate, StartOptions};
use infra_provider_plugin::schema::{infra_provider, Nesting};

fn program() -> PathBuf {
    workato::mirror().join("registry.terraform.io/local/workato/0.16.0/linux_amd64/terraform-provider-workato_v0.16.0")
}

#[test]
fn the_workato_plugin_answers_its_schema_over_protocol_6() {
    let dir = tempfile::tempdir().unwrap();
    let learned = learn_schema(&program(), &dir.path().join("plugin.log")).unwrap();
    assert_eq!(learned.protocol, 6);
    let schema = learned.schema;
    // The provider's configuration: `base_url` and the sensitive `api_key`.
    let api_key = schema.provider.attributes.iter().find(|a| a.name == "api_key").expect("api_key");
    assert!(api_key.sensitive);
    assert!(schema.provider.attributes.iter().any(|a| a.name == "base_url"));
    // Its resources, by Terraform's names.
    for kind in ["workato_folder", "workato_project"] {
        assert!(schema.resources.contains_key(kind), "{kind} in {:?}", schema.resources.keys());
    }
    let folder = &schema.resources["workato_folder"].block;
    let name = folder.attributes.iter().find(|a| a.name == "name").expect("a folder has a name");
    assert!(name.required, "{name:?}");
    assert!(!name.description.is_empty(), "the plugin describes `name`");
    let created = folder.attributes.iter().find(|a| a.name == "created_at").expect("a folder has created_at");
    assert!(created.computed && !created.optional && !created.required);
    let id = folder.attributes.iter().find(|a| a.name == "id").expect("a folder has an id");
    assert!(id.optional && id.computed);
    // As Infra sees it: `workato.folder`, its attributes typed.
    let provider = infra_provider("workato", "workato", "", &schema);
    let folder = &provider.resources["folder"];
    assert_eq!(folder.attribute("name").unwrap().ty, Type::String);
    assert!(folder.attribute("name").unwrap().required);
    assert_eq!(folder.attribute("folder_id").unwrap().ty, Type::Number);
    assert!(folder.attribute("created_at").unwrap().is_computed_only());
    let id = folder.attribute("id").unwrap();
    assert!(id.computed && id.settable, "optional and computed");
    assert!(provider.config.attribute("api_key").unwrap().sensitive);
    // Whatever nesting the plugin uses is one the protocol names.
    let nestings: Vec<Nesting> =
        schema.resources.values().flat_map(|r| r.block.blocks.iter().map(|b| b.nesting)).collect();
    assert!(nestings
        .iter()
        .all(|n| matches!(n, Nesting::Single | Nesting::Group | Nesting::List | Nesting::Set | Nesting::Map)));
}

#[test]
fn a_connection_over_mutual_tls_asks_twice_and_stops_the_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let certificate = ClientCertificate::generate().unwrap();
    let program = program();
    let log = dir.path().join("plugin.log");
    let process = start(&StartOptions {
        program: &program,
        client_certificate: Some(&certificate),
        log: &log,
        timeout: Duration::from_secs(60),
    })
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut connection = Connection::open(&process, &certificate).await.unwrap();
        assert_eq!(connection.protocol(), 6);
        let first = connection.schema().await.unwrap();
        let second = connection.schema().await.unwrap();
        assert_eq!(first, second, "the same connection answers again, the same");
        connection.stop().await.unwrap();
    });
}

#[test]
fn a_connection_with_another_client_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let given = ClientCertificate::generate().unwrap();
    let other = ClientCertificate::generate().unwrap();
    let program = program();
    let log = dir.path().join("plugin.log");
    let process = start(&StartOptions {
        program: &program,
        client_certificate: Some(&given),
        log: &log,
        timeout: Duration::from_secs(60),
    })
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let refused = runtime.block_on(async {
        match Connection::open(&process, &other).await {
            Err(error) => error.to_string(),
            Ok(mut connection) => match connection.schema().await {
                Err(error) => error.to_string(),
                Ok(_) => panic!("the plugin answered a client it did not certify"),
            },
        }
    });
    assert!(!refused.is_empty());
}

/// The provider configuration crosses as MessagePack by the provider's schema: a
/// configuration the plugin accepts configures it, and one it refuses comes back as its
/// diagnostics, pointing at the attribute.
#[test]
fn the_workato_plugin_validates_and_configures_its_provider() {
    use infra_provider_plugin::values::PluginValue;
    let dir = tempfile::tempdir().unwrap();
    let certificate = ClientCertificate::generate().unwrap();
    let program = program();
    let log = dir.path().join("plugin.log");
    let options = StartOptions {
        program: &program,
        client_certificate: Some(&certificate),
        log: &log,
        timeout: Duration::from_secs(60),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    let process = start(&options).unwrap();
    runtime.block_on(async {
        let mut connection = Connection::open(&process, &certificate).await.unwrap();
        let schema = connection.schema().await.unwrap();
        let good = PluginValue::object([
            ("base_url", PluginValue::string("https://127.0.0.1:8443")),
            ("api_key", PluginValue::string("key-123")),
        ]);
        let diagnostics = connection.validate_provider_config(&good, &schema.provider).await.unwrap();
        assert!(diagnostics.iter().all(|d| !d.error), "{diagnostics:?}");
        let diagnostics = connection.configure_provider(&good, &schema.provider).await.unwrap();
        assert!(diagnostics.iter().all(|d| !d.error), "{diagnostics:?}");
    });
    drop(process);

    let process = start(&options).unwrap();
    runtime.block_on(async {
        let mut connection = Connection::open(&process, &certificate).await.unwrap();
        let schema = connection.schema().await.unwrap();
        let plain_http = PluginValue::object([
            ("base_url", PluginValue::string("http://127.0.0.1:8080")),
            ("api_key", PluginValue::string("key-123")),
        ]);
        // The plugin checks the scheme when it is configured, not when it validates.
        let validated = connection.validate_provider_config(&plain_http, &schema.provider).await.unwrap();
        assert_eq!(validated, []);
        let configured = connection.configure_provider(&plain_http, &schema.provider).await.unwrap();
        let [error] = &configured[..] else { panic!("one diagnostic: {configured:?}") };
        assert!(error.error);
        assert_eq!(error.summary, "base_url must start with https:// (http:// is not allowed)");
        assert!(!format!("{configured:?}").contains("key-123"), "the API key is not repeated");
        // A value that does not fit the schema is refused before it is sent.
        let wrong = PluginValue::object([("base_url", PluginValue::Bool(true))]);
        let refused = connection.configure_provider(&wrong, &schema.provider).await.unwrap_err();
        assert!(refused.to_string().contains("`base_url`"), "{refused}");
    });
}
