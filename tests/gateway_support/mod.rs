//! Test support: real federation subgraphs on ephemeral ports, a faulty
//! subgraph server (slow, invalid JSON, HTTP 500), and a gateway over them.

#![allow(dead_code)]

pub mod subgraphs;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use async_graphql::{ObjectType, Schema, SubscriptionType};
use serde_json::{json, Value};
use tellonce::gateway::{Gateway, GatewayOptions, GraphQLRequest, GraphQLResponse, Supergraph};

/// Every request body a subgraph received.
#[derive(Default)]
pub struct Recorder {
    bodies: Mutex<Vec<Value>>,
}

impl Recorder {
    pub fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
    pub fn count(&self) -> usize {
        self.bodies.lock().unwrap().len()
    }
    fn record(&self, body: Value) {
        self.bodies.lock().unwrap().push(body);
    }
}

async fn serve_schema<Q, M, S>(
    schema: web::Data<Schema<Q, M, S>>,
    recorder: web::Data<Arc<Recorder>>,
    body: web::Bytes,
) -> HttpResponse
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let Ok(raw) = serde_json::from_slice::<Value>(&body) else {
        return HttpResponse::BadRequest().finish();
    };
    recorder.record(raw.clone());
    let Ok(request) = serde_json::from_value::<async_graphql::Request>(raw) else {
        return HttpResponse::BadRequest().finish();
    };
    let response = schema.execute(request).await;
    HttpResponse::Ok()
        .content_type("application/json")
        .body(serde_json::to_string(&response).unwrap())
}

fn bind() -> std::net::TcpListener {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap()
}

/// Serves an async-graphql schema at `http://127.0.0.1:PORT/graphql`.
pub fn start_subgraph<Q, M, S>(schema: Schema<Q, M, S>) -> (String, Arc<Recorder>)
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let listener = bind();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    let recorder = Arc::new(Recorder::default());
    let data = web::Data::new(schema);
    let rec = web::Data::new(recorder.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(rec.clone())
            .route("/graphql", web::post().to(serve_schema::<Q, M, S>))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (url, recorder)
}

/// How the faulty subgraph misbehaves.
#[derive(Clone, Copy)]
pub enum Fault {
    Slow(Duration),
    InvalidJson,
    Status500,
}

async fn serve_fault(fault: web::Data<Fault>) -> HttpResponse {
    match **fault {
        Fault::Slow(delay) => {
            tokio::time::sleep(delay).await;
            HttpResponse::Ok()
                .content_type("application/json")
                .body(r#"{"data":{"_entities":[]}}"#)
        }
        Fault::InvalidJson => HttpResponse::Ok()
            .content_type("application/json")
            .body("{\"data\": {not json"),
        Fault::Status500 => HttpResponse::InternalServerError().body("boom"),
    }
}

pub fn start_faulty(fault: Fault) -> String {
    let listener = bind();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    let data = web::Data::new(fault);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/graphql", web::post().to(serve_fault))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    url
}

/// A subgraph that counts its calls and answers every one with `body` after
/// `delay` (long enough for concurrent clients or a reload to happen meanwhile).
pub fn start_slow(
    delay: Duration,
    body: &'static str,
    calls: Arc<std::sync::atomic::AtomicUsize>,
) -> String {
    let listener = bind();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        let calls = calls.clone();
        App::new().route(
            "/graphql",
            web::post().to(move || {
                let calls = calls.clone();
                async move {
                    calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(delay).await;
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(body)
                }
            }),
        )
    })
    .workers(2)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    url
}

/// A URL nothing listens on.
pub fn closed_port_url() -> String {
    let listener = bind();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    drop(listener);
    url
}

pub const SHOP_SUPERGRAPH: &str = include_str!("../fixtures/shop.supergraph.graphql");

/// The shop supergraph with its subgraph URLs filled in.
pub fn shop_sdl(urls: &HashMap<&str, String>) -> String {
    let mut sdl = SHOP_SUPERGRAPH.to_string();
    for (name, url) in urls {
        sdl = sdl.replace(&format!("{{{{{name}}}}}"), url);
    }
    sdl
}

/// The four shop subgraphs behind one gateway.
pub struct Shop {
    pub gateway: Gateway,
    pub recorders: HashMap<&'static str, Arc<Recorder>>,
}

impl Shop {
    pub async fn start() -> Shop {
        Shop::start_with(None, Duration::from_secs(10)).await
    }

    /// `inventory_url` replaces the real inventory subgraph (for faults).
    pub async fn start_with(inventory_url: Option<String>, timeout: Duration) -> Shop {
        let mut urls = HashMap::new();
        let mut recorders = HashMap::new();
        let (u, r) = start_subgraph(subgraphs::accounts());
        urls.insert("accounts", u);
        recorders.insert("accounts", r);
        let (u, r) = start_subgraph(subgraphs::products());
        urls.insert("products", u);
        recorders.insert("products", r);
        let (u, r) = start_subgraph(subgraphs::reviews());
        urls.insert("reviews", u);
        recorders.insert("reviews", r);
        let (u, r) = start_subgraph(subgraphs::inventory());
        urls.insert("inventory", inventory_url.unwrap_or(u));
        recorders.insert("inventory", r);
        let supergraph = Arc::new(Supergraph::parse(&shop_sdl(&urls)).unwrap());
        let options = GatewayOptions {
            subgraph_timeout: timeout,
            ..GatewayOptions::default()
        };
        let gateway = Gateway::from_supergraph(supergraph, options).unwrap();
        Shop { gateway, recorders }
    }

    pub async fn run(&self, query: &str) -> GraphQLResponse {
        self.run_with(query, None, None).await
    }

    pub async fn run_with(
        &self,
        query: &str,
        variables: Option<Value>,
        operation_name: Option<&str>,
    ) -> GraphQLResponse {
        let request = GraphQLRequest {
            query: Some(query.to_string()),
            operation_name: operation_name.map(str::to_string),
            variables: variables.and_then(|v| v.as_object().cloned()),
            extensions: None,
        };
        // The shop tests read the schema by introspection: allow it.
        let mut context = tellonce::gateway::RequestContext::anonymous();
        context.limits = std::sync::Arc::new(tellonce::gateway::RequestLimits {
            introspection: true,
            ..Default::default()
        });
        self.gateway.execute_in(request, &context).await
    }
}

/// The response as JSON, as a client would see it.
pub fn as_json(response: &GraphQLResponse) -> Value {
    serde_json::to_value(response).unwrap()
}

pub fn data(response: &GraphQLResponse) -> Value {
    response.data.clone().unwrap_or(json!(null))
}

pub fn codes(response: &GraphQLResponse) -> Vec<String> {
    response
        .errors
        .iter()
        .filter_map(|e| e.code().map(str::to_string))
        .collect()
}
