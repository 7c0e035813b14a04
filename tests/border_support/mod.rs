//! Shared fixtures for the border tests: the example agency subgraphs on
//! ephemeral ports (stoppable, restartable on the same port, or behind a
//! proxy that holds each request), the principals that declare and record
//! outcomes, example declarations, and GraphQL calls as a given principal.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use serde_json::{json, Value};
use tellonce::config::Config;
use tellonce_departments::{Agency, RunningDepartment};

use crate::tellonce_support::{hub_config, Departments, TestDb};

/// The customs agent's key: a frontend with the `border:declare` scope.
pub const DECLARANT_KEY: &str = "tok_test-declarant-0123456789abcdef";
/// A frontend allowed to read every plan (`border:read`).
pub const READER_KEY: &str = "tok_test-border-reader-0123456789abcdef";

/// The key of agency `name`'s principal.
pub fn agency_key(name: &str) -> String {
    format!("tok_test-agency-{name}-0123456789abcdef")
}

/// The example agencies, each on its own port.
pub struct Agencies {
    running: Vec<Option<RunningDepartment>>,
    addrs: Vec<SocketAddr>,
    /// Where the hub is told to find each agency (a proxy may stand in).
    urls: BTreeMap<String, String>,
}

fn index(agency: Agency) -> usize {
    Agency::all()
        .iter()
        .position(|a| *a == agency)
        .expect("known agency")
}

impl Agencies {
    pub async fn start() -> Agencies {
        let mut running = Vec::new();
        let mut addrs = Vec::new();
        let mut urls = BTreeMap::new();
        for agency in Agency::all() {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            addrs.push(listener.local_addr().expect("addr"));
            let started = tellonce_departments::start_agency(*agency, listener, Default::default())
                .await
                .expect("start agency");
            urls.insert(agency.name().to_owned(), started.url());
            running.push(Some(started));
        }
        Agencies {
            running,
            addrs,
            urls,
        }
    }

    pub fn url(&self, agency: Agency) -> String {
        format!("http://{}/graphql", self.addrs[index(agency)])
    }

    /// `[border.subgraphs]` for a hub config.
    pub fn subgraphs(&self) -> BTreeMap<String, String> {
        self.urls.clone()
    }

    /// The hub is to reach `agency` through `url` instead (a proxy).
    pub fn route_through(&mut self, agency: Agency, url: String) {
        self.urls.insert(agency.name().to_owned(), url);
    }

    pub async fn stop(&mut self, agency: Agency) {
        if let Some(running) = self.running[index(agency)].take() {
            running.stop().await.expect("stop agency");
        }
    }

    /// Starts the agency again on the same port.
    pub async fn restart(&mut self, agency: Agency) {
        let i = index(agency);
        let listener = TcpListener::bind(self.addrs[i]).expect("rebind agency port");
        self.running[i] = Some(
            tellonce_departments::start_agency(agency, listener, Default::default())
                .await
                .expect("restart agency"),
        );
    }
}

/// A hub config over `db` with the departments and the agencies, quick retries,
/// and the border principals.
pub fn border_config(db: &TestDb, departments: &Departments, agencies: &Agencies) -> Config {
    let mut config = hub_config(db, departments.subgraphs(|_, url| url));
    config.border.subgraphs = agencies.subgraphs();
    config.border.backoff_base_ms = 50;
    config.border.backoff_max_ms = 300;
    config.border.poll_ms = 50;
    config.border.assessment_timeout_ms = 2_000;
    add_border_principals(&db.url);
    config
}

fn add_border_principals(url: &str) {
    use tellonce::auth::api_keys::{add_with_key, remove, NewPrincipal};
    use tellonce::auth::PrincipalKind;
    let store = tellonce::store::Store::open(url).expect("open the test database");
    let mut principals = vec![
        (
            "test-declarant".to_string(),
            PrincipalKind::Frontend,
            None,
            DECLARANT_KEY.to_string(),
            vec!["border:declare"],
        ),
        (
            "test-border-reader".to_string(),
            PrincipalKind::Frontend,
            None,
            READER_KEY.to_string(),
            vec!["border:read"],
        ),
    ];
    for agency in Agency::all() {
        principals.push((
            format!("test-agency-{}", agency.name()),
            PrincipalKind::Agency,
            Some(agency.name().to_string()),
            agency_key(agency.name()),
            vec![],
        ));
    }
    for (name, kind, department, key, scopes) in principals {
        remove(&store, &name).expect("remove a test principal");
        add_with_key(
            &store,
            NewPrincipal {
                name,
                kind,
                scopes: scopes.into_iter().map(str::to_string).collect(),
                department,
                nino: None,
            },
            key,
        )
        .expect("add a test principal");
    }
}

/// POSTs one GraphQL request as `key`; `None` if no JSON answer came (the hub died).
pub async fn try_call(url: &str, key: &str, query: &str, variables: Value) -> Option<Value> {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {key}"))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .ok()?;
    response.json().await.ok()
}

/// POSTs one GraphQL request as `key` and returns the JSON body.
pub async fn call(url: &str, key: &str, query: &str, variables: Value) -> Value {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let client = CLIENT.get_or_init(reqwest::Client::new);
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {key}"))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    response.json().await.expect("a JSON body")
}

