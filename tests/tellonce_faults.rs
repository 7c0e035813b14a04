//! Tell us once under faults, through the public surface: a department down
//! and back, a department answering errors for a while, the hub killed with
//! SIGKILL in the middle of a fan-out, the database unreachable at
//! submission, and two hub processes sharing one PostgreSQL outbox.

mod tellonce_support;

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tellonce_departments::Department;
use tellonce_support::*;

const PUSHED_ON_DEATH: [Department; 7] = [
    Department::Hmrc,
    Department::Dwp,
    Department::Dvla,
    Department::PassportOffice,
    Department::LocalCouncil,
    Department::VeteransUk,
    Department::CivilServicePension,
];

/// Notifications for `events` deaths.
fn death_notifications(events: u32) -> i64 {
    assert_eq!(departments_told_of_a_death(), PUSHED_ON_DEATH.len() as i64);
    i64::from(events) * departments_told_of_a_death()
}

async fn a_department_down_during_submission_is_told_once_when_back(backend: &str) {
    let db = TestDb::of(backend);
    let mut departments = Departments::start().await;
    let mut config = hub_config(&db, departments.subgraphs(|_, url| url));
    config.tellonce.max_attempts = 10_000;
    let hub = tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").unwrap())
        .await
        .expect("hub starts");
    let url = hub.graphql_url();
    departments.stop(Department::Dwp).await;
    let receipt = tell(&url, death(11), "down-1").await;
    let id = receipt["eventId"].as_str().unwrap().to_owned();
    // The others are told; DWP keeps failing and stays queued.
    eventually(
        "DWP to have failed twice",
        Duration::from_secs(60),
        || async {
            let body = graphql(&url, STATUS, json!({ "id": id })).await;
            let notifications = body["data"]["lifeEvent"]["notifications"]
                .as_array()
                .cloned()?;
            let dwp = notifications.iter().find(|n| n["department"] == "dwp")?;
            let others_done = notifications
                .iter()
                .filter(|n| n["department"] != "dwp")
                .all(|n| n["status"] == "DELIVERED");
            (others_done && dwp["status"] == "PENDING" && dwp["attempts"].as_i64()? >= 2)
                .then_some(())
        },
    )
    .await;
    departments.restart(Department::Dwp).await;
    all_notifications(&url, &id, "DELIVERED").await;
    for department in PUSHED_ON_DEATH {
        assert_eq!(departments.log(department).await.0, 1, "{department}");
    }
    assert!(
        db.count(
            "SELECT COUNT(*) AS n FROM ledger_entries WHERE kind = 'tellonce.notification.failed'"
        ) >= 2
    );
    hub.stop().await;
}
both_backends!(
    department_down_and_back,
    a_department_down_during_submission_is_told_once_when_back
);

