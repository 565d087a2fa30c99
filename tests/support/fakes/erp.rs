//! A loopback ERP that takes paybridge's signed ledger entries: it verifies each signature as
//! the receiving side is told to (docs/CONTRACTS.md#ledger-entries), keeps what it accepted by
//! `Idempotency-Key`, and can be down for the next N requests.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use paybridge::secret::SecretString;
use paybridge::webhook::SignatureVerifier;
use serde_json::Value;

#[derive(Default)]
struct Inbox {
    /// (Idempotency-Key, entry) of every accepted delivery, repeats included.
    accepted: Vec<(String, Value)>,
    /// Requests answered 503 before the next one is taken.
    down_for: usize,
    /// Requests refused for a bad signature.
    forged: usize,
}

/// The fake ERP.
pub struct FakeErp {
    pub url: String,
    inbox: Arc<Mutex<Inbox>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeErp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeErp {
    /// Starts an ERP that trusts `secret`.
    pub async fn start(secret: &str) -> FakeErp {
        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let verifier = Arc::new(SignatureVerifier::new(vec![SecretString::new(secret)], 300));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("local address");
        let state = (inbox.clone(), verifier);
        let app = Router::new().fallback(take).with_state(state);
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake ERP server");
        });
        FakeErp {
            url: format!("http://{address}/ledger"),
            inbox,
            server,
        }
    }

    /// Answers the next `requests` with 503.
    pub fn go_down_for(&self, requests: usize) {
        self.inbox.lock().unwrap().down_for = requests;
    }

    /// Every accepted delivery: (Idempotency-Key, entry).
    pub fn accepted(&self) -> Vec<(String, Value)> {
        self.inbox.lock().unwrap().accepted.clone()
    }

    /// How many more requests it will answer 503.
    pub fn still_down_for(&self) -> usize {
        self.inbox.lock().unwrap().down_for
    }

    /// How many requests carried no valid signature.
    pub fn forged(&self) -> usize {
        self.inbox.lock().unwrap().forged
    }
}

type Shared = (Arc<Mutex<Inbox>>, Arc<SignatureVerifier>);

async fn take(
    State((inbox, verifier)): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut inbox = inbox.lock().unwrap();
    if inbox.down_for > 0 {
        inbox.down_for -= 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let signature = headers
        .get("x-paybridge-signature")
        .and_then(|v| v.to_str().ok());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if verifier.verify(signature, &body, now).is_err() {
        inbox.forged += 1;
        return StatusCode::UNAUTHORIZED;
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let Ok(entry) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    inbox.accepted.push((key, entry));
    StatusCode::CREATED
}
