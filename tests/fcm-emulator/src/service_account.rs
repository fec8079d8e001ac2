//! Service-account key files as the Firebase console gives them, and a throwaway one for
//! tests and local runs: a fresh 2048-bit RSA key made by the `openssl` command at run
//! time (no private key is ever committed).

use std::process::Command;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// The fields of a key file that FCM clients use (the file has a few more).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccount {
    #[serde(rename = "type")]
    pub kind: String,
    pub project_id: String,
    pub private_key_id: String,
    /// PKCS#8 PEM.
    pub private_key: String,
    pub client_email: String,
    pub token_uri: String,
}

impl ServiceAccount {
    /// A new key for `project_id` whose token endpoint is `token_uri`.
    pub fn generate(project_id: &str, token_uri: &str) -> anyhow::Result<ServiceAccount> {
        let out = Command::new("openssl")
            .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
            .output()
            .context("running openssl genpkey (is the openssl command installed?)")?;
        if !out.status.success() {
            bail!("openssl genpkey failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let private_key = String::from_utf8(out.stdout).context("openssl printed something that is not text")?;
        if !private_key.starts_with("-----BEGIN PRIVATE KEY-----") {
            bail!("openssl genpkey did not print a PKCS#8 key");
        }
        Ok(ServiceAccount {
            kind: "service_account".to_owned(),
            project_id: project_id.to_owned(),
            private_key_id: uuid::Uuid::new_v4().simple().to_string(),
            private_key,
            client_email: format!("firebase-adminsdk@{project_id}.iam.gserviceaccount.com"),
            token_uri: token_uri.to_owned(),
        })
    }

    pub fn from_json(text: &str) -> anyhow::Result<ServiceAccount> {
        serde_json::from_str(text).context("not a service-account key file")
    }

    /// The key file's JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The public half of the key (SPKI PEM), what FCM's token endpoint checks against.
    pub fn public_key_pem(&self) -> anyhow::Result<String> {
        use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(&self.private_key).context("the private key is not PKCS#8 PEM")?;
        key.to_public_key().to_public_key_pem(LineEnding::LF).context("encoding the public key")
    }
}
