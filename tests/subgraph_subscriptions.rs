//! Department subscriptions through the federated graph, against real example departments
//! and a real hub over WebSocket: DVLA's `vehicleStatusChanged` opened over
//! graphql-transport-ws on the department, each event completed with HMRC's fields on the
//! vehicle's keeper; and a department that goes away mid-stream ends the subscription with
//! an error and `complete`, leaving the client's connection up; and a supergraph reload
//! that removes the subscription field leaves the subscriptions already open running on
//! the supergraph they started with.

mod tellonce_support;
mod ws_client;

use std::net::TcpListener;
use std::time::Duration;

use serde_json::{json, Value};
use tellonce::server::RunningHub;
use tellonce_departments::Department;
use tellonce_support::*;
use ws_client::WsClient;

/// A seeded person who keeps the seeded vehicle [`REGISTRATION`].
const KEEPER_NINO: &str = "JK528194C";
const REGISTRATION: &str = "YD21 KXE";

const VEHICLE_CHANGES: &str = "subscription Changes($registration: String) {
  vehicleStatusChanged(registration: $registration) {
    registration taxStatus keeper { nino givenNames familyName }
  }
}";

async fn hub_over(departments: &Departments, db: &TestDb) -> RunningHub {
    let config = hub_config(db, departments.subgraphs(|_, url| url));
    tellonce::server::start_on(
        &config,
        TcpListener::bind("127.0.0.1:0").expect("bind the hub"),
    )
    .await
    .expect("the hub starts")
}

fn keeper_death() -> Value {
    json!({ "death": {
        "nino": KEEPER_NINO, "givenNames": "Jasmine", "familyName": "Khan",
        "dateOfDeath": "2026-01-10"
    }})
}

/// The departments' and the hub's supergraph, each department's SDL passed through `edit`.
fn supergraph_of(departments: &Departments, edit: impl Fn(Department, &str) -> String) -> String {
    use tellonce::gateway::compose::{compose_subgraphs, SubgraphSource};
    let mut sources: Vec<SubgraphSource> = Department::all()
        .iter()
        .map(|d| SubgraphSource {
            name: d.name().to_owned(),
            url: departments.url(*d),
            sdl: edit(*d, &d.sdl()),
        })
        .collect();
    sources.push(tellonce::server::hub_subgraph_source());
    compose_subgraphs(&sources)
        .expect("the departments compose")
        .supergraph_sdl
}

/// `sdl` without its `type Subscription { ... }` definition.
fn without_subscriptions(sdl: &str) -> String {
    let start = sdl
        .find("type Subscription {")
        .expect("a Subscription type");
    let end = start + sdl[start..].find("\n}").expect("its closing brace") + 2;
    format!("{}{}", &sdl[..start], &sdl[end..])
}

