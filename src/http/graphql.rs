//! `/graphql` over HTTP as the GraphQL-over-HTTP specification describes:
//! POST with a JSON body (or a JSON array for a batch), GET for queries only,
//! status codes by response media type, GraphiQL for browsers.

use std::collections::HashMap;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{Map, Value};

use super::media::{self, ResponseMedia};
use super::{graphiql, HttpState};
use crate::error_code::ErrorCode;
use crate::gateway::{GraphQLError, GraphQLRequest, GraphQLResponse, OperationKind};

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
        return reply(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &GraphQLResponse::request_error(GraphQLError::new(
                "send the request body as application/json",
                ErrorCode::BadUserInput,
            )),
        );
    }
    let Some(gateway) = state.gateway.current() else {
        return not_ready(media);
    };
    let parsed: Result<Value, _> = serde_json::from_slice(&body);
    match parsed {
        Ok(Value::Array(items)) if !items.is_empty() => {
            let mut responses = Vec::with_capacity(items.len());
            for item in items {
                let response = match serde_json::from_value::<GraphQLRequest>(item) {
                    Ok(one) => gateway.execute(one).await,
                    Err(error) => malformed(&error),
                };
                responses.push(response);
            }
            HttpResponse::Ok()
                .content_type(media.content_type())
                .json(responses)
        }
        Ok(value @ Value::Object(_)) => match serde_json::from_value::<GraphQLRequest>(value) {
            Ok(one) => {
                let response = gateway.execute(one).await;
                reply(media, status_for(media, &response), &response)
            }
            Err(error) => reply(media, StatusCode::BAD_REQUEST, &malformed(&error)),
        },
        Ok(_) => reply(
            media,
            StatusCode::BAD_REQUEST,
            &GraphQLResponse::request_error(GraphQLError::new(
                "the request body must be a JSON object with a `query`, or a non-empty array of them",
                ErrorCode::BadUserInput,
            )),
        ),
        Err(error) => reply(
            media,
            StatusCode::BAD_REQUEST,
            &GraphQLResponse::request_error(GraphQLError::new(
                format!("the request body is not valid JSON: {error}"),
                ErrorCode::BadUserInput,
            )),
        ),
    }
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
        Err(response) => return reply(media, status_for(media, &response), &response),
    }
    let response = gateway.execute(graphql_request).await;
    reply(media, status_for(media, &response), &response)
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
fn status_for(media: ResponseMedia, response: &GraphQLResponse) -> StatusCode {
    match media {
        ResponseMedia::GraphQLResponseJson if response.is_request_error() => {
            StatusCode::BAD_REQUEST
        }
        _ => StatusCode::OK,
    }
}

fn malformed(error: &serde_json::Error) -> GraphQLResponse {
    GraphQLResponse::request_error(GraphQLError::new(
        format!("the request is not a GraphQL request: {error}"),
        ErrorCode::BadUserInput,
    ))
}

fn reply(media: ResponseMedia, status: StatusCode, response: &GraphQLResponse) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(media.content_type())
        .json(response)
}

fn not_ready(media: ResponseMedia) -> HttpResponse {
    reply(
        media,
        StatusCode::SERVICE_UNAVAILABLE,
        &GraphQLResponse::request_error(GraphQLError::new(
            "no supergraph is loaded yet",
            ErrorCode::InternalServerError,
        )),
    )
}

fn not_acceptable() -> HttpResponse {
    HttpResponse::NotAcceptable()
        .body("accept application/graphql-response+json or application/json for GraphQL responses")
}
