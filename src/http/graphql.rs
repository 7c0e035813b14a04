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
use super::media::{self, ResponseMedia, StreamMedia};
use super::{graphiql, multipart, sse, HttpState};
use crate::error_code::ErrorCode;
use crate::gateway::response::to_json;
use crate::gateway::{
    Gateway, GraphQLError, GraphQLRequest, GraphQLResponse, LimitError, OperationKind,
    RequestContext, ResponseBody,
};
use futures::StreamExt;
use tracing::Instrument;

/// The span every log line of one request is written in, and the root of
/// its trace (continuing the client's `traceparent`); its `request_id` is
/// filled in once the request's context exists
/// ([`HttpState::context_for_credential`]).
pub(super) fn request_span(request: &HttpRequest) -> tracing::Span {
    crate::telemetry::request_root(request.headers(), || {
        tracing::info_span!("request", request_id = tracing::field::Empty)
    })
}

/// POST /graphql
pub async fn post(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let span = request_span(&request);
    post_in_span(request, payload, state).instrument(span).await
}

async fn post_in_span(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    // graphql-sse single connection mode: the results go onto the stream
    // the token reserved, not into this response.
    if sse::has_stream_token(&request) {
        return sse::operate(request, payload, state).await;
    }
    let streaming = media::streaming(request.headers());
    let negotiated = media::negotiate(request.headers());
    // A client that accepts only a streaming type still reads request errors
    // as JSON; the GraphQL response type gives them a status that says so.
    let Some(media) = negotiated.or(streaming.map(|_| ResponseMedia::GraphQLResponseJson)) else {
        return not_acceptable();
    };
    let (context, body) = match json_body_of(&request, payload, &state, media).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    // JSON is UTF-8 throughout, unknown fields included (which the decoder
    // would skip unchecked).
    if let Err(error) = std::str::from_utf8(&body) {
        return reply_error(
            media,
            StatusCode::BAD_REQUEST,
            &format!(
                "the request body is not UTF-8 (invalid byte at {})",
                error.valid_up_to()
            ),
            ErrorCode::BadUserInput,
        );
    }
    let Some(gateway) = state.gateway.current() else {
        return not_ready(media);
    };
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        // A batch is answered as one JSON array, never streamed.
        if negotiated.is_none() {
            return not_acceptable();
        }
        return post_batch(media, &body, &gateway, &context, &state).await;
    }
    let mut one = match serde_json::from_slice::<GraphQLRequest>(&body) {
        Ok(one) => one,
        Err(error) => return reply(media, StatusCode::BAD_REQUEST, &unreadable(&error)),
    };
    if let Err(response) = state.resolve_document(&mut one) {
        return reply(media, StatusCode::BAD_REQUEST, &response);
    }
    if let Some(streaming) = streaming {
        // Dispatched by the operation's kind, read from the document alone:
        // a subscription streams over whichever transport the client listed,
        // anything else only when it put Server-Sent Events first.
        let stream = match streaming {
            StreamMedia::EventStream { preferred: true } => true,
            _ => matches!(
                gateway.operation_kind(&one, &state.limits),
                Ok(OperationKind::Subscription)
            ),
        };
        if stream {
            return match streaming {
                StreamMedia::EventStream { .. } => {
                    sse::distinct(&state, gateway, one, context, media).await
                }
                StreamMedia::MultipartSubscription => {
                    multipart::subscription(&state, gateway, one, context, media).await
                }
            };
        }
    }
    if negotiated.is_none() {
        return not_acceptable();
    }
    let Some(dedup) = state.inbound_dedup.as_ref() else {
        let body = gateway.execute_to_json(one, &context).await;
        return reply_json(media, status_for(media, &body), body.json);
    };
    // Prepared (or refused) once, for the execution that follows too.
    let prepared = gateway.prepared(&one, &context).await;
    if prepared.kind() != Some(OperationKind::Query) {
        let body = gateway
            .execute_prepared_to_json(one, prepared, &context)
            .await;
        return reply_json(media, status_for(media, &body), body.json);
    }
    let key = DedupKey {
        gateway: Arc::as_ptr(&gateway) as usize,
        body: body.clone(),
        content_type: media.content_type(),
        principal: context.principal.id.clone(),
        forwarded: context.client_headers.to_vec(),
    };
    let shared = dedup
        .run(key, async move {
            let body = gateway
                .execute_prepared_to_json(one, prepared, &context)
                .await;
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

/// What every JSON POST starts with: the media type of its body, its
/// principal (and rate budget), then the body read up to `max_body_bytes`.
pub(super) async fn json_body_of(
    request: &HttpRequest,
    payload: web::Payload,
    state: &HttpState,
    media: ResponseMedia,
) -> Result<(RequestContext, Bytes), HttpResponse> {
    if !media::body_is_json(request.headers()) {
        return Err(reply_error(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request body as application/json",
            ErrorCode::BadUserInput,
        ));
    }
    let context = state
        .context_for(request)
        .await
        .map_err(|refusal| refusal.reply(media))?;
    let body = read_body(request, payload, state.max_body_bytes)
        .await
        .map_err(|refusal| refusal.reply(media))?;
    Ok((context, body))
}

/// Reads the body up to `max` bytes: a declared length over it is refused
/// before a byte is read, and a body that grows past it stops being read.
pub(super) async fn read_body(
    request: &HttpRequest,
    mut payload: web::Payload,
    max: usize,
) -> Result<Bytes, Refusal> {
    let too_large = || {
        crate::telemetry::measure::refused("max_body_bytes");
        Refusal {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!("the request body is larger than {max} bytes (limit max_body_bytes)"),
            code: ErrorCode::BadUserInput,
            headers: Vec::new(),
        }
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max as u64) {
        return Err(too_large());
    }
    let mut body = web::BytesMut::with_capacity(declared.map_or(8192, |l| l as usize).min(max));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| Refusal {
            status: StatusCode::BAD_REQUEST,
            message: format!("the request body could not be read: {error}"),
            code: ErrorCode::BadUserInput,
            headers: Vec::new(),
        })?;
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// A JSON array of requests, answered with an array in the same order; the
/// operations run concurrently.
async fn post_batch(
    media: ResponseMedia,
    body: &[u8],
    gateway: &Gateway,
    context: &RequestContext,
    state: &HttpState,
) -> HttpResponse {
    let max = context.limits.max_batch;
    // Counted before anything is decoded: a batch over the limit costs one scan.
    let count = count_batch_items(body, max.saturating_add(1));
    if count > max {
        let error = LimitError::Batch { actual: count, max };
        return reply(
            media,
            StatusCode::BAD_REQUEST,
            &GraphQLResponse::request_error(error.to_graphql()),
        );
    }
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
    let runs = items.into_iter().map(|item| async move {
        match serde_json::from_value::<GraphQLRequest>(item) {
            Ok(mut one) => match state.resolve_document(&mut one) {
                Ok(()) => gateway.execute_to_json(one, context).await,
                Err(response) => ResponseBody::of(&response),
            },
            Err(error) => ResponseBody::of(&unreadable(&error)),
        }
    });
    let answers = futures::future::join_all(runs).await;
    let mut json = vec![b'['];
    for (index, body) in answers.into_iter().enumerate() {
        if index > 0 {
            json.push(b',');
        }
        json.extend_from_slice(&body.json);
    }
    json.push(b']');
    HttpResponse::Ok()
        .content_type(media.content_type())
        .body(json)
}

/// The number of top-level items of a JSON array, counted up to `stop`
/// without decoding them (strings are skipped, nesting is tracked).
fn count_batch_items(body: &[u8], stop: u64) -> u64 {
    let (mut depth, mut count, mut in_string, mut escaped, mut seen_value) =
        (0usize, 0u64, false, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                if depth == 1 && !seen_value {
                    seen_value = true;
                    count += 1;
                }
            }
            b'[' | b'{' => {
                if depth == 1 && !seen_value {
                    seen_value = true;
                    count += 1;
                }
                depth += 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => seen_value = false,
            b if b.is_ascii_whitespace() => {}
            _ => {
                if depth == 1 && !seen_value {
                    seen_value = true;
                    count += 1;
                }
            }
        }
        if count >= stop {
            break;
        }
    }
    count
}

/// GET /graphql: queries in the URL, or GraphiQL for a browser.
pub async fn get(
    request: HttpRequest,
    params: web::Query<HashMap<String, String>>,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let span = request_span(&request);
    get_in_span(request, params, state).instrument(span).await
}

async fn get_in_span(
    request: HttpRequest,
    params: web::Query<HashMap<String, String>>,
    state: web::Data<HttpState>,
) -> HttpResponse {
    if media::wants_html(request.headers()) && !params.contains_key("query") {
        return graphiql::page(&state.graphiql);
    }
    let Some(media) = media::negotiate(request.headers()) else {
        return not_acceptable();
    };
    let context = match state.context_for(&request).await {
        Ok(context) => context,
        Err(refusal) => return refusal.reply(media),
    };
    let mut graphql_request = match request_from_params(&params) {
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
    if let Err(response) = state.resolve_document(&mut graphql_request) {
        return reply(media, StatusCode::BAD_REQUEST, &response);
    }
    let Some(gateway) = state.gateway.current() else {
        return not_ready(media);
    };
    match gateway.operation_kind(&graphql_request, &context.limits) {
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
    let body = gateway.execute_to_json(graphql_request, &context).await;
    reply_json(media, status_for(media, &body), body.json)
}

/// Any other method on /graphql.
pub async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "GET, POST"))
        .finish()
}

