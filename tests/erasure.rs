//! Erasure end to end through the public surface, on both backends: an
//! operator's `eraseSubject` removes a person's identifiers and event data
//! from every table (every column of every table is searched for their
//! National Insurance number afterwards), cancels the notification not yet
//! delivered, erases each ledger payload about them with an erasure entry,
//! and leaves the ledger verifying; `tellonce erase` does the same from the
//! command line, and erasing again does nothing more. And storage
//! limitation: a notification's data is kept only until its department has
//! it (delivered, or acknowledged by a department that pulls), or for the
//! configured retention, while status and the ledger keep what was told.

mod tellonce_support;

use serde_json::{json, Value};
use tellonce_support::*;

const ERASE: &str = "mutation Erase($subject: String!, $reason: String!) {
  eraseSubject(subject: $subject, reason: $reason) {
    eventsCleared notificationsCleared notificationsCancelled erasedEntries erasureEntries
  }
}";

/// A person the example departments hold records for.
const PERSON: &str = "JK528194C";

/// Tells PERSON's move (pushed to HMRC, DWP and DVLA) under `key`.
async fn moved(url: &str, key: &str) -> Value {
    let event = json!({ "changeOfAddress": { "nino": PERSON, "movedOn": "2026-08-01",
        "address": { "line1": "1 High Street", "town": "Leeds", "postcode": "LS1 4AP" } } });
    tell(url, event, key).await
}

/// Tells PERSON's change of name (HM Passport Office pulls it; DVLA is pushed it).
async fn renamed(url: &str, key: &str) -> Value {
    let event = json!({ "changeOfName": { "nino": PERSON, "newGivenNames": "Sam",
        "newFamilyName": "Example", "effectiveOn": "2026-08-02" } });
    tell(url, event, key).await
}

/// Waits until DVLA has applied the change of name `renamed` (HM Passport
/// Office, which pulls, has not).
async fn dvla_told(url: &str, renamed: &Value) {
    eventually(
        "DVLA told of the change of name",
        std::time::Duration::from_secs(30),
        || async {
            let status = graphql(url, STATUS, json!({ "id": renamed["eventId"] })).await;
            status["data"]["lifeEvent"]["notifications"]
                .as_array()?
                .iter()
                .any(|n| n["department"] == "dvla" && n["status"] == "DELIVERED")
                .then_some(())
        },
    )
    .await;
}

/// Rows, over every column of every table, whose text holds `needle`.
fn occurrences(db: &TestDb, needle: &str) -> Vec<String> {
    let columns: Vec<(String, String, bool)> = if db.is_postgres() {
        db.texts("SELECT table_name || ' ' || column_name || ' ' || data_type AS text FROM information_schema.columns WHERE table_schema = 'public'")
            .into_iter()
            .filter_map(|line| {
                let mut parts = line.splitn(3, ' ');
                let (t, c, kind) = (parts.next()?, parts.next()?, parts.next()?);
                Some((t.to_owned(), c.to_owned(), kind == "bytea"))
            })
            .collect()
    } else {
        db.texts("SELECT name AS text FROM sqlite_master WHERE type = 'table'")
            .into_iter()
            .flat_map(|table| {
                db.texts(&format!(
                    "SELECT name AS text FROM pragma_table_info('{table}')"
                ))
                .into_iter()
                .map(move |column| (table.clone(), column, false))
            })
            .collect()
    };
    assert!(columns.len() > 20, "every table's columns: {columns:?}");
    let mut found = Vec::new();
    for (table, column, bytes) in columns {
        let text = match (db.is_postgres(), bytes) {
            (true, true) => format!("encode(\"{column}\", 'escape')"),
            _ => format!("CAST(\"{column}\" AS TEXT)"),
        };
        let n = db.count(&format!(
            "SELECT COUNT(*) AS n FROM \"{table}\" WHERE {text} LIKE '%{needle}%'"
        ));
        if n > 0 {
            found.push(format!("{table}.{column}: {n}"));
        }
    }
    found
}

