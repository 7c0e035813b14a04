//! `tellonce demo`: the example departments and a hub over them on the
//! embedded defaults, started with no set-up and stopped with Ctrl-C.

use std::net::{SocketAddr, TcpListener};

use tellonce_departments::{Agency, Department, RunningDepartment};

use crate::config::{Config, SubgraphConfig};
use crate::server::ShutdownSignals;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "cannot start department {department} on {addr}: {source} (pick another port with --port)"
    )]
    Department {
        department: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the hub did not start: {0}")]
    Hub(#[from] crate::server::StartError),
    #[error("cannot listen for SIGINT and SIGTERM: {0}")]
    Signals(std::io::Error),
    #[error("port {0} plus one port per department is beyond 65535: pick a lower --port")]
    PortRange(u16),
    #[error("cannot create the example principals: {0}")]
    Principals(String),
}

/// A cross-department query to try first: one person as HMRC, DWP, DVLA and
/// HM Passport Office know them, and the hub's own status.
pub const EXAMPLE_QUERY: &str = r#"query Person {
  taxpayer(nino: "JK528194C") {
    name
    utr
    address { postcode }
    benefitClaims { benefit status }
    drivingLicence { licenceNumber status }
    passports { passportNumber expiresOn }
  }
  hub { version subgraphs { name healthy } }
}"#;

/// A consignment declaration to try: every agency in scope answers in one plan.
pub const EXAMPLE_DECLARATION: &str = "mutation Declare($declaration: ConsignmentDeclarationInput!) { declareConsignment(declaration: $declaration, idempotencyKey: \"demo-cattle-1\") { id status leadAgency location slotStartsAt interventions { kind covers agencies location startsAt } saving { checksRequested inspectionsRequested inspectionsScheduled inspectionsAvoided } notConnected trader { name company { companyName } } } }";

/// The variables of [`EXAMPLE_DECLARATION`]: live cattle from France via
/// Dover, to be checked at Sevington, arriving in two hours.
pub fn example_declaration_variables() -> serde_json::Value {
    let arrives = chrono::Utc::now() + chrono::Duration::hours(2);
    serde_json::json!({ "declaration": {
        "declarant": "GB351608216000",
        "importer": "GB351608216000",
        "originCountry": "FR",
        "dispatchCountry": "FR",
        "procedureCode": "4000",
        "locationOfGoods": "GB/A/U/DVRDOVDVR",
        "portOfEntry": "GBDOV",
        "borderControlPost": "GBSEV1",
        "arrivesAt": arrives.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "transportMode": "ROAD",
        "goodsMovementReference": "GMRA00002KW2",
        "chedReference": "CHEDA.GB.2026.1234567",
        "items": [{
            "commodityCode": "0102291000",
            "description": "Live bovine animals for breeding",
            "quantity": 20,
            "netMassKg": 12000.0,
            "grossMassKg": 14000.0,
            "valueGbp": 30000.0
        }]
    }})
}

