//! Subscriptions over plain HTTP against a real hub: graphql-sse's distinct
//! connections mode (POST and GET) and single connection mode (reserve,
//! stream, operate, stop), Apollo's multipart subscriptions, and request
//! errors answered as JSON with nothing streamed.

mod tellonce_support;

use std::net::TcpListener;
use std::time::Duration;

use serde_json::{json, Value};
use tellonce::server::RunningHub;
use tellonce_support::*;

const QUERY: &str = "{ __typename }";
const LIFE_EVENTS: &str = "subscription { lifeEvents { eventId ledgerSeq type } }";
const SSE: &str = "text/event-stream";
const APOLLO_MULTIPART: &str = "multipart/mixed;subscriptionSpec=\"1.0\", application/json";
const TOKEN_HEADER: &str = "x-graphql-event-stream-token";
/// Longest wait for one piece of a stream.
const PATIENCE: Duration = Duration::from_secs(30);

/// A hub over the example departments; `_db` and `_departments` live as long as it.
struct Hub {
    hub: RunningHub,
    _departments: Departments,
    _db: TestDb,
}

impl Hub {
    async fn start() -> Hub {
        let db = TestDb::sqlite();
        let departments = Departments::start().await;
        let config = hub_config(&db, departments.subgraphs(|_, url| url));
        let hub = tellonce::server::start_on(&config, TcpListener::bind("127.0.0.1:0").unwrap())
            .await
            .expect("the hub starts");
        Hub {
            hub,
            _departments: departments,
            _db: db,
        }
    }

    fn url(&self) -> String {
        self.hub.graphql_url()
    }

    fn stream_url(&self) -> String {
        format!("{}/stream", self.hub.graphql_url())
    }

