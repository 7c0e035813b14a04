//! The hub's pages in a real browser: headless Chromium (Debian's
//! `chromium`, driven by `playwright-core` from npm) with every request
//! beyond loopback refused, so nothing may come from a CDN.

mod npm_support;
mod tellonce_support;

use serde_json::json;
use tellonce_support::*;

/// Where screenshots are kept for people to look at.
fn artefact(name: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("artefacts");
    std::fs::create_dir_all(&dir).expect("the artefacts folder");
    dir.join(name).to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn graphiql_runs_its_example_operation_with_nothing_from_beyond_the_hub() {
    let db = TestDb::sqlite();
    let departments = Departments::start().await;
    let mut config = hub_config(&db, departments.subgraphs(|_, url| url));
    config.limits.introspection = true;
    config.graphiql_query = Some(tellonce::demo::EXAMPLE_QUERY.to_string());
    config.graphiql_headers =
        Some(json!({ "Authorization": format!("Bearer {OPERATOR_KEY}") }).to_string());
    let hub = start_hub_on(&config).await;
    let url = hub.graphql_url();
    let screenshot = artefact("graphiql.png");
    let outcome = tokio::task::spawn_blocking(move || {
        let dir = npm_support::installed(
            "tests/browser",
            &["package.json", "package-lock.json", "graphiql_page.mjs"],
        );
        npm_support::run_script(
            dir.path(),
            "graphiql_page.mjs",
            &[&url, &screenshot, "Margaret Elizabeth Thompson"],
        )
    })
    .await
    .expect("the browser run");
    assert_eq!(
        outcome["blocked"],
        json!([]),
        "nothing beyond loopback: {outcome}"
    );
    assert_eq!(outcome["errors"], json!([]), "{outcome}");
    assert_eq!(outcome["query"], tellonce::demo::EXAMPLE_QUERY, "{outcome}");
    let taxpayer = &outcome["result"]["data"]["taxpayer"];
    assert_eq!(taxpayer["name"], "Margaret Elizabeth Thompson", "{outcome}");
    assert!(taxpayer["passports"].is_array(), "{outcome}");
    hub.stop().await;
}
