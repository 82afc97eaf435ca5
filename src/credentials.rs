//! Verifiable result credentials: for each final result, a statement
//! (person, task, rank of N, private score, metric, the ranking
//! submission's SHA-256, scorer version, date) signed with the server's
//! Ed25519 key.
//!
//! The signature is detached and covers the exact bytes of `payload`, which
//! the file carries base64: a verifier checks those bytes, never a
//! re-serialisation, so any language can verify (the payload is compact JSON
//! with sorted keys; `scripts/verify_credential.py` does it in Python). The
//! readable `credential` beside it must decode from the payload, field for
//! field. The id of a credential is the SHA-256 of its payload.
//!
//! The key lives in the database, so every replica signs with the same one;
//! the issuer is the server's public URL and each credential names its key
//! id. A credential whose result later changes (disqualified, hidden,
//! rescored, re-ranked) is listed as revoked; `gaic verify --server` asks.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The file format's name.
pub const FORMAT: &str = "gaic-credential/2";

/// What is signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Credential {
    /// Always `gaic-result/2`.
    pub kind: String,
    /// The issuing server's public URL.
    pub issuer: String,
    /// The id of the key that signed it.
    pub key_id: String,
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

/// A credential file: the signed bytes, the signature, and the same
/// statement decoded for reading.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    /// Always `gaic-credential/2`.
    pub format: String,
    /// SHA-256 of the payload bytes, hex: what the revocation list names.
    pub credential_id: String,
    /// The signing key's id (find it at the issuer's
    /// `/.well-known/gaic-credential-key`).
    pub key_id: String,
    /// The signed bytes (compact JSON of the credential, keys sorted), base64.
    pub payload: String,
    /// Ed25519 over the payload bytes, base64.
    pub signature: String,
    /// The payload decoded, for reading; it must match the payload.
    pub credential: Credential,
}

/// The signing key and what names it.
#[derive(Clone)]
pub struct Issuer {
    /// The key.
    pub key: SigningKey,
    /// Its id.
    pub key_id: String,
    /// The server's public URL.
    pub url: String,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuer").field("key_id", &self.key_id).field("url", &self.url).finish_non_exhaustive()
    }
}

/// The issuer over the database's current key, made on first use (the
/// unique slot settles a race between replicas starting together; a key
/// file an older version kept in the data folder becomes the first key).
pub async fn load_issuer(pool: &sqlx::AnyPool, data_dir: &std::path::Path, url: String) -> anyhow::Result<Issuer> {
    use crate::db::credentials as q;
    if q::current_key(pool).await?.is_none() {
        let legacy = std::fs::read(data_dir.join("credential-key")).ok().and_then(|b| <[u8; 32]>::try_from(b).ok());
        let key = legacy.map_or_else(|| SigningKey::from_bytes(&rand::random()), |seed| SigningKey::from_bytes(&seed));
        q::offer_key(pool, &key_id(&key.verifying_key()), &B64.encode(key.to_bytes()), crate::db::now_ms()).await?;
    }
    let row = q::current_key(pool).await?.ok_or_else(|| anyhow::anyhow!("no current credential key"))?;
    let key = from_seed_b64(&row.seed).ok_or_else(|| anyhow::anyhow!("credential key {} is damaged", row.key_id))?;
    Ok(Issuer { key, key_id: row.key_id, url })
}

/// A key's id: the first 16 hex digits of its public key's SHA-256.
pub fn key_id(key: &VerifyingKey) -> String {
    crate::blobs::sha256_hex(key.as_bytes())[..16].to_owned()
}

/// A public key as base64.
pub fn public_b64(key: &VerifyingKey) -> String {
    B64.encode(key.to_bytes())
}

/// A key from its base64 seed.
pub fn from_seed_b64(seed: &str) -> Option<SigningKey> {
    let seed: [u8; 32] = B64.decode(seed.trim()).ok()?.try_into().ok()?;
    Some(SigningKey::from_bytes(&seed))
}

/// Signs a credential: the payload bytes, their id and the signature.
pub fn sign(key: &SigningKey, credential: Credential) -> Signed {
    // Compact JSON with sorted keys.
    let sorted: std::collections::BTreeMap<String, serde_json::Value> = match serde_json::to_value(&credential) {
        Ok(serde_json::Value::Object(fields)) => fields.into_iter().collect(),
        _ => unreachable!("a credential serialises to an object"),
    };
    let bytes = serde_json::to_vec(&sorted).expect("plain data serialises");
    Signed {
        format: FORMAT.into(),
        credential_id: crate::blobs::sha256_hex(&bytes),
        key_id: credential.key_id.clone(),
        payload: B64.encode(&bytes),
        signature: B64.encode(key.sign(&bytes).to_bytes()),
        credential,
    }
}