    async fn stop(self) {
        self.hub.stop().await;
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// POSTs `query` as `key` accepting `accept`.
async fn post(url: &str, key: &str, accept: &str, query: &str) -> reqwest::Response {
    client()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", accept)
        .header("authorization", bearer(key))
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("POST")
}

/// A response body read as it arrives.
struct Body {
    response: reqwest::Response,
    buffer: Vec<u8>,
    ended: bool,
}

impl Body {
    fn new(response: reqwest::Response) -> Body {
        Body {
            response,
            buffer: Vec::new(),
            ended: false,
        }
    }

    /// Reads until `needle` is in the buffer, then takes the bytes up to
    /// and including it; `None` if the body ends first.
    async fn take_through(&mut self, needle: &[u8]) -> Option<Vec<u8>> {
        loop {
            if let Some(at) = find(&self.buffer, needle) {
                let rest = self.buffer.split_off(at + needle.len());
                return Some(std::mem::replace(&mut self.buffer, rest));
            }
            if self.ended {
                return None;
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk())
                .await
                .expect("the stream goes on within the patience")
                .expect("the body reads");
            match chunk {
                Some(chunk) => self.buffer.extend_from_slice(&chunk),
                None => self.ended = true,
            }
        }
    }

    /// The next server-sent event as (event, data), comments skipped;
    /// `None` when the stream ends.
    async fn event(&mut self) -> Option<(String, String)> {
        loop {
            let block = self.take_through(b"\n\n").await?;
            let text = String::from_utf8(block).expect("UTF-8 events");
            let mut event = String::new();
            let mut data = Vec::new();
            for line in text.lines() {
                if let Some(name) = line.strip_prefix("event:") {
                    event = name.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push(value.strip_prefix(' ').unwrap_or(value).to_owned());
                }
            }
            // A block of comments only is a keep-alive.
            if !event.is_empty() || !data.is_empty() {
                return Some((event, data.join("\n")));
            }
        }
    }

    /// The next event, which must be `next`: its data as JSON.
    async fn next(&mut self) -> Value {
        let (event, data) = self.event().await.expect("an event before the end");
        assert_eq!(event, "next", "{data}");
        serde_json::from_str(&data).unwrap_or_else(|e| panic!("data is JSON ({e}): {data}"))
    }

    /// The rest of the body, once it ends.
    async fn rest(&mut self) -> Vec<u8> {
        while !self.ended {
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk())
                .await
                .expect("the stream ends within the patience")
                .expect("the body reads");
            match chunk {
                Some(chunk) => self.buffer.extend_from_slice(&chunk),
                None => self.ended = true,
            }
        }
        std::mem::take(&mut self.buffer)
    }
}

/// `url?query=…`, percent-encoded.
fn with_query(url: &str, query: &str) -> String {
    let encoded: String = query
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{url}?query={encoded}")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A subscription that yields one event and ends: the progress of a life
/// event every department has already been told of.
fn status_of(id: &str) -> String {
    format!("subscription {{ lifeEventStatus(id: \"{id}\") {{ id notifications {{ department status }} }} }}")
}

/// Tells a death and waits until every department has it: its event id.
async fn told_everyone(hub: &Hub, n: u32) -> String {
    let receipt = tell(&hub.url(), death(n), &format!("told-{n}")).await;
    let id = receipt["eventId"].as_str().expect("an event id").to_owned();
    all_notifications(&hub.url(), &id, "DELIVERED").await;
    id
}

/// The one event of [`status_of`]: it is about `id` and everyone is told.
fn assert_told(result: &Value, id: &str) {
    assert!(result.get("errors").is_none(), "{result}");
    let status = &result["data"]["lifeEventStatus"];
    assert_eq!(status["id"], id, "{result}");
    let notifications = status["notifications"].as_array().expect("notifications");
    assert!(
        !notifications.is_empty() && notifications.iter().all(|n| n["status"] == "DELIVERED"),
        "{result}"
    );
}

fn assert_event_stream(response: &reqwest::Response) {
    assert_eq!(response.status(), 200, "{:?}", response.headers());
    assert!(
        header(response, "content-type").starts_with(SSE),
        "{}",
        header(response, "content-type")
    );
}

/// Distinct connections mode: a POST accepting only `text/event-stream`
/// gets one `next` event per result, then `complete`, then the stream
/// closes; the same by GET with the request in the URL, and for a query.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn distinct_mode_sends_next_then_complete() {
    let hub = Hub::start().await;
    let id = told_everyone(&hub, 790).await;
    let response = post(&hub.url(), OPERATOR_KEY, SSE, &status_of(&id)).await;
    assert_event_stream(&response);
    assert_eq!(header(&response, "cache-control"), "no-cache");
    let mut body = Body::new(response);
    assert_told(&body.next().await, &id);
    assert_eq!(body.event().await, Some(("complete".into(), String::new())));
    assert_eq!(body.event().await, None, "the stream closes after complete");

    // GET, the subscription in the URL.
    let response = client()
        .get(with_query(&hub.url(), &status_of(&id)))
        .header("accept", SSE)
        .header("authorization", bearer(OPERATOR_KEY))
        .send()
        .await
        .expect("GET");
    assert_event_stream(&response);
    let mut body = Body::new(response);
    assert_told(&body.next().await, &id);
    assert_eq!(body.event().await.map(|e| e.0), Some("complete".into()));

    // A query, event-stream first, byte for byte: a first keep-alive
    // comment, then its one result and `complete`.
    let response = post(&hub.stream_url(), OPERATOR_KEY, SSE, QUERY).await;
    assert_event_stream(&response);
    let text = String::from_utf8(Body::new(response).rest().await).unwrap();
    assert!(
        text.starts_with(":\n\nevent: next\ndata: {\"data\":{\"__typename\":\"Query\"}"),
        "{text:?}"
    );
    assert!(
        text.ends_with("}\n\nevent: complete\ndata:\n\n"),
        "{text:?}"
    );
    assert_eq!(text.matches("event: ").count(), 2, "{text:?}");

    // A client preferring JSON gets a query's answer as JSON, and a
    // subscription streamed, by POST and by GET.
    let accept = "application/json, text/event-stream";
    let response = post(&hub.url(), OPERATOR_KEY, accept, QUERY).await;
    assert!(header(&response, "content-type").starts_with("application/json"));
    let response = post(&hub.url(), OPERATOR_KEY, accept, &status_of(&id)).await;
    assert_event_stream(&response);
    for (query, streams) in [(QUERY.to_string(), false), (status_of(&id), true)] {
        let response = client()
            .get(with_query(&hub.url(), &query))
            .header("accept", accept)
            .header("authorization", bearer(OPERATOR_KEY))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 200);
        assert_eq!(
            header(&response, "content-type").starts_with(SSE),
            streams,
            "{query}"
        );
    }

