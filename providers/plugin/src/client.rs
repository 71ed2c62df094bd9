//! The gRPC connection to a started plugin: TLS over the Unix socket (or TCP address)
//! its handshake line named, with the client certificate the host gave it and the server
//! certificate the line carried, speaking the protocol version the line chose (6, or 5
//! for older plugins): the schema, validating and configuring the provider (values as
//! MessagePack, `values.rs`), and stopping.
//!
//! go-plugin's automatic mutual TLS: each side's certificate is self-signed and trusted
//! as is by the other. The host trusts exactly the certificate of the handshake line
//! (compared byte for byte; the TLS signature is still verified with its key), which is
//! stricter than trusting it as a root, and what `webpki` would refuse anyway: the
//! certificate is a CA used as its own end entity. The plugin's gRPC server wants HTTP/2
//! negotiated with ALPN. go-plugin's certificates are ECDSA on P-521, which `ring`
//! does not verify: the TLS signatures are checked with RustCrypto's `p521`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tonic::transport::{Channel, Endpoint};

use crate::handshake::{self, Address, ClientCertificate, HandshakeError, PluginProcess, StartOptions};
use crate::protocol::{tfplugin5, tfplugin6};
use crate::schema::{self, Block, PluginSchema};
use crate::values::{self, PluginValue};

/// The largest message the host accepts: the schemas of big providers run to tens of
/// megabytes (Terraform allows as much).
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

/// Why talking to a plugin failed.
#[derive(Debug)]
pub enum PluginError {
    Handshake(HandshakeError),
    /// The client certificate could not be made.
    Certificate(String),
    /// The TLS or HTTP/2 connection failed.
    Connect(String),
    /// A call failed: the gRPC status.
    Call {
        call: &'static str,
        message: String,
    },
    /// The plugin answered with error diagnostics: summary and detail of each.
    Diagnostics {
        call: &'static str,
        errors: Vec<String>,
    },
    /// The answer cannot be read (a schema type Infra does not know, say).
    Answer(String),
    /// A value does not fit the schema it is sent under.
    Value(String),
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PluginError::Handshake(error) => error.fmt(f),
            PluginError::Certificate(problem) => write!(f, "no client certificate could be made: {problem}"),
            PluginError::Connect(problem) => write!(f, "the gRPC connection to it failed: {problem}"),
            PluginError::Call { call, message } => write!(f, "its `{call}` call failed: {message}"),
            PluginError::Diagnostics { call, errors } => write!(f, "its `{call}` call reported: {}", errors.join("; ")),
            PluginError::Answer(problem) => write!(f, "its answer cannot be read: {problem}"),
            PluginError::Value(problem) => write!(f, "a value does not fit its schema: {problem}"),
        }
    }
}

impl From<HandshakeError> for PluginError {
    fn from(error: HandshakeError) -> PluginError {
        PluginError::Handshake(error)
    }
}

/// The protocol client, of the version the plugin chose.
#[derive(Clone)]
pub(crate) enum Client {
    V6(tfplugin6::provider_client::ProviderClient<Channel>),
    V5(tfplugin5::provider_client::ProviderClient<Channel>),
}

/// A gRPC connection to a running plugin.
#[derive(Clone)]
pub struct Connection {
    pub(crate) client: Client,
}

