//! A small graphql-transport-ws client over real WebSocket frames, for tests
//! that follow the hub's subscriptions.
#![allow(dead_code)]

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn request(
    http_url: &str,
    subprotocol: &str,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let url = http_url.replacen("http", "ws", 1);
    let mut request = url.into_client_request().expect("a WebSocket URL");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        subprotocol.parse().expect("a header value"),
    );
    request
}

pub struct WsClient {
    socket: Socket,
}

impl WsClient {
    /// Connects to the hub at `http_url` (its `/graphql`) and acknowledges
    /// `connection_init` with the API key `key`.
    pub async fn connect(http_url: &str, key: &str) -> WsClient {
        let mut client = WsClient::open(http_url, "graphql-transport-ws").await;
        client
            .send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {key}")}}))
            .await;
        let ack = client.message(Duration::from_secs(10)).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        client
    }

    /// Opens the socket with `subprotocol` and sends nothing.
    pub async fn open(http_url: &str, subprotocol: &str) -> WsClient {
        let (socket, _) = tokio_tungstenite::connect_async(request(http_url, subprotocol))
            .await
            .unwrap_or_else(|e| panic!("connect to {http_url}: {e}"));
        WsClient { socket }
    }

    /// As [`WsClient::connect`], on a socket whose kernel receive buffer is
    /// `receive_buffer` bytes: a client that stops reading fills it soon.
    pub async fn connect_with_receive_buffer(
        http_url: &str,
        key: &str,
        receive_buffer: u32,
    ) -> WsClient {
        let addr: std::net::SocketAddr = http_url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .and_then(|a| a.parse().ok())
            .expect("an http://host:port URL");
        let tcp = tokio::net::TcpSocket::new_v4().expect("a socket");
        tcp.set_recv_buffer_size(receive_buffer)
            .expect("set the receive buffer");
        let stream = tcp.connect(addr).await.expect("connect");
        let (socket, _) = tokio_tungstenite::client_async(
            request(http_url, "graphql-transport-ws"),
            tokio_tungstenite::MaybeTlsStream::Plain(stream),
        )
        .await
        .unwrap_or_else(|e| panic!("connect to {http_url}: {e}"));
        let mut client = WsClient { socket };
        client
            .send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {key}")}}))
            .await;
        let ack = client.message(Duration::from_secs(10)).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        client
    }

    /// Every message until the server's close frame, and that frame's code
    /// and reason.
    pub async fn drain_until_closed(&mut self) -> (Vec<Value>, u16, String) {
        let mut messages = Vec::new();
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(30), self.socket.next())
                .await
                .expect("a close in time");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    messages.push(serde_json::from_str(&text).expect("a JSON message"))
                }
                Some(Ok(Message::Close(Some(close)))) => {
                    return (messages, close.code.into(), close.reason.to_string())
                }
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => {
                    panic!("closed without a close frame")
                }
                Some(Ok(_)) => {}
            }
        }
    }

    /// The close frame the server ends with: its code and reason.
    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(15), self.socket.next())
                .await
                .expect("a close in time");
            match frame {
                Some(Ok(Message::Close(Some(close)))) => {
                    return (close.code.into(), close.reason.to_string())
                }
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => {
                    panic!("closed without a close frame")
                }
                Some(Ok(other)) => eprintln!("before the close: {other:?}"),
            }
        }
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("send a frame");
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}}))
            .await;
    }

    /// The next protocol message other than ping/pong, within `limit`.
    pub async fn message(&mut self, limit: Duration) -> Value {
        loop {
            let frame = tokio::time::timeout(limit, self.socket.next())
                .await
                .expect("a message in time")
                .expect("the connection stays open")
                .expect("a frame");
            match frame {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text).expect("a JSON message");
                    match value["type"].as_str() {
                        Some("ping") => self.send(json!({"type": "pong"})).await,
                        Some("pong") => {}
                        _ => return value,
                    }
                }
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => {}
            }
        }
    }

    /// The payload of the next `next` message for `id`.
    pub async fn next_payload(&mut self, id: &str) -> Value {
        let message = self.message(Duration::from_secs(30)).await;
        assert_eq!(message["id"], id, "{message}");
        assert_eq!(message["type"], "next", "{message}");
        message["payload"].clone()
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