    // Without a streaming type, a subscription is still refused.
    let response = post(
        &hub.url(),
        OPERATOR_KEY,
        "application/json",
        &status_of(&id),
    )
    .await;
    let json: Value = response.json().await.unwrap();
    assert_eq!(codes(&json), ["BAD_USER_INPUT"], "{json}");
    hub.stop().await;
}

/// A long-lived subscription in distinct mode: a department's life events,
/// each new one arriving while the stream is open.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn distinct_mode_streams_life_events_as_they_happen() {
    let hub = Hub::start().await;
    let hmrc = department_key("hmrc");
    let response = post(&hub.url(), &hmrc, SSE, LIFE_EVENTS).await;
    assert_event_stream(&response);
    let mut body = Body::new(response);
    let receipt = tell(&hub.url(), death(801), "sse-801").await;
    let event = body.next().await;
    assert!(event.get("errors").is_none(), "{event}");
    assert_eq!(event["data"]["lifeEvents"]["eventId"], receipt["eventId"]);
    let receipt = tell(&hub.url(), death(802), "sse-802").await;
    assert_eq!(
        body.next().await["data"]["lifeEvents"]["eventId"],
        receipt["eventId"]
    );
    // The client leaves; the hub goes on serving.
    drop(body);
    let response = post(&hub.url(), OPERATOR_KEY, SSE, QUERY).await;
    assert_event_stream(&response);
    hub.stop().await;
}

/// Single connection mode, as graphql-sse's client runs it: reserve with
/// PUT, open the stream with GET and the token, POST operations (202) whose
/// results come on the stream tagged with their id, DELETE one to stop it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn single_connection_mode_reserves_streams_operates_and_stops() {
    let hub = Hub::start().await;
    let url = hub.stream_url();
    let hmrc = department_key("hmrc");

    let reserved = client()
        .put(&url)
        .header("authorization", bearer(&hmrc))
        .send()
        .await
        .expect("PUT");
    assert_eq!(reserved.status(), 201);
    let token = reserved.text().await.unwrap();
    assert!(uuid::Uuid::parse_str(&token).is_ok(), "a UUID: {token}");

    let stream = client()
        .get(&url)
        .header("accept", SSE)
        .header(TOKEN_HEADER, &token)
        .send()
        .await
        .expect("GET the stream");
    assert_event_stream(&stream);
    let mut events = Body::new(stream);

    // One stream per reservation.
    let again = client()
        .get(&url)
        .header("accept", SSE)
        .header(TOKEN_HEADER, &token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);

    let operate = |id: &str, query: &str, key: &str| {
        client()
            .post(&url)
            .header("content-type", "application/json; charset=utf-8")
            .header("authorization", bearer(key))
            .header(TOKEN_HEADER, &token)
            .json(&json!({ "query": query, "extensions": { "operationId": id } }))
            .send()
    };

    let accepted = operate("one", QUERY, &hmrc).await.unwrap();
    assert_eq!(accepted.status(), 202);
    let next = events.next().await;
    assert_eq!(next["id"], "one", "{next}");
    assert_eq!(
        next["payload"]["data"],
        json!({ "__typename": "Query" }),
        "{next}"
    );
    assert_eq!(
        events.event().await,
        Some(("complete".into(), "{\"id\":\"one\"}".into()))
    );

    // A long-lived one: a life event comes on the stream, then DELETE stops it.
    let accepted = operate("life", LIFE_EVENTS, &hmrc).await.unwrap();
    assert_eq!(accepted.status(), 202);
    let duplicate = operate("life", LIFE_EVENTS, &hmrc).await.unwrap();
    assert_eq!(duplicate.status(), 409, "an id runs once at a time");
    let receipt = tell(&hub.url(), death(811), "single-811").await;
    let next = events.next().await;
    assert_eq!(next["id"], "life", "{next}");
    assert_eq!(
        next["payload"]["data"]["lifeEvents"]["eventId"],
        receipt["eventId"]
    );
    let stopped = client()
        .delete(format!("{url}?operationId=life"))
        .header("authorization", bearer(&hmrc))
        .header(TOKEN_HEADER, &token)
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.status(), 200);
    assert_eq!(
        events.event().await,
        Some(("complete".into(), "{\"id\":\"life\"}".into()))
    );

    // The stream is the reserving principal's: anyone else is told it does not exist.
    let other = operate("x", QUERY, OPERATOR_KEY).await.unwrap();
    assert_eq!(other.status(), 404);

    // A request error is answered on the POST, and nothing reaches the stream.
    let invalid = operate("bad", "subscription { noSuchField }", &hmrc)
        .await
        .unwrap();
    let json: Value = invalid.json().await.unwrap();
    assert_eq!(codes(&json), ["GRAPHQL_VALIDATION_FAILED"], "{json}");
    let missing_id = client()
        .post(&url)
        .header("content-type", "application/json")
        .header("authorization", bearer(&hmrc))
        .header(TOKEN_HEADER, &token)
        .json(&json!({ "query": QUERY }))
        .send()
        .await
        .unwrap();
    assert_eq!(missing_id.status(), 400);
    let accepted = operate("two", QUERY, &hmrc).await.unwrap();
    assert_eq!(accepted.status(), 202);
    assert_eq!(events.next().await["id"], "two", "the next event is two's");

    // The client leaves: the token is released.
    drop(events);
    let after = eventually("the stream to be released", PATIENCE, || async {
        let status = operate("late", QUERY, &hmrc).await.unwrap().status();
        (status == 404).then_some(status)
    })
    .await;
    assert_eq!(after, 404);
    hub.stop().await;
}