/// The request a GET carries in its URL; the error says which parameter is wrong.
pub(super) fn request_from_params(
    params: &HashMap<String, String>,
) -> Result<GraphQLRequest, String> {
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
pub(super) fn status_for(media: ResponseMedia, body: &ResponseBody) -> StatusCode {
    match media {
        ResponseMedia::GraphQLResponseJson if body.is_request_error => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

/// The error for a body that is not JSON, or JSON that is not a GraphQL request.
pub(super) fn unreadable(error: &serde_json::Error) -> GraphQLResponse {
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
pub(super) fn reply_error(
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

pub(super) fn reply_json(media: ResponseMedia, status: StatusCode, json: Vec<u8>) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(media.content_type())
        .body(json)
}

pub(super) fn not_ready(media: ResponseMedia) -> HttpResponse {
    reply_error(
        media,
        StatusCode::SERVICE_UNAVAILABLE,
        "no supergraph is loaded yet",
        ErrorCode::InternalServerError,
    )
}

/// 406 as a GraphQL response in plain `application/json`, which every
/// client can read even when it did not ask for it.
fn not_acceptable() -> HttpResponse {
    reply_error(
        ResponseMedia::Json,
        StatusCode::NOT_ACCEPTABLE,
        "accept application/graphql-response+json or application/json for GraphQL responses",
        ErrorCode::BadUserInput,
    )
}

/// A request refused before it reaches the gateway.
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
    pub code: ErrorCode,
    /// E.g. `WWW-Authenticate` with a 401, `Retry-After` with a 429.
    pub headers: Vec<(header::HeaderName, String)>,
}

impl Refusal {
    pub fn reply(self, media: ResponseMedia) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in self.headers {
            response.insert_header((name, value));
        }
        response
            .content_type(media.content_type())
            .body(to_json(&GraphQLResponse::request_error(GraphQLError::new(
                self.message,
                self.code,
            ))))
    }
}
