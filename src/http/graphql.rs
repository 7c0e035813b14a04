//! `/graphql` over HTTP as the GraphQL-over-HTTP specification describes:
//! POST with a JSON body (or a JSON array for a batch), GET for queries only,
//! status codes by response media type, GraphiQL for browsers.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{Map, Value};

use bytes::Bytes;
use serde_json::error::Category;

use super::dedup::{DedupKey, SharedReply};
use super::media::{self, ResponseMedia};
use super::{graphiql, HttpState};
use crate::error_code::ErrorCode;
use crate::gateway::response::to_json;
use crate::gateway::{
    Gateway, GraphQLError, GraphQLRequest, GraphQLResponse, OperationKind, ResponseBody,
};

/// POST /graphql
pub async fn post(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let Some(media) = media::negotiate(request.headers()) else {
        return not_acceptable();
    };
    if !media::body_is_json(request.headers()) {
        return reply_error(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request body as application/json",
            ErrorCode::BadUserInput,
        );
    }
    let Some(gateway) = state.gateway.current() else {
        return not_ready(media);
    };
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return post_batch(media, &body, &gateway).await;
    }
    let one = match serde_json::from_slice::<GraphQLRequest>(&body) {
        Ok(one) => one,
        Err(error) => return reply(media, StatusCode::BAD_REQUEST, &unreadable(&error)),
    };
    let Some(dedup) = state.inbound_dedup.as_ref() else {
        let body = gateway.execute_to_json(one).await;
        return reply_json(media, status_for(media, &body), body.json);
    };
    if gateway.prepared_kind(&one) != Some(OperationKind::Query) {
        let body = gateway.execute_to_json(one).await;
        return reply_json(media, status_for(media, &body), body.json);
    }
    let key = DedupKey {
        gateway: Arc::as_ptr(&gateway) as usize,
        body: body.clone(),
        content_type: media.content_type(),
        authorization: request
            .headers()
            .get(header::AUTHORIZATION)
            .map(|value| Bytes::copy_from_slice(value.as_bytes())),
    };
    let shared = dedup
        .run(key, async move {
            let body = gateway.execute_to_json(one).await;
            SharedReply {
                status: status_for(media, &body),
                content_type: media.content_type(),
                body: Bytes::from(body.json),
            }
        })
        .await;
    let Some(shared) = shared else {
        return reply_error(
            media,
            StatusCode::INTERNAL_SERVER_ERROR,
            "the execution stopped before it finished; retry the request",
            ErrorCode::InternalServerError,
        );
    };
    HttpResponse::build(shared.status)
        .content_type(shared.content_type)
        .body(shared.body.clone())
}

/// A JSON array of requests, answered with an array in the same order.
async fn post_batch(media: ResponseMedia, body: &[u8], gateway: &Gateway) -> HttpResponse {
    let items = match serde_json::from_slice::<Vec<Value>>(body) {
        Ok(items) if !items.is_empty() => items,
        Ok(_) => {
            return reply_error(
                media,
                StatusCode::BAD_REQUEST,
                "a batch must hold at least one request",
                ErrorCode::BadUserInput,
            )
        }
        Err(error) => return reply(media, StatusCode::BAD_REQUEST, &unreadable(&error)),
    };
    let mut json = vec![b'['];
    for (index, item) in items.into_iter().enumerate() {
        if index > 0 {
            json.push(b',');
        }
        let body = match serde_json::from_value::<GraphQLRequest>(item) {
            Ok(one) => gateway.execute_to_json(one).await,
            Err(error) => ResponseBody::of(&unreadable(&error)),
        };
        json.extend_from_slice(&body.json);
    }
    json.push(b']');
    HttpResponse::Ok()
        .content_type(media.content_type())
        .body(json)
}

