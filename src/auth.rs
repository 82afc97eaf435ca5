//! Who is asking: passwords, tokens, sessions and roles.
//!
//! Passwords are hashed with argon2id (on the blocking pool: it is meant to be
//! slow). API tokens and session cookies are random 256-bit secrets of the
//! form `gaic_…`; the database keeps only their SHA-256, so a leaked database
//! yields no usable credential. A request is authenticated by
//! `Authorization: Bearer <token>` (the CLI) or the `gaic_session` cookie (the
//! web pages); [`authenticate`] finds its [`CurrentUser`]. Invariants: no
//! secret is stored in clear; a revoked or expired token never authenticates;
//! after `max` failures a username is locked for the window.

use std::time::Duration;

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash};
use base64::Engine;
use rand::RngCore;

use crate::db::{self, Db, throttle, tokens, users};
use crate::error::AppError;
use crate::limits::Client;
use crate::msg;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "gaic_session";
/// How long a web session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(14 * 24 * 3600);

/// A role beyond `competitor`, which everyone has.
pub const ROLES: &[&str] = &["admin", "organizer", "recruiter"];

/// Hashes a password with argon2id and a random salt (blocking: call from
/// `spawn_blocking`).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Checks a password against a stored hash (blocking).
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A new random secret token and its stored hash.
pub fn new_token() -> (String, String) {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = format!("gaic_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw));
    let hash = crate::blobs::sha256_hex(token.as_bytes());
    (token, hash)
}

/// The stored hash of a presented token.
pub fn token_hash(token: &str) -> String {
    crate::blobs::sha256_hex(token.as_bytes())
}

/// A random password for the bootstrap admin.
pub fn random_password() -> String {
    let mut raw = [0u8; 18];
    rand::rng().fill_bytes(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// Their id.
    pub user_id: i64,
    /// Their username.
    pub username: String,
    /// Extra roles (`admin`, `organizer`, `recruiter`).
    pub roles: Vec<String>,
    /// The token or session that authenticated this request.
    pub token_id: i64,
    /// Whether it was a read-only API token (GET requests only).
    pub read_only: bool,
}

impl CurrentUser {
    /// Whether the caller holds `role` (admins hold every role).
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role || r == "admin")
    }

    /// Fails with 403 unless the caller holds `role`.
    pub fn require(&self, role: &str) -> Result<(), AppError> {
        if self.has_role(role) { Ok(()) } else { Err(AppError::Forbidden(msg!("role_needed", role = role))) }
    }

    /// Whether the caller is an admin.
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r == "admin")
    }
}

/// Who presents `token` (a bearer token or session cookie), touching its
/// last use; an unknown, expired or revoked token is `Unauthorized`.
pub async fn authenticate(db: &Db, token: &str) -> Result<CurrentUser, AppError> {
    let now = db::now_ms();
    let Some(row) = tokens::active_by_hash(&db.pool, &token_hash(token), now).await? else {
        return Err(AppError::Unauthorized(msg!("token_invalid")));
    };
    let Some(user) = users::by_id(&db.pool, row.user_id).await? else {
        return Err(AppError::Unauthorized(msg!("account_gone")));
    };
    tokens::touch(&db.pool, row.token_id, now).await?;
    let roles = users::roles(&db.pool, user.user_id).await?;
    Ok(CurrentUser {
        user_id: user.user_id,
        username: user.username,
        roles,
        token_id: row.token_id,
        read_only: row.scope == "read",
    })
}

/// Throttles password guessing: after `max` failures for one username from
/// one client address within `window`, that address's further attempts at
/// that username get 429 until the window passes. Keyed by the pair, so a
/// guesser elsewhere never locks the account's owner out: the address is
/// slowed, not the victim (guessing from many addresses meets the per-address
/// rate limits of `limits`). The failures live in the database (as hashes of
/// the pair), so every replica counts the same attempts.
#[derive(Debug)]
pub struct LoginThrottle {
    db: Db,
    max: i64,
    window_ms: i64,
}

fn throttle_key(client: Client, username: &str) -> String {
    crate::blobs::sha256_hex(format!("{}\n{username}", client.addr()).as_bytes())
}

impl LoginThrottle {
    /// A throttle over `db` allowing `max` failures per `window`.
    pub fn new(db: Db, max: usize, window: Duration) -> Self {
        Self { db, max: max as i64, window_ms: window.as_millis() as i64 }
    }

    /// Fails with 429 if `client` is locked out of `username` now.
    pub async fn check(&self, client: Client, username: &str) -> Result<(), AppError> {
        let now = crate::db::now_ms();
        let (count, oldest) =
            throttle::failures_since(&self.db.pool, &throttle_key(client, username), now - self.window_ms).await?;
        if count >= self.max {
            let wait = (oldest.unwrap_or(now) + self.window_ms - now).max(0) / 1000 + 1;
            return Err(AppError::RateLimited {
                message: msg!("login_throttled", username = format!("{username:?}"), wait = wait),
                retry_after_s: wait as u64,
            });
        }
        Ok(())
    }

    /// Records a failed attempt.
    pub async fn failed(&self, client: Client, username: &str) -> Result<(), AppError> {
        let now = crate::db::now_ms();
        throttle::record(&self.db.pool, &throttle_key(client, username), now, now - self.window_ms).await?;
        Ok(())
    }

    /// Forgets failures after a success.
    pub async fn succeeded(&self, client: Client, username: &str) -> Result<(), AppError> {
        throttle::clear(&self.db.pool, &throttle_key(client, username)).await?;
        Ok(())
    }
}

/// ISO 3166-1 alpha-2 codes (officially assigned, 249).
pub const COUNTRIES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD",
    "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA",
    "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE",
    "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA",
    "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK",
    "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP",
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT",
    "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS",
    "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
    "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS",
    "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST",
    "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA",
    "ZM", "ZW",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with("gaic_") && a.len() > 40);
        assert_eq!(token_hash(&a), ha);
    }

    #[test]
    fn country_codes_are_sorted_and_complete() {
        assert_eq!(COUNTRIES.len(), 249);
        assert!(COUNTRIES.windows(2).all(|w| w[0] < w[1]));
        assert!(COUNTRIES.binary_search(&"KR").is_ok());
        assert!(COUNTRIES.binary_search(&"XX").is_err());
    }

    #[tokio::test]
    async fn the_throttle_locks_one_address_out_of_one_username_and_forgets_after_a_success() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}?mode=rwc", dir.path().join("t.db").display());
        let db = crate::db::connect(&url).await.unwrap();
        let t = LoginThrottle::new(db.clone(), 2, Duration::from_secs(60));
        let other = LoginThrottle::new(db, 2, Duration::from_secs(60)); // another replica
        let (guesser, owner) = (Client::new([10, 0, 0, 1].into()), Client::new([10, 0, 0, 2].into()));
        let limited = |r: Result<(), AppError>| matches!(r, Err(AppError::RateLimited { retry_after_s: 1..=61, .. }));
        t.check(guesser, "bob").await.unwrap();
        t.failed(guesser, "bob").await.unwrap();
        other.failed(guesser, "bob").await.unwrap();
        assert!(limited(t.check(guesser, "bob").await));
        assert!(limited(other.check(guesser, "bob").await));
        // The owner, elsewhere, is not locked out; nor is another account.
        t.check(owner, "bob").await.unwrap();
        t.check(guesser, "alice").await.unwrap();
        other.succeeded(guesser, "bob").await.unwrap();
        t.check(guesser, "bob").await.unwrap();
    }
}
