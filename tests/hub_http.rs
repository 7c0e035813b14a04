//! The hub over HTTP, composed over the example departments: GraphQL over
//! HTTP status codes and media types, GET rules, GraphiQL, bad input, and a
//! department that goes down.

mod hub_support;

use hub_support::{get, post_json, post_raw, start_demo};
use serde_json::json;
use tellonce_departments::Department;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

const PERSON: &str = r#"query Person($nino: String!) {
  taxpayer(nino: $nino) {
    name
    utr
    benefitClaims { benefit status }
    drivingLicence { licenceNumber status }
    passports { passportNumber }
  }
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_query_spans_four_departments_and_the_hub() {
    let demo = start_demo().await;
    let reply = post_json(
        &demo.url(),
        &json!({
            "query": format!("{PERSON}\nquery Status {{ hub {{ version supergraphHash subgraphs {{ name healthy lastError }} }} }}"),
            "operationName": "Person",
            "variables": { "nino": "JK528194C" },
        }),
        Some(GRAPHQL_RESPONSE),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.content_type.starts_with(GRAPHQL_RESPONSE),
        "{}",
        reply.content_type
    );
    let body = reply.json();
    assert!(body.get("errors").is_none(), "{body}");
    let person = &body["data"]["taxpayer"];
    assert_eq!(person["name"], "Margaret Elizabeth Thompson");
    assert_eq!(person["utr"], "9384751092", "from HMRC");
    assert_eq!(
        person["benefitClaims"][0]["benefit"], "STATE_PENSION",
        "from DWP"
    );
    assert_eq!(
        person["drivingLicence"]["licenceNumber"], "THOMP553147ME9LK",
        "from DVLA"
    );
    assert_eq!(
        person["passports"][0]["passportNumber"], "533401872",
        "from HMPO"
    );

    let status = post_json(
        &demo.url(),
        &json!({ "query": "{ hub { version supergraphHash subgraphs { name healthy } } }" }),
        None,
    )
    .await;
    let hub = &status.json()["data"]["hub"];
    assert_eq!(hub["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(hub["supergraphHash"].as_str().map(str::len), Some(64));
    let names: Vec<&str> = hub["subgraphs"]
        .as_array()
        .expect("subgraphs")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    for department in Department::all() {
        assert!(names.contains(&department.name()), "{names:?}");
    }
    assert!(names.contains(&"hub"));
    demo.hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_errors_are_400_with_graphql_response_json_and_200_with_plain_json() {
    let demo = start_demo().await;
    let invalid = json!({ "query": "{ taxpayer(nino: \"JK528194C\") { noSuchField } }" });

    let strict = post_json(&demo.url(), &invalid, Some(GRAPHQL_RESPONSE)).await;
    assert_eq!(strict.status, 400, "{}", strict.body);
    assert_eq!(strict.codes(), ["GRAPHQL_VALIDATION_FAILED"]);
    assert!(
        strict.json().get("data").is_none(),
        "a request error has no data"
    );

    let legacy = post_json(&demo.url(), &invalid, Some("application/json")).await;
    assert_eq!(legacy.status, 200, "{}", legacy.body);
    assert!(
        legacy.content_type.starts_with("application/json"),
        "{}",
        legacy.content_type
    );
    assert_eq!(legacy.codes(), ["GRAPHQL_VALIDATION_FAILED"]);

    let no_accept = post_json(&demo.url(), &invalid, None).await;
    assert_eq!(no_accept.status, 200);
    assert!(no_accept.content_type.starts_with("application/json"));

    let refused = post_json(&demo.url(), &invalid, Some("text/csv")).await;
    assert_eq!(refused.status, 406);
    demo.hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_errors_with_codes() {
    let demo = start_demo().await;
    let url = demo.url();

    let malformed = post_raw(
        &url,
        "{\"query\": ",
        "application/json",
        Some(GRAPHQL_RESPONSE),
    )
    .await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.codes(), ["BAD_USER_INPUT"]);
    assert!(
        malformed.body.contains("not valid JSON"),
        "{}",
        malformed.body
    );

    let malformed_legacy = post_raw(&url, "not json", "application/json", None).await;
    assert_eq!(
        malformed_legacy.status, 400,
        "malformed JSON is not a well-formed request"
    );

    let not_json = post_raw(&url, "{ hub { version } }", "text/plain", None).await;
    assert_eq!(not_json.status, 415);

    let missing_query = post_json(&url, &json!({ "variables": {} }), Some(GRAPHQL_RESPONSE)).await;
    assert_eq!(missing_query.status, 400);
    assert_eq!(missing_query.codes(), ["BAD_USER_INPUT"]);

    let parse = post_json(
        &url,
        &json!({ "query": "{ hub { " }),
        Some(GRAPHQL_RESPONSE),
    )
    .await;
    assert_eq!(parse.status, 400);
    assert_eq!(parse.codes(), ["GRAPHQL_PARSE_FAILED"]);

    let unknown_operation = post_json(
        &url,
        &json!({ "query": PERSON, "operationName": "Nobody", "variables": { "nino": "JK528194C" } }),
        Some(GRAPHQL_RESPONSE),
    )
    .await;
    assert_eq!(unknown_operation.status, 400);
    assert_eq!(unknown_operation.codes(), ["BAD_USER_INPUT"]);
    assert!(
        unknown_operation.body.contains("Nobody"),
        "{}",
        unknown_operation.body
    );

    let wrong_type = post_json(
        &url,
        &json!({ "query": PERSON, "variables": { "nino": 42 } }),
        Some(GRAPHQL_RESPONSE),
    )
    .await;
    assert_eq!(wrong_type.status, 400);
    assert_eq!(wrong_type.codes(), ["BAD_USER_INPUT"]);
    assert!(
        wrong_type.body.contains("nino"),
        "names the variable: {}",
        wrong_type.body
    );

    let not_an_object = post_json(&url, &json!("hello"), None).await;
    assert_eq!(not_an_object.status, 400);
    demo.hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_serves_queries_refuses_mutations_and_shows_graphiql_to_browsers() {
    let demo = start_demo().await;
    let url = demo.url();

    let query = get(&url, &[("query", "{ hub { version } }")], None).await;
    assert_eq!(query.status, 200, "{}", query.body);
    assert_eq!(
        query.json()["data"]["hub"]["version"],
        env!("CARGO_PKG_VERSION")
    );

    let with_variables = get(
        &url,
        &[("query", PERSON), ("variables", r#"{"nino":"JK528194C"}"#)],
        Some(GRAPHQL_RESPONSE),
    )
    .await;
    assert_eq!(with_variables.status, 200, "{}", with_variables.body);
    assert_eq!(
        with_variables.json()["data"]["taxpayer"]["utr"],
        "9384751092"
    );

    let mutation = get(
        &url,
        &[(
            "query",
            r#"mutation { recordTaxpayerDeath(nino: "JK528194C", dateOfDeath: "2026-11-01", idempotencyKey: "get-must-not-run") { __typename } }"#,
        )],
        None,
    )
    .await;
    assert_eq!(mutation.status, 405, "{}", mutation.body);
    assert_eq!(
        mutation.headers.get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    let log = post_json(
        &url,
        &json!({ "query": "{ hmrcNotificationLog { __typename } }" }),
        None,
    )
    .await;
    assert!(
        !log.body.contains("get-must-not-run"),
        "the mutation sent over GET changed nothing: {}",
        log.body
    );

    let bad_variables = get(&url, &[("query", PERSON), ("variables", "{nope")], None).await;
    assert_eq!(bad_variables.status, 400);

    let page = get(&url, &[], Some("text/html,application/xhtml+xml")).await;
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"));
    assert!(page.body.contains("graphiql"), "{}", page.body);

    let put = reqwest::Client::new().put(&url).send().await.expect("PUT");
    assert_eq!(put.status().as_u16(), 405);
    demo.hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ready_and_batches() {
    let demo = start_demo().await;
    let base = format!("http://{}", demo.hub.addr);
    let health = get(&format!("{base}/health"), &[], None).await;
    assert_eq!(health.status, 200);
    let ready = get(&format!("{base}/ready"), &[], None).await;
    assert_eq!(ready.status, 200);
    assert_eq!(
        ready.json()["supergraphHash"].as_str().map(str::len),
        Some(64)
    );

    let batch = post_json(
        &demo.url(),
        &json!([
            { "query": "{ hub { version } }" },
            { "query": "{ hub { nope } }" },
        ]),
        None,
    )
    .await;
    assert_eq!(batch.status, 200);
    let answers = batch.json();
    assert_eq!(
        answers[0]["data"]["hub"]["version"],
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(
        answers[1]["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    demo.hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_department_that_is_down_leaves_partial_data_and_shows_unhealthy() {
    let mut demo = start_demo().await;
    demo.stop_department(Department::Dvla).await;
    let reply = post_json(
        &demo.url(),
        &json!({ "query": PERSON, "variables": { "nino": "JK528194C" } }),
        Some(GRAPHQL_RESPONSE),
    )
    .await;
    assert_eq!(
        reply.status, 200,
        "partial data is not a request error: {}",
        reply.body
    );
    let body = reply.json();
    let person = &body["data"]["taxpayer"];
    assert_eq!(person["utr"], "9384751092", "HMRC still answers: {body}");
    assert_eq!(
        person["benefitClaims"][0]["benefit"], "STATE_PENSION",
        "{body}"
    );
    assert!(person["drivingLicence"].is_null(), "{body}");
    assert!(
        reply.codes().contains(&"SUBGRAPH_UNAVAILABLE".to_owned()),
        "{body}"
    );

    let status = post_json(
        &demo.url(),
        &json!({ "query": "{ hub { subgraphs { name healthy lastError } } }" }),
        None,
    )
    .await;
    let dvla = status.json()["data"]["hub"]["subgraphs"]
        .as_array()
        .expect("subgraphs")
        .iter()
        .find(|s| s["name"] == "dvla")
        .cloned()
        .expect("dvla listed");
    assert_eq!(dvla["healthy"], false, "{dvla}");
    assert!(
        dvla["lastError"].as_str().is_some_and(|e| !e.is_empty()),
        "{dvla}"
    );
    demo.hub.stop().await;
}
