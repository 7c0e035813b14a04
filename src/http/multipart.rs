//! Subscriptions over multipart HTTP as Apollo Client sends them (Apollo
//! Router's multipart subscription protocol): a POST accepting
//! `multipart/mixed;subscriptionSpec=1.0` is answered
//! `multipart/mixed;boundary="graphql";subscriptionSpec="1.0"`, one part
//! `{"payload":<response>}` per event, a `{}` part as heartbeat while
//! nothing else is written, and the closing boundary when the subscription
//! ends.
//!
//! Only subscriptions are streamed this way; `multipart/mixed` without
//! `subscriptionSpec` (e.g. `deferSpec`, for `@defer`) never reaches here.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::HttpResponse;
use bytes::{BufMut, Bytes, BytesMut};

use super::media::ResponseMedia;
use super::sse::{with_heartbeat, OneStream};
use super::HttpState;
use crate::gateway::{Gateway, GraphQLRequest, RequestContext};

pub const CONTENT_TYPE: &str = "multipart/mixed;boundary=\"graphql\";subscriptionSpec=\"1.0\"";
/// A heartbeat part this often while no event comes (as Apollo Router sends).
pub const HEARTBEAT: Duration = Duration::from_secs(5);

const PART_HEAD: &[u8] = b"\r\n--graphql\r\ncontent-type: application/json; charset=utf-8\r\n\r\n";
const HEARTBEAT_PART: &[u8] =
    b"\r\n--graphql\r\ncontent-type: application/json; charset=utf-8\r\n\r\n{}\r\n";
const END: &[u8] = b"\r\n--graphql--\r\n";

/// One event's response as a part.
fn part(json: &[u8]) -> Bytes {
    let mut part = BytesMut::with_capacity(PART_HEAD.len() + json.len() + 16);
    part.put_slice(PART_HEAD);
    part.put_slice(b"{\"payload\":");
    part.put_slice(json);
    part.put_slice(b"}\r\n");
    part.freeze()
}

/// Runs subscription `request` and streams its events as parts; a request
/// error is answered as JSON in `media`, with nothing streamed.
pub async fn subscription(
    state: &HttpState,
    gateway: Arc<Gateway>,
    request: GraphQLRequest,
    context: RequestContext,
    media: ResponseMedia,
) -> HttpResponse {
    let opening = OneStream {
        transport: "multipart",
        frame: part,
        end: END,
    };
    let parts = match opening.open(state, gateway, request, context, media).await {
        Ok(parts) => parts,
        Err(refused) => return refused,
    };
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(with_heartbeat(
            parts,
            HEARTBEAT,
            Bytes::from_static(HEARTBEAT_PART),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_wraps_the_response_in_payload() {
        assert_eq!(
            &part(br#"{"data":{}}"#)[..],
            &b"\r\n--graphql\r\ncontent-type: application/json; charset=utf-8\r\n\r\n{\"payload\":{\"data\":{}}}\r\n"[..]
        );
    }
}
