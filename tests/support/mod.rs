//! Shared test fixtures: a fresh SQLite file or a fresh PostgreSQL database
//! per test, and a ledger over it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};
use tellonce::config::Config;
use tellonce::ledger::{Ledger, LedgerOptions, NewEntry};

/// The PostgreSQL server the tests use (CI starts it).
pub const PG_BASE: &str = "postgres://postgres@127.0.0.1:5432/test";
const PG_BASE_ROOT: &str = "postgres://root@127.0.0.1:5432/test";

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

fn random_suffix() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("random source");
    hex::encode(b)
}

fn pg_admin() -> (PgConnection, String) {
    for base in [PG_BASE, PG_BASE_ROOT] {
        if let Ok(c) = PgConnection::establish(base) {
            return (c, base.to_string());
        }
    }
    let err = PgConnection::establish(PG_BASE)
        .err()
        .map(|e| e.to_string());
    panic!(
        "PostgreSQL tests need a server at {PG_BASE} (trust auth); start it (.ci/run does): {err:?}"
    );
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir.path().join("ledger.db").to_string_lossy().into_owned();
        TestDb { url, dir, pg: None }
    }

    pub fn postgres() -> TestDb {
        let (mut admin, base) = pg_admin();
        let name = format!("tellonce_t_{}", random_suffix());
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create test database");
        let url = format!(
            "{}/{name}",
            base.rsplit_once('/').map(|(b, _)| b).unwrap_or(&base)
        );
        TestDb {
            url,
            dir: tempfile::tempdir().expect("temp dir"),
            pg: Some((base, name)),
        }
    }

    pub fn of(backend: &str) -> TestDb {
        match backend {
            "postgres" => TestDb::postgres(),
            _ => TestDb::sqlite(),
        }
    }

    /// A copy of this database (and its key files) in its current state.
    /// Close every ledger over it first.
    pub fn copy(&self) -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        for e in std::fs::read_dir(self.dir.path())
            .expect("read dir")
            .flatten()
        {
            std::fs::copy(e.path(), dir.path().join(e.file_name())).expect("copy file");
        }
        match &self.pg {
            None => {
                let url = dir.path().join("ledger.db").to_string_lossy().into_owned();
                TestDb { url, dir, pg: None }
            }
            Some((base, template)) => {
                let (mut admin, _) = pg_admin();
                let name = format!("tellonce_t_{}", random_suffix());
                diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
                    .execute(&mut admin)
                    .expect("copy test database");
                let url = format!(
                    "{}/{name}",
                    base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base)
                );
                TestDb {
                    url,
                    dir,
                    pg: Some((base.clone(), name)),
                }
            }
        }
    }

    /// A blob literal in this backend's SQL.
    pub fn blob(&self, bytes: &[u8]) -> String {
        match self.pg {
            None => format!("x'{}'", hex::encode(bytes)),
            Some(_) => format!("'\\x{}'::bytea", hex::encode(bytes)),
        }
    }

    /// A config whose data dir is this test's temp dir.
    pub fn config(&self) -> Config {
        Config {
            data_dir: self.dir.path().to_path_buf(),
            database_url: Some(self.url.clone()),
            ..Config::default()
        }
    }

    pub fn key_path(&self) -> PathBuf {
        self.dir.path().join("ledger.key")
    }

    pub fn ledger(&self) -> Arc<Ledger> {
        Arc::new(self.config().open_ledger().expect("open ledger"))
    }

    pub fn ledger_with(&self, f: impl FnOnce(&mut Config)) -> Arc<Ledger> {
        let mut config = self.config();
        f(&mut config);
        Arc::new(config.open_ledger().expect("open ledger"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, name)) = &self.pg {
            if let Ok(mut admin) = PgConnection::establish(base) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

/// A simple entry about `subject`.
pub fn entry(kind: &str, n: u64) -> NewEntry {
    NewEntry {
        kind: kind.to_string(),
        actor: "hub".to_string(),
        subject: None,
        payload: serde_json::json!({ "n": n, "note": format!("entry {n}") }),
    }
}

pub fn default_options() -> LedgerOptions {
    LedgerOptions::default()
}

/// Serves the ledger's HTTP routes on an ephemeral port (call from an actix
/// or tokio test); returns the ledger's URL prefix (`http://…/ledger`).
pub async fn serve_ledger(ledger: Arc<Ledger>) -> (String, actix_web::dev::ServerHandle) {
    let data = actix_web::web::Data::new(ledger);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .configure(tellonce::http::ledger::configure)
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind an ephemeral port");
    let addr = server.addrs()[0];
    let running = server.run();
    let handle = running.handle();
    tokio::spawn(running);
    (format!("http://{addr}/ledger"), handle)
}

/// Runs raw SQL against the test database (to tamper with rows).
pub fn raw_sql(url: &str, sql: &str) {
    let store = tellonce::store::Store::open(url).expect("open store");
    let mut conn = store.get().expect("connection");
    diesel::sql_query(sql)
        .execute(&mut *conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Generates one test per backend from a body taking `&TestDb`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn sqlite() {
                let db = $crate::support::TestDb::sqlite();
                ($body)(&db);
            }
            #[test]
            fn postgres() {
                let db = $crate::support::TestDb::postgres();
                ($body)(&db);
            }
        }
    };
}
