//! Test support: the example departments on ephemeral ports and a hub
//! composed over them, as `tellonce demo` runs them, plus HTTP helpers.

#![allow(dead_code)]

use std::net::TcpListener;

use serde_json::Value;
use tellonce::config::{Config, SubgraphConfig};
use tellonce::server::RunningHub;
use tellonce_departments::{Department, RunningDepartment};

pub struct Demo {
    pub hub: RunningHub,
    pub departments: Vec<RunningDepartment>,
    pub data_dir: tempfile::TempDir,
}

impl Demo {
    pub fn url(&self) -> String {
        self.hub.graphql_url()
    }

    /// Stops one department (to see the hub cope with it being down).
    pub async fn stop_department(&mut self, department: Department) {
        if let Some(index) = self
            .departments
            .iter()
            .position(|d| d.department == department)
        {
            let running = self.departments.remove(index);
            running.stop().await.expect("department stops");
        }
    }
}

fn ephemeral() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port")
}

/// Every example department and a hub over them (the hub's own subgraph composed in).
pub async fn start_demo() -> Demo {
    start_demo_with(|_| {}).await
}

/// As [`start_demo`], with `adjust` applied to the hub's configuration last.
pub async fn start_demo_with(adjust: impl FnOnce(&mut Config)) -> Demo {
    let mut departments = Vec::new();
    for department in Department::all() {
        departments.push(
            tellonce_departments::start(*department, ephemeral())
                .await
                .expect("department starts"),
        );
    }
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        data_dir: data_dir.path().to_owned(),
        subgraphs: departments
            .iter()
            .map(|d| SubgraphConfig {
                name: d.department.name().to_owned(),
                url: d.url(),
                schema_file: None,
            })
            .collect(),
        ..Config::default()
    };
    config.gateway.subgraph_timeout_ms = 5_000;
    config.limits.introspection = true;
    // Rate limits have their own tests; these send bursts on purpose.
    config.rate_limit.requests_per_second = 100_000;
    config.rate_limit.burst = 100_000;
    config.rate_limit.anonymous_requests_per_second = 100_000;
    config.rate_limit.anonymous_burst = 100_000;
    adjust(&mut config);
    add_principals(&config);
    let hub = tellonce::server::start_on(&config, ephemeral())
        .await
        .expect("hub starts");
    Demo {
        hub,
        departments,
        data_dir,
    }
}

/// The keys of the principals every test demo has.
pub const FRONTEND_KEY: &str = "tok_demo-frontend-0123456789abcdef";
pub const REGISTRAR_KEY: &str = "tok_demo-registrar-0123456789abcdef";
pub const OPERATOR_KEY: &str = "tok_demo-operator-0123456789abcdef";
pub const CITIZEN_KEY: &str = "tok_demo-citizen-0123456789abcdef";
pub const HMRC_KEY: &str = "tok_demo-hmrc-0123456789abcdefghij";
/// The citizen principal's National Insurance number.
pub const CITIZEN_NINO: &str = "JK528194C";

fn add_principals(config: &Config) {
    use tellonce::auth::api_keys::{add_with_key, NewPrincipal};
    use tellonce::auth::PrincipalKind;
    let store = tellonce::store::Store::open(&config.database_url()).expect("open the database");
    let principals = [
        (
            "frontend",
            PrincipalKind::Frontend,
            FRONTEND_KEY,
            None,
            None,
        ),
        (
            "registrar",
            PrincipalKind::Registrar,
            REGISTRAR_KEY,
            None,
            None,
        ),
        (
            "operator",
            PrincipalKind::Operator,
            OPERATOR_KEY,
            None,
            None,
        ),
        (
            "citizen",
            PrincipalKind::Citizen,
            CITIZEN_KEY,
            None,
            Some(CITIZEN_NINO),
        ),
        (
            "hmrc",
            PrincipalKind::Department,
            HMRC_KEY,
            Some("hmrc"),
            None,
        ),
    ];
    for (name, kind, key, department, nino) in principals {
        let _ = tellonce::auth::api_keys::remove(&store, name);
        add_with_key(
            &store,
            NewPrincipal {
                name: name.into(),
                kind,
                scopes: if kind == PrincipalKind::Frontend {
                    [
                        "hmrc:taxpayer:read".to_string(),
                        "hmrc:taxpayer:write".to_string(),
                    ]
                    .into()
                } else {
                    Default::default()
                },
                department: department.map(str::to_string),
                nino: nino.map(str::to_string),
            },
            key.into(),
        )
        .expect("add a test principal");
    }
}

/// What came back over HTTP.
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// Every `extensions.code` in the response's errors.
    pub fn codes(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.text().await.expect("body");
    Reply {
        status,
        content_type,
        headers,
        body,
    }
}

/// POSTs `body` as it is, with the given content type and accept headers,
/// as the test frontend.
pub async fn post_raw(url: &str, body: &str, content_type: &str, accept: Option<&str>) -> Reply {
    post_as(url, body, content_type, accept, Some(FRONTEND_KEY)).await
}

/// As [`post_raw`], with `key` as the credential (`None`: anonymous).
pub async fn post_as(
    url: &str,
    body: &str,
    content_type: &str,
    accept: Option<&str>,
    key: Option<&str>,
) -> Reply {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", content_type)
        .body(body.to_owned());
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    reply(request.send().await.expect("POST")).await
}

/// POSTs a JSON body.
pub async fn post_json(url: &str, body: &Value, accept: Option<&str>) -> Reply {
    post_raw(url, &body.to_string(), "application/json", accept).await
}

/// GETs `url` with the given query parameters and accept header.
pub async fn get(url: &str, params: &[(&str, &str)], accept: Option<&str>) -> Reply {
    let mut request = reqwest::Client::new()
        .get(url)
        .header("authorization", format!("Bearer {FRONTEND_KEY}"));
    if !params.is_empty() {
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect();
        request = reqwest::Client::new()
            .get(format!("{url}?{}", query.join("&")))
            .header("authorization", format!("Bearer {FRONTEND_KEY}"));
    }
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    reply(request.send().await.expect("GET")).await
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
