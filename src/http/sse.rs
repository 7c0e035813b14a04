//! GraphQL over Server-Sent Events, as the graphql-sse protocol describes
//! (<https://github.com/enisdenjo/graphql-sse/blob/master/PROTOCOL.md>).
//!
//! - Distinct connections mode: a POST (or a GET with the request in its
//!   URL) that accepts `text/event-stream` is answered with the operation's
//!   results as `next` events, then `complete`, then the stream closes.
//! - Single connection mode: `PUT` reserves a stream and answers its token;
//!   a `GET` carrying the token opens that stream; each `POST` carrying the
//!   token (and `extensions.operationId`) is answered `202` and its results
//!   go onto the stream tagged with the operation id; `DELETE
//!   ?operationId=…` stops one. The reservations live in [`SseStreams`].
//!
//! Request errors found before anything is streamed are answered as plain
//! GraphQL JSON responses, as a POST without streaming would be.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix_web::http::header::{self, HeaderMap};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::{BufMut, Bytes, BytesMut};
use futures::stream::{self, BoxStream, Stream, StreamExt};
use tokio::sync::{mpsc, oneshot};

use super::graphql::{
    json_body_of, reply_error, reply_json, request_from_params, status_for, unreadable,
};
use super::media::{self, ResponseMedia, StreamMedia};
use super::subscription_limits::{SubscriptionPlace, MAX_PER_CONNECTION};
use super::HttpState;
use crate::error_code::ErrorCode;
use crate::gateway::{
    Gateway, GraphQLError, GraphQLRequest, GraphQLResponse, OperationKind, RequestContext,
    ResponseBody, ResponseStream,
};

/// The header carrying a single-connection stream's token (or `?token=`).
pub const TOKEN_HEADER: &str = "x-graphql-event-stream-token";
/// A comment line this often keeps proxies from closing an idle stream
/// (and lets the server notice a client that left).
pub const KEEP_ALIVE: Duration = Duration::from_secs(12);
/// Most reservations held at once, connected or not.
pub const MAX_RESERVATIONS: usize = 10_000;
/// A reservation whose stream is not opened within this is dropped.
pub const UNUSED_RESERVATION_TTL: Duration = Duration::from_secs(60);
/// Events waiting to be written to one single-connection stream: when it is
/// full, the operations feeding it wait for the client to read.
const STREAM_BUFFER: usize = 64;

const PING: &[u8] = b":\n\n";
const COMPLETE: &[u8] = b"event: complete\ndata:\n\n";

/// True when the request names a single-connection stream (header or `?token=`).
pub fn has_stream_token(request: &HttpRequest) -> bool {
    stream_token(request).is_some()
}

fn stream_token(request: &HttpRequest) -> Option<String> {
    if let Some(value) = request.headers().get(TOKEN_HEADER) {
        return value.to_str().ok().map(str::to_string);
    }
    query_param(request, "token")
}

fn query_param(request: &HttpRequest, name: &str) -> Option<String> {
    web::Query::<HashMap<String, String>>::from_query(request.query_string())
        .ok()
        .and_then(|mut params| params.0.remove(name))
        .filter(|value| !value.is_empty())
}

/// The route guard of `GET /graphql` for event streams: the client accepts
/// `text/event-stream` or names a reserved stream.
pub fn is_event_stream_get(headers: &HeaderMap) -> bool {
    matches!(
        media::streaming(headers),
        Some(StreamMedia::EventStream { .. })
    ) || headers.contains_key(TOKEN_HEADER)
}

/// The media type request errors are answered in.
fn error_media(headers: &HeaderMap) -> ResponseMedia {
    media::negotiate(headers).unwrap_or(ResponseMedia::GraphQLResponseJson)
}

// ---------------------------------------------------------------------------
// Frames

/// `data:` lines for `json`: a line break in the text (only possible between
/// tokens, where JSON allows whitespace) starts a new `data:` line, which
/// the client joins back with `\n`.
fn push_data(frame: &mut BytesMut, json: &[u8]) {
    frame.put_slice(b"data: ");
    for &byte in json {
        if byte == b'\n' || byte == b'\r' {
            frame.put_slice(b"\ndata: ");
        } else {
            frame.put_u8(byte);
        }
    }
    frame.put_slice(b"\n\n");
}