/// Runs the demo until Ctrl-C (or SIGTERM).
/// `base` is the configuration read as every command reads it; the demo
/// sets the listen address and the departments on it.
pub async fn run(port: u16, base: Config) -> Result<(), DemoError> {
    let signals = ShutdownSignals::install().map_err(DemoError::Signals)?;
    let departments = start_departments(port).await?;
    let agencies = match start_agencies(port, departments.len()).await {
        Ok(agencies) => agencies,
        Err(error) => {
            for department in departments {
                let _ = department.stop().await;
            }
            return Err(error);
        }
    };
    let mut config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], port)),
        subgraphs: departments
            .iter()
            .map(|d| SubgraphConfig {
                name: d.department.name().to_owned(),
                url: d.url(),
                schema_file: None,
            })
            .collect(),
        ..base
    };
    config.border.subgraphs = agencies
        .iter()
        .map(|a| (a.name().to_owned(), a.url()))
        .collect();
    // The demo is for trying things: GraphiQL needs introspection.
    config.limits.introspection = true;
    let principals = example_principals(&config).await?;
    let frontend_key = principals
        .iter()
        .find(|(name, _, _)| *name == "demo-frontend")
        .map(|(_, _, key)| key.clone())
        .unwrap_or_default();
    config.graphiql_headers =
        Some(serde_json::json!({ "Authorization": format!("Bearer {frontend_key}") }).to_string());
    config.graphiql_query = Some(EXAMPLE_QUERY.to_string());
    let hub = crate::server::start(&config).await?;

    println!("tellonce demo is running. Departments:");
    for department in &departments {
        println!(
            "  {:<18} {}",
            department.department.name(),
            department.url()
        );
    }
    println!("Border agencies (asked for risk assessments of each declared consignment):");
    for agency in &agencies {
        println!("  {:<18} {}", agency.name(), agency.url());
    }
    println!(
        "\nThe hub (one graph over all of them): {}",
        hub.graphql_url()
    );
    println!(
        "\nExample principals (API keys, new each run; send as `Authorization: Bearer <key>`):"
    );
    for (name, what, key) in &principals {
        println!("  {name:<16} {what:<44} {key}");
    }
    println!(
        "\nOpen the hub in a browser for GraphiQL (the frontend's key is preloaded), or try:\n"
    );
    println!(
        "  curl -s {} -H 'content-type: application/json' -H 'authorization: Bearer {frontend_key}' -d '{}'\n",
        hub.graphql_url(),
        serde_json::json!({ "query": EXAMPLE_QUERY })
    );
    let declarant_key = principals
        .iter()
        .find(|(name, _, _)| *name == "demo-declarant")
        .map(|(_, _, key)| key.clone())
        .unwrap_or_default();
    println!(
        "Declare a consignment once (live cattle from France via Dover) and see every agency's checks in one plan:\n"
    );
    println!(
        "  curl -s {} -H 'content-type: application/json' -H 'authorization: Bearer {declarant_key}' -d '{}'\n",
        hub.graphql_url(),
        serde_json::json!({ "query": EXAMPLE_DECLARATION, "variables": example_declaration_variables() })
    );
    let vkey = hub.ledger.verifier().to_vkey();
    println!(
        "The ledger (tlog-tiles at {base}/ledger/checkpoint and {base}/ledger/tile/…) is signed by\n  {vkey}\nCheck it with: tellonce ledger verify --database {db} --key '{vkey}'\n",
        base = hub.base_url(),
        db = config.database_url(),
    );
    println!("Press Ctrl-C to stop.");

    // The hub stops first, so no request reaches a department that is gone.
    let _ = hub.serve_until(signals).await;
    for running in departments.into_iter().chain(agencies) {
        let _ = running.stop().await;
    }
    println!("tellonce demo stopped.");
    Ok(())
}

/// The demo's principals, one of each kind, with fresh keys each run:
/// (name, what it may do, key).
/// One example principal: name, what it may do, kind, scopes, department, NINO.
type Example = (
    &'static str,
    &'static str,
    crate::auth::PrincipalKind,
    &'static [&'static str],
    Option<&'static str>,
    Option<&'static str>,
);

