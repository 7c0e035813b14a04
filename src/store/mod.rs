//! Storage: diesel over SQLite and PostgreSQL with one code path.
//!
//! [`Store`] owns the connection pool and runs the embedded migrations of the
//! backend the URL names (`postgres://…` or `postgresql://…` for PostgreSQL,
//! anything else is a SQLite file path). Code that writes several rows that
//! belong together runs them in [`Store::write`] or [`write_transaction`],
//! which on SQLite takes the write lock up front (`BEGIN IMMEDIATE`) so that
//! concurrent writers queue instead of failing on a stale snapshot.

pub mod schema;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection type over both backends (PostgreSQL first: SQLite accepts
/// almost any string as a path).
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// The backend a database URL names.
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// What can go wrong opening or using the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("database migrations failed: {0}")]
    Migrate(String),
    #[error("no database connection available: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
}

/// A pooled connection.
pub type StoreConnection = PooledConnection<ConnectionManager<AnyConnection>>;

/// The connection pool plus the backend it serves.
#[derive(Clone)]
pub struct Store {
    pool: Pool<ConnectionManager<AnyConnection>>,
    backend: Backend,
    url: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

/// Sets the per-connection SQLite pragmas:
///
/// * `journal_mode = WAL` with `synchronous = NORMAL`: the standard durable
///   set-up for an embedded database. A commit is appended to the WAL and the
///   WAL is fsynced at every checkpoint; a power cut can lose at most the
///   last commits since then, never corrupt the file, and an application
///   crash loses nothing (the OS still holds the WAL). `FULL` would fsync on
///   every commit, which bounds group commit by the disk's flush latency.
/// * `busy_timeout` so writers queue instead of failing, foreign keys on.
/// * `cache_size` (32 MiB of page cache per connection) and `mmap_size`
///   (reads of a large ledger go through a shared memory map instead of a
///   `read` call per page): proofs and verification read pages all over a
///   ledger of millions of entries, which the 2 MiB default cache thrashes.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<AnyConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), diesel::r2d2::Error> {
        if let AnyConnection::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                 PRAGMA cache_size = -32768; PRAGMA mmap_size = 1073741824;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

impl Store {
    /// Opens the database the URL names (creating a SQLite file and its
    /// folder if needed) and runs the pending migrations.
    pub fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with_pool_size(url, 8)
    }

    /// [`Store::open`] with an explicit pool size.
    pub fn open_with_pool_size(url: &str, max_size: u32) -> Result<Store, StoreError> {
        let backend = Backend::of_url(url);
        match backend {
            // A refused PostgreSQL connection reports only "Invalid connection
            // url" through the enum: connect directly first for the real reason.
            Backend::Postgres => {
                PgConnection::establish(url).map_err(|e| StoreError::Connect(e.to_string()))?;
            }
            Backend::Sqlite => {
                let path = std::path::Path::new(url);
                if let Some(parent) = path.parent() {
                    if !parent.as_os_str().is_empty() && !url.starts_with(':') {
                        std::fs::create_dir_all(parent).map_err(|source| StoreError::Folder {
                            path: parent.display().to_string(),
                            source,
                        })?;
                    }
                }
            }
        }
        let manager = ConnectionManager::<AnyConnection>::new(url);
        let mut builder = Pool::builder()
            .max_size(max_size)
            .connection_timeout(Duration::from_secs(30));
        // No `SELECT 1` on every checkout: it doubles the round trips of a
        // short read (an inclusion proof) on PostgreSQL, and a SQLite
        // connection, a file handle in this process, cannot go stale. A
        // PostgreSQL connection that broke (the server restarted) fails its
        // next query, which is reported and retried like any database
        // error, and the pool then discards it.
        builder = builder.test_on_check_out(false);
        if backend == Backend::Sqlite {
            builder = builder.connection_customizer(Box::new(SqlitePragmas));
        }
        let pool = builder
            .build(manager)
            .map_err(|e| StoreError::Connect(e.to_string()))?;
        let store = Store {
            pool,
            backend,
            url: url.to_string(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.get()?;
        let result = match &mut *conn {
            AnyConnection::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
            AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
        };
        result.map_err(|e| StoreError::Migrate(e.to_string()))
    }

    /// The backend this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL the store was opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A connection from the pool.
    pub fn get(&self) -> Result<StoreConnection, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Runs `f` in one write transaction on a pooled connection.
    pub fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E>,
        E: From<diesel::result::Error> + From<StoreError>,
    {
        let mut conn = self.get()?;
        write_transaction(&mut conn, f)
    }
}

/// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite (the write
/// lock is taken before the first read), a plain `BEGIN` (read committed) on
/// PostgreSQL. Inside an open transaction it nests as a savepoint.
pub fn write_transaction<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let depth = AnyConnection::transaction_manager_status_mut(conn)
        .transaction_depth()
        .map_err(E::from)?;
    if depth.is_some() {
        return conn.transaction(f);
    }
    match conn {
        AnyConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        AnyConnection::Postgres(_) => AnyConnection::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(value) => {
            AnyConnection::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            // The caller's error is the one that matters; a failed rollback
            // leaves the connection marked broken and the pool discards it.
            let _ = AnyConnection::rollback_transaction(conn);
            Err(e)
        }
    }
}