/// One result in distinct connections mode.
fn next_frame(json: &[u8]) -> Bytes {
    let mut frame = BytesMut::with_capacity(json.len() + 20);
    frame.put_slice(b"event: next\n");
    push_data(&mut frame, json);
    frame.freeze()
}

/// One result of operation `id` in single connection mode.
fn next_frame_for(id: &[u8], json: &[u8]) -> Bytes {
    let mut data = Vec::with_capacity(json.len() + id.len() + 20);
    data.extend_from_slice(b"{\"id\":");
    data.extend_from_slice(id);
    data.extend_from_slice(b",\"payload\":");
    data.extend_from_slice(json);
    data.push(b'}');
    let mut frame = BytesMut::with_capacity(data.len() + 20);
    frame.put_slice(b"event: next\n");
    push_data(&mut frame, &data);
    frame.freeze()
}

/// The end of operation `id` in single connection mode.
fn complete_frame_for(id: &[u8]) -> Bytes {
    let mut frame = BytesMut::with_capacity(id.len() + 32);
    frame.put_slice(b"event: complete\ndata: {\"id\":");
    frame.put_slice(id);
    frame.put_slice(b"}\n\n");
    frame.freeze()
}

/// `frames`, with `beat` written whenever nothing else was for `every`.
/// Ends when `frames` ends (a beat is never written after its last frame).
pub(super) fn with_heartbeat(
    frames: BoxStream<'static, Bytes>,
    every: Duration,
    beat: Bytes,
) -> impl Stream<Item = Result<Bytes, Infallible>> + 'static {
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    stream::unfold(Some((frames, ticker)), move |state| {
        let beat = beat.clone();
        async move {
            let (mut frames, mut ticker) = state?;
            tokio::select! {
                // Frames first: once they end, nothing follows.
                biased;
                frame = frames.next() => {
                    let frame = frame?;
                    ticker.reset();
                    Some((Ok(frame), Some((frames, ticker))))
                }
                _ = ticker.tick() => Some((Ok(beat), Some((frames, ticker)))),
            }
        }
    })
}

/// A `200 text/event-stream` response writing `frames`, with keep-alives.
fn event_stream(frames: BoxStream<'static, Bytes>) -> HttpResponse {
    // A first comment gets the headers to clients that wait for a byte of
    // body (as graphql-sse's own server does).
    let frames = stream::once(async { Bytes::from_static(PING) })
        .chain(frames)
        .boxed();
    HttpResponse::Ok()
        .content_type("text/event-stream; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // nginx would otherwise buffer the stream.
        .insert_header(("x-accel-buffering", "no"))
        .streaming(with_heartbeat(frames, KEEP_ALIVE, Bytes::from_static(PING)))
}

/// Takes a place among the principal's open operations, or the 429 refusing it.
pub(super) fn take_place(
    state: &HttpState,
    context: &RequestContext,
    media: ResponseMedia,
    transport: &'static str,
) -> Result<SubscriptionPlace, HttpResponse> {
    state
        .subscription_limits
        .take(&context.principal.id, transport)
        .ok_or_else(|| {
            let limit = state.subscription_limits.limit();
            reply_error(
                media,
                StatusCode::TOO_MANY_REQUESTS,
                &format!(
                    "you already have {limit} operations open (the most one principal may have)"
                ),
                ErrorCode::RateLimited,
            )
        })
}

// ---------------------------------------------------------------------------
// Distinct connections mode

/// Runs `request` and streams its results on this response (distinct
/// connections mode); a request error is answered as JSON in `media`.
pub async fn distinct(
    state: &HttpState,
    gateway: Arc<Gateway>,
    request: GraphQLRequest,
    context: RequestContext,
    media: ResponseMedia,
) -> HttpResponse {
    let opening = OneStream {
        transport: "sse",
        frame: next_frame,
        end: COMPLETE,
    };
    match opening.open(state, gateway, request, context, media).await {
        Ok(frames) => event_stream(frames),
        Err(refused) => refused,
    }
}

/// How one HTTP response streams one operation: its transport's name (for
/// the limits), each result's frame and the closing frame.
pub(super) struct OneStream {
    pub transport: &'static str,
    pub frame: fn(&[u8]) -> Bytes,
    pub end: &'static [u8],
}

impl OneStream {
    /// Takes the principal's place and starts the operation: its frames, or
    /// the response refusing it (answered as JSON in `media`).
    pub(super) async fn open(
        self,
        state: &HttpState,
        gateway: Arc<Gateway>,
        request: GraphQLRequest,
        context: RequestContext,
        media: ResponseMedia,
    ) -> Result<BoxStream<'static, Bytes>, HttpResponse> {
        let place = take_place(state, &context, media, self.transport)?;
        let results = gateway
            .subscribe(request, context)
            .await
            .map_err(|response| reply_request_error(media, &response))?;
        let frame = self.frame;
        // The place is held as long as the stream is: a client that leaves
        // drops the response body, the results and the place.
        Ok(results
            .map(move |body| {
                let _held = &place;
                frame(&body.json)
            })
            .chain(stream::once(async move { Bytes::from_static(self.end) }))
            .boxed())
    }
}

