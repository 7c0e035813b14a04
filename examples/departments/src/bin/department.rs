//! `department <name|all> [--port N]`: run example department subgraphs until Ctrl-C.
//!
//! With `all`, departments listen on consecutive ports from N (default 4001); a single
//! department listens on N (default 4001). Port 0 picks free ports.
//!
//! With `--hub-jwks URL` (the hub's `/.well-known/jwks.json`), the receiving mutations accept
//! only the hub's tell-us-once delivery, proven by the hub's signed identity token.

use std::net::TcpListener;
use std::process::ExitCode;
use tellonce_departments::{start_with, Department, DepartmentOptions};

const USAGE: &str = "usage: department <name|all> [--port N] [--hub-jwks URL [--hub-issuer NAME]]\n  names: hmrc, companies-house, dwp, dvla, passport-office, border-force";

struct Options {
    departments: Vec<Department>,
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
    let departments = match which {
        None => return Err("name a department, or all".to_string()),
        Some("all") => Department::all().to_vec(),
        Some(name) => {
            vec![Department::from_name(name).ok_or_else(|| format!("unknown department: {name}"))?]
        }
    };
    Ok(Options {
        departments,
        first_port,
        trust,
    })
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
    for (offset, department) in options.departments.iter().enumerate() {
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
            Ok(listener) => start_with(*department, listener, options.trust.clone()).await,
            Err(error) => Err(error),
        };
        match started {
            Ok(department) => {
                println!("{:<16} {}", department.department.name(), department.url());
                running.push(department);
            }
            Err(error) => {
                eprintln!("error: cannot start {department} on port {port}: {error}");
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
        let name = department.department.name();
        if let Err(error) = department.stop().await {
            eprintln!("error: stopping {name}: {error}");
        }
    }
    ExitCode::SUCCESS
}
