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

/// Writes the hub's signing key, choosing one whose verifier key has a `+`
/// inside its base64 (about half of them do), so the page's parsing of
/// `name+hash+key` is tested on the key that breaks a naive split.
fn signing_key_with_plus_in_its_base64(db: &TestDb) {
    for n in 0..64 {
        // keygen never overwrites a key: each try gets a file of its own.
        let candidate = db.dir.path().join(format!("candidate-{n}.key"));
        let out = tellonce_cli(db, &["keygen", "--out", &candidate.to_string_lossy()]);
        assert!(out.status.success(), "keygen: {out:?}");
        let vkey = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if vkey
            .splitn(3, '+')
            .nth(2)
            .is_some_and(|key| key.contains('+'))
        {
            std::fs::rename(&candidate, db.dir.path().join("ledger.key"))
                .expect("the key becomes the hub's");
            return;
        }
    }
    panic!("no key with a '+' in 64 tries");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_ledger_explorer_finds_an_entry_and_checks_its_proof_in_the_browser() {
    let db = TestDb::sqlite();
    signing_key_with_plus_in_its_base64(&db);
    let departments = Departments::start().await;
    let mut config = hub_config(&db, departments.subgraphs(|_, url| url));
    config.ledger.checkpoint_every_entries = 1;
    let hub = start_hub_on(&config).await;
    let url = hub.graphql_url();
    for n in 0..3 {
        let receipt = tell(&url, death(950 + n), &format!("explorer-{n}")).await;
        all_notifications(&url, receipt["eventId"].as_str().unwrap(), "DELIVERED").await;
    }
    // A checkpoint covering every entry so far.
    eventually(
        "a checkpoint of the whole ledger",
        std::time::Duration::from_secs(30),
        || async {
            let body = graphql(
                &url,
                "{ latestCheckpoint { treeSize } hub { version } }",
                json!({}),
            )
            .await;
            let size = body["data"]["latestCheckpoint"]["treeSize"].as_i64()?;
            (size >= 20).then_some(())
        },
    )
    .await;
    let base = hub.base_url();
    let screenshot = artefact("ledger-explorer.png");
    let shot = screenshot.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let dir = npm_support::installed(
            "tests/browser",
            &["package.json", "package-lock.json", "ledger_explorer.mjs"],
        );
        npm_support::run_script(
            dir.path(),
            "ledger_explorer.mjs",
            &[&base, "tellonce.notification.delivered", &shot],
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
    assert!(
        outcome["checkpointSize"].as_i64().unwrap_or(0) >= 20,
        "{outcome}"
    );
    assert_eq!(
        outcome["found"], 20,
        "a page of 20 of the 21 deliveries: {outcome}"
    );
    assert_eq!(outcome["genuine"]["holds"], true, "{outcome}");
    assert!(
        outcome["genuine"]["text"]
            .as_str()
            .unwrap_or("")
            .starts_with("The proof holds"),
        "{outcome}"
    );
    // The event and its seven deliveries are about the first person.
    assert_eq!(outcome["aboutSubject"], 8, "{outcome}");
    assert_eq!(outcome["tampered"]["holds"], false, "{outcome}");
    assert!(
        outcome["tampered"]["text"]
            .as_str()
            .unwrap_or("")
            .contains("does not hold"),
        "{outcome}"
    );
    assert!(
        std::path::Path::new(&screenshot).is_file(),
        "the screenshot is kept"
    );
    hub.stop().await;
}
