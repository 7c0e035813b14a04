//! `department <name|all|agencies> [--port N]`: run example department or border agency
//! subgraphs until Ctrl-C.
//!
//! With `all` (the nine departments) or `agencies` (the six border agencies), subgraphs listen
//! on consecutive ports from N (default 4001); a single one listens on N (default 4001). Port
//! 0 picks free ports. A name that is both a department's and an agency's (`border-force`)
//! names the department; `agency:border-force` names the agency.
//!
//! With `--hub-jwks URL` (the hub's `/.well-known/jwks.json`), the receiving mutations accept
//! only the hub's tell-us-once delivery, and the agencies' risk assessments only the hub,
//! proven by the hub's signed identity token.

use std::net::TcpListener;
use std::process::ExitCode;
use tellonce_departments::{
    start_agency, start_with, Agency, Department, DepartmentOptions, RunningDepartment, Subgraph,
};

const USAGE: &str = "usage: department <name|all|agencies> [--port N] [--hub-jwks URL [--hub-issuer NAME]]\n  departments: hmrc, companies-house, dwp, dvla, passport-office, border-force,\n    local-council, veterans-uk, civil-service-pension\n  agencies: agency:border-force, hmrc-customs, apha, plant-health, fsa, port-health";

struct Options {
    subgraphs: Vec<Subgraph>,
    first_port: u16,
    trust: DepartmentOptions,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut which: Option<&str> = None;
    let mut first_port: u16 = 4001;
    let mut trust = DepartmentOptions::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--port" | "-p" => {
                let value = rest.next().ok_or("--port needs a value")?;
                first_port = value
                    .parse()
                    .map_err(|_| format!("--port: not a port number: {value}"))?;
            }
            "--hub-jwks" => {
                let url = rest.next().ok_or("--hub-jwks needs the hub's JWKS URL")?;
                trust.hub_jwks_url = Some(url.clone());
                trust.require_hub_token = true;
            }
            "--hub-issuer" => {
                trust.hub_issuer = rest.next().ok_or("--hub-issuer needs a value")?.clone();
            }
            "--help" | "-h" => return Err(String::new()),
            name if which.is_none() => which = Some(name),
            extra => return Err(format!("unexpected argument: {extra}")),
        }
    }
    let subgraphs = match which {
        None => return Err("name a department or agency, all, or agencies".to_string()),
        Some(which) => {
            named(which).ok_or_else(|| format!("unknown department or agency: {which}"))?
        }
    };
    Ok(Options {
        subgraphs,
        first_port,
        trust,
    })
}

/// The subgraphs `which` names.
fn named(which: &str) -> Option<Vec<Subgraph>> {
    let departments = |all: &[Department]| all.iter().map(|&d| Subgraph::from(d)).collect();
    let agencies = |all: &[Agency]| all.iter().map(|&a| Subgraph::from(a)).collect();
    match which {
        "all" => Some(departments(Department::all())),
        "agencies" => Some(agencies(Agency::all())),
        name => match name.strip_prefix("agency:") {
            Some(name) => Agency::from_name(name).map(|a| vec![a.into()]),
            None => Department::from_name(name)
                .map(Subgraph::from)
                .or_else(|| Agency::from_name(name).map(Subgraph::from))
                .map(|subgraph| vec![subgraph]),
        },
    }
}

async fn start(
    subgraph: Subgraph,
    listener: TcpListener,
    trust: DepartmentOptions,
) -> std::io::Result<RunningDepartment> {
    match subgraph {
        Subgraph::Department(department) => start_with(department, listener, trust).await,
        Subgraph::Agency(agency) => start_agency(agency, listener, trust).await,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(&args) {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("error: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut running = Vec::new();
    for (offset, &subgraph) in options.subgraphs.iter().enumerate() {
        let port = if options.first_port == 0 {
            0
        } else {
            match u16::try_from(offset)
                .ok()
                .and_then(|o| options.first_port.checked_add(o))
            {
                Some(port) => port,
                None => {
                    eprintln!("error: port range overflows from {}", options.first_port);
                    return ExitCode::from(2);
                }
            }
        };
        let started = match TcpListener::bind(("127.0.0.1", port)) {
            Ok(listener) => start(subgraph, listener, options.trust.clone()).await,
            Err(error) => Err(error),
        };
        match started {
            Ok(department) => {
                println!("{:<16} {}", department.name(), department.url());
                running.push(department);
            }
            Err(error) => {
                eprintln!("error: cannot start {subgraph} on port {port}: {error}");
                for department in running {
                    let _ = department.stop().await;
                }
                return ExitCode::FAILURE;
            }
        }
    }
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("error: cannot wait for Ctrl-C: {error}");
    }
    for department in running {
        let name = department.name();
        if let Err(error) = department.stop().await {
            eprintln!("error: stopping {name}: {error}");
        }
    }
    ExitCode::SUCCESS
}
