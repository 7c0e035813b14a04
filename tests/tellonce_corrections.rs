//! Corrections are explicit and dates are checked, through the public
//! surface on both backends: a once-only event told again with the same facts
//! answers the first receipt, with other facts it is refused (`CONFLICT`)
//! naming the field that differs and nothing is written; a change of name in
//! the future is refused; an unknown department is `NOT_FOUND`; every
//! connection of the hub pages by the same rule.

mod tellonce_support;

use serde_json::{json, Value};
use tellonce_support::*;

async fn start_hub(db: &TestDb) -> (tellonce::server::RunningHub, Departments) {
    let departments = Departments::start().await;
    let config = hub_config(db, departments.subgraphs(|_, url| url));
    let hub = start_hub_on(&config).await;
    (hub, departments)
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

async fn a_second_report_is_the_same_event_or_refused_naming_what_differs(backend: &str) {
    let db = TestDb::of(backend);
    let (hub, _departments) = start_hub(&db).await;
    let url = hub.graphql_url();

    let first = tell(&url, death(41), "registrar-a").await;
    // Another registrar tells the same death: the same event, told once.
    let again = tell(&url, death(41), "registrar-b").await;
    assert_eq!(again["eventId"], first["eventId"], "{again}");
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM tellonce_events"), 1);

    // The same death with another date is not silently dropped.
    let mut other = death(41);
    other["death"]["dateOfDeath"] = json!("2026-09-30");
    let recorded =
        "SELECT COUNT(*) AS n FROM ledger_entries WHERE kind = 'tellonce.event.recorded'";
    let entries = db.count(recorded);
    let refused = graphql(&url, TELL, json!({ "event": other, "key": "registrar-c" })).await;
    assert_eq!(code(&refused), "CONFLICT", "{refused}");
    let extensions = &refused["errors"][0]["extensions"];
    assert_eq!(extensions["field"], "event.death.dateOfDeath", "{refused}");
    assert_eq!(
        extensions["fields"],
        json!(["event.death.dateOfDeath"]),
        "{refused}"
    );
    let message = refused["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        !message.contains("2026-10-01"),
        "the recorded facts are not disclosed: {message}"
    );
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM tellonce_events"), 1);
    assert_eq!(db.count(recorded), entries);

    // Two fields differ: both are named, in the input's order.
    let mut names = other.clone();
    names["death"]["familyName"] = json!("Other");
    let refused = graphql(&url, TELL, json!({ "event": names, "key": "registrar-d" })).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["fields"],
        json!(["event.death.familyName", "event.death.dateOfDeath"]),
        "{refused}"
    );

    // Within one batch of submissions too: the first is recorded, the other refused.
    let (a, b) = tokio::join!(
        graphql(&url, TELL, json!({ "event": death(42), "key": "batch-a" })),
        graphql(
            &url,
            TELL,
            json!({ "event": {
            "death": { "nino": nino(42), "givenNames": "Alex", "familyName": "Example",
                "dateOfDeath": "2026-09-01" } }, "key": "batch-b" })
        ),
    );
    let codes = [code(&a), code(&b)];
    assert!(
        codes.contains(&"") && codes.contains(&"CONFLICT"),
        "one recorded, one refused: {a} {b}"
    );
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM tellonce_events"), 2);

    // Events that happen more than once are not compared.
    for (n, town) in ["Leeds", "York"].iter().enumerate() {
        let moved = json!({ "changeOfAddress": { "nino": nino(41), "movedOn": "2026-08-01",
            "address": { "line1": "1 High Street", "town": town, "postcode": "LS1 4AP" } } });
        tell(&url, moved, &format!("move-{n}")).await;
    }
    hub.stop().await;
}
both_backends!(
    second_reports,
    a_second_report_is_the_same_event_or_refused_naming_what_differs
);

async fn dates_departments_and_pages_are_checked(backend: &str) {
    let db = TestDb::of(backend);
    let (hub, _departments) = start_hub(&db).await;
    let url = hub.graphql_url();

    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Days::new(1))
        .format("%Y-%m-%d")
        .to_string();
    let renamed = json!({ "changeOfName": { "nino": nino(43), "newGivenNames": "Sam",
        "newFamilyName": "Example", "effectiveOn": tomorrow } });
    let refused = graphql(
        &url,
        TELL,
        json!({ "event": renamed, "key": "future-name" }),
    )
    .await;
    assert_eq!(code(&refused), "BAD_USER_INPUT", "{refused}");
    assert_eq!(
        refused["errors"][0]["extensions"]["field"],
        "event.changeOfName.effectiveOn"
    );
    assert_eq!(refused["errors"][0]["extensions"]["rule"], "DATE_IN_FUTURE");
    let born = json!({ "birth": { "childGivenNames": "Sam", "childFamilyName": "Example",
        "dateOfBirth": tomorrow, "parentNino": nino(43),
        "address": { "line1": "1 High Street", "town": "Leeds", "postcode": "LS1 4AP" } } });
    let refused = graphql(&url, TELL, json!({ "event": born, "key": "future-birth" })).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["field"], "event.birth.dateOfBirth",
        "no birth after its registration: {refused}"
    );
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM tellonce_events"), 0);

    // An operator naming a department no rule tells.
    let feed = "query F($d: String!) { lifeEventFeed(department: $d) { edges { cursor } } }";
    let unknown = graphql(&url, feed, json!({ "d": "ministry-of-silly-walks" })).await;
    assert_eq!(code(&unknown), "NOT_FOUND", "{unknown}");
    let message = unknown["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("hmrc"),
        "names the departments there are: {message}"
    );
    let letters = "query L($d: String) { deadLetters(department: $d) { eventId } }";
    let unknown = graphql(&url, letters, json!({ "d": "ministry-of-silly-walks" })).await;
    assert_eq!(code(&unknown), "NOT_FOUND", "{unknown}");
    let known = graphql(&url, feed, json!({ "d": "hmrc" })).await;
    assert!(known.get("errors").is_none(), "{known}");

    // One paging rule: 1 to 500, the same message everywhere.
    for query in [
        "query P($n: Int!) { lifeEventFeed(department: \"hmrc\", first: $n) { edges { cursor } } }",
        "query P($n: Int!) { deadLetters(first: $n) { eventId } }",
        "query P($n: Int!) { ledgerEntries(first: $n) { edges { cursor } } }",
        "query P($n: Int!) { consignments(first: $n) { edges { cursor } } }",
        "query P($n: Int!) { agencyWorklist(agency: \"border-force\", first: $n) { edges { cursor } } }",
    ] {
        for n in [0, 501] {
            let body = graphql(&url, query, json!({ "n": n })).await;
            assert_eq!(code(&body), "BAD_USER_INPUT", "{query} first {n}: {body}");
            assert_eq!(
                body["errors"][0]["message"],
                format!("first must be 1 to 500, not {n}"),
                "{query}"
            );
        }
        let body = graphql(&url, query, json!({ "n": 500 })).await;
        assert!(body.get("errors").is_none(), "{query} first 500: {body}");
    }
    hub.stop().await;
}
both_backends!(
    dates_departments_pages,
    dates_departments_and_pages_are_checked
);