/// Single connection mode with the token in `?token=` (as `EventSource`
/// sends it), an operation posted on `/graphql` before the stream opens;
/// unknown tokens are 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn single_connection_mode_by_query_token_and_unknown_tokens() {
    let hub = Hub::start().await;
    let url = hub.stream_url();
    let id = told_everyone(&hub, 830).await;
    let token = client()
        .put(&url)
        .header("authorization", bearer(OPERATOR_KEY))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let accepted = client()
        .post(hub.url())
        .header("content-type", "application/json")
        .header("authorization", bearer(OPERATOR_KEY))
        .header(TOKEN_HEADER, &token)
        .json(&json!({ "query": status_of(&id), "extensions": { "operationId": "s" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 202);
    let stream = client()
        .get(format!("{url}?token={token}"))
        .header("accept", SSE)
        .send()
        .await
        .unwrap();
    assert_event_stream(&stream);
    let mut events = Body::new(stream);
    let next = events.next().await;
    assert_eq!(next["id"], "s", "{next}");
    assert_told(&next["payload"], &id);
    assert_eq!(
        events.event().await,
        Some(("complete".into(), "{\"id\":\"s\"}".into()))
    );

    // On /graphql too: a GET naming a stream is routed to it.
    let unknown = "00000000-0000-4000-8000-000000000000";
    let get = client()
        .get(hub.url())
        .header("accept", SSE)
        .header(TOKEN_HEADER, unknown)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 404);
    let json: Value = get.json().await.unwrap();
    assert_eq!(codes(&json), ["NOT_FOUND"], "{json}");
    let post = client()
        .post(&url)
        .header("content-type", "application/json")
        .header("authorization", bearer(OPERATOR_KEY))
        .header(TOKEN_HEADER, unknown)
        .json(&json!({ "query": QUERY, "extensions": { "operationId": "x" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 404);
    let delete = client()
        .delete(format!("{url}?operationId=x"))
        .header("authorization", bearer(OPERATOR_KEY))
        .header(TOKEN_HEADER, unknown)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 404);

    // Reserving needs what a POST needs: a bad credential is refused.
    let refused = client()
        .put(&url)
        .header("authorization", "Bearer tok_nobody-0123456789abcdef")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    drop(events);
    hub.stop().await;
}

/// Multipart subscriptions as Apollo Client asks for them: one part per
/// event with the response under `payload`, then the closing boundary; a
/// query with the same header (or `@defer`'s) is answered as JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn multipart_sends_parts_and_the_final_boundary() {
    let hub = Hub::start().await;
    let id = told_everyone(&hub, 840).await;
    let response = post(&hub.url(), OPERATOR_KEY, APOLLO_MULTIPART, &status_of(&id)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type"),
        "multipart/mixed;boundary=\"graphql\";subscriptionSpec=\"1.0\""
    );
    let body = String::from_utf8(Body::new(response).rest().await).unwrap();
    let head = "\r\n--graphql\r\ncontent-type: application/json; charset=utf-8\r\n\r\n";
    let end = "\r\n--graphql--\r\n";
    let inner = body
        .strip_prefix(head)
        .and_then(|rest| rest.strip_suffix(end))
        .and_then(|rest| rest.strip_suffix("\r\n"))
        .unwrap_or_else(|| panic!("one part, then the end: {body:?}"));
    let part: Value = serde_json::from_str(inner).unwrap_or_else(|e| panic!("{e}: {inner}"));
    assert_told(&part["payload"], &id);

    // Unquoted, as Apollo's documentation also writes it.
    let response = post(
        &hub.url(),
        OPERATOR_KEY,
        "multipart/mixed;subscriptionSpec=1.0,application/json",
        &status_of(&id),
    )
    .await;
    assert!(header(&response, "content-type").starts_with("multipart/mixed"));
    assert!(Body::new(response).rest().await.ends_with(end.as_bytes()));

    for accept in [
        APOLLO_MULTIPART,
        "multipart/mixed;deferSpec=20220824, application/json",
    ] {
        let response = post(&hub.url(), OPERATOR_KEY, accept, QUERY).await;
        assert!(
            header(&response, "content-type").starts_with("application/json"),
            "{accept}: {}",
            header(&response, "content-type")
        );
        let json: Value = response.json().await.unwrap();
        assert_eq!(json["data"]["__typename"], "Query");
    }
    hub.stop().await;
}

/// A long-lived multipart subscription: a life event comes as a part while
/// the response is open.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn multipart_streams_life_events_as_they_happen() {
    let hub = Hub::start().await;
    let hmrc = department_key("hmrc");
    let response = post(&hub.url(), &hmrc, APOLLO_MULTIPART, LIFE_EVENTS).await;
    assert_eq!(response.status(), 200);
    let mut body = Body::new(response);
    let receipt = tell(&hub.url(), death(821), "multipart-821").await;
    let part = body
        .take_through(b"}\r\n")
        .await
        .expect("a part before the end");
    let part = String::from_utf8(part).unwrap();
    let json_text = part
        .split("\r\n\r\n")
        .nth(1)
        .expect("a part has headers and a body")
        .trim();
    let json: Value = serde_json::from_str(json_text).unwrap_or_else(|e| panic!("{e}: {part}"));
    assert_ne!(json, json!({}), "a heartbeat came before the event: {part}");
    assert_eq!(
        json["payload"]["data"]["lifeEvents"]["eventId"], receipt["eventId"],
        "{json}"
    );
    drop(body);
    hub.stop().await;
}

/// An invalid subscription document is a JSON error response (validation
/// failed), never a stream, over each streaming transport.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_invalid_subscription_is_a_json_error_and_no_stream() {
    let hub = Hub::start().await;
    // An unknown field; `__typename` as a subscription's root field, which
    // the GraphQL specification forbids.
    for invalid in [
        "subscription { noSuchField }",
        "subscription { __typename }",
    ] {
        // Accepting only event streams: the GraphQL response type, status 400.
        let response = post(&hub.url(), OPERATOR_KEY, SSE, invalid).await;
        assert_eq!(response.status(), 400);
        assert!(header(&response, "content-type").starts_with("application/graphql-response+json"));
        let json: Value = response.json().await.unwrap();
        assert!(
            codes(&json)
                .iter()
                .all(|c| c == "GRAPHQL_VALIDATION_FAILED")
                && !codes(&json).is_empty(),
            "{json}"
        );
        assert!(json.get("data").is_none());

        // Apollo's header lists application/json: status 200, as for any POST.
        let response = post(&hub.url(), OPERATOR_KEY, APOLLO_MULTIPART, invalid).await;
        assert_eq!(response.status(), 200);
        assert!(header(&response, "content-type").starts_with("application/json"));
        let json: Value = response.json().await.unwrap();
        assert!(
            codes(&json)
                .iter()
                .all(|c| c == "GRAPHQL_VALIDATION_FAILED")
                && !codes(&json).is_empty(),
            "{json}"
        );

        // By GET, too.
        let response = client()
            .get(with_query(&hub.url(), invalid))
            .header("accept", SSE)
            .header("authorization", bearer(OPERATOR_KEY))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let json: Value = response.json().await.unwrap();
        assert!(
            codes(&json).contains(&"GRAPHQL_VALIDATION_FAILED".to_string()),
            "{json}"
        );
    }

    // An unauthenticated caller is refused as a POST would be.
    let response = post(&hub.url(), "tok_nobody-0123456789abcdef", SSE, LIFE_EVENTS).await;
    assert_eq!(response.status(), 401);
    hub.stop().await;
}