async fn an_erased_person_leaves_no_identifier_and_the_ledger_verifies(backend: &str) {
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let config = hub_config(&db, departments.subgraphs(|_, url| url));
    let hub = start_hub_on(&config).await;
    let url = hub.graphql_url();

    let moved = moved(&url, "erase-moved").await;
    all_notifications(&url, moved["eventId"].as_str().unwrap(), "DELIVERED").await;
    // HM Passport Office pulls: this one waits for it, undelivered.
    let renamed = renamed(&url, "erase-renamed").await;
    dvla_told(&url, &renamed).await;
    let other = tell(&url, death(71), "erase-someone-else").await;
    all_notifications(&url, other["eventId"].as_str().unwrap(), "DELIVERED").await;
    assert!(
        !occurrences(&db, PERSON).is_empty(),
        "the search finds what is there"
    );

    // Only an operator, with a reason, for a real identifier.
    for (key, subject, reason, code) in [
        (REGISTRAR_KEY, PERSON, "SAR-1", "UNAUTHORIZED_FIELD_OR_TYPE"),
        (OPERATOR_KEY, PERSON, " ", "BAD_USER_INPUT"),
        (OPERATOR_KEY, "nobody", "SAR-1", "BAD_USER_INPUT"),
    ] {
        let refused: Value = reqwest::Client::new()
            .post(&url)
            .header("authorization", format!("Bearer {key}"))
            .json(&json!({ "query": ERASE, "variables": { "subject": subject, "reason": reason } }))
            .send()
            .await
            .expect("POST")
            .json()
            .await
            .expect("JSON");
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], code,
            "{subject} {reason:?}: {refused}"
        );
    }

    let erased = graphql(
        &url,
        ERASE,
        json!({ "subject": "jk 52 81 94 c", "reason": "erasure request ER-2026-17" }),
    )
    .await;
    assert!(erased.get("errors").is_none(), "{erased}");
    let report = &erased["data"]["eraseSubject"];
    assert_eq!(report["eventsCleared"], 2, "{report}");
    assert_eq!(report["notificationsCancelled"], 1, "{report}");
    // Four for the change of address, two for the change of name.
    assert_eq!(report["notificationsCleared"], 6, "{report}");
    let erased_entries = report["erasedEntries"].as_array().expect("entries");
    assert_eq!(
        erased_entries.len(),
        report["erasureEntries"].as_array().map_or(0, Vec::len),
        "one erasure entry per payload: {report}"
    );
    assert!(erased_entries.contains(&moved["ledgerSeq"]), "{report}");
    assert!(erased_entries.contains(&renamed["ledgerSeq"]), "{report}");

    assert_eq!(
        occurrences(&db, PERSON),
        Vec::<String>::new(),
        "no identifier left"
    );
    assert!(
        !occurrences(&db, &nino(71)).is_empty(),
        "someone else's data is untouched"
    );
    let status = graphql(&url, STATUS, json!({ "id": renamed["eventId"] })).await;
    let notice = &status["data"]["lifeEvent"]["notifications"][0];
    assert_eq!(notice["status"], "CANCELLED", "{status}");
    assert!(
        notice["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("erased")),
        "says why: {status}"
    );
    // Delivered ones still say so.
    let status = graphql(&url, STATUS, json!({ "id": moved["eventId"] })).await;
    assert_eq!(
        status["data"]["lifeEvent"]["notifications"][0]["status"], "DELIVERED",
        "{status}"
    );
    hub.stop().await;

    // The trail still shows who was told, and when, from the hashes left.
    let trail = tellonce_cli(&db, &["trail", "--subject", PERSON]);
    let trail: Value = serde_json::from_slice(&trail.stdout).expect("a JSON trail");
    let events = trail["events"].as_array().expect("events");
    assert_eq!(events.len(), 2, "{trail}");
    assert_eq!(events[0]["eventId"], moved["eventId"], "{trail}");
    assert_eq!(
        events[0]["told"].as_array().map(Vec::len),
        Some(4),
        "{trail}"
    );
    assert_eq!(events[0]["told"][0]["status"], "DELIVERED", "{trail}");
    assert_eq!(events[1]["told"][0]["status"], "CANCELLED", "{trail}");

    // From the command line: someone else, then again (nothing more to do).
    let run = |subject: &str, reason: &str| {
        tellonce_cli(&db, &["erase", "--subject", subject, "--reason", reason])
    };
    let first = run(&nino(71), "erasure request ER-2026-18");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let report: Value = serde_json::from_slice(&first.stdout).expect("a JSON report");
    assert_eq!(report["eventsCleared"], 1, "{report}");
    assert!(
        report["erasureEntries"]
            .as_array()
            .is_some_and(|e| !e.is_empty()),
        "{report}"
    );
    let again = run(&nino(71), "erasure request ER-2026-18");
    let report: Value = serde_json::from_slice(&again.stdout).expect("a JSON report");
    assert_eq!(report["erasedEntries"], json!([]), "{report}");
    assert_eq!(occurrences(&db, &nino(71)), Vec::<String>::new());
    let refused = run(&nino(71), "");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("reason"));

    let verify = tellonce_cli(&db, &["ledger", "verify"]);
    assert!(
        verify.status.success(),
        "the ledger verifies after erasure: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
}
both_backends!(
    erasure,
    an_erased_person_leaves_no_identifier_and_the_ledger_verifies
);

