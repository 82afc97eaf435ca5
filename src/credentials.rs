//! Verifiable result credentials: for each final result, a statement
//! (person, task, rank of N, private score, metric, the ranking
//! submission's SHA-256, scorer version, date) signed with the server's
//! Ed25519 key. The public key is served at `/.well-known/gaic-credential-key`;
//! `gaic verify FILE --public-key KEY` checks a credential offline.
//!
//! The signature covers the compact JSON of the `credential` object exactly
//! as its fields are ordered here; changing any field breaks it.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What is signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    /// Always `gaic-result/1`.
    pub kind: String,
    /// The issuing server's name for itself (its public URL when known).
    pub issuer: String,
    /// The person's username.
    pub username: String,
    /// Their display name.
    pub display_name: String,
    /// Task slug.
    pub task: String,
    /// Task title.
    pub task_title: String,
    /// Private-board rank.
    pub rank: u32,
    /// Ranked teams.
    pub of: usize,
    /// Private score.
    pub private_score: f64,
    /// The metric.
    pub metric: String,
    /// SHA-256 of the submission that ranked (its content).
    pub submission_sha256: String,
    /// The scorer's version (the gaic version).
    pub scorer_version: String,
    /// When the task closed (RFC 3339).
    pub date: String,
}

/// A credential with its signature.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    /// The statement.
    pub credential: Credential,
    /// Ed25519 over the compact JSON of `credential`, base64.
    pub signature: String,
    /// The signing key, base64 (for information: verify against the key
    /// you trust, from the issuer's `/.well-known/gaic-credential-key`).
    pub public_key: String,
}

/// The server's signing key, kept as 32 bytes in `data_dir/credential-key`
/// (owner-only); created on first use.
pub fn signing_key(data_dir: &Path) -> anyhow::Result<SigningKey> {
    let path = data_dir.join("credential-key");
    if let Ok(bytes) = std::fs::read(&path) {
        let seed: [u8; 32] =
            bytes.try_into().map_err(|_| anyhow::anyhow!("{} is not a 32-byte key", path.display()))?;
        return Ok(SigningKey::from_bytes(&seed));
    }
    let seed: [u8; 32] = rand::random();
    std::fs::create_dir_all(data_dir)?;
    let tmp = tempfile::NamedTempFile::new_in(data_dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    std::io::Write::write_all(&mut tmp.as_file(), &seed)?;
    // Another replica may have won the race: keep whichever landed first.
    match tmp.persist_noclobber(&path) {
        Ok(_) => Ok(SigningKey::from_bytes(&seed)),
        Err(_) => signing_key(data_dir),
    }
}

/// Signs a credential.
pub fn sign(key: &SigningKey, credential: Credential) -> Signed {
    let bytes = serde_json::to_vec(&credential).unwrap_or_default();
    Signed {
        signature: B64.encode(key.sign(&bytes).to_bytes()),
        public_key: B64.encode(key.verifying_key().to_bytes()),
        credential,
    }
}

/// Checks a signed credential against a trusted public key (base64).
pub fn verify(signed: &Signed, public_key_b64: &str) -> Result<(), String> {
    let key: [u8; 32] = B64
        .decode(public_key_b64.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the public key is not 32 bytes of base64")?;
    let key = VerifyingKey::from_bytes(&key).map_err(|e| format!("the public key is not valid: {e}"))?;
    let sig: [u8; 64] = B64
        .decode(signed.signature.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("the signature is not 64 bytes of base64")?;
    let bytes = serde_json::to_vec(&signed.credential).map_err(|e| e.to_string())?;
    key.verify(&bytes, &Signature::from_bytes(&sig))
        .map_err(|_| "the signature does not match: the credential was changed or signed by another key".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Credential {
        Credential {
            kind: "gaic-result/1".into(),
            issuer: "test".into(),
            username: "ana".into(),
            display_name: "Ana".into(),
            task: "digits".into(),
            task_title: "Digits".into(),
            rank: 1,
            of: 12,
            private_score: 0.974025974025974,
            metric: "accuracy".into(),
            submission_sha256: "ab".repeat(32),
            scorer_version: "0.1.0".into(),
            date: "2026-11-29T00:00:00Z".into(),
        }
    }

    #[test]
    fn a_signed_credential_verifies_and_any_change_breaks_it() {
        let dir = tempfile::tempdir().unwrap();
        let key = signing_key(dir.path()).unwrap();
        assert_eq!(signing_key(dir.path()).unwrap().to_bytes(), key.to_bytes(), "the key is kept");
        let signed = sign(&key, sample());
        let public = B64.encode(key.verifying_key().to_bytes());
        assert!(verify(&signed, &public).is_ok());
        // Through JSON and back, as a file would travel.
        let back: Signed = serde_json::from_str(&serde_json::to_string_pretty(&signed).unwrap()).unwrap();
        assert!(verify(&back, &public).is_ok());
        let mut tampered = back.clone();
        tampered.credential.rank = 2;
        assert!(verify(&tampered, &public).is_err());
        let mut tampered = back;
        tampered.credential.private_score = 0.99;
        assert!(verify(&tampered, &public).is_err());
        let other = SigningKey::from_bytes(&[7; 32]);
        assert!(verify(&sign(&other, sample()), &public).is_err(), "another key");
    }
}
