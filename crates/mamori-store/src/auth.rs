//! mamori's own users: argon2id password hashes, sessions with CSRF tokens, API tokens.
//!
//! Secrets (session tokens, API tokens) are stored only as SHA-256 hashes, so a stolen database
//! copy does not log anyone in. Passwords are hashed with argon2id (RFC 9106 defaults of the
//! `argon2` crate: 19 MiB, 2 passes).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use mamori_model::{Detail, Id, Role, User, ValidationError};
use rand::RngCore;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::util::{b2i, get_bool, get_code, now};
use crate::{Result, Store, StoreError};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Hashes a password with argon2id and a random salt (PHC string format).
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Hash(e.to_string()))
}

/// Checks a password against a PHC hash; a malformed hash never matches.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

pub(crate) fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A freshly created session: the token goes into the cookie and is never stored in clear.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: String,
}

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: String,
}

/// An API token as listed (the secret itself is shown once, at creation).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: Id,
    pub user_id: Id,
    pub name: String,
    pub created_at: String,
    pub revoked: bool,
}

const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, u.vendor_id, u.disabled, u.created_at";

fn row_user(r: &AnyRow) -> Result<User> {
    Ok(User {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role: get_code(r, "role")?,
        vendor_id: r.try_get("vendor_id")?,
        disabled: get_bool(r, "disabled")?,
        created_at: r.try_get("created_at")?,
    })
}

fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ValidationError::new("password", "too_short").into());
    }
    if password.len() > 1024 {
        return Err(ValidationError::new("password", "too_long").into());
    }
    Ok(())
}

fn check_username(username: &str) -> Result<()> {
    let ok = !username.is_empty()
        && username.len() <= 64
        && username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok { Ok(()) } else { Err(ValidationError::new("username", "invalid_username").into()) }
}

/// At most this many argon2 computations at once (each takes ~19 MiB and tens of ms of CPU); they
/// run on blocking threads so a burst of logins cannot stall every other request.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _permit = HASHING.acquire().await.map_err(|e| StoreError::Hash(e.to_string()))?;
    tokio::task::spawn_blocking(f).await.map_err(|e| StoreError::Hash(e.to_string()))
}

async fn hash_blocking(password: &str) -> Result<String> {
    let pw = password.to_owned();
    blocking(move || hash_password(&pw)).await?
}

async fn verify_blocking(hash: String, password: &str) -> Result<bool> {
    let pw = password.to_owned();
    blocking(move || verify_password(&hash, &pw)).await
}

/// A hash to verify against when the user does not exist, so that timing does not reveal it.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("mamori-dummy-password").unwrap_or_default())
}

