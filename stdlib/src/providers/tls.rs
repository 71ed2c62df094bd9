//! The `tls` provider: key pairs generated locally, such as SSH keys for new servers.

use infra_compiler::schema::{AttributeSchema, ProviderSchema};
use infra_compiler::types::Type;

use super::{kind, provider};

pub fn schema() -> ProviderSchema {
    let private_key = kind(
        "A private key generated locally and kept in state, with its public key.",
        "The SHA-1 hash of the public key, in hexadecimal.",
        vec![
            AttributeSchema::required("algorithm", Type::String, "The key algorithm: \"ED25519\" or \"RSA\".")
                .force_new(),
            AttributeSchema::optional("rsa_bits", Type::Number, "The size of an RSA key in bits; 2048 by default.")
                .force_new(),
            AttributeSchema::computed(
                "public_key_openssh",
                Type::String,
                "The public key in OpenSSH `authorized_keys` format.",
            ),
            AttributeSchema::computed("private_key_pem", Type::String, "The private key in PEM (PKCS#8) format.")
                .sensitive(),
            AttributeSchema::computed(
                "private_key_openssh",
                Type::String,
                "The private key in OpenSSH format, for an SSH client.",
            )
            .sensitive(),
        ],
    );
    provider(
        "tls",
        "Keys generated on the machine that runs Infra, such as SSH key pairs.",
        vec![("private_key", private_key)],
        vec![],
    )
}
