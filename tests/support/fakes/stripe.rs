//! Fake Stripe on loopback: Stripe's auth, idempotency and error shapes over real HTTP, every request recorded.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// A running fake; the server stops when this is dropped.
pub struct FakeStripe {
    /// `http://127.0.0.1:PORT`, for `STRIPE_API_BASE`.
    pub base_url: String,
    state: Arc<Mutex<State>>,
    server: tokio::task::JoinHandle<()>,
}

/// One request as the fake received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The raw query string, `""` when there is none.
    pub query: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The form body, decoded, in order.
    pub form: Vec<(String, String)>,
    pub idempotency_key: Option<String>,
}

impl RecordedRequest {
    /// The first value sent for `key` (e.g. `metadata[kentico_order_id]`).
    pub fn form_value(&self, key: &str) -> Option<&str> {
        let mut pairs = self.form.iter();
        pairs.find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn sent(&self, prefix: &str) -> bool {
        self.form.iter().any(|(k, _)| k.starts_with(prefix))
    }
}

/// A status and a JSON body.
type Reply = (u16, Value);

struct Saved {
    operation: String,
    form: Vec<(String, String)>,
    reply: Reply,
}

#[derive(Default)]
struct State {
    secret_key: String,
    requests: Vec<RecordedRequest>,
    /// (remaining, status, body, Stripe-Should-Retry)
    canned: Option<(usize, u16, Value, Option<bool>)>,
    payment_intents: Vec<Value>,
    charges: HashMap<String, Value>,
    balance_transactions: HashMap<String, Value>,
    checkout_sessions: Vec<Value>,
    /// Idempotency-Key → the first request's "METHOD path", its form and the reply.
    replies: HashMap<String, Saved>,
    objects_created: u64,
}

impl FakeStripe {
    /// Starts a fake that accepts `Authorization: Bearer <secret_key>`.
    pub async fn start(secret_key: &str) -> FakeStripe {
        let state = Arc::new(Mutex::new(State {
            secret_key: secret_key.to_owned(),
            ..State::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let base_url = format!("http://{}", listener.local_addr().expect("bound address"));
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeStripe {
            base_url,
            state,
            server,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every request received, in order (canned failures included).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state().requests.clone()
    }

    /// The next `count` requests get `status` and `body` (and `Stripe-Should-Retry` when given)
    /// before auth and idempotency, and are not remembered under their idempotency key: like a
    /// rate limit or an outage in front of Stripe's API.
    pub fn fail_next(&self, count: usize, status: u16, body: Value, should_retry: Option<bool>) {
        self.state().canned = Some((count, status, body, should_retry));
    }

    /// PaymentIntents as stored, in creation order.
    pub fn payment_intents(&self) -> Vec<Value> {
        self.state().payment_intents.clone()
    }

    pub fn payment_intent(&self, id: &str) -> Option<Value> {
        let state = self.state();
        state
            .payment_intents
            .iter()
            .find(|p| p["id"] == id)
            .cloned()
    }

    /// Merges the fields of `patch` (an object) into a stored PaymentIntent, e.g. its status.
    pub fn set_payment_intent(&self, id: &str, patch: Value) {
        let mut state = self.state();
        if let Some(intent) = state.payment_intents.iter_mut().find(|p| p["id"] == id) {
            merge(intent, patch);
        }
    }

    /// Serves `charge` at `GET /v1/charges/{id}`.
    pub fn add_charge(&self, charge: Value) {
        let id = charge["id"].as_str().unwrap_or_default().to_owned();
        self.state().charges.insert(id, charge);
    }

    /// Inlined into a charge fetched with `expand[]=balance_transaction`.
    pub fn add_balance_transaction(&self, txn: Value) {
        let id = txn["id"].as_str().unwrap_or_default().to_owned();
        self.state().balance_transactions.insert(id, txn);
    }

    pub fn checkout_sessions(&self) -> Vec<Value> {
        self.state().checkout_sessions.clone()
    }
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn handle(
    Shared(state): Shared<Arc<Mutex<State>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = |v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
    let request = RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), text(v)))
            .collect(),
        form: decode_form(&body),
        idempotency_key: headers.get("idempotency-key").map(text),
    };
    let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
    state.requests.push(request.clone());
    let request_id = format!("req_fake_{}", state.requests.len());
    let ((status, body), should_retry, replayed) = answer(&mut state, &request);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert("request-id", request_id.parse().expect("ASCII"));
    if let Some(flag) = should_retry {
        headers.insert(
            "stripe-should-retry",
            flag.to_string().parse().expect("ASCII"),
        );
    }
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// The reply, the `Stripe-Should-Retry` flag, and whether the reply is a replay.
fn answer(state: &mut State, request: &RecordedRequest) -> (Reply, Option<bool>, bool) {
    if let Some((count, status, body, should_retry)) = state.canned.take() {
        if count > 1 {
            state.canned = Some((count - 1, status, body.clone(), should_retry));
        }
        if count > 0 {
            return ((status, body), should_retry, false);
        }
    }
    let authorization = request.headers.get("authorization");
    if authorization != Some(&format!("Bearer {}", state.secret_key)) {
        let message = match authorization {
            None => "You did not provide an API key.",
            Some(_) => "Invalid API Key provided.",
        };
        return (
            error(
                401,
                json!({"type": "invalid_request_error", "message": message}),
            ),
            None,
            false,
        );
    }
    let key = (request.idempotency_key.clone()).filter(|_| request.method == "POST");
    let operation = format!("{} {}", request.method, request.path);
    if let Some(saved) = key.as_ref().and_then(|k| state.replies.get(k)) {
        if saved.operation == operation && saved.form == request.form {
            return (saved.reply.clone(), None, true);
        }
        let message = "Keys for idempotent requests can only be used with the same parameters \
                       they were first used with.";
        return (
            error(
                400,
                json!({"type": "idempotency_error", "message": message}),
            ),
            None,
            false,
        );
    }
    let reply = route(state, request);
    // As at Stripe, a request refused by validation (400) is not saved: it may be fixed and resent.
    if let (Some(key), false) = (key, reply.0 == 400) {
        let form = request.form.clone();
        let saved = Saved {
            operation,
            form,
            reply: reply.clone(),
        };
        state.replies.insert(key, saved);
    }
    (reply, None, false)
}

fn route(state: &mut State, request: &RecordedRequest) -> Reply {
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match (request.method.as_str(), segments.as_slice()) {
        ("POST", ["v1", "payment_intents"]) => create_payment_intent(state, request, now),
        (method, ["v1", "payment_intents", id, action @ ..]) => {
            let Some(intent) = state.payment_intents.iter_mut().find(|p| p["id"] == *id) else {
                return missing("payment_intent", id);
            };
            match (method, action) {
                ("GET", []) => (200, intent.clone()),
                ("POST", []) => update_payment_intent(intent, request),
                ("POST", ["cancel"]) => cancel_payment_intent(intent, request, now),
                _ => unrecognized(request),
            }
        }
        ("POST", ["v1", "checkout", "sessions"]) => {
            state.objects_created += 1;
            let id = format!("cs_fake_{}", state.objects_created);
            let form = |key| request.form_value(key);
            let session = json!({
                "id": id, "object": "checkout.session", "mode": form("mode"), "status": "open",
                "url": format!("https://checkout.stripe.com/c/pay/{id}"), "payment_status": "unpaid",
                "payment_intent": null, "success_url": form("success_url"), "cancel_url": form("cancel_url"),
                "client_reference_id": form("client_reference_id"), "customer_email": form("customer_email"),
                "metadata": nested(request, "metadata"), "line_items": arrays(nested(request, "line_items")),
                "created": now, "expires_at": now + 24 * 3600, "livemode": false,
            });
            state.checkout_sessions.push(session.clone());
            (200, session)
        }
        ("GET", ["v1", "charges", id]) => {
            let Some(mut charge) = state.charges.get(*id).cloned() else {
                return missing("charge", id);
            };
            let query = decode_form(request.query.as_bytes());
            let expand =
                (query.iter()).any(|(k, v)| k.starts_with("expand[") && v == "balance_transaction");
            let txn = charge["balance_transaction"].as_str();
            if let (true, Some(txn)) = (expand, txn.and_then(|t| state.balance_transactions.get(t)))
            {
                charge["balance_transaction"] = txn.clone();
            }
            (200, charge)
        }
        ("GET", ["v1", "balance"]) => (
            200,
            json!({"object": "balance", "livemode": false,
            "available": [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}],
            "pending": [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}]}),
        ),
        _ => unrecognized(request),
    }
}

fn create_payment_intent(state: &mut State, request: &RecordedRequest, now: i64) -> Reply {
    let amount = match integer(request, "amount") {
        Ok(amount) => amount,
        Err(invalid) => return invalid,
    };
    let Some(currency) = request.form_value("currency") else {
        return error(
            400,
            json!({"type": "invalid_request_error", "code": "parameter_missing",
            "param": "currency", "message": "Missing required param: currency."}),
        );
    };
    state.objects_created += 1;
    let id = format!("pi_fake_{}", state.objects_created);
    let form = |key| request.form_value(key);
    let mut intent = json!({
        "id": id, "object": "payment_intent", "amount": amount, "amount_received": 0,
        "currency": currency, "status": "requires_payment_method",
        "client_secret": format!("{id}_secret_fake"), "description": form("description"),
        // Stripe's default since 2024-04-10.
        "capture_method": form("capture_method").unwrap_or("automatic_async"),
        "metadata": nested(request, "metadata"), "receipt_email": form("receipt_email"),
        "shipping": request.sent("shipping[").then(|| nested(request, "shipping")),
        "latest_charge": null, "last_payment_error": null, "customer": null,
        "cancellation_reason": null, "created": now, "livemode": false,
    });
    if request.sent("automatic_payment_methods[") {
        let enabled = form("automatic_payment_methods[enabled]") == Some("true");
        intent["automatic_payment_methods"] = json!({ "enabled": enabled });
    }
    state.payment_intents.push(intent.clone());
    (200, intent)
}

fn update_payment_intent(intent: &mut Value, request: &RecordedRequest) -> Reply {
    if request.form_value("amount").is_some() {
        match integer(request, "amount") {
            Ok(amount) => intent["amount"] = amount.into(),
            Err(invalid) => return invalid,
        }
    }
    if let Some(description) = request.form_value("description") {
        intent["description"] = description.into();
    }
    // Stripe's rules: `metadata=` deletes every key, `metadata[k]=` deletes `k`.
    if request.form_value("metadata") == Some("") {
        intent["metadata"] = json!({});
    }
    if let (Value::Object(update), Some(metadata)) = (
        nested(request, "metadata"),
        intent["metadata"].as_object_mut(),
    ) {
        for (k, v) in update {
            match v.as_str() {
                Some("") => metadata.remove(&k),
                _ => metadata.insert(k, v),
            };
        }
    }
    (200, intent.clone())
}

fn cancel_payment_intent(intent: &mut Value, request: &RecordedRequest, now: i64) -> Reply {
    let status = intent["status"].as_str().unwrap_or_default().to_owned();
    if status == "succeeded" || status == "canceled" {
        let message =
            format!("You cannot cancel this PaymentIntent because it has a status of {status}.");
        return error(
            400,
            json!({"type": "invalid_request_error",
            "code": "payment_intent_unexpected_state", "message": message}),
        );
    }
    let reason = request.form_value("cancellation_reason");
    merge(
        intent,
        json!({"status": "canceled", "canceled_at": now, "cancellation_reason": reason}),
    );
    (200, intent.clone())
}

fn error(status: u16, error: Value) -> Reply {
    (status, json!({ "error": error }))
}

fn missing(object: &str, id: &str) -> Reply {
    let message = format!("No such {object}: '{id}'");
    error(
        404,
        json!({"type": "invalid_request_error", "code": "resource_missing",
        "param": "id", "message": message}),
    )
}

fn unrecognized(request: &RecordedRequest) -> Reply {
    let message = format!(
        "Unrecognized request URL ({}: {}).",
        request.method, request.path
    );
    error(
        404,
        json!({"type": "invalid_request_error", "message": message}),
    )
}

fn integer(request: &RecordedRequest, key: &str) -> Result<i64, Reply> {
    let (code, message) = match request.form_value(key) {
        None => (
            "parameter_missing",
            format!("Missing required param: {key}."),
        ),
        Some(text) => match text.parse() {
            Ok(n) => return Ok(n),
            Err(_) => (
                "parameter_invalid_integer",
                format!("Invalid integer: {text}"),
            ),
        },
    };
    Err(error(
        400,
        json!({"type": "invalid_request_error", "code": code,
        "param": key, "message": message}),
    ))
}

fn merge(target: &mut Value, patch: Value) {
    if let (Some(target), Value::Object(patch)) = (target.as_object_mut(), patch) {
        target.extend(patch);
    }
}

/// The bracket keys under `prefix` (`shipping[address][city]=…`) as nested JSON with string
/// leaves, except the integers Stripe's schema declares (`quantity`, `unit_amount`, `amount`).
fn nested(request: &RecordedRequest, prefix: &str) -> Value {
    let mut root = json!({});
    for (key, value) in &request.form {
        let Some(rest) = key.strip_prefix(prefix).and_then(|r| r.strip_prefix('[')) else {
            continue;
        };
        let path: Vec<&str> = rest.trim_end_matches(']').split("][").collect();
        let Some((last, parents)) = path.split_last() else {
            continue;
        };
        let mut node = &mut root;
        for segment in parents {
            node = object(node).entry(*segment).or_insert_with(|| json!({}));
        }
        let leaf = match (*last, value.parse::<i64>()) {
            ("quantity" | "unit_amount" | "amount", Ok(n)) => n.into(),
            _ => value.clone().into(),
        };
        object(node).insert((*last).to_owned(), leaf);
    }
    root
}

/// `value` as an object, replacing a scalar that a deeper key contradicts.
fn object(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = json!({});
    }
    match value {
        Value::Object(map) => map,
        _ => unreachable!("just made an object"),
    }
}

