//! Configuration files: every key read, unknown keys refused with their name,
//! and per-subgraph timeouts in force.

mod gateway_support;

use std::collections::HashMap;
use std::time::Duration;

use gateway_support::{shop_sdl, start_faulty, start_subgraph, subgraphs, Fault};
use serde_json::{json, Value};
use tellonce::config::{Config, ConfigError};

#[test]
fn a_file_sets_every_section_and_unknown_keys_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tellonce.toml");
    std::fs::write(
        &path,
        r#"
listen = "127.0.0.1:4999"
data_dir = "/var/lib/tellonce"
database_url = "postgres://hub@db/tellonce"

[gateway]
subgraph_timeout_ms = 1500
inbound_dedup = false
outbound_dedup = false

[gateway.subgraph_timeouts_ms]
dvla = 250

[[subgraphs]]
name = "hmrc"
url = "http://127.0.0.1:4001/graphql"
schema_file = "schema/departments/hmrc.graphql"
"#,
    )
    .expect("write");
    let config = Config::load(Some(&path)).expect("loads");
    assert_eq!(config.listen.port(), 4999);
    assert_eq!(config.database_url(), "postgres://hub@db/tellonce");
    assert_eq!(
        config.gateway.subgraph_timeout(),
        Duration::from_millis(1500)
    );
    assert_eq!(
        config.gateway.subgraph_timeouts().get("dvla"),
        Some(&Duration::from_millis(250))
    );
    assert!(!config.gateway.inbound_dedup);
    assert!(!config.gateway.outbound_dedup);
    let defaults = Config::default();
    assert!(defaults.gateway.inbound_dedup && defaults.gateway.outbound_dedup);
    assert_eq!(config.subgraphs[0].name, "hmrc");

    std::fs::write(&path, "[gateway]\nsubgraph_timout_ms = 5\n").expect("write");
    let error = Config::load(Some(&path)).expect_err("a misspelt key is refused");
    assert!(matches!(error, ConfigError::Parse { .. }));
    assert!(error.to_string().contains("subgraph_timout_ms"), "{error}");

    let missing = Config::load(Some(&dir.path().join("absent.toml"))).expect_err("no file");
    assert!(missing.to_string().contains("absent.toml"), "{missing}");
}