pub const PLAN_FIELDS: &str = "fragment Plan on InterventionPlan {
  id status revision leadAgency location slotStartsAt slotEndsAt
  interventions { kind covers agencies location startsAt endsAt }
  assessments { agency status lastError assessment { riskLevel btomCategory checks { kind locations } } outcome { result ledgerSeq } }
  notConnected reasons
  saving { checksRequested inspectionsRequested inspectionsScheduled inspectionsAvoided interventionsScheduled }
  decision { decision reasons }
  ledgerSeq declarationLedgerSeq
}";

pub fn declare_query() -> String {
    format!("mutation Declare($declaration: ConsignmentDeclarationInput!, $key: String!) {{ declareConsignment(declaration: $declaration, idempotencyKey: $key) {{ ...Plan }} }} {PLAN_FIELDS}")
}

pub fn plan_query() -> String {
    format!("query Plan($id: ID!) {{ interventionPlan(id: $id) {{ ...Plan }} }} {PLAN_FIELDS}")
}

pub fn outcome_query() -> String {
    format!("mutation Outcome($id: ID!, $agency: String!, $result: OutcomeResult!) {{ recordInterventionOutcome(planId: $id, agency: $agency, outcome: {{ result: $result, notes: \"checked\" }}) {{ ...Plan }} }} {PLAN_FIELDS}")
}

/// Declares as the test declarant; the plan or the whole response on error.
pub async fn declare(url: &str, declaration: Value, key: &str) -> Value {
    let response = call(
        url,
        DECLARANT_KEY,
        &declare_query(),
        json!({ "declaration": declaration, "key": key }),
    )
    .await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["declareConsignment"].clone()
}

/// The plan by id, read by the border reader.
pub async fn plan(url: &str, id: &str) -> Value {
    let response = call(url, READER_KEY, &plan_query(), json!({ "id": id })).await;
    assert!(response["errors"].is_null(), "{response}");
    response["data"]["interventionPlan"].clone()
}

/// Waits (up to 30 s) until the plan is no longer provisional.
pub async fn settled(url: &str, id: &str) -> Value {
    for _ in 0..300 {
        let current = plan(url, id).await;
        if current["status"] != "PROVISIONAL" {
            return current;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("plan {id} stayed provisional: {}", plan(url, id).await);
}

pub fn arrival(hours: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(hours))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Live cattle from France, through Dover, to be checked at Sevington (the
/// demo's example declaration).
pub fn live_animals() -> Value {
    tellonce::demo::example_declaration_variables()["declaration"].clone()
}

/// Plants for planting from the Netherlands, through Dover.
pub fn plants_for_planting() -> Value {
    json!({
        "declarant": "GB266719370000",
        "importer": "GB266719370000",
        "originCountry": "NL",
        "dispatchCountry": "NL",
        "procedureCode": "4000",
        "locationOfGoods": "GB/A/U/DVRDOVDVR",
        "portOfEntry": "GBDOV",
        "borderControlPost": "GBSEV1",
        "arrivesAt": arrival(3),
        "transportMode": "ROAD",
        "chedReference": "CHEDPP.GB.2026.7654321",
        "items": [{
            "commodityCode": "06029050",
            "description": "Potted olive trees for planting",
            "quantity": 120,
            "netMassKg": 2400.0,
            "grossMassKg": 2900.0,
            "valueGbp": 9000.0
        }]
    })
}

/// Laptops from Germany by an authorised economic operator with a clean
/// record: low risk.
pub fn low_risk() -> Value {
    json!({
        "declarant": "GB123456789000",
        "importer": "GB123456789000",
        "originCountry": "DE",
        "dispatchCountry": "DE",
        "procedureCode": "4000",
        "locationOfGoods": "GB/A/U/FXTFXTFXT",
        "portOfEntry": "GBFXT",
        "arrivesAt": arrival(24),
        "transportMode": "SEA",
        "traderFlags": ["AEO_CERTIFIED"],
        "items": [{
            "commodityCode": "84713000",
            "description": "Portable computers",
            "quantity": 100,
            "netMassKg": 200.0,
            "grossMassKg": 260.0,
            "valueGbp": 20000.0
        }]
    })
}

/// An HTTP proxy to `target` that holds each request for `delay` first.
pub async fn slow_proxy(target: String, delay: Duration) -> String {
    use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let client = reqwest::Client::new();
    let server = HttpServer::new(move || {
        let target = target.clone();
        let client = client.clone();
        App::new().default_service(web::to(move |request: HttpRequest, body: web::Bytes| {
            let target = target.clone();
            let client = client.clone();
            async move {
                tokio::time::sleep(delay).await;
                let mut forward = client
                    .post(&target)
                    .header("content-type", "application/json")
                    .body(body.to_vec());
                if let Some(token) = request
                    .headers()
                    .get("x-tellonce-identity")
                    .and_then(|v| v.to_str().ok())
                {
                    forward = forward.header("x-tellonce-identity", token);
                }
                match forward.send().await {
                    Ok(response) => HttpResponse::Ok()
                        .content_type("application/json")
                        .body(response.bytes().await.unwrap_or_default().to_vec()),
                    Err(_) => HttpResponse::BadGateway().finish(),
                }
            }
        }))
    })
    .workers(2)
    .disable_signals()
    .listen(listener)
    .expect("listen")
    .run();
    tokio::spawn(server);
    format!("http://{addr}/graphql")
}