pub(super) fn reply_request_error(
    media: ResponseMedia,
    response: &GraphQLResponse,
) -> HttpResponse {
    let body = ResponseBody::of(response);
    reply_json(media, status_for(media, &body), body.json)
}

/// `GET /graphql` (accepting `text/event-stream`) and `GET /graphql/stream`:
/// opens a reserved stream when the request carries its token, otherwise
/// runs the query or subscription in the URL in distinct connections mode.
pub async fn get(
    request: HttpRequest,
    params: web::Query<HashMap<String, String>>,
    state: web::Data<HttpState>,
) -> HttpResponse {
    if let Some(token) = stream_token(&request) {
        return open(&state, &token, error_media(request.headers()));
    }
    let preferred = matches!(
        media::streaming(request.headers()),
        Some(StreamMedia::EventStream { preferred: true })
    );
    // A client that put JSON first gets a query's answer as a plain GET
    // would; only a subscription streams.
    if !preferred && !is_subscription(&state, &params) {
        return super::graphql::get(request, params, state).await;
    }
    let media = error_media(request.headers());
    let context = match state.context_for(&request).await {
        Ok(context) => context,
        Err(refusal) => return refusal.reply(media),
    };
    let mut graphql_request = match request_from_params(&params) {
        Ok(r) => r,
        Err(message) => {
            return reply_error(
                media,
                StatusCode::BAD_REQUEST,
                &message,
                ErrorCode::BadUserInput,
            )
        }
    };
    if let Err(response) = state.resolve_document(&mut graphql_request) {
        return reply_json(
            media,
            StatusCode::BAD_REQUEST,
            ResponseBody::of(&response).json,
        );
    }
    let Some(gateway) = state.gateway.current() else {
        return super::graphql::not_ready(media);
    };
    match gateway.operation_kind(&graphql_request, &context.limits) {
        Ok(OperationKind::Mutation) => {
            return HttpResponse::MethodNotAllowed()
                .insert_header((header::ALLOW, "POST"))
                .content_type(media.content_type())
                .body(
                    ResponseBody::of(&GraphQLResponse::request_error(GraphQLError::new(
                        "mutations may not be sent with GET; send them with POST",
                        ErrorCode::BadUserInput,
                    )))
                    .json,
                )
        }
        Ok(_) => {}
        Err(response) => return reply_request_error(media, &response),
    }
    distinct(&state, gateway, graphql_request, context, media).await
}

/// Whether the URL's request is a subscription (a request that cannot be
/// read is not: the plain GET handler explains what is wrong with it).
fn is_subscription(state: &HttpState, params: &HashMap<String, String>) -> bool {
    let Ok(mut request) = request_from_params(params) else {
        return false;
    };
    let Some(gateway) = state.gateway.current() else {
        return false;
    };
    state.resolve_document(&mut request).is_ok()
        && matches!(
            gateway.operation_kind(&request, &state.limits),
            Ok(OperationKind::Subscription)
        )
}