const FEED: &str = "query { lifeEventFeed(department: \"passport-office\") { edges { node { eventId data status } } } }";

/// Notifications of `event` whose data is still held.
fn holding_data(db: &TestDb, event: &Value) -> i64 {
    db.count(&format!(
        "SELECT COUNT(*) AS n FROM tellonce_outbox WHERE event_id = '{}' AND variables <> '{{}}'",
        event["eventId"].as_str().expect("an event id")
    ))
}

async fn data_is_kept_only_until_the_department_has_it(backend: &str) {
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let config = hub_config(&db, departments.subgraphs(|_, url| url));
    let hub = start_hub_on(&config).await;
    let url = hub.graphql_url();

    // Pushed: cleared as each department applies it.
    let moved = moved(&url, "kept-moved").await;
    let status = all_notifications(&url, moved["eventId"].as_str().unwrap(), "DELIVERED").await;
    assert_eq!(holding_data(&db, &moved), 0, "no copy kept once delivered");
    assert!(
        status["notifications"][0]["deliveredAt"].is_string(),
        "status still says when: {status}"
    );

    // Pulled: kept until HM Passport Office acknowledges it.
    let renamed = renamed(&url, "kept-renamed").await;
    dvla_told(&url, &renamed).await;
    let feed = graphql(&url, FEED, json!({})).await;
    let node = &feed["data"]["lifeEventFeed"]["edges"][0]["node"];
    assert_eq!(node["data"]["nino"], PERSON, "{feed}");
    assert_eq!(holding_data(&db, &renamed), 1, "HM Passport Office's alone");
    let acknowledged = graphql(
        &url,
        "mutation($id: ID!) { acknowledgeLifeEvent(eventId: $id, department: \"passport-office\") { status } }",
        json!({ "id": renamed["eventId"] }),
    )
    .await;
    assert_eq!(
        acknowledged["data"]["acknowledgeLifeEvent"]["status"], "ACKNOWLEDGED",
        "{acknowledged}"
    );
    assert_eq!(holding_data(&db, &renamed), 0);
    let feed = graphql(&url, FEED, json!({})).await;
    let node = &feed["data"]["lifeEventFeed"]["edges"][0]["node"];
    assert!(
        node["data"].is_null(),
        "the feed no longer carries it: {feed}"
    );
    assert_eq!(node["status"], "ACKNOWLEDGED");

    // The ledger still says who was told which fields.
    let trail = tellonce_cli(&db, &["trail", "--subject", PERSON]);
    let trail: Value = serde_json::from_slice(&trail.stdout).expect("a JSON trail");
    assert!(
        trail["events"][0]["told"][0]["fields"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "{trail}"
    );
    hub.stop().await;
}
both_backends!(
    kept_until_had,
    data_is_kept_only_until_the_department_has_it
);

async fn a_retention_keeps_data_that_long_then_clears_it(backend: &str) {
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let mut config = hub_config(&db, departments.subgraphs(|_, url| url));
    config.tellonce.retain_delivered_days = 2;
    let hub = start_hub_on(&config).await;
    let url = hub.graphql_url();
    let moved = moved(&url, "retained").await;
    all_notifications(&url, moved["eventId"].as_str().unwrap(), "DELIVERED").await;
    tokio::time::sleep(config.tellonce.retention_sweep() * 2).await;
    assert_eq!(holding_data(&db, &moved), 4, "kept within the retention");

    // Delivered three days ago, as far as the hub can tell.
    let store = tellonce::store::Store::open(&db.url).expect("open the database");
    let mut conn = store.get().expect("a connection");
    diesel::RunQueryDsl::execute(
        diesel::sql_query(format!(
            "UPDATE tellonce_outbox SET delivered_micros = delivered_micros - {} WHERE event_id = '{}'",
            3i64 * 86_400 * 1_000_000,
            moved["eventId"].as_str().unwrap()
        )),
        &mut *conn,
    )
    .expect("age the deliveries");
    eventually(
        "the data past its retention to be cleared",
        std::time::Duration::from_secs(20),
        || async { (holding_data(&db, &moved) == 0).then_some(()) },
    )
    .await;
    hub.stop().await;
}
both_backends!(retention, a_retention_keeps_data_that_long_then_clears_it);