#[test]
fn with_no_file_the_embedded_defaults_apply() {
    let config = Config::default();
    assert!(config.database_url().ends_with("tellonce.db"));
    assert!(config.supergraph.is_none() && config.subgraphs.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_subgraph_timeout_overrides_the_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut urls = HashMap::new();
    urls.insert("accounts", start_subgraph(subgraphs::accounts()).0);
    urls.insert("products", start_subgraph(subgraphs::products()).0);
    urls.insert("reviews", start_subgraph(subgraphs::reviews()).0);
    urls.insert(
        "inventory",
        start_faulty(Fault::Slow(Duration::from_secs(20))),
    );
    let file = dir.path().join("supergraph.graphql");
    std::fs::write(&file, shop_sdl(&urls)).expect("write");
    let mut config = Config {
        supergraph: Some(file),
        data_dir: dir.path().to_owned(),
        ..Config::default()
    };
    config
        .gateway
        .subgraph_timeouts_ms
        .insert("inventory".into(), 300);
    // The shop is no one's personal data: anyone may read it.
    config.authorization.public = vec!["Query.*".into()];
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let hub = tellonce::server::start_on(&config, listener)
        .await
        .expect("hub starts");
    let answer: Value = reqwest::Client::new()
        .post(hub.graphql_url())
        .json(&json!({ "query": "{ topProducts(first: 1) { name inStock } }" }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("JSON");
    let codes: Vec<&str> = answer["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["extensions"]["code"].as_str())
        .collect();
    assert!(codes.contains(&"TIMEOUT"), "{answer}");
    assert!(
        answer["data"].is_object() || answer["data"].is_null(),
        "{answer}"
    );
    hub.stop().await;
}

/// Every key of `value` as a dotted path; an empty table or array is a key
/// of its own (the example shows its shape in a comment).
fn keys(value: &toml::Value, prefix: &str, into: &mut Vec<String>) {
    if let toml::Value::Table(table) = value {
        for (key, item) in table {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match item {
                toml::Value::Table(inner) if !inner.is_empty() => keys(item, &path, into),
                _ => into.push(path),
            }
        }
    }
}

const EXAMPLE: &str = include_str!("../tellonce.example.toml");

#[test]
fn the_example_file_lists_every_option_at_its_default() {
    let example: Config = toml::from_str(EXAMPLE).expect("the example file loads");
    let default = Config::default();
    assert_eq!(
        example.effective_toml().unwrap(),
        default.effective_toml().unwrap(),
        "every value in the example is the default"
    );
    let mut wanted = Vec::new();
    keys(&toml::Value::try_from(&default).unwrap(), "", &mut wanted);
    let mut listed = Vec::new();
    keys(
        &toml::from_str::<toml::Value>(EXAMPLE).unwrap(),
        "",
        &mut listed,
    );
    let missing: Vec<_> = wanted.iter().filter(|k| !listed.contains(k)).collect();
    assert!(
        missing.is_empty(),
        "options missing from the example: {missing:?}"
    );
}

fn config_check(file: &std::path::Path, env: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tellonce"));
    command.args(["config", "check"]).arg(file);
    for name in [
        "TELLONCE_LISTEN",
        "TELLONCE_DATABASE_URL",
        "TELLONCE_DATA_DIR",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command.output().expect("run tellonce config check")
}

#[test]
fn config_check_names_bad_keys_and_values_with_their_line_and_prints_what_is_in_force() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("tellonce.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:4000\"\n\n[limits]\nmax_depht = 3\n",
    )
    .unwrap();
    let refused = config_check(&file, &[]);
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("line 4") && message.contains("max_depht"),
        "{message}"
    );
    assert!(refused.stdout.is_empty());

    std::fs::write(&file, "[tellonce]\nmax_attempts = -1\n").unwrap();
    let refused = config_check(&file, &[]);
    assert_eq!(refused.status.code(), Some(2));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("line 2") && message.contains("max_attempts"),
        "{message}"
    );

    for (bad, named) in [
        (
            "otlp_endpoint = \"grpc://collector:4317\"",
            "http:// or https://",
        ),
        ("otlp_endpoint = \"not a url\"", "is not a URL"),
        ("trace_sample_ratio = 1.5", "not between 0 and 1"),
    ] {
        std::fs::write(&file, format!("[telemetry]\nmetrics = true\n{bad}\n")).unwrap();
        let refused = config_check(&file, &[]);
        assert_eq!(refused.status.code(), Some(2), "{bad}");
        let message = String::from_utf8_lossy(&refused.stderr);
        assert!(
            message.contains("line 3") && message.contains(named),
            "{bad}: {message}"
        );
    }
    std::fs::write(
        &file,
        "[telemetry]\notlp_endpoint = \"http://collector:4318\"\n",
    )
    .unwrap();
    let checked = config_check(&file, &[]);
    assert!(checked.status.success(), "{checked:?}");
    assert!(
        String::from_utf8_lossy(&checked.stdout)
            .contains("otlp_endpoint = \"http://collector:4318/v1/traces\""),
        "{checked:?}"
    );

    std::fs::write(
        &file,
        "database_url = \"postgres://hub:hunter2@db/tellonce\"\n\n[limits]\nmax_depth = 9\n",
    )
    .unwrap();
    let checked = config_check(&file, &[("TELLONCE_LISTEN", "0.0.0.0:8080")]);
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let printed: toml::Value = toml::from_str(&String::from_utf8_lossy(&checked.stdout))
        .expect("the configuration in force, as TOML");
    assert_eq!(
        printed["listen"].as_str(),
        Some("0.0.0.0:8080"),
        "the environment applies"
    );
    assert_eq!(printed["limits"]["max_depth"].as_integer(), Some(9));
    assert_eq!(
        printed["limits"]["max_cost"].as_integer(),
        Some(10_000),
        "defaults shown"
    );
    assert_eq!(
        printed["database_url"].as_str(),
        Some("postgres://hub:********@db/tellonce")
    );

    let refused = config_check(&file, &[("TELLONCE_LISTEN", "not an address")]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("TELLONCE_LISTEN"));
}