/// Checks a credential file against a trusted public key (base64): the
/// signature over the payload bytes (strictly: no malleable signatures or
/// weak keys), the id, and that the readable copy says what was signed.
/// Returns the signed statement.
pub fn verify(signed: &Signed, public_key_b64: &str) -> Result<Credential, String> {
    if signed.format != FORMAT {
        return Err(format!("the format is {:?}, not {FORMAT}", signed.format));
    }
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
    let bytes = B64.decode(signed.payload.trim()).map_err(|_| "the payload is not base64".to_owned())?;
    key.verify_strict(&bytes, &Signature::from_bytes(&sig))
        .map_err(|_| "the signature does not match: the credential was changed or signed by another key".to_owned())?;
    if crate::blobs::sha256_hex(&bytes) != signed.credential_id {
        return Err("the credential id is not the payload's SHA-256".into());
    }
    let stated: Credential =
        serde_json::from_slice(&bytes).map_err(|e| format!("the signed payload is not a credential: {e}"))?;
    if stated.key_id != signed.key_id {
        return Err("the key id beside the payload differs from the signed one".into());
    }
    if stated != signed.credential {
        return Err("the readable credential differs from the signed payload".into());
    }
    Ok(stated)
}

/// Whether an issued credential still holds.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Status {
    /// The credential's id.
    pub credential_id: String,
    /// `valid`, `revoked` or `unknown` (never issued here).
    pub status: String,
    /// Why it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The task it is about (known credentials only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(key: &SigningKey) -> Credential {
        Credential {
            kind: "gaic-result/2".into(),
            issuer: "https://gaic.example".into(),
            key_id: key_id(&key.verifying_key()),
            username: "ana".into(),
            display_name: "Ana".into(),
            task: "digits".into(),
            task_title: "Digits".into(),
            rank: 1,
            of: 12,
            // The score that once failed its own verification (it did not
            // survive a parse-and-reserialise round trip).
            private_score: 0.454_545_454_545_454_53,
            metric: "accuracy".into(),
            submission_sha256: "ab".repeat(32),
            scorer_version: "0.1.0".into(),
            date: "2026-11-29T00:00:00Z".into(),
        }
    }

    #[test]
    fn a_signed_credential_verifies_and_any_change_breaks_it() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let public = public_b64(&key.verifying_key());
        let signed = sign(&key, sample(&key));
        assert_eq!(verify(&signed, &public).unwrap(), sample(&key));
        // Through pretty JSON and back, as a file would travel.
        let back: Signed = serde_json::from_str(&serde_json::to_string_pretty(&signed).unwrap()).unwrap();
        assert!(verify(&back, &public).is_ok());
        // The payload is compact JSON with sorted keys.
        let text = String::from_utf8(B64.decode(&signed.payload).unwrap()).unwrap();
        assert!(text.starts_with("{\"date\":") && !text.contains(": "), "{text}");
        let mut tampered = back.clone();
        tampered.credential.rank = 2;
        assert!(verify(&tampered, &public).unwrap_err().contains("readable credential differs"));
        let mut tampered = back.clone();
        let forged = serde_json::to_vec(&serde_json::json!({"rank": 1})).unwrap();
        tampered.payload = B64.encode(forged);
        assert!(verify(&tampered, &public).unwrap_err().contains("signature does not match"));
        let mut tampered = back;
        tampered.credential_id = "00".repeat(32);
        assert!(verify(&tampered, &public).is_err());
        let other = SigningKey::from_bytes(&[7; 32]);
        assert!(verify(&sign(&other, sample(&key)), &public).is_err(), "another key");
    }

    #[test]
    fn every_float_verifies() {
        // Awkward doubles: each signs and verifies through a file.
        let key = SigningKey::from_bytes(&[9; 32]);
        let public = public_b64(&key.verifying_key());
        let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..300 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let mut c = sample(&key);
            c.private_score = (s >> 11) as f64 / (1u64 << 53) as f64;
            let file = serde_json::to_string_pretty(&sign(&key, c)).unwrap();
            let back: Signed = serde_json::from_str(&file).unwrap();
            let stated = verify(&back, &public).unwrap_or_else(|e| panic!("{e}: {file}"));
            assert_eq!(stated.private_score.to_bits(), ((s >> 11) as f64 / (1u64 << 53) as f64).to_bits(), "exact");
        }
    }
}