// ---------------------------------------------------------------------------
// Single connection mode: the handlers

/// `PUT /graphql/stream`: reserves a stream for the caller and answers
/// `201` with its token as text.
pub async fn reserve(request: HttpRequest, state: web::Data<HttpState>) -> HttpResponse {
    let media = error_media(request.headers());
    let context = match state.context_for(&request).await {
        Ok(context) => context,
        Err(refusal) => return refusal.reply(media),
    };
    match state.sse_streams.reserve(&context.principal.id) {
        Some(token) => HttpResponse::Created()
            .content_type("text/plain; charset=utf-8")
            .body(token),
        None => {
            let mut response = reply_error(
                media,
                StatusCode::SERVICE_UNAVAILABLE,
                "the hub holds as many event stream reservations as it may; retry shortly",
                ErrorCode::RateLimited,
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            response
        }
    }
}

/// Opens the stream reserved under `token`. The token is the credential: a
/// browser's `EventSource` can send no headers, only `?token=`.
fn open(state: &HttpState, token: &str, media: ResponseMedia) -> HttpResponse {
    match state.sse_streams.connect(token) {
        Ok(frames) => event_stream(frames),
        Err(ConnectError::Unknown) => reply_error(
            media,
            StatusCode::NOT_FOUND,
            "no event stream is reserved under this token (reserve one with PUT)",
            ErrorCode::NotFound,
        ),
        Err(ConnectError::Taken) => reply_error(
            media,
            StatusCode::CONFLICT,
            "the event stream of this token is already open",
            ErrorCode::Conflict,
        ),
    }
}

/// `POST` with a stream token: runs the operation, answers `202`, and writes
/// its results onto the reserved stream.
pub async fn operate(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<HttpState>,
) -> HttpResponse {
    let media = media::negotiate(request.headers()).unwrap_or(ResponseMedia::Json);
    let Some(token) = stream_token(&request) else {
        return reply_error(
            media,
            StatusCode::BAD_REQUEST,
            "name the event stream with the x-graphql-event-stream-token header",
            ErrorCode::BadUserInput,
        );
    };
    let (context, body) = match json_body_of(&request, payload, &state, media).await {
        Ok(admitted) => admitted,
        Err(refused) => return refused,
    };
    let mut one = match serde_json::from_slice::<GraphQLRequest>(&body) {
        Ok(one) => one,
        Err(error) => {
            return reply_json(
                media,
                StatusCode::BAD_REQUEST,
                ResponseBody::of(&unreadable(&error)).json,
            )
        }
    };
    let Some(id) = one
        .extensions
        .as_ref()
        .and_then(|extensions| extensions.get("operationId"))
        .and_then(|id| id.as_str())
        .filter(|id| !id.is_empty())
        .map(str::to_string)
    else {
        return reply_error(
            media,
            StatusCode::BAD_REQUEST,
            "an operation on an event stream needs an id in extensions.operationId",
            ErrorCode::BadUserInput,
        );
    };
    if let Err(response) = state.resolve_document(&mut one) {
        return reply_json(
            media,
            StatusCode::BAD_REQUEST,
            ResponseBody::of(&response).json,
        );
    }
    let principal = context.principal.id.clone();
    // Checked before the operation starts, and again when it is attached.
    if let Err(error) = state.sse_streams.may_start(&token, &principal, &id) {
        return error.reply(media);
    }
    let place = match take_place(&state, &context, media, "sse") {
        Ok(place) => place,
        Err(refused) => return refused,
    };
    let Some(gateway) = state.gateway.current() else {
        return super::graphql::not_ready(media);
    };
    match gateway.subscribe(one, context).await {
        Err(response) => reply_request_error(media, &response),
        Ok(results) => match state
            .sse_streams
            .start(&token, &principal, id, results, place)
        {
            Ok(()) => HttpResponse::Accepted().finish(),
            Err(error) => error.reply(media),
        },
    }
}

/// `DELETE ?operationId=…` with a stream token: stops that operation (its
/// `complete` event follows on the stream). `200` also when it had already
/// finished.
pub async fn stop(request: HttpRequest, state: web::Data<HttpState>) -> HttpResponse {
    let media = media::negotiate(request.headers()).unwrap_or(ResponseMedia::Json);
    let (Some(token), Some(id)) = (stream_token(&request), query_param(&request, "operationId"))
    else {
        return reply_error(
            media,
            StatusCode::BAD_REQUEST,
            "name the event stream (x-graphql-event-stream-token) and the operation (?operationId=)",
            ErrorCode::BadUserInput,
        );
    };
    let context = match state.context_for(&request).await {
        Ok(context) => context,
        Err(refusal) => return refusal.reply(media),
    };
    match state.sse_streams.stop(&token, &context.principal.id, &id) {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(error) => error.reply(media),
    }
}

// ---------------------------------------------------------------------------
// Single connection mode: the reservations

/// The single-connection streams reserved or open, by token (a UUID v4):
/// at most `max_reservations`; one not opened within `unused_for` is dropped.
/// A stream belongs to the principal that reserved it: only it may run or
/// stop operations on it.
pub struct SseStreams {
    reservations: Mutex<HashMap<String, Reservation>>,
    max_reservations: usize,
    unused_for: Duration,
    /// Tells apart two operations that used the same id one after the other.
    serial: AtomicU64,
}

struct Reservation {
    principal: String,
    reserved_at: Instant,
    events: mpsc::Sender<Bytes>,
    /// Until the stream is opened: only one GET may take it.
    receiver: Option<mpsc::Receiver<Bytes>>,
    operations: HashMap<String, Operation>,
}

impl Reservation {
    fn expired(&self, unused_for: Duration) -> bool {
        self.receiver.is_some() && self.reserved_at.elapsed() >= unused_for
    }
}

struct Operation {
    serial: u64,
    /// Dropped to stop the operation.
    _stop: oneshot::Sender<()>,
}

/// Why a stream could not be opened.
#[derive(Debug, PartialEq, Eq)]
pub enum ConnectError {
    Unknown,
    /// Already open: a reservation is fulfilled by one stream at a time.
    Taken,
}

/// Why an operation could not be started on, or stopped from, a stream.
#[derive(Debug, PartialEq, Eq)]
pub enum OperationError {
    /// No such stream (or it is another principal's).
    Unknown,
    /// An operation with this id is running on the stream.
    Duplicate,
    /// The stream has as many operations running as it may.
    Full,
}

impl OperationError {
    fn reply(self, media: ResponseMedia) -> HttpResponse {
        let (status, message, code) = match self {
            OperationError::Unknown => (
                StatusCode::NOT_FOUND,
                "no event stream is reserved under this token".to_string(),
                ErrorCode::NotFound,
            ),
            OperationError::Duplicate => (
                StatusCode::CONFLICT,
                "an operation with this operationId is already running on the stream".to_string(),
                ErrorCode::Conflict,
            ),
            OperationError::Full => (
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "this event stream already has {MAX_PER_CONNECTION} operations open (the most one may have)"
                ),
                ErrorCode::RateLimited,
            ),
        };
        reply_error(media, status, &message, code)
    }
}