async fn supergraph_hash(hub: &RunningHub) -> String {
    let ready: Value = reqwest::get(format!("{}/ready", hub.base_url()))
        .await
        .expect("GET /ready")
        .json()
        .await
        .expect("JSON");
    ready["supergraphHash"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Gives the hub time to open the subscription on DVLA before DVLA changes anything.
async fn opened() {
    tokio::time::sleep(Duration::from_millis(1_000)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vehicle_change_arrives_completed_with_another_departments_fields() {
    let db = TestDb::sqlite();
    let departments = Departments::start().await;
    let hub = hub_over(&departments, &db).await;
    let url = hub.graphql_url();

    let mut client = WsClient::connect(&url, OPERATOR_KEY).await;
    client
        .subscribe(
            "cars",
            VEHICLE_CHANGES,
            json!({ "registration": REGISTRATION }),
        )
        .await;
    opened().await;
    tell(&url, keeper_death(), "vehicle-keeper-death").await;

    let payload = client.next_payload("cars").await;
    assert!(payload.get("errors").is_none(), "{payload}");
    let vehicle = &payload["data"]["vehicleStatusChanged"];
    assert_eq!(vehicle["registration"], REGISTRATION, "{payload}");
    assert_eq!(vehicle["taxStatus"], "UNTAXED", "{payload}");
    assert_eq!(vehicle["keeper"]["nino"], KEEPER_NINO, "{payload}");
    // From HMRC, by the plan's entity fetch on the keeper.
    assert!(
        vehicle["keeper"]["givenNames"]
            .as_str()
            .is_some_and(|names| !names.is_empty()),
        "HMRC completes the keeper: {payload}"
    );
    client
        .send(json!({ "id": "cars", "type": "complete" }))
        .await;
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_that_goes_away_ends_its_subscription_and_not_the_connection() {
    let db = TestDb::sqlite();
    let mut departments = Departments::start().await;
    let hub = hub_over(&departments, &db).await;
    let url = hub.graphql_url();

    let mut client = WsClient::connect(&url, OPERATOR_KEY).await;
    client.subscribe("cars", VEHICLE_CHANGES, json!({})).await;
    opened().await;
    departments.stop(Department::Dvla).await;

    let message = client.message(Duration::from_secs(30)).await;
    assert_eq!(message["id"], "cars", "{message}");
    match message["type"].as_str() {
        Some("next") => {
            let errors = message["payload"]["errors"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert!(!errors.is_empty(), "an error event: {message}");
            assert_eq!(
                errors[0]["extensions"]["code"], "SUBGRAPH_UNAVAILABLE",
                "{message}"
            );
            let complete = client.message(Duration::from_secs(10)).await;
            assert_eq!(complete, json!({ "id": "cars", "type": "complete" }));
        }
        Some("error") => {}
        _ => panic!("expected the subscription to fail: {message}"),
    }

    // The connection is still up: it answers a query from another department.
    client
        .subscribe(
            "after",
            "query After($nino: String!) { taxpayer(nino: $nino) { nino givenNames } }",
            json!({ "nino": KEEPER_NINO }),
        )
        .await;
    let answer = client.next_payload("after").await;
    assert!(answer.get("errors").is_none(), "{answer}");
    assert_eq!(answer["data"]["taxpayer"]["nino"], KEEPER_NINO, "{answer}");
    let complete = client.message(Duration::from_secs(10)).await;
    assert_eq!(complete, json!({ "id": "after", "type": "complete" }));
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_leaves_open_subscriptions_on_the_supergraph_they_started_with() {
    let db = TestDb::sqlite();
    let departments = Departments::start().await;
    let file = db.dir.path().join("supergraph.graphql");
    std::fs::write(&file, supergraph_of(&departments, |_, sdl| sdl.to_owned()))
        .expect("write the supergraph");
    let mut config = hub_config(&db, departments.subgraphs(|_, url| url));
    config.supergraph = Some(file.clone());
    config.gateway.reload_poll_ms = 50;
    let hub = tellonce::server::start_on(
        &config,
        TcpListener::bind("127.0.0.1:0").expect("bind the hub"),
    )
    .await
    .expect("the hub starts");
    let url = hub.graphql_url();

    let mut client = WsClient::connect(&url, OPERATOR_KEY).await;
    client
        .subscribe(
            "cars",
            VEHICLE_CHANGES,
            json!({ "registration": REGISTRATION }),
        )
        .await;
    client
        .subscribe(
            "events",
            "subscription { lifeEvents(department: \"dvla\") { eventId ledgerSeq } }",
            json!({}),
        )
        .await;
    opened().await;

    // The new supergraph no longer has DVLA's subscription field.
    let before = supergraph_hash(&hub).await;
    std::fs::write(
        &file,
        supergraph_of(&departments, |d, sdl| match d {
            Department::Dvla => without_subscriptions(sdl),
            _ => sdl.to_owned(),
        }),
    )
    .expect("rewrite the supergraph");
    eventually(
        "the hub serves the new supergraph",
        Duration::from_secs(10),
        || async { (supergraph_hash(&hub).await != before).then_some(()) },
    )
    .await;
    let refused = graphql(&url, VEHICLE_CHANGES, json!({})).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "a new subscription sees the new supergraph: {refused}"
    );

    let receipt = tell(&url, keeper_death(), "reload-keeper-death").await;
    let event_id = receipt["eventId"].clone();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let message = client.message(Duration::from_secs(30)).await;
        assert_eq!(message["type"], "next", "still running: {message}");
        let payload = &message["payload"];
        assert!(payload.get("errors").is_none(), "{message}");
        match message["id"].as_str() {
            Some("cars") => {
                let vehicle = &payload["data"]["vehicleStatusChanged"];
                assert_eq!(vehicle["taxStatus"], "UNTAXED", "{message}");
                assert!(
                    vehicle["keeper"]["givenNames"]
                        .as_str()
                        .is_some_and(|n| !n.is_empty()),
                    "completed from HMRC on the old supergraph: {message}"
                );
            }
            Some("events") => {
                assert_eq!(
                    payload["data"]["lifeEvents"]["eventId"], event_id,
                    "{message}"
                );
            }
            _ => panic!("unexpected message: {message}"),
        }
        seen.push(message["id"].clone());
    }
    seen.sort_by_key(|id| id.to_string());
    assert_eq!(seen, vec![json!("cars"), json!("events")]);
    client.close().await;
}