impl Connection {
    /// Connects to the plugin `process`, started with `certificate`.
    pub async fn open(process: &PluginProcess, certificate: &ClientCertificate) -> Result<Connection, PluginError> {
        let handshake = &process.handshake;
        let Some(server_certificate) = &handshake.server_certificate else {
            return Err(PluginError::Connect("the plugin offered no TLS certificate".to_string()));
        };
        let server_der = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        )
        .decode(server_certificate)
        .map_err(|e| PluginError::Connect(format!("its certificate is not Base64: {e}")))?;
        let tls = tls_config(server_der, certificate)?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(tls));
        let address = handshake.address.clone();
        let connect = tower::service_fn(move |_: tonic::codegen::http::Uri| {
            let connector = connector.clone();
            let address = address.clone();
            async move {
                let name = ServerName::try_from("localhost").expect("a valid name");
                match address {
                    Address::Unix(path) => {
                        let stream = tokio::net::UnixStream::connect(path).await?;
                        connector.connect(name, stream).await.map(|tls| TokioIo::new(Stream::Unix(Box::new(tls))))
                    }
                    Address::Tcp(address) => {
                        let stream = tokio::net::TcpStream::connect(address).await?;
                        connector.connect(name, stream).await.map(|tls| TokioIo::new(Stream::Tcp(Box::new(tls))))
                    }
                }
            }
        });
        // The URI is only a name: the connector above decides where to connect.
        let channel = Endpoint::from_static("http://plugin")
            .connect_timeout(Duration::from_secs(30))
            .connect_with_connector(connect)
            .await
            .map_err(|e| PluginError::Connect(error_chain(&e)))?;
        let client = match handshake.protocol {
            6 => Client::V6(
                tfplugin6::provider_client::ProviderClient::new(channel)
                    .max_decoding_message_size(MAX_MESSAGE)
                    .max_encoding_message_size(MAX_MESSAGE),
            ),
            _ => Client::V5(
                tfplugin5::provider_client::ProviderClient::new(channel)
                    .max_decoding_message_size(MAX_MESSAGE)
                    .max_encoding_message_size(MAX_MESSAGE),
            ),
        };
        Ok(Connection { client })
    }

    /// The protocol version spoken: 6 or 5.
    pub fn protocol(&self) -> u32 {
        match self.client {
            Client::V6(_) => 6,
            Client::V5(_) => 5,
        }
    }

    /// Every schema the plugin declares: `GetProviderSchema` (protocol 6) or `GetSchema`
    /// (protocol 5).
    pub async fn schema(&mut self) -> Result<PluginSchema, PluginError> {
        match &mut self.client {
            Client::V6(client) => {
                let call = "GetProviderSchema";
                let response = client
                    .get_provider_schema(tfplugin6::get_provider_schema::Request {})
                    .await
                    .map_err(|status| failed(call, &status))?
                    .into_inner();
                let errors = schema::v6_errors(&response.diagnostics);
                if !errors.is_empty() {
                    return Err(PluginError::Diagnostics { call, errors });
                }
                schema::from_v6(response).map_err(PluginError::Answer)
            }
            Client::V5(client) => {
                let call = "GetSchema";
                let response = client
                    .get_schema(tfplugin5::get_provider_schema::Request {})
                    .await
                    .map_err(|status| failed(call, &status))?
                    .into_inner();
                let errors = schema::v5_errors(&response.diagnostics);
                if !errors.is_empty() {
                    return Err(PluginError::Diagnostics { call, errors });
                }
                schema::from_v5(response).map_err(PluginError::Answer)
            }
        }
    }

    /// Validates a provider configuration, a body of the provider schema `schema`
    /// (`ValidateProviderConfig`, or `PrepareProviderConfig` in protocol 5): the
    /// plugin's diagnostics, errors and warnings.
    pub async fn validate_provider_config(
        &mut self,
        config: &PluginValue,
        schema: &Block,
    ) -> Result<Vec<PluginDiagnostic>, PluginError> {
        let msgpack = values::encode_block(config, schema).map_err(PluginError::Value)?;
        match &mut self.client {
            Client::V6(client) => {
                let config = Some(tfplugin6::DynamicValue { msgpack, json: Vec::new() });
                let response = client
                    .validate_provider_config(tfplugin6::validate_provider_config::Request { config })
                    .await
                    .map_err(|status| failed("ValidateProviderConfig", &status))?;
                Ok(response.into_inner().diagnostics.into_iter().map(PluginDiagnostic::from).collect())
            }
            Client::V5(client) => {
                let config = Some(tfplugin5::DynamicValue { msgpack, json: Vec::new() });
                let response = client
                    .prepare_provider_config(tfplugin5::prepare_provider_config::Request { config })
                    .await
                    .map_err(|status| failed("PrepareProviderConfig", &status))?;
                Ok(response.into_inner().diagnostics.into_iter().map(PluginDiagnostic::from).collect())
            }
        }
    }

    /// Configures the provider (`ConfigureProvider`, or `Configure` in protocol 5); its
    /// resources can be used after this, when no diagnostic is an error.
    pub async fn configure_provider(
        &mut self,
        config: &PluginValue,
        schema: &Block,
    ) -> Result<Vec<PluginDiagnostic>, PluginError> {
        let msgpack = values::encode_block(config, schema).map_err(PluginError::Value)?;
        // Plugins see a Terraform version; they may compare it with their minimum.
        let terraform_version = TERRAFORM_VERSION.to_string();
        match &mut self.client {
            Client::V6(client) => {
                let config = Some(tfplugin6::DynamicValue { msgpack, json: Vec::new() });
                let request =
                    tfplugin6::configure_provider::Request { terraform_version, config, client_capabilities: None };
                let response =
                    client.configure_provider(request).await.map_err(|status| failed("ConfigureProvider", &status))?;
                Ok(response.into_inner().diagnostics.into_iter().map(PluginDiagnostic::from).collect())
            }
            Client::V5(client) => {
                let config = Some(tfplugin5::DynamicValue { msgpack, json: Vec::new() });
                let request = tfplugin5::configure::Request { terraform_version, config, client_capabilities: None };
                let response = client.configure(request).await.map_err(|status| failed("Configure", &status))?;
                Ok(response.into_inner().diagnostics.into_iter().map(PluginDiagnostic::from).collect())
            }
        }
    }

    /// Calls the plugin's function `name` with arguments already encoded as MessagePack.
    /// Returns the result's MessagePack, or the function's error text and the index of
    /// the argument it is about.
    pub async fn call_function(
        &mut self,
        name: &str,
        arguments: Vec<Vec<u8>>,
    ) -> Result<Result<Vec<u8>, (String, Option<usize>)>, PluginError> {
        let call = "CallFunction";
        macro_rules! call {
            ($client:expr, $v:ident) => {{
                let arguments =
                    arguments.into_iter().map(|msgpack| $v::DynamicValue { msgpack, json: Vec::new() }).collect();
                let request = $v::call_function::Request { name: name.to_string(), arguments };
                let response =
                    $client.call_function(request).await.map_err(|status| failed(call, &status))?.into_inner();
                match response.error {
                    Some(error) => {
                        let argument = error.function_argument.and_then(|i| usize::try_from(i).ok());
                        Ok(Err((error.text, argument)))
                    }
                    None => Ok(Ok(response.result.map(|r| r.msgpack).unwrap_or_default())),
                }
            }};
        }
        match &mut self.client {
            Client::V6(client) => call!(client, tfplugin6),
            Client::V5(client) => call!(client, tfplugin5),
        }
    }

    /// Asks the plugin to stop what it is doing (`StopProvider`, or `Stop` in protocol 5).
    pub async fn stop(&mut self) -> Result<(), PluginError> {
        let error = match &mut self.client {
            Client::V6(client) => {
                client
                    .stop_provider(tfplugin6::stop_provider::Request {})
                    .await
                    .map_err(|status| failed("StopProvider", &status))?
                    .into_inner()
                    .error
            }
            Client::V5(client) => {
                client
                    .stop(tfplugin5::stop::Request {})
                    .await
                    .map_err(|status| failed("Stop", &status))?
                    .into_inner()
                    .error
            }
        };
        match error.is_empty() {
            true => Ok(()),
            false => Err(PluginError::Call { call: "StopProvider", message: error }),
        }
    }
}

