//! Set-up the benches share: the example departments on ephemeral ports
//! (their SDL as files, as a deployment would give them) and a throw-away
//! PostgreSQL database.
#![allow(dead_code)]

use std::net::TcpListener;

use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};
use tellonce::config::SubgraphConfig;
use tellonce_departments::{Department, RunningDepartment};

/// The local PostgreSQL the benches use when it is up.
pub const PG_BASE: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Every example department, running.
pub struct Departments {
    pub subgraphs: Vec<SubgraphConfig>,
    pub running: Vec<RunningDepartment>,
    _sdl_dir: tempfile::TempDir,
}

pub async fn start_departments() -> Departments {
    let sdl_dir = tempfile::tempdir().expect("temp dir");
    let mut subgraphs = Vec::new();
    let mut running = Vec::new();
    for department in Department::all() {
        let path = sdl_dir
            .path()
            .join(format!("{}.graphql", department.name()));
        std::fs::write(&path, department.sdl()).expect("write sdl");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let started = tellonce_departments::start(*department, listener)
            .await
            .expect("department");
        subgraphs.push(SubgraphConfig {
            name: department.name().into(),
            url: started.url(),
            schema_file: Some(path),
        });
        running.push(started);
    }
    Departments {
        subgraphs,
        running,
        _sdl_dir: sdl_dir,
    }
}

impl Departments {
    pub async fn stop(self) {
        for department in self.running {
            let _ = department.stop().await;
        }
    }
}

/// A database created for one run and dropped after it.
pub struct PgDatabase {
    admin: PgConnection,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create(prefix: &str) -> Result<PgDatabase, diesel::ConnectionError> {
        let mut admin = PgConnection::establish(PG_BASE)?;
        let name = format!("{prefix}_{}", std::process::id());
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create the bench database");
        Ok(PgDatabase {
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
            admin,
            name,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = diesel::sql_query(format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .execute(&mut self.admin);
    }
}
