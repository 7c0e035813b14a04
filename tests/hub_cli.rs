//! The `tellonce` binary: exit codes and messages for bad SDL, `check`,
//! `compose`, reload on SIGHUP, graceful stop on SIGTERM, and the demo.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SHOP: &str = include_str!("fixtures/shop.supergraph.graphql");

fn tellonce() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tellonce"));
    command.env("RUST_LOG", "warn");
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A port whose next twelve ports are free too (the demo's departments and
/// border agencies take them).
fn free_port_run() -> u16 {
    loop {
        let port = free_port();
        let all_free = (1..=12).all(|offset| {
            port.checked_add(offset)
                .is_some_and(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok())
        });
        if all_free {
            return port;
        }
    }
}

/// Kills the child if a test fails before it stops it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Waits (bounded) for the child to exit and returns its exit code.
fn wait_exit(child: &mut Child) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("the process did not exit within 20 s");
}

/// A plain HTTP/1.1 GET over a std socket: the body of a 2xx answer, else `None`.
fn get(url: &str) -> Option<String> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let mut stream = std::net::TcpStream::connect(authority).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET /{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?;
    status.starts_with('2').then(|| body.to_owned())
}

fn wait_ready(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(body) = get(&format!("http://127.0.0.1:{port}/ready")) {
            return body;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the hub on port {port} never became ready");
}

#[test]
fn serve_refuses_a_supergraph_that_does_not_parse_with_exit_2_and_the_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("broken.graphql");
    std::fs::write(
        &file,
        "schema { query: Query }\n\ntype Query {\n  field: String\n  broken(: Int\n}\n",
    )
    .expect("write");
    let output = tellonce()
        .args(["serve", "--listen", "127.0.0.1:0", "--supergraph"])
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 5") || stderr.contains("5:"),
        "names the line: {stderr}"
    );
}

#[test]
fn check_accepts_a_supergraph_and_refuses_a_file_that_is_not_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = dir.path().join("shop.graphql");
    std::fs::write(&good, SHOP).expect("write");
    let output = tellonce().arg("check").arg(&good).output().expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("4 subgraph(s)"), "{stdout}");

    let missing = tellonce()
        .arg("check")
        .arg(dir.path().join("nope.graphql"))
        .output()
        .expect("run");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope.graphql"));
}

fn write_config(dir: &Path, subgraphs: &[(&str, &str)]) -> std::path::PathBuf {
    let mut toml = String::new();
    for (name, sdl) in subgraphs {
        let path = dir.join(format!("{name}.graphql"));
        std::fs::write(&path, sdl).expect("write sdl");
        toml.push_str(&format!(
            "[[subgraphs]]\nname = \"{name}\"\nurl = \"http://127.0.0.1:1/{name}\"\nschema_file = \"{}\"\n\n",
            path.display()
        ));
    }
    let config = dir.join("tellonce.toml");
    std::fs::write(&config, toml).expect("write config");
    config
}

const LINK: &str =
    r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])"#;

#[test]
fn compose_prints_a_supergraph_with_the_hub_and_names_what_is_wrong() {
    let dir = tempfile::tempdir().expect("temp dir");
    let people = format!("{LINK}\ntype Query {{ person(nino: String!): Person }}\ntype Person @key(fields: \"nino\") {{ nino: String! name: String! }}\n");
    let config = write_config(dir.path(), &[("people", &people)]);
    let output = tellonce()
        .arg("compose")
        .arg("--config")
        .arg(&config)
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sdl = String::from_utf8_lossy(&output.stdout);
    assert!(sdl.contains("join__Graph"), "{sdl}");
    assert!(sdl.contains("PEOPLE") && sdl.contains("HUB"), "{sdl}");

    let broken = format!("{LINK}\ntype Query {{\n  person(nino: String!): Person\n  oops(\n}}\n");
    let config = write_config(dir.path(), &[("people", &broken)]);
    let output = tellonce()
        .arg("compose")
        .arg("--config")
        .arg(&config)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("subgraph people"), "{stderr}");

    let taxes = format!("{LINK}\ntype Query {{ taxYear: Int! }}\ntype Person @key(fields: \"nino\") {{ nino: String! name: Int! }}\n");
    let config = write_config(dir.path(), &[("people", &people), ("taxes", &taxes)]);
    let output = tellonce()
        .arg("compose")
        .arg("--config")
        .arg(&config)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Person") && stderr.contains("name"),
        "{stderr}"
    );
}