/// The Terraform version the host says it is to a plugin: the one whose protocol
/// features it speaks.
pub const TERRAFORM_VERSION: &str = "1.11.0";

/// A diagnostic a plugin reported, with the attribute it points at, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct PluginDiagnostic {
    pub error: bool,
    pub summary: String,
    pub detail: String,
    /// Where in the value: attribute names and element keys, outermost first.
    pub path: Vec<PathStep>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PathStep {
    Attribute(String),
    Key(String),
    Index(i64),
}

/// The two protocol versions' diagnostics and attribute paths have the same fields.
macro_rules! diagnostic_from {
    ($version:ident, $path:ident) => {
        pub(crate) fn $path(path: Option<$version::AttributePath>) -> Vec<PathStep> {
            use $version::attribute_path::step::Selector;
            let steps = path.map(|path| path.steps).unwrap_or_default();
            steps
                .into_iter()
                .filter_map(|step| {
                    Some(match step.selector? {
                        Selector::AttributeName(name) => PathStep::Attribute(name),
                        Selector::ElementKeyString(key) => PathStep::Key(key),
                        Selector::ElementKeyInt(index) => PathStep::Index(index),
                    })
                })
                .collect()
        }

        impl From<$version::Diagnostic> for PluginDiagnostic {
            fn from(diagnostic: $version::Diagnostic) -> PluginDiagnostic {
                PluginDiagnostic {
                    error: diagnostic.severity == $version::diagnostic::Severity::Error as i32,
                    summary: diagnostic.summary,
                    detail: diagnostic.detail,
                    path: $path(diagnostic.attribute),
                }
            }
        }
    };
}