/// GET /graphql: queries in the URL, or GraphiQL for a browser.
pub async fn get(
    request: HttpRequest,
    params: web::Query<HashMap<String, String>>,
    state: web::Data<HttpState>,
) -> HttpResponse {
    if media::wants_html(request.headers()) && !params.contains_key("query") {
        return graphiql::page();
    }
    let Some(media) = media::negotiate(request.headers()) else {
        return not_acceptable();
    };
    let graphql_request = match request_from_params(&params) {
        Ok(r) => r,
        Err(message) => {
            let error = GraphQLError::new(message, ErrorCode::BadUserInput);
            return reply(
                media,
                StatusCode::BAD_REQUEST,
                &GraphQLResponse::request_error(error),
            );
        }
    };
    let Some(gateway) = state.gateway.current() else {
        return not_ready(media);
    };
    match gateway.operation_kind(&graphql_request) {
        Ok(OperationKind::Query) => {}
        Ok(_) => {
            return HttpResponse::MethodNotAllowed()
                .insert_header((header::ALLOW, "POST"))
                .content_type(media.content_type())
                .json(GraphQLResponse::request_error(GraphQLError::new(
                    "only queries may be sent with GET; send mutations and subscriptions with POST",
                    ErrorCode::BadUserInput,
                )));
        }
        Err(response) => {
            let body = ResponseBody::of(&response);
            return reply_json(media, status_for(media, &body), body.json);
        }
    }
    let body = gateway.execute_to_json(graphql_request).await;
    reply_json(media, status_for(media, &body), body.json)
}

/// Any other method on /graphql.
pub async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, POST"))
        .finish()
}

/// The request a GET carries in its URL; the error says which parameter is wrong.
fn request_from_params(params: &HashMap<String, String>) -> Result<GraphQLRequest, String> {
    let json_param = |name: &str| -> Result<Option<Map<String, Value>>, String> {
        match params.get(name) {
            None => Ok(None),
            Some(text) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => Ok(Some(map)),
                Ok(Value::Null) => Ok(None),
                _ => Err(format!("the `{name}` parameter must be a JSON object")),
            },
        }
    };
    Ok(GraphQLRequest {
        query: params.get("query").cloned(),
        operation_name: params
            .get("operationName")
            .cloned()
            .filter(|n| !n.is_empty()),
        variables: json_param("variables")?,
        extensions: json_param("extensions")?,
    })
}

/// Status by the GraphQL-over-HTTP rules: with `application/graphql-response+json`
/// a request error (no `data`) is a 400; with `application/json` every
/// well-formed request gets 200.
fn status_for(media: ResponseMedia, body: &ResponseBody) -> StatusCode {
    match media {
        ResponseMedia::GraphQLResponseJson if body.is_request_error => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

/// The error for a body that is not JSON, or JSON that is not a GraphQL request.
fn unreadable(error: &serde_json::Error) -> GraphQLResponse {
    let message = match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            format!("the request body is not valid JSON: {error}")
        }
        Category::Data => format!(
            "the request body must be a JSON object with a `query` string, or a non-empty array of them: {error}"
        ),
    };
    GraphQLResponse::request_error(GraphQLError::new(message, ErrorCode::BadUserInput))
}

fn reply(media: ResponseMedia, status: StatusCode, response: &GraphQLResponse) -> HttpResponse {
    reply_json(media, status, to_json(response))
}

/// A request error (no execution) with `status`.
fn reply_error(
    media: ResponseMedia,
    status: StatusCode,
    message: &str,
    code: ErrorCode,
) -> HttpResponse {
    reply(
        media,
        status,
        &GraphQLResponse::request_error(GraphQLError::new(message, code)),
    )
}

fn reply_json(media: ResponseMedia, status: StatusCode, json: Vec<u8>) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(media.content_type())
        .body(json)
}

fn not_ready(media: ResponseMedia) -> HttpResponse {
    reply_error(
        media,
        StatusCode::SERVICE_UNAVAILABLE,
        "no supergraph is loaded yet",
        ErrorCode::InternalServerError,
    )
}

fn not_acceptable() -> HttpResponse {
    HttpResponse::NotAcceptable()
        .body("accept application/graphql-response+json or application/json for GraphQL responses")
}