#[test]
fn sighup_reloads_the_supergraph_and_sigterm_stops_gracefully() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("shop.graphql");
    std::fs::write(&file, SHOP).expect("write");
    let config = dir.path().join("tellonce.toml");
    // Polling is off in effect, so only SIGHUP can trigger the reload.
    std::fs::write(&config, "[gateway]\nreload_poll_ms = 3600000\n").expect("write config");
    let port = free_port();
    let child = tellonce()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(&config)
        .arg("--supergraph")
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut child = Running(child);
    let before = wait_ready(port);

    std::fs::write(
        &file,
        SHOP.replace(
            "@join__field(graph: PRODUCTS) @inaccessible",
            "@join__field(graph: PRODUCTS)",
        ),
    )
    .expect("rewrite");
    signal(&child.0, "HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut after = before.clone();
    while after == before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        after = get(&format!("http://127.0.0.1:{port}/ready")).unwrap_or_default();
    }
    assert_ne!(after, before, "SIGHUP reloaded the supergraph");

    signal(&child.0, "TERM");
    assert_eq!(wait_exit(&mut child.0), Some(0), "a graceful stop exits 0");
}

#[test]
fn the_demo_starts_every_department_prints_its_urls_and_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port_run();
    let child = tellonce()
        .args(["demo", "--port", &port.to_string()])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let mut child = Running(child);
    let stdout = child.0.stdout.take().expect("stdout");
    let mut lines = Vec::new();
    let mut reader = BufReader::new(stdout).lines();
    for line in reader.by_ref() {
        let line = line.expect("line");
        let done = line.contains("Ctrl-C");
        lines.push(line);
        if done {
            break;
        }
    }
    let printed = lines.join("\n");
    for name in [
        "hmrc",
        "companies-house",
        "dwp",
        "dvla",
        "passport-office",
        "border-force",
    ] {
        assert!(printed.contains(name), "{printed}");
    }
    assert!(
        printed.contains(&format!("http://127.0.0.1:{port}/graphql")),
        "{printed}"
    );
    assert!(
        printed.contains("curl"),
        "prints an example query: {printed}"
    );
    for agency in ["hmrc-customs", "apha", "plant-health", "fsa", "port-health"] {
        assert!(printed.contains(agency), "{printed}");
    }
    // The printed declaration, sent with the printed declarant's key: one
    // joint inspection serves APHA, Port Health and Border Force.
    let key = lines
        .iter()
        .find(|l| l.trim_start().starts_with("demo-declarant"))
        .and_then(|l| l.split_whitespace().last())
        .expect("the declarant's key is printed")
        .to_owned();
    let url = format!("http://127.0.0.1:{port}/graphql");
    let plan: serde_json::Value =
        tokio::runtime::Runtime::new()
            .expect("runtime")
            .block_on(async {
                reqwest::Client::new()
                    .post(&url)
                    .header("authorization", format!("Bearer {key}"))
                    .json(&serde_json::json!({
                        "query": tellonce::demo::EXAMPLE_DECLARATION,
                        "variables": tellonce::demo::example_declaration_variables(),
                    }))
                    .send()
                    .await
                    .expect("POST the example declaration")
                    .json()
                    .await
                    .expect("JSON")
            });
    let declared = &plan["data"]["declareConsignment"];
    assert_eq!(declared["status"], "PLANNED", "{plan}");
    assert_eq!(declared["location"], "GBSEV1", "{plan}");
    assert_eq!(declared["saving"]["inspectionsScheduled"], 1, "{plan}");
    assert_eq!(
        declared["trader"]["name"], "NORTHERN HARVEST FOODS LIMITED",
        "{plan}"
    );
    assert!(
        dir.path().join("data").exists(),
        "the embedded ledger lives under ./data"
    );

    signal(&child.0, "INT");
    let rest: Vec<String> = reader.map_while(Result::ok).collect();
    assert_eq!(wait_exit(&mut child.0), Some(0));
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");
}

#[test]
fn agencies_checks_the_agencies_file_and_names_what_is_wrong() {
    let dir = tempfile::tempdir().expect("temp dir");
    let listed = tellonce()
        .args(["agencies"])
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(text.contains("28 agencies (0 connected)"), "{text}");
    assert!(
        text.contains("mhra") && text.contains("not connected"),
        "{text}"
    );

    let builtin = include_str!("../schema/border/agencies.toml");
    let file = dir.path().join("agencies.toml");
    std::fs::write(&file, builtin.replacen("id = \"mhra\"", "id = \"fsa\"", 1)).expect("write");
    let config = dir.path().join("tellonce.toml");
    std::fs::write(
        &config,
        format!("[border]\nagencies_file = {:?}\n[border.subgraphs]\napha = \"http://127.0.0.1:9/graphql\"\n", file.display().to_string()),
    )
    .expect("write");
    let refused = tellonce()
        .args(["agencies", "--config"])
        .arg(&config)
        .output()
        .expect("run");
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("agency fsa is named twice") && message.contains("agencies.toml"),
        "{message}"
    );

    std::fs::write(&file, builtin).expect("write");
    let listed = tellonce()
        .args(["agencies", "--config"])
        .arg(&config)
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&listed.stdout).contains("28 agencies (1 connected)"));
}