impl Default for SseStreams {
    fn default() -> Self {
        SseStreams::new(MAX_RESERVATIONS, UNUSED_RESERVATION_TTL)
    }
}

impl SseStreams {
    pub fn new(max_reservations: usize, unused_for: Duration) -> SseStreams {
        SseStreams {
            reservations: Mutex::new(HashMap::new()),
            max_reservations,
            unused_for,
            serial: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Reservation>> {
        // The map stays consistent whatever panicked while holding it.
        self.reservations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reserves a stream for `principal`: its token, or `None` when as many
    /// are reserved as may be.
    pub fn reserve(self: &Arc<Self>, principal: &str) -> Option<String> {
        let token = uuid::Uuid::new_v4().to_string();
        {
            let mut reservations = self.lock();
            if reservations.len() >= self.max_reservations {
                // Timers may lag behind; unused reservations past their time
                // make room first.
                reservations.retain(|_, r| !r.expired(self.unused_for));
                if reservations.len() >= self.max_reservations {
                    return None;
                }
            }
            let (events, receiver) = mpsc::channel(STREAM_BUFFER);
            reservations.insert(
                token.clone(),
                Reservation {
                    principal: principal.to_string(),
                    reserved_at: Instant::now(),
                    events,
                    receiver: Some(receiver),
                    operations: HashMap::new(),
                },
            );
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (registry, token, after) = (Arc::downgrade(self), token.clone(), self.unused_for);
            runtime.spawn(async move {
                tokio::time::sleep(after).await;
                if let Some(registry) = registry.upgrade() {
                    let mut reservations = registry.lock();
                    if reservations
                        .get(&token)
                        .is_some_and(|r| r.expired(registry.unused_for))
                    {
                        // Dropping it drops its operations and their results.
                        reservations.remove(&token);
                    }
                }
            });
        }
        Some(token)
    }

    /// How many reservations are held, open or not.
    pub fn reserved(&self) -> usize {
        self.lock().len()
    }

    /// Opens the stream of `token`: its frames, until the client leaves
    /// (dropping them releases the reservation and stops its operations).
    pub fn connect(
        self: &Arc<Self>,
        token: &str,
    ) -> Result<BoxStream<'static, Bytes>, ConnectError> {
        let mut reservations = self.lock();
        let Some(reservation) = reservations.get_mut(token) else {
            return Err(ConnectError::Unknown);
        };
        if reservation.expired(self.unused_for) {
            reservations.remove(token);
            return Err(ConnectError::Unknown);
        }
        let Some(receiver) = reservation.receiver.take() else {
            return Err(ConnectError::Taken);
        };
        let guard = Release {
            registry: Arc::downgrade(self),
            token: token.to_string(),
        };
        Ok(
            stream::unfold((receiver, guard), |(mut receiver, guard)| async move {
                // The reservation keeps a sender, so this waits for the client
                // to leave rather than ending.
                let frame = receiver.recv().await?;
                Some((frame, (receiver, guard)))
            })
            .boxed(),
        )
    }

    /// Whether `principal` may start operation `id` on stream `token` now.
    pub fn may_start(&self, token: &str, principal: &str, id: &str) -> Result<(), OperationError> {
        may_start(&self.lock(), token, principal, id, self.unused_for)
    }

    /// Attaches a started operation to stream `token`: its results are
    /// written there as they come, then its `complete`. `place` is held
    /// until it ends.
    fn start(
        self: &Arc<Self>,
        token: &str,
        principal: &str,
        id: String,
        results: ResponseStream,
        place: SubscriptionPlace,
    ) -> Result<(), OperationError> {
        let mut reservations = self.lock();
        // Checked again under this lock: the stream may have closed, or
        // another request taken the id, while the operation was starting.
        may_start(&reservations, token, principal, &id, self.unused_for)?;
        let Some(reservation) = reservations.get_mut(token) else {
            return Err(OperationError::Unknown);
        };
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        let (stop, stopped) = oneshot::channel();
        reservation.operations.insert(
            id.clone(),
            Operation {
                serial,
                _stop: stop,
            },
        );
        let run = Forward {
            registry: Arc::downgrade(self),
            token: token.to_string(),
            id,
            serial,
            events: reservation.events.clone(),
        };
        drop(reservations);
        tokio::spawn(run.forward(results, stopped, place));
        Ok(())
    }

    /// Stops operation `id` on stream `token` (nothing to do when it has
    /// already finished).
    pub fn stop(&self, token: &str, principal: &str, id: &str) -> Result<(), OperationError> {
        let mut reservations = self.lock();
        owned(&reservations, token, principal, self.unused_for)?;
        if let Some(reservation) = reservations.get_mut(token) {
            reservation.operations.remove(id);
        }
        Ok(())
    }
}

fn may_start(
    reservations: &HashMap<String, Reservation>,
    token: &str,
    principal: &str,
    id: &str,
    unused_for: Duration,
) -> Result<(), OperationError> {
    let reservation = owned(reservations, token, principal, unused_for)?;
    if reservation.operations.contains_key(id) {
        return Err(OperationError::Duplicate);
    }
    if reservation.operations.len() >= MAX_PER_CONNECTION {
        return Err(OperationError::Full);
    }
    Ok(())
}

fn owned<'a>(
    reservations: &'a HashMap<String, Reservation>,
    token: &str,
    principal: &str,
    unused_for: Duration,
) -> Result<&'a Reservation, OperationError> {
    reservations
        .get(token)
        // Another principal's stream is answered as if it did not exist.
        .filter(|r| r.principal == principal && !r.expired(unused_for))
        .ok_or(OperationError::Unknown)
}

