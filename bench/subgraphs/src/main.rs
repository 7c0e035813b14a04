//! `bench-subgraphs`: the four benchmark subgraphs (users, products, reviews,
//! inventory) on four consecutive ports of one address, or one subgraph's
//! federation SDL on standard output.
//!
//! ```text
//! bench-subgraphs [--host 127.0.0.1] [--base-port 4201] [--workers 1]
//! bench-subgraphs --print-sdl users|products|reviews|inventory
//! ```
//! Ports: users = base, products = base + 1, reviews = base + 2,
//! inventory = base + 3.

mod catalogue;
mod inventory;
mod products;
mod reviews;
mod serve;
mod users;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use async_graphql::SDLExportOptions;

/// The subgraphs in port order.
const SUBGRAPHS: [&str; 4] = ["users", "products", "reviews", "inventory"];

struct Options {
    host: IpAddr,
    base_port: u16,
    workers: usize,
    print_sdl: Option<String>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        host: IpAddr::V4(Ipv4Addr::LOCALHOST),
        base_port: 4201,
        workers: 1,
        print_sdl: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--host" => options.host = value()?.parse().map_err(|e| format!("--host: {e}"))?,
            "--base-port" => {
                options.base_port = value()?.parse().map_err(|e| format!("--base-port: {e}"))?
            }
            "--workers" => {
                options.workers = value()?.parse().map_err(|e| format!("--workers: {e}"))?
            }
            "--print-sdl" => options.print_sdl = Some(value()?),
            "--help" | "-h" => return Err(usage()),
            other => return Err(format!("unknown argument {other}\n{}", usage())),
        }
    }
    if options.base_port > u16::MAX - 3 {
        return Err("--base-port leaves no room for four ports".into());
    }
    Ok(options)
}

fn usage() -> String {
    "usage: bench-subgraphs [--host ADDR] [--base-port PORT] [--workers N] | --print-sdl NAME"
        .into()
}

fn sdl(name: &str) -> Option<String> {
    let options = SDLExportOptions::new().federation().compose_directive();
    Some(match name {
        "users" => users::schema().sdl_with_options(options),
        "products" => products::schema().sdl_with_options(options),
        "reviews" => reviews::schema().sdl_with_options(options),
        "inventory" => inventory::schema().sdl_with_options(options),
        _ => return None,
    })
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if let Some(name) = &options.print_sdl {
        return match sdl(name) {
            Some(sdl) => {
                print!("{sdl}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("no subgraph named {name}; one of {}", SUBGRAPHS.join(", "));
                ExitCode::from(2)
            }
        };
    }
    match actix_web::rt::System::new().block_on(run(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: &Options) -> std::io::Result<()> {
    // Build the data before the first request, not during it.
    let _ = catalogue::Catalogue::get();
    let addr = |offset: u16| SocketAddr::new(options.host, options.base_port + offset);
    let servers = [
        serve::serve(users::schema(), addr(0), options.workers)?,
        serve::serve(products::schema(), addr(1), options.workers)?,
        serve::serve(reviews::schema(), addr(2), options.workers)?,
        serve::serve(inventory::schema(), addr(3), options.workers)?,
    ];
    for (offset, name) in (0u16..).zip(SUBGRAPHS) {
        println!("{name} http://{}/graphql", addr(offset));
    }
    let handles: Vec<_> = servers.iter().map(|s| s.handle()).collect();
    let mut tasks = Vec::new();
    for server in servers {
        tasks.push(actix_web::rt::spawn(server));
    }
    // Stop all four on SIGINT or SIGTERM.
    let stop = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        std::io::Result::Ok(())
    };
    stop.await?;
    for handle in handles {
        handle.stop(false).await;
    }
    for task in tasks {
        let _ = task.await;
    }
    Ok(())
}
