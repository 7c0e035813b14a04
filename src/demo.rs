//! `tellonce demo`: the example departments and a hub over them on the
//! embedded defaults, started with no set-up and stopped with Ctrl-C.

use std::net::{SocketAddr, TcpListener};

use tellonce_departments::{Department, RunningDepartment};

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

/// Runs the demo until Ctrl-C (or SIGTERM).
pub async fn run(port: u16) -> Result<(), DemoError> {
    let signals = ShutdownSignals::install().map_err(DemoError::Signals)?;
    let departments = start_departments(port).await?;
    let config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], port)),
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
    let hub = crate::server::start(&config).await?;

    println!("tellonce demo is running. Departments:");
    for department in &departments {
        println!(
            "  {:<18} {}",
            department.department.name(),
            department.url()
        );
    }
    println!(
        "\nThe hub (one graph over all of them): {}",
        hub.graphql_url()
    );
    println!("Open it in a browser for GraphiQL, or try:\n");
    println!(
        "  curl -s {} -H 'content-type: application/json' -d '{}'\n",
        hub.graphql_url(),
        serde_json::json!({ "query": EXAMPLE_QUERY })
    );
    println!("Press Ctrl-C to stop.");

    // The hub stops first, so no request reaches a department that is gone.
    let _ = hub.serve_until(signals).await;
    for department in departments {
        let _ = department.stop().await;
    }
    println!("tellonce demo stopped.");
    Ok(())
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
            Ok(listener) => tellonce_departments::start(*department, listener).await,
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
