//! Accounts and API tokens, including the administrator token set up at start-up
//! (PRODUCT §3 "Running": `--api-token`, `DATA_DIR/api-token`).

use crate::{
    format_time, new_id, now, time_column, Account, ApiToken, Permission, Store, StoreError,
};
use rusqlite::{params, OptionalExtension, Row};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::PathBuf;

/// Name of the account that exists from the first start on.
pub const DEFAULT_ACCOUNT: &str = "default";

/// File in the data directory that receives a generated administrator token.
pub const ADMIN_TOKEN_FILE: &str = "api-token";

/// Name of the administrator token's row.
const ADMIN_TOKEN_NAME: &str = "administrator";

/// What [`Store::bootstrap_admin_token`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminToken {
    /// The token given on the command line is now the administrator token.
    Given,
    /// No token was given; the stored one stays valid.
    Kept,
    /// None was stored: a new one was generated and written to this file (mode 0600).
    Generated(PathBuf),
}

/// The hex SHA-256 of a token value, which is all the store keeps of it.
pub fn hash_token(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

const ACCOUNT_COLUMNS: &str = "id, name, created";
const TOKEN_COLUMNS: &str = "id, account_id, name, permission, created";

fn account_from_row(row: &Row<'_>) -> rusqlite::Result<(String, String, String)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

fn account_from_parts(parts: (String, String, String)) -> Result<Account, StoreError> {
    let (id, name, created) = parts;
    let created = time_column("accounts", &id, &created)?;
    Ok(Account { id, name, created })
}

/// A token row as read, before its text columns are checked.
type RawToken = (String, Option<String>, String, String, String);

fn raw_token(r: &Row<'_>) -> rusqlite::Result<RawToken> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn token_from_raw(raw: RawToken) -> Result<ApiToken, StoreError> {
    let (id, account_id, name, permission, created) = raw;
    let permission = Permission::parse(&permission).ok_or_else(|| StoreError::Corrupt {
        table: "api_tokens",
        id: id.clone(),
        detail: format!("bad permission {permission:?}"),
    })?;
    let created = time_column("api_tokens", &id, &created)?;
    Ok(ApiToken {
        id,
        account_id,
        name,
        permission,
        created,
    })
}

impl Store {
    pub(crate) fn ensure_default_account(&self) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM accounts WHERE name = ?1)",
            [DEFAULT_ACCOUNT],
            |r| r.get(0),
        )?;
        if !exists {
            tx.execute(
                "INSERT INTO accounts (id, name, created) VALUES (?1, ?2, ?3)",
                params![new_id(), DEFAULT_ACCOUNT, format_time(now())],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn replace_admin_token(&self, value: &str) -> Result<(), StoreError> {
        let mut conn = self.write_conn();
        let tx = conn.transaction()?;
        let hash = hash_token(value);
        tx.execute(
            "DELETE FROM api_tokens WHERE (account_id IS NULL AND name = ?1) OR hash = ?2",
            params![ADMIN_TOKEN_NAME, hash],
        )?;
        tx.execute(
            "INSERT INTO api_tokens (id, account_id, name, permission, hash, created)
             VALUES (?1, NULL, ?2, 'admin', ?3, ?4)",
            params![new_id(), ADMIN_TOKEN_NAME, hash, format_time(now())],
        )?;
        tx.commit()?;
        Ok(())
    }
}

impl crate::storage::AccountStore for Store {
    fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let conn = self.read_conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY created, id"
        ))?;
        let rows = stmt.query_map([], account_from_row)?;
        rows.map(|r| account_from_parts(r?)).collect()
    }

    fn account(&self, id: &str) -> Result<Option<Account>, StoreError> {
        let conn = self.read_conn();
        let parts = conn
            .query_row(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1"),
                [id],
                account_from_row,
            )
            .optional()?;
        parts.map(account_from_parts).transpose()
    }

    fn default_account(&self) -> Result<Account, StoreError> {
        let conn = self.read_conn();
        let parts = conn.query_row(
            &format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name = ?1 ORDER BY created, id LIMIT 1"
            ),
            [DEFAULT_ACCOUNT],
            account_from_row,
        )?;
        account_from_parts(parts)
    }

    fn create_account(&self, name: &str) -> Result<Account, StoreError> {
        let account = Account {
            id: new_id(),
            name: name.to_string(),
            created: now(),
        };
        self.write_conn().execute(
            "INSERT INTO accounts (id, name, created) VALUES (?1, ?2, ?3)",
            params![account.id, account.name, format_time(account.created)],
        )?;
        Ok(account)
    }

    fn create_token(
        &self,
        account_id: Option<&str>,
        name: &str,
        permission: Permission,
    ) -> Result<(ApiToken, String), StoreError> {
        let value = generate_token_value();
        let token = ApiToken {
            id: new_id(),
            account_id: account_id.map(str::to_string),
            name: name.to_string(),
            permission,
            created: now(),
        };
        self.write_conn().execute(
            "INSERT INTO api_tokens (id, account_id, name, permission, hash, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                token.id,
                token.account_id,
                token.name,
                permission.as_str(),
                hash_token(&value),
                format_time(token.created)
            ],
        )?;
        Ok((token, value))
    }

    fn authenticate(&self, value: &str) -> Result<Option<ApiToken>, StoreError> {
        let conn = self.read_conn();
        let row = conn
            .query_row(
                &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE hash = ?1"),
                [hash_token(value)],
                raw_token,
            )
            .optional()?;
        row.map(token_from_raw).transpose()
    }

    fn account_tokens(&self, account_id: &str) -> Result<Vec<ApiToken>, StoreError> {
        let conn = self.read_conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE account_id = ?1 ORDER BY created, id"
        ))?;
        let rows = stmt.query_map([account_id], raw_token)?;
        rows.map(|r| token_from_raw(r?)).collect()
    }

    fn delete_token(&self, account_id: &str, id: &str) -> Result<bool, StoreError> {
        let n = self.write_conn().execute(
            "DELETE FROM api_tokens WHERE id = ?1 AND account_id = ?2",
            params![id, account_id],
        )?;
        Ok(n > 0)
    }

    fn bootstrap_admin_token(&self, given: Option<&str>) -> Result<AdminToken, StoreError> {
        if let Some(value) = given {
            // The same token as last run writes nothing, so a restart needs no disk space.
            let same: bool = self.read_conn().query_row(
                "SELECT EXISTS (SELECT 1 FROM api_tokens
                                WHERE account_id IS NULL AND name = ?1 AND hash = ?2)",
                params![ADMIN_TOKEN_NAME, hash_token(value)],
                |r| r.get(0),
            )?;
            if !same {
                self.replace_admin_token(value)?;
            }
            return Ok(AdminToken::Given);
        }
        let stored: bool = self.read_conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM api_tokens WHERE account_id IS NULL AND name = ?1)",
            [ADMIN_TOKEN_NAME],
            |r| r.get(0),
        )?;
        if stored {
            return Ok(AdminToken::Kept);
        }
        let value = generate_token_value();
        let path = self.data_dir.join(ADMIN_TOKEN_FILE);
        write_secret_file(&path, &value)?;
        self.replace_admin_token(&value)?;
        Ok(AdminToken::Generated(path))
    }

    fn remove_stale_token_file(&self) -> Result<Option<PathBuf>, StoreError> {
        let path = self.data_dir.join(ADMIN_TOKEN_FILE);
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let value = match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        if !value.is_empty() && self.authenticate(&value)?.is_some() {
            return Ok(None);
        }
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(Some(path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }
}

/// 32 random bytes in hex.
fn generate_token_value() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Writes `value` to `path` readable by the owner only, and syncs it to disk.
fn write_secret_file(path: &std::path::Path, value: &str) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        // The file may exist from an earlier run with looser bits.
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
    }
    let mut file = options.open(path).map_err(io)?;
    file.write_all(format!("{value}\n").as_bytes())
        .map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn admin_token_lifecycle() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let AdminToken::Generated(path) = store.bootstrap_admin_token(None).unwrap() else {
            panic!("first start generates a token");
        };
        let value = std::fs::read_to_string(&path).unwrap().trim().to_string();
        assert_eq!(value.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let token = store.authenticate(&value).unwrap().unwrap();
        assert_eq!(token.account_id, None);
        assert_eq!(token.permission, Permission::Admin);

        // Without a token the stored one stays valid.
        assert_eq!(store.bootstrap_admin_token(None).unwrap(), AdminToken::Kept);
        assert!(store.authenticate(&value).unwrap().is_some());

        // A given token replaces it.
        assert_eq!(
            store.bootstrap_admin_token(Some("s3cret")).unwrap(),
            AdminToken::Given
        );
        assert!(store.authenticate(&value).unwrap().is_none());
        assert!(store.authenticate("s3cret").unwrap().is_some());
        assert!(store.authenticate("other").unwrap().is_none());
        // Giving the same one again is fine.
        assert_eq!(
            store.bootstrap_admin_token(Some("s3cret")).unwrap(),
            AdminToken::Given
        );
        assert!(store.authenticate("s3cret").unwrap().is_some());
    }

    #[test]
    fn a_token_file_that_no_longer_works_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.remove_stale_token_file().unwrap(), None, "no file");
        let AdminToken::Generated(path) = store.bootstrap_admin_token(None).unwrap() else {
            panic!("first start generates a token");
        };
        // The generated token still works: the file stays.
        assert_eq!(store.remove_stale_token_file().unwrap(), None);
        assert!(path.is_file());

        // A token given on the command line replaces it: the file goes.
        store.bootstrap_admin_token(Some("s3cret")).unwrap();
        assert_eq!(store.remove_stale_token_file().unwrap(), Some(path.clone()));
        assert!(!path.exists());

        // A file holding the token now in force stays, whoever wrote it; an empty one goes.
        std::fs::write(&path, "s3cret\n").unwrap();
        assert_eq!(store.remove_stale_token_file().unwrap(), None);
        std::fs::write(&path, "").unwrap();
        assert_eq!(store.remove_stale_token_file().unwrap(), Some(path.clone()));

        // With none generated again: a stored token stays valid and no file is written.
        assert_eq!(store.bootstrap_admin_token(None).unwrap(), AdminToken::Kept);
        assert!(!path.exists());
    }

    #[test]
    fn token_values_are_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let account = store.default_account().unwrap();
        let (token, value) = store
            .create_token(Some(&account.id), "ci", Permission::Read)
            .unwrap();
        let found = store.authenticate(&value).unwrap().unwrap();
        assert_eq!(found, token);
        let raw = std::fs::read(dir.path().join(crate::DB_FILE)).unwrap();
        let wal = std::fs::read(dir.path().join("tandem.db-wal")).unwrap_or_default();
        let needle = value.as_bytes();
        for bytes in [&raw, &wal] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle));
        }
    }
}