/// An HTTP proxy to a department that answers 500 to its first `failures` requests.
async fn failing_proxy(target: String, failures: usize) -> (String, Arc<AtomicUsize>) {
    use actix_web::{web, App, HttpResponse, HttpServer};
    let seen = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let counter = seen.clone();
    let client = reqwest::Client::new();
    let server = HttpServer::new(move || {
        let counter = counter.clone();
        let target = target.clone();
        let client = client.clone();
        App::new().default_service(web::to(move |body: web::Bytes| {
            let counter = counter.clone();
            let target = target.clone();
            let client = client.clone();
            async move {
                if counter.fetch_add(1, Ordering::SeqCst) < failures {
                    return HttpResponse::InternalServerError().body("temporarily broken");
                }
                match client
                    .post(&target)
                    .header("content-type", "application/json")
                    .body(body.to_vec())
                    .send()
                    .await
                {
                    Ok(response) => {
                        let bytes = response.bytes().await.unwrap_or_default();
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(bytes.to_vec())
                    }
                    Err(_) => HttpResponse::BadGateway().finish(),
                }
            }
        }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://{addr}/graphql"), seen)
}

async fn a_department_answering_errors_for_a_while_gets_retries_then_delivery(backend: &str) {
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let (proxy, seen) = failing_proxy(departments.url(Department::Dvla), 3).await;
    let mut config = hub_config(
        &db,
        departments.subgraphs(|d, url| {
            if d == Department::Dvla {
                proxy.clone()
            } else {
                url
            }
        }),
    );
    config.tellonce.max_attempts = 10;
    let hub = tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").unwrap())
        .await
        .expect("hub starts");
    let url = hub.graphql_url();
    let receipt = tell(&url, death(12), "flaky-1").await;
    let id = receipt["eventId"].as_str().unwrap();
    let event = all_notifications(&url, id, "DELIVERED").await;
    let dvla = event["notifications"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["department"] == "dvla").cloned())
        .expect("dvla notification");
    assert_eq!(dvla["attempts"], 4, "{event}");
    assert!(seen.load(Ordering::SeqCst) >= 4);
    assert_eq!(departments.log(Department::Dvla).await.0, 1);
    assert_eq!(
        db.count(
            "SELECT COUNT(*) AS n FROM ledger_entries WHERE kind = 'tellonce.notification.failed'"
        ),
        3
    );
    hub.stop().await;
}
both_backends!(
    errors_for_a_while,
    a_department_answering_errors_for_a_while_gets_retries_then_delivery
);

async fn the_hub_killed_mid_fan_out_loses_nothing_and_applies_nothing_twice(backend: &str) {
    const EVENTS: u32 = 150;
    let db = TestDb::of(backend);
    let departments = Departments::start().await;
    let config = hub_config(&db, departments.subgraphs(|_, url| url));
    let mut hub = HubProcess::start(&config, db.dir.path());
    let submissions = (0..EVENTS).map(|n| {
        let url = hub.url.clone();
        async move { tell(&url, death(1000 + n), &format!("kill-{n}")).await }
    });
    let receipts = futures::future::join_all(submissions).await;
    // Kill it once deliveries have begun, without warning.
    eventually("a first delivery", Duration::from_secs(60), || async {
        (departments.log(Department::Hmrc).await.0 > 0).then_some(())
    })
    .await;
    hub.kill();
    let delivered_at_kill =
        db.count("SELECT COUNT(*) AS n FROM tellonce_outbox WHERE status = 'DELIVERED'");
    let total = death_notifications(EVENTS);
    eprintln!("killed with {delivered_at_kill} of {total} notifications recorded as delivered");

    let hub = HubProcess::start(&config, db.dir.path());
    eventually(
        "every notification delivered",
        Duration::from_secs(120),
        || async {
            (db.count("SELECT COUNT(*) AS n FROM tellonce_outbox WHERE status = 'DELIVERED'")
                == total)
                .then_some(())
        },
    )
    .await;
    for department in PUSHED_ON_DEATH {
        let (count, mut keys) = departments.log(department).await;
        assert_eq!(count, i64::from(EVENTS), "{department}");
        let mut expected: Vec<String> = receipts
            .iter()
            .map(|r| format!("{}:{}", r["eventId"].as_str().unwrap(), department.name()))
            .collect();
        keys.sort();
        expected.sort();
        assert_eq!(keys, expected, "{department}: each key applied once");
    }
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM ledger_entries WHERE kind = 'tellonce.notification.delivered'"),
        total
    );
    drop(hub);
    verify_ledger(&db);
}
both_backends!(
    hub_killed_mid_fan_out,
    the_hub_killed_mid_fan_out_loses_nothing_and_applies_nothing_twice
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_database_unreachable_at_submission_is_a_clear_error_and_nothing_is_half_written() {
    let db = TestDb::postgres();
    let proxy = TcpProxy::start("127.0.0.1:5432").await;
    let departments = Departments::start().await;
    let mut config = hub_config(&db, departments.subgraphs(|_, url| url));
    config.database_url = Some(format!(
        "postgres://postgres@127.0.0.1:{}/{}",
        proxy.port,
        db.pg_name().unwrap()
    ));
    // The answer comes when the pool gives up on the database; let the
    // request outlive that.
    config.limits.request_timeout_ms = 120_000;
    let hub = tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").unwrap())
        .await
        .expect("hub starts");
    let url = hub.graphql_url();
    let before = tell(&url, death(21), "before-outage").await;
    all_notifications(&url, before["eventId"].as_str().unwrap(), "DELIVERED").await;
    let entries_before = db.count("SELECT COUNT(*) AS n FROM ledger_entries");

    proxy.cut();
    let body = graphql(
        &url,
        TELL,
        json!({ "event": death(22), "key": "during-outage" }),
    )
    .await;
    let error = &body["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "INTERNAL_SERVER_ERROR",
        "{body}"
    );
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("not recorded") && message.contains("nothing was written"),
        "{body}"
    );
    assert!(
        body["data"].is_null() || body["data"]["tellUsOnce"].is_null(),
        "{body}"
    );

    // Straight to the database: no event, no outbox row, no ledger entry.
    assert_eq!(
        db.count(
            "SELECT COUNT(*) AS n FROM tellonce_events WHERE idempotency_key = 'during-outage'"
        ),
        0
    );
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM tellonce_events"), 1);
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM tellonce_outbox"),
        death_notifications(1)
    );
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM ledger_entries"),
        entries_before
    );

    proxy.restore();
    let after = tell(&url, death(22), "during-outage").await;
    all_notifications(&url, after["eventId"].as_str().unwrap(), "DELIVERED").await;
    assert_eq!(departments.log(Department::Hmrc).await.0, 2);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hub_processes_share_one_postgres_outbox() {
    const EVENTS: u32 = 100;
    let db = TestDb::postgres();
    let departments = Departments::start().await;
    let config = hub_config(&db, departments.subgraphs(|_, url| url));
    let first = HubProcess::start(&config, db.dir.path());
    let second = HubProcess::start(&config, db.dir.path());
    let submissions = (0..EVENTS).map(|n| {
        let url = if n % 2 == 0 {
            first.url.clone()
        } else {
            second.url.clone()
        };
        async move { tell(&url, death(2000 + n), &format!("shared-{n}")).await }
    });
    let receipts = futures::future::join_all(submissions).await;
    // A retry through the other hub gets the same receipt.
    let again = tell(&second.url, death(2000), "shared-0").await;
    assert_eq!(again, receipts[0]);
    let total = death_notifications(EVENTS);
    eventually(
        "every notification delivered",
        Duration::from_secs(120),
        || async {
            (db.count("SELECT COUNT(*) AS n FROM tellonce_outbox WHERE status = 'DELIVERED'")
                == total)
                .then_some(())
        },
    )
    .await;
    for department in PUSHED_ON_DEATH {
        assert_eq!(
            departments.log(department).await.0,
            i64::from(EVENTS),
            "{department}"
        );
    }
    assert_eq!(
        db.count("SELECT COUNT(*) AS n FROM ledger_entries WHERE kind = 'tellonce.notification.delivered'"),
        total
    );
    drop((first, second));
    verify_ledger(&db);
}
