//! Content negotiation for GraphQL over HTTP: which media type the client
//! accepts for the response, whether it accepts a streaming one (Server-Sent
//! Events, Apollo's multipart subscriptions), and whether the request body is JSON.

use actix_web::http::header::{HeaderMap, ACCEPT, CONTENT_TYPE};

pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
pub const APPLICATION_JSON: &str = "application/json";

/// The response media type chosen from the `Accept` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMedia {
    /// `application/graphql-response+json`: request errors get status 400.
    GraphQLResponseJson,
    /// `application/json` (also for clients that send no `Accept`): status 200
    /// for every well-formed request.
    Json,
}

impl ResponseMedia {
    pub fn content_type(self) -> &'static str {
        match self {
            ResponseMedia::GraphQLResponseJson => {
                "application/graphql-response+json; charset=utf-8"
            }
            ResponseMedia::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response media type, or `None` when the client accepts neither
/// JSON type (answered with 406).
pub fn negotiate(headers: &HeaderMap) -> Option<ResponseMedia> {
    let accept: Vec<&str> = headers
        .get_all(ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|item| item.split(';').next().unwrap_or("").trim())
        .filter(|item| !item.is_empty())
        .collect();
    if accept.is_empty() {
        return Some(ResponseMedia::Json);
    }
    // The first acceptable type in the client's order wins.
    for media in accept {
        match media.to_ascii_lowercase().as_str() {
            GRAPHQL_RESPONSE_JSON => return Some(ResponseMedia::GraphQLResponseJson),
            APPLICATION_JSON | "application/*" | "*/*" => return Some(ResponseMedia::Json),
            _ => {}
        }
    }
    None
}

/// A streaming response the client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamMedia {
    /// `text/event-stream` (graphql-sse). `preferred` when it comes before
    /// every JSON type in the client's order: then any operation streams,
    /// otherwise only subscriptions do (a query still gets its JSON).
    EventStream { preferred: bool },
    /// `multipart/mixed;subscriptionSpec=1.0` (Apollo's multipart
    /// subscriptions): subscriptions only. `multipart/mixed` without that
    /// parameter (e.g. `deferSpec`, for `@defer`) is not this.
    MultipartSubscription,
}

/// The streaming media type the client accepts, first in its order, if any.
pub fn streaming(headers: &HeaderMap) -> Option<StreamMedia> {
    let mut json_first = false;
    let items = headers
        .get_all(ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    for item in items {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        match media.as_str() {
            "text/event-stream" => {
                return Some(StreamMedia::EventStream {
                    preferred: !json_first,
                })
            }
            "multipart/mixed" if parts.any(is_subscription_spec) => {
                return Some(StreamMedia::MultipartSubscription)
            }
            GRAPHQL_RESPONSE_JSON | APPLICATION_JSON | "application/*" | "*/*" => json_first = true,
            _ => {}
        }
    }
    None
}

/// `subscriptionSpec=1.0`, the value quoted or not (Apollo Client quotes it).
fn is_subscription_spec(parameter: &str) -> bool {
    let Some((name, value)) = parameter.split_once('=') else {
        return false;
    };
    name.trim().eq_ignore_ascii_case("subscriptionspec") && value.trim().trim_matches('"') == "1.0"
}

/// True when the client asked for an HTML page (a browser opening `/graphql`).
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("text/html"))
}

/// True when the request body is declared as JSON.
pub fn body_is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|media| media.trim().eq_ignore_ascii_case(APPLICATION_JSON))
        .unwrap_or(false)
}