diagnostic_from!(tfplugin6, path_v6);
diagnostic_from!(tfplugin5, path_v5);

/// What one look at a plugin learned: the protocol it speaks and its schema.
pub struct Learned {
    pub protocol: u32,
    pub schema: PluginSchema,
}

/// Starts the plugin `program` (its log appended to `log`), asks for its schema, and
/// stops it again: what `infra init` does for each installed plugin.
pub fn learn_schema(program: &Path, log: &Path) -> Result<Learned, PluginError> {
    let certificate = ClientCertificate::generate().map_err(|e| PluginError::Certificate(e.to_string()))?;
    let options =
        StartOptions { program, client_certificate: Some(&certificate), log, timeout: Duration::from_secs(60) };
    let process = handshake::start(&options)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PluginError::Connect(e.to_string()))?;
    runtime.block_on(async {
        let mut connection = Connection::open(&process, &certificate).await?;
        let schema = connection.schema().await?;
        Ok(Learned { protocol: connection.protocol(), schema })
    })
    // Dropping the process stops it; a plugin keeps no state between calls here.
}

pub(crate) fn failed(call: &'static str, status: &tonic::Status) -> PluginError {
    PluginError::Call { call, message: format!("{:?}: {}", status.code(), status.message()) }
}

/// An error and its causes, one after another (tonic's transport error says little on
/// its own).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The client's TLS configuration: the plugin's certificate pinned, ours presented,
/// HTTP/2 over ALPN.
fn tls_config(server_der: Vec<u8>, certificate: &ClientCertificate) -> Result<rustls::ClientConfig, PluginError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinnedServer { certificate: server_der });
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certificate.key_der.clone()));
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| PluginError::Connect(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(vec![CertificateDer::from(certificate.certificate_der.clone())], key)
        .map_err(|e| PluginError::Certificate(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Accepts exactly the certificate of the handshake line.
#[derive(Debug)]
struct PinnedServer {
    certificate: Vec<u8>,
}

/// ECDSA with P-521 and SHA-512, the signatures of go-plugin's certificates.
#[derive(Debug)]
struct EcdsaP521Sha512;

impl rustls::pki_types::SignatureVerificationAlgorithm for EcdsaP521Sha512 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), rustls::pki_types::InvalidSignature> {
        use p521::ecdsa::signature::Verifier;
        let invalid = |_| rustls::pki_types::InvalidSignature;
        let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(invalid)?;
        let signature = p521::ecdsa::Signature::from_der(signature).map_err(invalid)?;
        key.verify(message, &signature).map_err(invalid)
    }

    fn public_key_alg_id(&self) -> rustls::pki_types::AlgorithmIdentifier {
        rustls::pki_types::alg_id::ECDSA_P521
    }

    fn signature_alg_id(&self) -> rustls::pki_types::AlgorithmIdentifier {
        rustls::pki_types::alg_id::ECDSA_SHA512
    }
}

/// The signature algorithms a plugin's TLS handshake is verified with.
static PLUGIN_SIGNATURES: rustls::crypto::WebPkiSupportedAlgorithms = rustls::crypto::WebPkiSupportedAlgorithms {
    all: &[&EcdsaP521Sha512],
    mapping: &[(SignatureScheme::ECDSA_NISTP521_SHA512, &[&EcdsaP521Sha512])],
};

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.certificate.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("the plugin presented another certificate than its handshake named".into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &PLUGIN_SIGNATURES)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &PLUGIN_SIGNATURES)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        PLUGIN_SIGNATURES.supported_schemes()
    }
}

/// The TLS stream over either kind of socket.
enum Stream {
    Unix(Box<tokio_rustls::client::TlsStream<tokio::net::UnixStream>>),
    Tcp(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>),
}

impl tokio::io::AsyncRead for Stream {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Unix(s) => std::pin::Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Tcp(s) => std::pin::Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for Stream {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Unix(s) => std::pin::Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::Tcp(s) => std::pin::Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Unix(s) => std::pin::Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Tcp(s) => std::pin::Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Unix(s) => std::pin::Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Tcp(s) => std::pin::Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