impl Store {
    /// Creates a user. A vendor user must name the vendor it works for.
    pub async fn create_user(
        &self,
        actor: &str,
        username: &str,
        display_name: Option<&str>,
        role: Role,
        vendor_id: Option<Id>,
        password: &str,
    ) -> Result<User> {
        check_username(username)?;
        check_password(password)?;
        if role == Role::Vendor && vendor_id.is_none() {
            return Err(ValidationError::new("vendor", "vendor_required").into());
        }
        let hash = hash_blocking(password).await?;
        let mut tx = self.write_tx().await?;
        let id: Id = sqlx::query(
            "INSERT INTO users (username, display_name, role, vendor_id, password_hash, disabled, \
             created_at) VALUES ($1, $2, $3, $4, $5, 0, $6) RETURNING id",
        )
        .bind(username.to_owned())
        .bind(display_name.map(str::to_owned))
        .bind(role.code())
        .bind(vendor_id)
        .bind(hash)
        .bind(now())
        .fetch_one(&mut *tx.tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                StoreError::Missing { entity: "vendor", id: format!("{vendor_id:?}") }
            }
            _ => StoreError::from_write(e, &format!("user {username}")),
        })?
        .try_get(0)?;
        let mut d = Detail::new();
        d.insert("username".into(), Value::String(username.into()));
        d.insert("role".into(), Value::String(role.code().into()));
        tx.audit(actor, "user.create", "user", Some(id), d).await?;
        tx.commit().await?;
        self.get_user(id).await
    }

    pub async fn get_user(&self, id: Id) -> Result<User> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::Missing { entity: "user", id: id.to_string() })?;
        row_user(&row)
    }

    /// The id of the user with this name, if there is one.
    pub async fn user_id_by_name(&self, username: &str) -> Result<Option<Id>> {
        Ok(sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
            .bind(username.to_owned())
            .fetch_optional(self.pool())
            .await?)
    }

    pub async fn list_users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.id"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(row_user).collect()
    }

    /// Checks a username and password. `None` for a wrong password, unknown or disabled user.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<Option<User>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = $1"
        ))
        .bind(username.to_owned())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else {
            let _ = verify_blocking(dummy_hash().to_owned(), password).await?;
            return Ok(None);
        };
        let hash: String = row.try_get("password_hash")?;
        let user = row_user(&row)?;
        // Verify even for a disabled user: the answer must take the same time.
        let ok = verify_blocking(hash, password).await?;
        Ok((ok && !user.disabled).then_some(user))
    }

    pub async fn set_password(&self, actor: &str, user_id: Id, password: &str) -> Result<()> {
        check_password(password)?;
        let hash = hash_blocking(password).await?;
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Missing { entity: "user", id: user_id.to_string() });
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(actor, "user.password", "user", Some(user_id), Detail::new()).await?;
        tx.commit().await
    }

    pub async fn set_user_disabled(&self, actor: &str, user_id: Id, disabled: bool) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(b2i(disabled))
            .bind(user_id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Missing { entity: "user", id: user_id.to_string() });
        }
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx.tx)
                .await?;
            sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx.tx)
                .await?;
        }
        let action = if disabled { "user.disable" } else { "user.enable" };
        tx.audit(actor, action, "user", Some(user_id), Detail::new()).await?;
        tx.commit().await
    }

    /// Records an event that changes no facility data (login, logout, refused access).
    pub async fn audit_event(
        &self,
        actor: &str,
        action: &str,
        entity: &str,
        entity_id: Option<Id>,
        detail: Detail,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        tx.audit(actor, action, entity, entity_id, detail).await?;
        tx.commit().await
    }

    pub async fn create_session(&self, user_id: Id, ttl: std::time::Duration) -> Result<NewSession> {
        let token = random_hex(32);
        let csrf_token = random_hex(32);
        let ttl_secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let expires = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_secs(ttl_secs))
            .map_err(|e| StoreError::Format(e.to_string()))?;
        let expires_at = expires.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sha256_hex(&token))
        .bind(user_id)
        .bind(csrf_token.clone())
        .bind(now())
        .bind(expires_at.clone())
        .execute(self.pool())
        .await?;
        Ok(NewSession { token, csrf_token, expires_at })
    }

    /// The session for a cookie token, if it exists, has not expired and its user is enabled.
    pub async fn session(&self, token: &str) -> Result<Option<SessionInfo>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, s.csrf_token, s.expires_at FROM sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0"
        ))
        .bind(sha256_hex(token))
        .bind(now())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(SessionInfo {
                user: row_user(&r)?,
                csrf_token: r.try_get("csrf_token")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    pub async fn delete_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(sha256_hex(token))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn purge_expired_sessions(&self) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now())
            .execute(self.pool())
            .await?
            .rows_affected())
    }

    /// Creates an API token for a user; returns it with the secret, which is shown only now.
    pub async fn create_api_token(&self, actor: &str, user_id: Id, name: &str) -> Result<(ApiToken, String)> {
        if name.trim().is_empty() {
            return Err(ValidationError::new("name", "empty").into());
        }
        let secret = format!("mamori_{}", random_hex(32));
        let created_at = now();
        let mut tx = self.write_tx().await?;
        let id: Id = sqlx::query(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at, revoked) \
             VALUES ($1, $2, $3, $4, 0) RETURNING id",
        )
        .bind(user_id)
        .bind(name.to_owned())
        .bind(sha256_hex(&secret))
        .bind(created_at.clone())
        .fetch_one(&mut *tx.tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                StoreError::Missing { entity: "user", id: user_id.to_string() }
            }
            _ => StoreError::Db(e),
        })?
        .try_get(0)?;
        let mut d = Detail::new();
        d.insert("name".into(), Value::String(name.into()));
        d.insert("user_id".into(), Value::from(user_id));
        tx.audit(actor, "token.create", "api_token", Some(id), d).await?;
        tx.commit().await?;
        Ok((ApiToken { id, user_id, name: name.to_owned(), created_at, revoked: false }, secret))
    }

    pub async fn list_api_tokens(&self) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT id, user_id, name, created_at, revoked FROM api_tokens ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiToken {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    revoked: get_bool(r, "revoked")?,
                })
            })
            .collect()
    }

    pub async fn revoke_api_token(&self, actor: &str, id: Id) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Missing { entity: "api_token", id: id.to_string() });
        }
        tx.audit(actor, "token.revoke", "api_token", Some(id), Detail::new()).await?;
        tx.commit().await
    }

    /// The user an API token belongs to, if the token is valid.
    pub async fn api_token_user(&self, secret: &str) -> Result<Option<User>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked = 0 AND u.disabled = 0"
        ))
        .bind(sha256_hex(secret))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(row_user).transpose()
    }

    /// Password hashes for export (so that `db copy` keeps every login working).
    pub(crate) async fn user_password_hashes(&self) -> Result<Vec<(Id, String)>> {
        let rows = sqlx::query("SELECT id, password_hash FROM users ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "wrong horse battery"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn usernames() {
        assert!(check_username("suzuki.taro").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username("a b").is_err());
        assert!(check_username("<script>").is_err());
    }
}
