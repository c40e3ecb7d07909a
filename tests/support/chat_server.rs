//! A local HTTP server that speaks the chat-completions protocol (server-sent events),
//! scripted per test: each request is answered by the next responder, which sees the
//! request's body; every request (Authorization header, body) is recorded.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// What the scripted server answers to one request, built from that request's body.
pub type Responder = Box<dyn Fn(&Value) -> Reply + Send + Sync>;

pub enum Reply {
    /// An SSE body sent as these separate pieces.
    Sse(Vec<String>),
    /// The same as raw bytes (a piece may end inside a UTF-8 character).
    Bytes(Vec<Vec<u8>>),
    /// These pieces, then nothing more: the stream stays open and silent.
    Stall(Vec<String>),
    /// A whole completion as one JSON body (a server that ignores `stream: true`).
    Json(Value),
    /// A status with an optional `Retry-After`.
    Status(u16, Option<&'static str>),
}

#[derive(Default)]
pub struct Script {
    pub replies: Mutex<VecDeque<Responder>>,
    pub seen: Mutex<Vec<(Option<String>, String)>>,
}

impl Script {
    /// Queues a responder.
    pub fn then(&self, responder: impl Fn(&Value) -> Reply + Send + Sync + 'static) {
        self.replies.lock().unwrap().push_back(Box::new(responder));
    }

    pub fn requests(&self) -> Vec<(Option<String>, Value)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(auth, raw)| (auth.clone(), serde_json::from_str(raw).unwrap()))
            .collect()
    }

    pub fn raw_bodies(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }
}

async fn chat(State(script): State<Arc<Script>>, headers: HeaderMap, body: String) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    script.seen.lock().unwrap().push((auth, body.clone()));
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let responder = script.replies.lock().unwrap().pop_front();
    let Some(responder) = responder else {
        return (StatusCode::BAD_REQUEST, "the script has no more replies").into_response();
    };
    match responder(&request) {
        Reply::Status(code, retry_after) => {
            let mut response = (StatusCode::from_u16(code).unwrap(), "try later").into_response();
            if let Some(v) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", v.parse().unwrap());
            }
            response
        }
        Reply::Sse(pieces) => sse(pieces.into_iter().map(String::into_bytes).collect()),
        Reply::Bytes(pieces) => sse(pieces),
        Reply::Json(body) => axum::Json(body).into_response(),
        Reply::Stall(pieces) => {
            let sent = futures::stream::iter(
                pieces
                    .into_iter()
                    .map(|p| Ok::<_, Infallible>(Bytes::from(p))),
            );
            let stream = futures::StreamExt::chain(sent, futures::stream::pending());
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(stream))
                .unwrap()
        }
    }
}

fn sse(pieces: Vec<Vec<u8>>) -> Response {
    let stream = futures::stream::iter(
        pieces
            .into_iter()
            .map(|p| Ok::<_, Infallible>(Bytes::from(p))),
    );
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap()
}

/// Starts the server; returns its base URL (`http://127.0.0.1:PORT/v1`).
pub async fn serve(script: Arc<Script>) -> String {
    let app = axum::Router::new()
        .route("/v1/chat/completions", post(chat))
        .route(
            "/v1/models",
            axum::routing::get(|| async {
                axum::Json(json!({"object":"list","data":[{"id":"test-model","object":"model"}]}))
            }),
        )
        .with_state(script);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/v1")
}

pub fn data(chunk: Value) -> String {
    format!("data: {chunk}\n\n")
}

/// A text answer streamed in `pieces`, with usage and `[DONE]`.
pub fn text_answer(pieces: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = pieces
        .iter()
        .map(|p| data(json!({"choices":[{"index":0,"delta":{"content":p},"finish_reason":null}]})))
        .collect();
    out.push(data(
        json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}),
    ));
    out.push(data(json!({"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":29,"total_tokens":129}})));
    out.push("data: [DONE]\n\n".into());
    out
}

/// One tool call whose JSON arguments arrive in `pieces`, each in its own chunk.
pub fn tool_call(id: &str, name: &str, pieces: &[&str]) -> Vec<String> {
    let mut out = vec![data(
        json!({"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[
        {"index":0,"id":id,"type":"function","function":{"name":name,"arguments":""}}]}}]}),
    )];
    for p in pieces {
        out.push(data(json!({"choices":[{"index":0,"delta":{"tool_calls":[
            {"index":0,"function":{"arguments":p}}]}}]})));
    }
    out.push(data(
        json!({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}),
    ));
    out.push("data: [DONE]\n\n".into());
    out
}

/// The content of the last `tool` message of a request, parsed.
pub fn last_tool_result(request: &Value) -> Value {
    let messages = request["messages"].as_array().expect("messages");
    let tool = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "tool")
        .expect("a tool message");
    serde_json::from_str(tool["content"].as_str().unwrap()).expect("tool content is JSON")
}