/// Objects keyed `0`, `1`, … (Stripe's indexed arrays) as JSON arrays, in index order.
fn arrays(value: Value) -> Value {
    match value {
        Value::Object(map) if !map.is_empty() && map.keys().all(|k| k.parse::<usize>().is_ok()) => {
            let mut items: Vec<(usize, Value)> = map
                .into_iter()
                .map(|(k, v)| (k.parse().unwrap_or(0), arrays(v)))
                .collect();
            items.sort_by_key(|(i, _)| *i);
            Value::Array(items.into_iter().map(|(_, v)| v).collect())
        }
        Value::Object(map) => map.into_iter().map(|(k, v)| (k, arrays(v))).collect(),
        other => other,
    }
}

/// `application/x-www-form-urlencoded`: `+` is a space, `%XX` a byte.
fn decode_form(body: &[u8]) -> Vec<(String, String)> {
    let decode = |part: &[u8]| {
        let hex = |b: u8| (b as char).to_digit(16);
        let mut out = Vec::with_capacity(part.len());
        let mut i = 0;
        while i < part.len() {
            match (
                part[i],
                part.get(i + 1).copied().and_then(hex),
                part.get(i + 2).copied().and_then(hex),
            ) {
                (b'+', _, _) => out.push(b' '),
                (b'%', Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 2;
                }
                (b, _, _) => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    let pairs = body.split(|b| *b == b'&').filter(|pair| !pair.is_empty());
    pairs
        .map(|pair| {
            let mut halves = pair.splitn(2, |b| *b == b'=');
            let key = decode(halves.next().unwrap_or_default());
            (key, decode(halves.next().unwrap_or_default()))
        })
        .collect()
}
