//! A loopback Lambda Runtime API (the interface a function's process polls inside Lambda), so
//! the real function binaries run here as they do in AWS, one invocation at a time, and can be
//! killed mid-invocation: `GET …/invocation/next` hands out the next invocation with its request
//! id and deadline, `POST …/invocation/{id}/response|error` answers it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// What became of an invocation.
#[derive(Debug)]
pub enum Invocation {
    /// The function answered.
    Response(Value),
    /// The function reported an error.
    Error(String),
    /// No answer in time: the process died or hung (Lambda would time it out).
    NoAnswer,
}

struct Pending {
    request_id: String,
    deadline_ms: i64,
    payload: Value,
}

#[derive(Default)]
struct Shared {
    answers: HashMap<String, oneshot::Sender<Invocation>>,
}

#[derive(Clone)]
struct Api {
    next: Arc<tokio::sync::Mutex<mpsc::Receiver<Pending>>>,
    shared: Arc<Mutex<Shared>>,
}

/// A running Runtime API; it stops when dropped.
pub struct RuntimeApi {
    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    queue: mpsc::Sender<Pending>,
    shared: Arc<Mutex<Shared>>,
    server: tokio::task::JoinHandle<()>,
    counter: std::sync::atomic::AtomicU64,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(api): State<Api>) -> Response {
    let pending = api.next.lock().await.recv().await;
    let Some(pending) = pending else {
        return StatusCode::GONE.into_response();
    };
    let mut headers = HeaderMap::new();
    let header = |v: &str| HeaderValue::from_str(v).expect("a header value");
    headers.insert("lambda-runtime-aws-request-id", header(&pending.request_id));
    headers.insert(
        "lambda-runtime-deadline-ms",
        header(&pending.deadline_ms.to_string()),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        header("arn:aws:lambda:us-east-1:123456789012:function:paybridge-test-worker"),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        header("Root=1-00000000-000000000000000000000000"),
    );
    headers.insert("content-type", header("application/json"));
    (StatusCode::OK, headers, pending.payload.to_string()).into_response()
}

async fn answer(api: &Api, request_id: &str, invocation: Invocation) -> StatusCode {
    let sender = api.shared.lock().unwrap().answers.remove(request_id);
    if let Some(sender) = sender {
        let _ = sender.send(invocation);
    }
    StatusCode::ACCEPTED
}

async fn response(State(api): State<Api>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    answer(&api, &id, Invocation::Response(value)).await
}

async fn error(State(api): State<Api>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let text = String::from_utf8_lossy(&body).into_owned();
    answer(&api, &id, Invocation::Error(text)).await
}

async fn init_error(body: Bytes) -> StatusCode {
    eprintln!("runtime API: init error {}", String::from_utf8_lossy(&body));
    StatusCode::ACCEPTED
}

impl RuntimeApi {
    /// Starts the API on 127.0.0.1.
    pub async fn start() -> RuntimeApi {
        let (queue, receiver) = mpsc::channel(16);
        let shared = Arc::new(Mutex::new(Shared::default()));
        let api = Api {
            next: Arc::new(tokio::sync::Mutex::new(receiver)),
            shared: shared.clone(),
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(api);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("local address").to_string();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("runtime API server");
        });
        RuntimeApi {
            address,
            queue,
            shared,
            server,
            counter: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Ends every invocation handed out and not answered as [`Invocation::NoAnswer`], as Lambda
    /// does when the function's process dies.
    pub fn fail_pending(&self) {
        self.shared.lock().unwrap().answers.clear();
    }

    /// Invokes the function with `payload` and a deadline `timeout` from now (the function's
    /// configured timeout); waits for its answer until then.
    pub async fn invoke(&self, payload: Value, timeout: Duration) -> Invocation {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let request_id = format!("00000000-0000-4000-8000-{n:012}");
        let deadline_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000
            + timeout.as_millis() as i128;
        let (sender, receiver) = oneshot::channel();
        self.shared
            .lock()
            .unwrap()
            .answers
            .insert(request_id.clone(), sender);
        let pending = Pending {
            request_id: request_id.clone(),
            deadline_ms: deadline_ms as i64,
            payload,
        };
        if self.queue.send(pending).await.is_err() {
            return Invocation::NoAnswer;
        }
        let answer = tokio::time::timeout(timeout, receiver).await;
        self.shared.lock().unwrap().answers.remove(&request_id);
        match answer {
            Ok(Ok(invocation)) => invocation,
            _ => Invocation::NoAnswer,
        }
    }
}
