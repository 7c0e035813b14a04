//! Security through HTTP: credentials, directives, ownership and limits
//! (`security_hostile.rs` has the hostile-query suite, alone in its process
//! so that its memory measure is its own).

mod hub_support;

use std::time::{Duration, Instant};

use hub_support::*;
use serde_json::{json, Value};

fn body(query: &str, variables: Value) -> String {
    json!({ "query": query, "variables": variables }).to_string()
}

async fn as_key(url: &str, query: &str, variables: Value, key: Option<&str>) -> Reply {
    post_as(url, &body(query, variables), "application/json", None, key).await
}

const PERSON: &str = r#"{ taxpayer(nino: "JK528194C") { name } }"#;
const TELL: &str = "mutation($event: LifeEventInput!, $key: String!) { tellUsOnce(event: $event, idempotencyKey: $key) { eventId departments } }";

fn death(nino: &str) -> Value {
    json!({ "death": { "nino": nino, "givenNames": "Alex", "familyName": "Example", "dateOfDeath": "2026-10-01" } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn credentials_decide_the_principal() {
    let demo = start_demo().await;
    let url = demo.url();
    // Anonymous: the public hub field answers, a person's record is removed.
    let anonymous = as_key(&url, "{ hub { version } }", json!({}), None).await;
    assert!(anonymous.json()["errors"].is_null(), "{}", anonymous.body);
    let denied = as_key(&url, PERSON, json!({}), None).await;
    assert_eq!(
        denied.codes(),
        ["UNAUTHORIZED_FIELD_OR_TYPE"],
        "{}",
        denied.body
    );
    assert_eq!(denied.json()["errors"][0]["path"], json!(["taxpayer"]));
    // A bad key is refused, never anonymous.
    let bad = as_key(
        &url,
        "{ hub { version } }",
        json!({}),
        Some("tok_not-a-key-000000000000000000"),
    )
    .await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.codes(), ["UNAUTHENTICATED"]);
    assert!(bad.headers.get("www-authenticate").is_some());
    let malformed = post_as(&url, "{}", "application/json", None, Some("")).await;
    assert_eq!(malformed.status, 401, "{}", malformed.body);
    // The frontend holds the scope HMRC's record needs.
    let allowed = as_key(&url, PERSON, json!({}), Some(FRONTEND_KEY)).await;
    assert!(allowed.json()["errors"].is_null(), "{}", allowed.body);
    assert!(allowed.json()["data"]["taxpayer"]["name"].is_string());
    // A department lacks it: the field is removed and the rest answered.
    let mixed = as_key(
        &url,
        r#"{ hub { version } taxpayer(nino: "JK528194C") { name } }"#,
        json!({}),
        Some(HMRC_KEY),
    )
    .await;
    let json = mixed.json();
    assert!(json["data"]["hub"]["version"].is_string(), "{json}");
    assert!(json["data"].get("taxpayer").is_none(), "{json}");
    assert_eq!(mixed.codes(), ["UNAUTHORIZED_FIELD_OR_TYPE"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn who_may_tell_read_and_replay() {
    let demo = start_demo().await;
    let url = demo.url();
    let size_before = demo.hub.ledger.size().expect("ledger size");
    // Anonymous and frontend callers cannot declare anyone dead.
    for key in [None, Some(FRONTEND_KEY)] {
        let refused = as_key(
            &url,
            TELL,
            json!({ "event": death("AB123456C"), "key": "k1" }),
            key,
        )
        .await;
        assert_eq!(
            refused.codes(),
            ["UNAUTHORIZED_FIELD_OR_TYPE"],
            "{}",
            refused.body
        );
    }
    // A citizen may tell only about themselves.
    let other = as_key(
        &url,
        TELL,
        json!({ "event": death("AB123456C"), "key": "k2" }),
        Some(CITIZEN_KEY),
    )
    .await;
    assert_eq!(other.codes(), ["FORBIDDEN"], "{}", other.body);
    assert_eq!(
        demo.hub.ledger.size().expect("size"),
        size_before,
        "nothing written"
    );
    let own = as_key(
        &url,
        TELL,
        json!({ "event": { "changeOfAddress": { "nino": CITIZEN_NINO, "movedOn": "2026-10-01",
            "address": { "line1": "1 New Street", "town": "Leeds", "postcode": "LS1 1AA" } } }, "key": "k3" }),
        Some(CITIZEN_KEY),
    )
    .await;
    assert!(own.json()["errors"].is_null(), "{}", own.body);
    // A registrar may tell any event; the ledger records who did.
    let told = as_key(
        &url,
        TELL,
        json!({ "event": death("AB123456C"), "key": "k4" }),
        Some(REGISTRAR_KEY),
    )
    .await;
    assert!(told.json()["errors"].is_null(), "{}", told.body);
    let entries = as_key(
        &url,
        "{ ledgerEntries(first: 50) { edges { node { actor kind } } } }",
        json!({}),
        None,
    )
    .await;
    let text = entries.body.clone();
    assert!(text.contains("key:registrar"), "{text}");
    assert!(text.contains("key:citizen"), "{text}");
    // Feeds: a department reads its own, not another's.
    let own_feed = as_key(
        &url,
        r#"{ lifeEventFeed(department: "hmrc") { edges { cursor } } }"#,
        json!({}),
        Some(HMRC_KEY),
    )
    .await;
    assert!(own_feed.json()["errors"].is_null(), "{}", own_feed.body);
    let other_feed = as_key(
        &url,
        r#"{ lifeEventFeed(department: "dwp") { edges { cursor } } }"#,
        json!({}),
        Some(HMRC_KEY),
    )
    .await;
    assert_eq!(other_feed.codes(), ["FORBIDDEN"], "{}", other_feed.body);
    // Dead letters and replay need an operator.
    let replay = as_key(
        &url,
        "mutation { replayDeadLetters { eventId } }",
        json!({}),
        Some(HMRC_KEY),
    )
    .await;
    assert_eq!(
        replay.codes(),
        ["UNAUTHORIZED_FIELD_OR_TYPE"],
        "{}",
        replay.body
    );
    let operator = as_key(
        &url,
        "mutation { replayDeadLetters { eventId } }",
        json!({}),
        Some(OPERATOR_KEY),
    )
    .await;
    assert!(operator.json()["errors"].is_null(), "{}", operator.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn receiving_mutations_are_not_in_the_client_schema() {
    let demo = start_demo().await;
    let reply = as_key(
        &demo.url(),
        r#"mutation { recordTaxpayerDeath(nino: "JK528194C", dateOfDeath: "2026-01-01", idempotencyKey: "x") { outcome } }"#,
        json!({}),
        Some(OPERATOR_KEY),
    )
    .await;
    assert_eq!(
        reply.codes(),
        ["GRAPHQL_VALIDATION_FAILED"],
        "{}",
        reply.body
    );
    let schema = as_key(
        &demo.url(),
        "{ __schema { mutationType { fields { name } } } }",
        json!({}),
        Some(OPERATOR_KEY),
    )
    .await;
    assert!(
        !schema.body.contains("recordTaxpayerDeath"),
        "{}",
        schema.body
    );
    assert!(schema.body.contains("tellUsOnce"), "{}", schema.body);
}

const SET_PREFERENCE: &str = "mutation($nino: String!) { setCorrespondencePreference(nino: $nino, preference: ONLINE) { nino correspondencePreference } }";

async fn set_preference(url: &str, nino: &str, key: &str) -> Reply {
    as_key(url, SET_PREFERENCE, json!({ "nino": nino }), Some(key)).await
}

async fn entries_of_kind(url: &str, kind: &str) -> Vec<Value> {
    let reply = as_key(
        url,
        "query($kind: String) { ledgerEntries(kind: $kind, first: 100) { edges { node { seq kind actor subject payload } } } }",
        json!({ "kind": kind }),
        Some(OPERATOR_KEY),
    )
    .await;
    reply.json()["data"]["ledgerEntries"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", reply.body))
        .iter()
        .map(|edge| edge["node"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mutations_forwarded_to_departments_are_ledgered() {
    let demo = start_demo().await;
    let url = demo.url();
    // Without the scope the field is removed and nothing reaches HMRC.
    let refused = set_preference(&url, CITIZEN_NINO, CITIZEN_KEY).await;
    assert_eq!(
        refused.codes(),
        ["UNAUTHORIZED_FIELD_OR_TYPE"],
        "{}",
        refused.body
    );
    assert!(entries_of_kind(&url, "gateway.mutation.forwarded")
        .await
        .is_empty());

    let applied = set_preference(&url, CITIZEN_NINO, FRONTEND_KEY).await;
    assert_eq!(
        applied.json()["data"]["setCorrespondencePreference"]["correspondencePreference"],
        "ONLINE",
        "{}",
        applied.body
    );
    let refused_by_hmrc = set_preference(&url, "AB123456C", FRONTEND_KEY).await;
    assert_eq!(
        refused_by_hmrc.codes(),
        ["NOT_FOUND"],
        "{}",
        refused_by_hmrc.body
    );

    let forwarded = entries_of_kind(&url, "gateway.mutation.forwarded").await;
    let outcomes = entries_of_kind(&url, "gateway.mutation.outcome").await;
    assert_eq!(forwarded.len(), 2, "{forwarded:?}");
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    for (intent, outcome) in forwarded.iter().zip(&outcomes) {
        assert_eq!(intent["actor"], "key:frontend");
        assert_eq!(outcome["actor"], "key:frontend");
        assert_eq!(outcome["payload"]["forwarded"], intent["seq"]);
        let payload = &intent["payload"];
        assert_eq!(payload["subgraph"], "hmrc");
        assert_eq!(payload["operation_sha256"].as_str().map(str::len), Some(44));
        assert_eq!(payload["fields"][0]["field"], "setCorrespondencePreference");
        let values = payload["fields"][0]["values"].as_object().expect("values");
        assert_eq!(values.len(), 2, "{values:?}");
        assert!(values
            .values()
            .all(|v| v.as_str().map(str::len) == Some(44)));
    }
    assert_eq!(outcomes[0]["payload"]["outcome"], "applied");
    assert_eq!(outcomes[1]["payload"]["outcome"], "refused");
    assert_eq!(outcomes[1]["payload"]["codes"], json!(["NOT_FOUND"]));
    // The NINO is the first entry's subject; no personal value is stored in clear.
    assert!(forwarded[0]["subject"].as_str().is_some());
    let all = serde_json::to_string(&forwarded).unwrap();
    assert!(
        !all.contains(CITIZEN_NINO) && !all.contains("ONLINE"),
        "{all}"
    );
    // The same values give the same keyed hashes, so the person's trail links them.
    let third = set_preference(&url, CITIZEN_NINO, FRONTEND_KEY).await;
    assert!(third.codes().is_empty(), "{}", third.body);
    let again = entries_of_kind(&url, "gateway.mutation.forwarded").await;
    assert_eq!(again.len(), 3);
    assert_eq!(
        again[2]["payload"]["fields"][0]["values"],
        forwarded[0]["payload"]["fields"][0]["values"]
    );
    assert_eq!(again[2]["subject"], forwarded[0]["subject"]);
    // The hub's own mutations ledger themselves: no forwarded entry for them.
    let told = as_key(
        &url,
        TELL,
        json!({ "event": death(CITIZEN_NINO), "key": "forwarded-1" }),
        Some(REGISTRAR_KEY),
    )
    .await;
    assert!(
        told.json()["data"]["tellUsOnce"]["eventId"].is_string(),
        "{}",
        told.body
    );
    assert_eq!(
        entries_of_kind(&url, "gateway.mutation.forwarded")
            .await
            .len(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_hub_publishes_its_identity_key() {
    let demo = start_demo().await;
    let jwks: Value = reqwest::get(format!("http://{}/.well-known/jwks.json", demo.hub.addr))
        .await
        .expect("GET jwks")
        .json()
        .await
        .expect("JSON");
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn request_errors_are_graphql_json_with_codes() {
    let demo = start_demo().await;
    let url = demo.url();
    let not_acceptable = post_raw(
        &url,
        r#"{"query":"{ hub { version } }"}"#,
        "application/json",
        Some("text/csv"),
    )
    .await;
    assert_eq!(not_acceptable.status, 406);
    assert_eq!(not_acceptable.codes(), ["BAD_USER_INPUT"]);
    let fragments = post_json(
        &url,
        &json!({ "query": "query { ...B } fragment A on Query { __typename } fragment B on Query { ...A }" }),
        None,
    )
    .await;
    assert_eq!(
        fragments.json()["data"]["__typename"],
        "Query",
        "{}",
        fragments.body
    );
    let cycle = post_json(
        &url,
        &json!({ "query": "query { ...A } fragment A on Query { ...A }" }),
        None,
    )
    .await;
    assert_eq!(
        cycle.codes(),
        ["GRAPHQL_VALIDATION_FAILED"],
        "{}",
        cycle.body
    );
    let date = as_key(
        &url,
        TELL,
        json!({ "event": { "death": { "nino": "AB123456C", "givenNames": "A", "familyName": "B", "dateOfDeath": "2026-02-30" } }, "key": "d" }),
        Some(REGISTRAR_KEY),
    )
    .await;
    assert_eq!(date.codes(), ["BAD_USER_INPUT"], "{}", date.body);
    let two = as_key(
        &url,
        TELL,
        json!({ "event": { "death": death("AB123456C")["death"], "changeOfName": { "nino": "AB123456C", "newGivenNames": "A", "newFamilyName": "B", "effectiveOn": "2026-01-01" } }, "key": "d2" }),
        Some(REGISTRAR_KEY),
    )
    .await;
    assert_eq!(two.codes(), ["BAD_USER_INPUT"], "{}", two.body);
    // The estimate is reported.
    let cost = post_json(&url, &json!({ "query": "{ hub { version } }" }), None).await;
    assert!(
        cost.json()["extensions"]["cost"]["estimated"].is_u64(),
        "{}",
        cost.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn introspection_is_off_unless_enabled() {
    let mut config = tellonce::config::Config::default();
    assert!(!config.limits.introspection);
    config.limits.introspection = true;
    assert!(config.limits.introspection);
    let demo = start_demo().await;
    // The test demo enables it (as `tellonce demo` does); a limit refusal is
    // checked through the gateway with the default limits.
    let gateway = demo.hub.gateway.current().expect("a gateway");
    let response = gateway
        .execute(tellonce::gateway::GraphQLRequest {
            query: Some("{ __schema { queryType { name } } }".into()),
            ..Default::default()
        })
        .await;
    assert_eq!(response.errors[0].code(), Some("QUERY_TOO_COMPLEX"));
    assert_eq!(response.errors[0].extensions["limit"], "introspection");
}

async fn burst(url: &str, count: usize) -> Vec<Reply> {
    let mut replies = Vec::new();
    for _ in 0..count {
        replies.push(as_key(url, "{ hub { version } }", json!({}), Some(OPERATOR_KEY)).await);
    }
    replies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_limits_answer_429_with_retry_after() {
    let demo = start_demo_with(|config| {
        config.rate_limit.requests_per_second = 1;
        config.rate_limit.burst = 3;
    })
    .await;
    let replies = burst(&demo.url(), 5).await;
    assert!(replies[..3].iter().all(|r| r.status == 200));
    let limited = &replies[4];
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert_eq!(limited.codes(), ["RATE_LIMITED"]);
    assert!(limited.headers.get("retry-after").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hubs_sharing_redis_share_one_budget() {
    let redis = std::env::var("TELLONCE_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let database = tempfile::tempdir().expect("temp dir");
    let db_url = database.path().join("shared.db").display().to_string();
    let shared = database.path().to_owned();
    let limited = |config: &mut tellonce::config::Config| {
        config.ledger.key_file = Some(shared.join("ledger.key"));
        config.ledger.subject_key_file = Some(shared.join("subject.key"));
        config.auth.identity_key_file = Some(shared.join("hub-identity.key"));
        config.rate_limit.requests_per_second = 1;
        config.rate_limit.burst = 4;
        config.rate_limit.redis_url = Some(redis.clone());
        config.database_url = Some(db_url.clone());
    };
    let first = start_demo_with(limited).await;
    let second = start_demo_with(limited).await;
    // The operator is one principal: its budget (4) is spent across both hubs.
    let mut statuses = Vec::new();
    for i in 0..8 {
        let url = if i % 2 == 0 {
            first.url()
        } else {
            second.url()
        };
        statuses.extend(burst(&url, 1).await.iter().map(|r| r.status));
    }
    let served = statuses.iter().filter(|s| **s == 200).count();
    assert!(served <= 5, "one budget across both hubs: {statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_whole_document_is_held_to_the_limits() {
    let demo = start_demo().await;
    let url = demo.url();
    // Found by fuzzing: validation reads what the operation does not use.
    let unused_fragment = format!(
        "{{ hub {{ version }} }} fragment F on HubInfo {{ {} }}",
        "version ".repeat(3_000)
    );
    let other_operation = format!(
        "query A {{ hub {{ version }} }} query B {{ hub {{ {} }} }}",
        "version ".repeat(3_000)
    );
    let mut chain = String::from("{ hub { version } } fragment F0 on HubInfo { version }\n");
    for i in 1..1_000 {
        chain.push_str(&format!("fragment F{i} on HubInfo {{ ...F{} }}\n", i - 1));
    }
    let repeated = format!("{{ hub {{ {} }} }}", "version ".repeat(1_995));
    for (name, query, operation) in [
        ("unused fragment", unused_fragment, None),
        ("other operation", other_operation, Some("A")),
        ("fragment chain", chain, None),
        ("repeated field", repeated, None),
    ] {
        let started = Instant::now();
        let reply = post_json(
            &url,
            &json!({ "query": query, "operationName": operation }),
            None,
        )
        .await;
        assert_eq!(
            reply.codes(),
            ["QUERY_TOO_COMPLEX"],
            "{name}: {:.300}",
            reply.body
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{name}: {:?}",
            started.elapsed()
        );
    }
}

async fn echo_headers(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    let mut seen = serde_json::Map::new();
    for name in [
        "accept-language",
        "authorization",
        "x-lang",
        "x-channel",
        "x-request-id",
        "x-tellonce-identity",
    ] {
        if let Some(value) = req.headers().get(name) {
            seen.insert(name.into(), json!(value.to_str().unwrap_or("")));
        }
    }
    actix_web::HttpResponse::Ok()
        .json(json!({ "data": { "echo": Value::Object(seen).to_string() } }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn headers_reach_subgraphs_only_by_rule() {
    // A subgraph that answers with the headers it was sent.
    let server = actix_web::HttpServer::new(|| {
        actix_web::App::new().default_service(actix_web::web::to(echo_headers))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    let running = server.run();
    let stop = running.handle();
    tokio::spawn(running);
    let dir = tempfile::tempdir().unwrap();
    let sdl = dir.path().join("echo.graphql");
    std::fs::write(
        &sdl,
        "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.3\", import: [\"@shareable\"])\ntype Query { echo: String }\n",
    )
    .unwrap();
    let demo = start_demo_with(|c| {
        c.subgraphs.push(tellonce::config::SubgraphConfig {
            name: "echo".into(),
            url: format!("http://{addr}/graphql"),
            schema_file: Some(sdl.clone()),
        });
        c.headers = toml::from_str(
            r#"
            all = [ { propagate = { named = "accept-language", rename = "x-lang" } } ]
            [subgraphs]
            echo = [ { insert = { name = "x-channel", value = "hub" } } ]
            "#,
        )
        .unwrap();
    })
    .await;
    let reply = post_as(
        &demo.url(),
        &body("{ echo }", json!({})),
        "application/json",
        None,
        Some(FRONTEND_KEY),
    )
    .await;
    let request = reqwest::Client::new()
        .post(demo.url())
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {FRONTEND_KEY}"))
        .header("accept-language", "cy")
        .body(body("{ echo }", json!({})));
    let with_language: Value = request.send().await.unwrap().json().await.unwrap();
    for reply in [reply.json(), with_language.clone()] {
        let seen: Value = serde_json::from_str(
            reply["data"]["echo"]
                .as_str()
                .unwrap_or_else(|| panic!("{reply}")),
        )
        .unwrap();
        // The hub names itself and the principal; the client's credential stays.
        assert!(seen["x-tellonce-identity"].is_string(), "{seen}");
        assert!(
            seen["x-request-id"]
                .as_str()
                .is_some_and(|id| id.len() == 36),
            "{seen}"
        );
        assert!(seen.get("authorization").is_none(), "{seen}");
        assert_eq!(seen["x-channel"], "hub", "{seen}");
    }
    let seen: Value =
        serde_json::from_str(with_language["data"]["echo"].as_str().unwrap()).unwrap();
    assert_eq!(
        seen["x-lang"], "cy",
        "propagated under its new name: {seen}"
    );
    assert!(seen.get("accept-language").is_none(), "{seen}");
    stop.stop(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn persisted_and_trusted_documents() {
    let query = "query Named { hub { version } }";
    let hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(query.as_bytes()))
    };
    let persisted =
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
    let demo = start_demo().await;
    let send = |url: String, payload: Value| async move {
        post_as(
            &url,
            &payload.to_string(),
            "application/json",
            None,
            Some(FRONTEND_KEY),
        )
        .await
    };
    // Automatic persisted queries: unknown hash, then registered, then by hash alone.
    let unknown = send(demo.url(), persisted.clone()).await;
    assert_eq!(
        unknown.codes(),
        ["PERSISTED_QUERY_NOT_FOUND"],
        "{}",
        unknown.body
    );
    let mut registering = persisted.clone();
    registering["query"] = json!(query);
    assert!(send(demo.url(), registering).await.json()["data"]["hub"]["version"].is_string());
    let by_hash = send(demo.url(), persisted.clone()).await;
    assert!(
        by_hash.json()["data"]["hub"]["version"].is_string(),
        "{}",
        by_hash.body
    );
    drop(demo);

    // An allow-list from an Apollo manifest: only its documents run.
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.json");
    std::fs::write(
        &manifest,
        json!({ "format": "apollo-persisted-query-manifest", "version": 1,
                "operations": [{ "id": "named-1", "name": "Named", "type": "query", "body": query }] })
        .to_string(),
    )
    .unwrap();
    let demo = start_demo_with(|c| {
        c.trusted_documents.manifests = vec![manifest.clone()];
        c.trusted_documents.allow_list = true;
    })
    .await;
    let listed = send(demo.url(), json!({ "query": query })).await;
    assert!(
        listed.json()["data"]["hub"]["version"].is_string(),
        "{}",
        listed.body
    );
    let by_id = send(
        demo.url(),
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "named-1" } } }),
    )
    .await;
    assert!(
        by_id.json()["data"]["hub"]["version"].is_string(),
        "{}",
        by_id.body
    );
    let other = send(demo.url(), json!({ "query": "{ hub { version } }" })).await;
    assert_eq!(other.codes(), ["FORBIDDEN"], "{}", other.body);
}