/// Releases a reservation when its stream's body is dropped (the client left).
struct Release {
    registry: std::sync::Weak<SseStreams>,
    token: String,
}

impl Drop for Release {
    fn drop(&mut self) {
        if let Some(registry) = self.registry.upgrade() {
            registry.lock().remove(&self.token);
        }
    }
}

/// One operation's results on its way to a stream.
struct Forward {
    registry: std::sync::Weak<SseStreams>,
    token: String,
    id: String,
    serial: u64,
    events: mpsc::Sender<Bytes>,
}

impl Forward {
    async fn forward(
        self,
        mut results: ResponseStream,
        mut stopped: oneshot::Receiver<()>,
        place: SubscriptionPlace,
    ) {
        let id = crate::gateway::response::to_json(&self.id);
        loop {
            // Stopped (DELETE, or the stream gone) while waiting for a result
            // or for room on the stream: the results are dropped at once.
            let body = tokio::select! {
                biased;
                _ = &mut stopped => break,
                body = results.next() => body,
            };
            let Some(body) = body else { break };
            tokio::select! {
                biased;
                _ = &mut stopped => break,
                sent = self.events.send(next_frame_for(&id, &body.json)) => {
                    if sent.is_err() {
                        // The stream is gone, and its reservation with it.
                        return;
                    }
                }
            }
        }
        drop(results);
        drop(place);
        let _ = self.events.send(complete_frame_for(&id)).await;
        if let Some(registry) = self.registry.upgrade() {
            let mut reservations = registry.lock();
            if let Some(reservation) = reservations.get_mut(&self.token) {
                if reservation
                    .operations
                    .get(&self.id)
                    .is_some_and(|op| op.serial == self.serial)
                {
                    reservation.operations.remove(&self.id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_break_in_the_json_starts_a_new_data_line() {
        assert_eq!(
            &next_frame(b"{\"a\":\n1}")[..],
            b"event: next\ndata: {\"a\":\ndata: 1}\n\n"
        );
        assert_eq!(
            &next_frame_for(b"\"op\"", b"{}")[..],
            b"event: next\ndata: {\"id\":\"op\",\"payload\":{}}\n\n"
        );
        assert_eq!(
            &complete_frame_for(b"\"op\"")[..],
            b"event: complete\ndata: {\"id\":\"op\"}\n\n"
        );
    }

    #[tokio::test]
    async fn reservations_are_bounded_owned_and_opened_once() {
        let streams = Arc::new(SseStreams::new(2, Duration::from_secs(60)));
        let first = streams.reserve("alice").expect("room for one");
        let _second = streams.reserve("alice").expect("room for two");
        assert!(streams.reserve("alice").is_none(), "at most two");
        assert_eq!(
            streams.may_start(&first, "bob", "1"),
            Err(OperationError::Unknown),
            "another principal's stream does not exist for it"
        );
        assert_eq!(streams.may_start(&first, "alice", "1"), Ok(()));
        let opened = streams.connect(&first).expect("opens");
        assert_eq!(streams.connect(&first).err(), Some(ConnectError::Taken));
        assert_eq!(streams.connect("nope").err(), Some(ConnectError::Unknown));
        drop(opened);
        assert_eq!(streams.reserved(), 1, "a stream that closes is released");
    }

    #[tokio::test]
    async fn an_unused_reservation_expires() {
        let streams = Arc::new(SseStreams::new(1, Duration::from_millis(20)));
        let token = streams.reserve("alice").expect("room");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(streams.connect(&token).err(), Some(ConnectError::Unknown));
        assert!(
            streams.reserve("alice").is_some(),
            "its place is free again"
        );
    }
}
