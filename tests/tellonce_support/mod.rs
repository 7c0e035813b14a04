//! Shared fixtures for the tell-us-once tests: a fresh SQLite file or
//! PostgreSQL database per test, the example departments on ephemeral
//! ports (their SDL given as files, so the hub composes even while one is
//! down), hubs in process or as the `tellonce` binary, and GraphQL calls.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};
use serde_json::{json, Value};
use tellonce::config::{Config, SubgraphConfig};
use tellonce_departments::{Department, RunningDepartment};

pub const PG_BASE: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database that exists for one test, and a folder for its keys.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
    pg: Option<String>,
}

fn random_suffix() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("random source");
    hex::encode(b)
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir
            .path()
            .join("tellonce.db")
            .to_string_lossy()
            .into_owned();
        TestDb { url, dir, pg: None }
    }

    pub fn postgres() -> TestDb {
        let mut admin = PgConnection::establish(PG_BASE).unwrap_or_else(|e| {
            panic!(
                "PostgreSQL tests need a server at {PG_BASE} (scripts/services.sh starts it): {e}"
            )
        });
        let name = format!("tellonce_t_{}", random_suffix());
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create test database");
        TestDb {
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
            dir: tempfile::tempdir().expect("temp dir"),
            pg: Some(name),
        }
    }

    pub fn of(backend: &str) -> TestDb {
        if backend == "postgres" {
            TestDb::postgres()
        } else {
            TestDb::sqlite()
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    pub fn pg_name(&self) -> Option<&str> {
        self.pg.as_deref()
    }

    /// One number from the database, e.g. `SELECT COUNT(*) AS n FROM …`.
    pub fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let store = tellonce::store::Store::open(&self.url).expect("open store");
        let mut conn = store.get().expect("connection");
        let rows: Vec<N> = diesel::sql_query(sql)
            .load(&mut *conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.first().map(|r| r.n).unwrap_or(0)
    }

    /// Every ledger payload, as text.
    pub fn ledger_payloads(&self) -> Vec<String> {
        self.texts("SELECT body AS text FROM ledger_payloads ORDER BY seq")
    }

    /// Every ledger entry's kind, in sequence.
    pub fn ledger_kinds(&self) -> Vec<String> {
        self.texts("SELECT kind AS text FROM ledger_entries ORDER BY seq")
    }

    /// One text column (`text`) of every row `sql` selects.
    pub fn texts(&self, sql: &str) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Text {
            #[diesel(sql_type = diesel::sql_types::Text)]
            text: String,
        }
        let store = tellonce::store::Store::open(&self.url).expect("open store");
        let mut conn = store.get().expect("connection");
        diesel::sql_query(sql)
            .load::<Text>(&mut *conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .map(|t| t.text)
            .collect()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg {
            if let Ok(mut admin) = PgConnection::establish(PG_BASE) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

/// The example departments, each on its own port, with SDL files.
pub struct Departments {
    pub running: Vec<Option<RunningDepartment>>,
    pub addrs: Vec<SocketAddr>,
    pub sdl_dir: tempfile::TempDir,
}

impl Departments {
    pub async fn start() -> Departments {
        let sdl_dir = tempfile::tempdir().expect("temp dir");
        let mut running = Vec::new();
        let mut addrs = Vec::new();
        for department in Department::all() {
            std::fs::write(
                sdl_dir
                    .path()
                    .join(format!("{}.graphql", department.name())),
                department.sdl(),
            )
            .expect("write sdl");
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            addrs.push(listener.local_addr().expect("addr"));
            running.push(Some(
                tellonce_departments::start(*department, listener)
                    .await
                    .expect("start department"),
            ));
        }
        Departments {
            running,
            addrs,
            sdl_dir,
        }
    }

    fn index(department: Department) -> usize {
        Department::all()
            .iter()
            .position(|d| *d == department)
            .expect("known department")
    }

    pub fn url(&self, department: Department) -> String {
        format!("http://{}/graphql", self.addrs[Self::index(department)])
    }

    /// Subgraph entries for a hub config; `url_for` may redirect one (to a proxy).
    pub fn subgraphs(&self, url_for: impl Fn(Department, String) -> String) -> Vec<SubgraphConfig> {
        Department::all()
            .iter()
            .map(|d| SubgraphConfig {
                name: d.name().to_owned(),
                url: url_for(*d, self.url(*d)),
                schema_file: Some(self.sdl_dir.path().join(format!("{}.graphql", d.name()))),
            })
            .collect()
    }

    pub async fn stop(&mut self, department: Department) {
        if let Some(running) = self.running[Self::index(department)].take() {
            running.stop().await.expect("stop department");
        }
    }

    /// Starts the department again, on the same port, with fresh records.
    pub async fn restart(&mut self, department: Department) {
        let index = Self::index(department);
        let listener = TcpListener::bind(self.addrs[index]).expect("rebind department port");
        self.running[index] = Some(
            tellonce_departments::start(department, listener)
                .await
                .expect("restart department"),
        );
    }

    /// The department's notification log: (distinct keys, idempotency keys of
    /// every receipt; the log returns the latest `last`, so ask for all).
    pub async fn log(&self, department: Department) -> (i64, Vec<String>) {
        let field = match department {
            Department::Hmrc => "hmrcNotificationLog",
            Department::CompaniesHouse => "companiesHouseNotificationLog",
            Department::Dwp => "dwpNotificationLog",
            Department::Dvla => "dvlaNotificationLog",
            Department::PassportOffice => "passportOfficeNotificationLog",
            Department::LocalCouncil => "localCouncilNotificationLog",
            Department::VeteransUk => "veteransUkNotificationLog",
            Department::CivilServicePension => "civilServicePensionNotificationLog",
            Department::BorderForce => panic!("border force keeps no notification log"),
        };
        let body = graphql(
            &self.url(department),
            &format!("{{ {field}(last: 100000) {{ count receipts {{ idempotencyKey }} }} }}"),
            json!({}),
        )
        .await;
        let log = &body["data"][field];
        let keys = log["receipts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["idempotencyKey"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        (log["count"].as_i64().unwrap_or(-1), keys)
    }
}

/// A hub config over `db` and `subgraphs` with quick retries.
pub fn hub_config(db: &TestDb, subgraphs: Vec<SubgraphConfig>) -> Config {
    let mut config = Config {
        data_dir: db.dir.path().to_path_buf(),
        database_url: Some(db.url.clone()),
        subgraphs,
        ..Config::default()
    };
    config.gateway.subgraph_timeout_ms = 5_000;
    config.tellonce.backoff_base_ms = 50;
    config.tellonce.backoff_max_ms = 400;
    config.tellonce.poll_ms = 50;
    config.tellonce.claim_lease_ms = 10_000;
    // Rate limits have their own tests; these submit in bursts on purpose.
    config.rate_limit.enabled = false;
    add_test_principals(&db.url);
    config
}

/// Keys of the principals every test hub has (registered by `hub_config`).
pub const OPERATOR_KEY: &str = "tok_test-operator-0123456789abcdef";
pub const REGISTRAR_KEY: &str = "tok_test-registrar-0123456789abcdef";

/// The key of department `name`'s test principal.
pub fn department_key(name: &str) -> String {
    format!("tok_test-department-{name}-0123456789abcdef")
}

fn add_test_principals(url: &str) {
    use tellonce::auth::api_keys::{add_with_key, remove, NewPrincipal};
    use tellonce::auth::PrincipalKind;
    let store = tellonce::store::Store::open(url).expect("open the test database");
    let mut principals = vec![
        (
            "test-operator".to_string(),
            PrincipalKind::Operator,
            None,
            OPERATOR_KEY.to_string(),
        ),
        (
            "test-registrar".to_string(),
            PrincipalKind::Registrar,
            None,
            REGISTRAR_KEY.to_string(),
        ),
    ];
    for department in Department::all() {
        principals.push((
            format!("test-{}", department.name()),
            PrincipalKind::Department,
            Some(department.name().to_string()),
            department_key(department.name()),
        ));
    }
    for (name, kind, department, key) in principals {
        remove(&store, &name).expect("remove a test principal");
        add_with_key(
            &store,
            NewPrincipal {
                name,
                kind,
                scopes: ["hmrc:taxpayer:read".to_string()].into(),
                department,
                nino: None,
            },
            key,
        )
        .expect("add a test principal");
    }
}

/// The test principal a request runs as: the registrar tells life events, a
/// department reads and acknowledges its own feed, the operator does the rest.
fn key_for(query: &str) -> String {
    if query.contains("tellUsOnce") {
        return REGISTRAR_KEY.into();
    }
    if query.contains("acknowledgeLifeEvent") || query.contains("lifeEventFeed") {
        if let Some(rest) = query.split("department: \"").nth(1) {
            if let Some(name) = rest.split('"').next() {
                return department_key(name);
            }
        }
    }
    OPERATOR_KEY.into()
}

/// The same config as TOML, for the binary.
pub fn config_toml(config: &Config, listen: &str) -> String {
    let mut text = format!(
        "listen = {listen:?}\ndata_dir = {:?}\ndatabase_url = {:?}\n\n[gateway]\nsubgraph_timeout_ms = {}\n\n[tellonce]\nbackoff_base_ms = {}\nbackoff_max_ms = {}\npoll_ms = {}\nclaim_lease_ms = {}\nmax_attempts = {}\ndelivery_workers = {}\n\n[rate_limit]\nenabled = false\n",
        config.data_dir.display().to_string(),
        config.database_url.clone().unwrap_or_default(),
        config.gateway.subgraph_timeout_ms,
        config.tellonce.backoff_base_ms,
        config.tellonce.backoff_max_ms,
        config.tellonce.poll_ms,
        config.tellonce.claim_lease_ms,
        config.tellonce.max_attempts,
        config.tellonce.delivery_workers,
    );
    if let Some(redis) = &config.events.redis_url {
        text.push_str(&format!(
            "\n[events]\nredis_url = {redis:?}\npoll_interval_ms = {}\n",
            config.events.poll_interval_ms
        ));
    }
    if let Some(endpoint) = &config.telemetry.otlp_endpoint {
        text.push_str(&format!(
            "\n[telemetry]\notlp_endpoint = {:?}\nservice_name = {:?}\notlp_export_ms = {}\ntrace_sample_ratio = {}\n",
            endpoint.as_str(),
            config.telemetry.service_name,
            config.telemetry.otlp_export_ms,
            config.telemetry.trace_sample_ratio.get(),
        ));
    }
    if !config.border.subgraphs.is_empty() {
        text.push_str(&format!(
            "\n[border]\nbackoff_base_ms = {}\nbackoff_max_ms = {}\npoll_ms = {}\nassessment_timeout_ms = {}\nclaim_lease_ms = {}\n\n[border.subgraphs]\n",
            config.border.backoff_base_ms,
            config.border.backoff_max_ms,
            config.border.poll_ms,
            config.border.assessment_timeout_ms,
            config.border.claim_lease_ms,
        ));
        for (name, url) in &config.border.subgraphs {
            text.push_str(&format!("{name:?} = {url:?}\n"));
        }
    }
    for s in &config.subgraphs {
        text.push_str(&format!(
            "\n[[subgraphs]]\nname = {:?}\nurl = {:?}\nschema_file = {:?}\n",
            s.name,
            s.url,
            s.schema_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ));
    }
    text
}

/// A hub started with the `tellonce` binary.
pub struct HubProcess {
    pub child: Child,
    pub url: String,
}

impl HubProcess {
    pub fn start(config: &Config, dir: &std::path::Path) -> HubProcess {
        let path: PathBuf = dir.join(format!("hub-{}.toml", random_suffix()));
        std::fs::write(&path, config_toml(config, "127.0.0.1:0")).expect("write config");
        let mut child = Command::new(env!("CARGO_BIN_EXE_tellonce"))
            .args(["serve", "--config"])
            .arg(&path)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the tellonce binary");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the hub's first line");
        let url = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|u| u.starts_with("http://"))
            .unwrap_or_else(|| {
                panic!(
                    "the hub did not start: {line:?}; key file: {:?}",
                    std::fs::read_to_string(dir.join("ledger.key"))
                )
            })
            .to_owned();
        HubProcess { child, url }
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// POSTs one GraphQL request and returns the JSON body.
/// A hub over `config` on an ephemeral port.
pub async fn start_hub_on(config: &Config) -> tellonce::server::RunningHub {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the hub");
    tellonce::server::start_on(config, listener)
        .await
        .expect("the hub starts")
}

/// Runs `tellonce ARGS --database … --data-dir …` on `db`.
pub fn tellonce_cli(db: &TestDb, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tellonce"))
        .args(args)
        .args(["--database", &db.url, "--data-dir"])
        .arg(db.dir.path())
        .output()
        .unwrap_or_else(|e| panic!("run tellonce {args:?}: {e}"))
}

pub async fn graphql(url: &str, query: &str, variables: Value) -> Value {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let client = CLIENT.get_or_init(reqwest::Client::new);
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("authorization", format!("Bearer {}", key_for(query)))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    response.json().await.expect("a JSON body")
}

pub const TELL: &str = "mutation Tell($event: LifeEventInput!, $key: String!) {
  tellUsOnce(event: $event, idempotencyKey: $key) { eventId ledgerSeq entryHash signature departments }
}";

pub const STATUS: &str = "query Status($id: ID!) {
  lifeEvent(id: $id) { type ledgerSeq notifications { department status attempts lastError deliveredAt } }
}";

/// A valid NINO numbered `n` (never one of the seeded people).
pub fn nino(n: u32) -> String {
    format!("TC{:06}A", n % 1_000_000)
}

/// How many departments the built-in rules tell of one death.
pub fn departments_told_of_a_death() -> i64 {
    include_str!("../../schema/routes/death.toml")
        .matches("event = \"death\"")
        .count() as i64
}

pub fn death(n: u32) -> Value {
    json!({ "death": {
        "nino": nino(n), "givenNames": "Alex", "familyName": "Example", "dateOfDeath": "2026-10-01"
    }})
}

/// Submits an event and returns the receipt (panics on errors).
pub async fn tell(url: &str, event: Value, key: &str) -> Value {
    let body = graphql(url, TELL, json!({ "event": event, "key": key })).await;
    assert!(body.get("errors").is_none(), "tellUsOnce failed: {body}");
    body["data"]["tellUsOnce"].clone()
}

/// Polls `check` until it returns Some, failing after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(start.elapsed() < limit, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until every notification of event `id` has `status`.
pub async fn all_notifications(url: &str, id: &str, status: &str) -> Value {
    eventually(
        &format!("event {id} to be {status}"),
        Duration::from_secs(60),
        || async {
            let body = graphql(url, STATUS, json!({ "id": id })).await;
            let event = body["data"]["lifeEvent"].clone();
            let done = event["notifications"]
                .as_array()
                .is_some_and(|n| !n.is_empty() && n.iter().all(|n| n["status"] == status));
            done.then_some(event)
        },
    )
    .await
}

pub fn verify_ledger(db: &TestDb) {
    let signer = tellonce::ledger::NoteSigner::read_file(&db.dir.path().join("ledger.key"))
        .expect("the hub's key");
    let vkey = db.dir.path().join("ledger.vkey");
    std::fs::write(&vkey, signer.verifier().to_vkey()).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tellonce"))
        .args(["ledger", "verify", "--database", &db.url, "--key"])
        .arg(&vkey)
        .output()
        .expect("run tellonce ledger verify");
    assert!(
        output.status.success(),
        "ledger verify failed ({:?}): {}{}",
        std::fs::read_to_string(&vkey),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A TCP proxy in front of a local service (PostgreSQL, Redis) that can be
/// cut, ending every connection through it, and restored.
pub struct TcpProxy {
    pub port: u16,
    open: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl TcpProxy {
    pub async fn start(target: &'static str) -> TcpProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (is_open, tasks) = (open.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !is_open.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(task);
            }
        });
        TcpProxy {
            port,
            open,
            connections,
        }
    }

    pub fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    pub fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// Generates one test per backend from an async body taking the backend name.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$body("sqlite").await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$body("postgres").await;
            }
        }
    };
}

/// The sum of the samples `name` whose labels include every pair of
/// `labels` (`None` when there is none).
pub fn sample(page: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let values: Vec<f64> = page
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, rest) = match series.split_once('{') {
                Some((metric, rest)) => (metric, rest.strip_suffix('}')?),
                None => (series, ""),
            };
            if metric != name {
                return None;
            }
            let has = |(key, wanted): &(&str, &str)| {
                rest.split(',')
                    .any(|pair| pair == format!("{key}=\"{wanted}\""))
            };
            labels.iter().all(has).then(|| value.parse().ok())?
        })
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

pub async fn scrape(base: &str) -> String {
    let response = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("GET /metrics");
    assert!(response.status().is_success(), "{}", response.status());
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.expect("the page")
}