async fn example_principals(
    config: &Config,
) -> Result<Vec<(&'static str, &'static str, String)>, DemoError> {
    use crate::auth::api_keys::{self, NewPrincipal};
    use crate::auth::PrincipalKind;
    let examples: [Example; 9] = [
        (
            "demo-frontend",
            "frontend: reads and updates people's records",
            PrincipalKind::Frontend,
            &["hmrc:taxpayer:read", "hmrc:taxpayer:write"],
            None,
            None,
        ),
        (
            "demo-declarant",
            "frontend: declares consignments (customs agent)",
            PrincipalKind::Frontend,
            &["border:declare"],
            None,
            None,
        ),
        (
            "demo-apha",
            "agency apha: its worklist and outcomes",
            PrincipalKind::Agency,
            &[],
            Some("apha"),
            None,
        ),
        (
            "demo-port-health",
            "agency port-health: its worklist and outcomes",
            PrincipalKind::Agency,
            &[],
            Some("port-health"),
            None,
        ),
        (
            "demo-border-force",
            "agency border-force: its worklist and outcomes",
            PrincipalKind::Agency,
            &[],
            Some("border-force"),
            None,
        ),
        (
            "demo-registrar",
            "registrar: tells any life event",
            PrincipalKind::Registrar,
            &[],
            None,
            None,
        ),
        (
            "demo-citizen",
            "citizen JK528194C: tells their own events",
            PrincipalKind::Citizen,
            &[],
            None,
            Some("JK528194C"),
        ),
        (
            "demo-hmrc",
            "department hmrc: reads its own feed",
            PrincipalKind::Department,
            &[],
            Some("hmrc"),
            None,
        ),
        (
            "demo-operator",
            "operator: dead letters and replay",
            PrincipalKind::Operator,
            &[],
            None,
            None,
        ),
    ];
    std::fs::create_dir_all(&config.data_dir).map_err(|e| DemoError::Principals(e.to_string()))?;
    let url = config.database_url();
    tokio::task::spawn_blocking(move || {
        let store =
            crate::store::Store::open(&url).map_err(|e| DemoError::Principals(e.to_string()))?;
        let mut issued = Vec::new();
        for (name, what, kind, scopes, department, nino) in examples {
            api_keys::remove(&store, name).map_err(|e| DemoError::Principals(e.to_string()))?;
            let key = api_keys::add(
                &store,
                NewPrincipal {
                    name: name.to_string(),
                    kind,
                    scopes: scopes.iter().map(|s| s.to_string()).collect(),
                    department: department.map(str::to_string),
                    nino: nino.map(str::to_string),
                },
            )
            .map_err(|e| DemoError::Principals(e.to_string()))?;
            issued.push((name, what, key));
        }
        Ok(issued)
    })
    .await
    .map_err(|e| DemoError::Principals(e.to_string()))?
}

/// The example border agencies, on the ports after the departments'.
async fn start_agencies(port: u16, after: usize) -> Result<Vec<RunningDepartment>, DemoError> {
    let mut running = Vec::new();
    for (offset, agency) in Agency::all().iter().enumerate() {
        let agency_port = u16::try_from(after + offset + 1)
            .ok()
            .and_then(|offset| port.checked_add(offset))
            .ok_or(DemoError::PortRange(port))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], agency_port));
        let options = tellonce_departments::DepartmentOptions {
            hub_jwks_url: Some(format!("http://127.0.0.1:{port}/.well-known/jwks.json")),
            require_hub_token: true,
            ..Default::default()
        };
        let started = match TcpListener::bind(addr) {
            Ok(listener) => tellonce_departments::start_agency(*agency, listener, options).await,
            Err(error) => Err(error),
        };
        match started {
            Ok(agency) => running.push(agency),
            Err(source) => {
                for agency in running {
                    let _ = agency.stop().await;
                }
                return Err(DemoError::Department {
                    department: agency.name(),
                    addr,
                    source,
                });
            }
        }
    }
    Ok(running)
}

async fn start_departments(port: u16) -> Result<Vec<RunningDepartment>, DemoError> {
    let mut running = Vec::new();
    for (offset, department) in Department::all().iter().enumerate() {
        let department_port = u16::try_from(offset + 1)
            .ok()
            .and_then(|offset| port.checked_add(offset))
            .ok_or(DemoError::PortRange(port))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], department_port));
        let started = match TcpListener::bind(addr) {
            Ok(listener) => {
                // The hub's JWKS is served on its port once it is up; the
                // departments fetch it when the first token arrives.
                let options = tellonce_departments::DepartmentOptions {
                    hub_jwks_url: Some(format!("http://127.0.0.1:{port}/.well-known/jwks.json")),
                    require_hub_token: true,
                    ..Default::default()
                };
                tellonce_departments::start_with(*department, listener, options).await
            }
            Err(error) => Err(error),
        };
        match started {
            Ok(department) => running.push(department),
            Err(source) => {
                for department in running {
                    let _ = department.stop().await;
                }
                return Err(DemoError::Department {
                    department: department.name(),
                    addr,
                    source,
                });
            }
        }
    }
    Ok(running)
}
