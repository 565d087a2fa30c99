//! Fake Stripe on loopback: Stripe's auth, idempotency, published parameters and error shapes
//! over real HTTP, every request recorded.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::extract::State as Shared;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::decode_form;
use super::stripe_params::StripeParams;

/// A running fake; the server stops when this is dropped.
pub struct FakeStripe {
    /// `http://127.0.0.1:PORT`, for `STRIPE_API_BASE`.
    pub base_url: String,
    /// Faults injected in front of every request (none until a plan is installed).
    pub faults: super::faults::Faults,
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
    /// Balance transactions in the order they happened, with the payout that paid them out.
    payout_transactions: Vec<(String, String)>,
    disputes: HashMap<String, Value>,
    payouts: HashMap<String, Value>,
    checkout_sessions: Vec<Value>,
    refunds: Vec<Value>,
    customers: Vec<Value>,
    invoices: HashMap<String, Value>,
    /// Webhook endpoints as stored (without their signing secrets), in creation order.
    webhook_endpoints: Vec<Value>,
    /// Ids to give the next PaymentIntents created, before the generated ones.
    preset_intent_ids: Vec<String>,
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
        let faults = super::faults::Faults::default();
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone())
            .layer(axum::middleware::from_fn_with_state(
                faults.clone(),
                super::faults::inject,
            ));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeStripe {
            base_url,
            faults,
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

    /// Every customer, in the order they were created.
    pub fn customers(&self) -> Vec<Value> {
        self.state().customers.clone()
    }

    /// Merges `patch` into a stored customer, as an edit in the Dashboard would.
    pub fn edit_customer(&self, id: &str, patch: Value) {
        let mut state = self.state();
        if let Some(customer) = state.customers.iter_mut().find(|c| c["id"] == id) {
            merge(customer, patch);
        }
    }

    /// Webhook endpoints as stored (Stripe keeps the secret, but shows it only once).
    pub fn webhook_endpoints(&self) -> Vec<Value> {
        self.state().webhook_endpoints.clone()
    }

    /// Adds a webhook endpoint as if made in the Dashboard; the fields given replace the
    /// defaults (enabled, test mode, the pinned API version, no events).
    pub fn add_webhook_endpoint(&self, fields: Value) -> Value {
        let mut state = self.state();
        state.objects_created += 1;
        let mut endpoint = json!({"id": format!("we_fake_{}", state.objects_created),
            "object": "webhook_endpoint", "url": null, "enabled_events": [], "status": "enabled",
            "api_version": paybridge::connectors::stripe::DEFAULT_API_VERSION,
            "description": null, "metadata": {}, "livemode": false, "application": null,
            "created": time::OffsetDateTime::now_utc().unix_timestamp()});
        merge(&mut endpoint, fields);
        state.webhook_endpoints.push(endpoint.clone());
        endpoint
    }

    /// Merges `patch` into a stored webhook endpoint, as an edit in the Dashboard would.
    pub fn edit_webhook_endpoint(&self, id: &str, patch: Value) {
        let mut state = self.state();
        if let Some(endpoint) = state.webhook_endpoints.iter_mut().find(|e| e["id"] == id) {
            merge(endpoint, patch);
        }
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
    /// A PaymentIntent that succeeds received its amount, unless `patch` says otherwise.
    pub fn set_payment_intent(&self, id: &str, patch: Value) {
        let mut state = self.state();
        if let Some(intent) = state.payment_intents.iter_mut().find(|p| p["id"] == id) {
            patch_intent(intent, patch);
        }
    }

    /// Serves `charge` at `GET /v1/charges/{id}`.
    pub fn add_charge(&self, charge: Value) {
        let id = charge["id"].as_str().unwrap_or_default().to_owned();
        self.state().charges.insert(id, charge);
    }

    /// Served at `GET /v1/balance_transactions/{id}` and inlined into the objects that name it
    /// when they are fetched with `expand[]=…`.
    pub fn add_balance_transaction(&self, txn: Value) {
        let id = txn["id"].as_str().unwrap_or_default().to_owned();
        self.state().balance_transactions.insert(id, txn);
    }

    /// Serves `payout` at `GET /v1/payouts/{id}`; `transactions` (already added) are what it
    /// paid out, listed by `GET /v1/balance_transactions?payout=…` in this order.
    pub fn add_payout(&self, payout: Value, transactions: &[&str]) {
        let id = payout["id"].as_str().unwrap_or_default().to_owned();
        let mut state = self.state();
        for txn in transactions {
            state
                .payout_transactions
                .push((id.clone(), txn.to_string()));
        }
        state.payouts.insert(id, payout);
    }

    /// Serves `dispute` at `GET /v1/disputes/{id}`.
    pub fn add_dispute(&self, dispute: Value) {
        let id = dispute["id"].as_str().unwrap_or_default().to_owned();
        self.state().disputes.insert(id, dispute);
    }

    /// Replaces or adds an invoice, served at `GET /v1/invoices/{id}` (its `payments` only with
    /// `expand[]=payments`, as at Stripe).
    pub fn put_invoice(&self, invoice: Value) {
        let id = invoice["id"].as_str().unwrap_or_default().to_owned();
        self.state().invoices.insert(id, invoice);
    }

    /// Replaces or adds a refund (served at `GET /v1/refunds/{id}`), e.g. with its balance
    /// transaction once it has one.
    pub fn put_refund(&self, refund: Value) {
        let mut state = self.state();
        state.refunds.retain(|r| r["id"] != refund["id"]);
        state.refunds.push(refund);
    }

    pub fn checkout_sessions(&self) -> Vec<Value> {
        self.state().checkout_sessions.clone()
    }

    pub fn checkout_session(&self, id: &str) -> Option<Value> {
        let state = self.state();
        state
            .checkout_sessions
            .iter()
            .find(|s| s["id"] == id)
            .cloned()
    }

    /// The customer pays the PaymentIntent `id` in full: it succeeds at the fake, and the
    /// returned object is what the `payment_intent.succeeded` event carries.
    pub fn succeed_payment_intent(&self, id: &str) -> Value {
        self.set_payment_intent(id, json!({"status": "succeeded"}));
        self.payment_intent(id).expect("the PaymentIntent exists")
    }

    /// A Stripe event (test mode) carrying `object`, as its webhook body.
    pub fn event_body(id: &str, event_type: &str, object: &Value) -> String {
        json!({"id": id, "object": "event", "type": event_type, "livemode": false,
            "api_version": paybridge::connectors::stripe::DEFAULT_API_VERSION,
            "created": time::OffsetDateTime::now_utc().unix_timestamp(), "data": {"object": object}})
        .to_string()
    }

    /// The next PaymentIntent created gets `id` (to match a sample event's).
    pub fn preset_next_payment_intent_id(&self, id: &str) {
        self.state().preset_intent_ids.push(id.to_owned());
    }

    /// Refunds created, in order.
    pub fn refunds(&self) -> Vec<Value> {
        self.state().refunds.clone()
    }

    /// What a customer could still pay: PaymentIntents neither succeeded nor canceled, and open
    /// Checkout Sessions (ids).
    pub fn payable_objects(&self) -> Vec<String> {
        let state = self.state();
        let intents = state.payment_intents.iter().filter(|p| {
            let status = p["status"].as_str().unwrap_or_default();
            status != "succeeded" && status != "canceled"
        });
        let sessions = state
            .checkout_sessions
            .iter()
            .filter(|s| s["status"] == "open");
        intents
            .chain(sessions)
            .map(|o| o["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The customer pays through the Checkout Session `id`: Stripe makes its PaymentIntent (with
    /// the session's `payment_intent_data`), sets it as `patch` says (e.g. its status), and the
    /// session completes if it succeeded. Returns the PaymentIntent, as an event would carry it.
    pub fn pay_checkout_session(&self, id: &str, patch: Value) -> Value {
        let mut state = self.state();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let index = state
            .checkout_sessions
            .iter()
            .position(|s| s["id"] == id)
            .expect("the Checkout Session exists");
        let session = state.checkout_sessions[index].clone();
        assert_eq!(
            session["status"], "open",
            "only an open session can be paid"
        );
        let intent_id = match session["payment_intent"].as_str() {
            Some(existing) => existing.to_owned(),
            None => {
                state.objects_created += 1;
                let pi = format!("pi_fake_{}", state.objects_created);
                let intent = json!({
                    "id": pi, "object": "payment_intent", "amount": session["amount_total"],
                    "amount_received": 0, "currency": session["currency"],
                    "status": "requires_payment_method", "client_secret": format!("{pi}_secret_fake"),
                    "description": session["payment_intent_data"]["description"],
                    "capture_method": "automatic_async",
                    "metadata": session["payment_intent_data"]["metadata"].clone(),
                    "latest_charge": null, "last_payment_error": null,
                    "customer": session["customer"].clone(), "cancellation_reason": null, "created": now, "livemode": false,
                });
                state.payment_intents.push(intent);
                state.checkout_sessions[index]["payment_intent"] = pi.clone().into();
                pi
            }
        };
        let intent = (state.payment_intents.iter_mut())
            .find(|p| p["id"] == intent_id.as_str())
            .expect("the session's PaymentIntent");
        patch_intent(intent, patch);
        let intent = intent.clone();
        if intent["status"] == "succeeded" || intent["status"] == "processing" {
            let paid = if intent["status"] == "succeeded" {
                "paid"
            } else {
                "unpaid"
            };
            merge(
                &mut state.checkout_sessions[index],
                json!({"status": "complete", "payment_status": paid}),
            );
        }
        intent
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
    let params = if request.method == "GET" {
        decode_form(request.query.as_bytes())
    } else {
        request.form.clone()
    };
    if let Some(Err(refused)) = StripeParams::get().check(&request.method, &request.path, &params) {
        let mut body = json!({"type": "invalid_request_error", "param": refused.param,
            "message": refused.message});
        if let Some(code) = refused.code {
            body["code"] = code.into();
        }
        return (error(400, body), None, false);
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
        ("GET", ["v1", "payment_intents"]) => list_payment_intents(state, request),
        (method, ["v1", "payment_intents", id, action @ ..]) => {
            let Some(intent) = state.payment_intents.iter_mut().find(|p| p["id"] == *id) else {
                return missing("payment_intent", id);
            };
            match (method, action) {
                ("GET", []) => {
                    let intent = intent.clone();
                    (
                        200,
                        with_latest_charge(state, request, "latest_charge", intent),
                    )
                }
                ("POST", []) => update_payment_intent(intent, request),
                ("POST", ["cancel"]) => cancel_payment_intent(intent, request, now),
                _ => unrecognized(request),
            }
        }
        ("POST", ["v1", "checkout", "sessions"]) => create_checkout_session(state, request, now),
        ("GET", ["v1", "checkout", "sessions"]) => {
            let query = decode_form(request.query.as_bytes());
            let wanted = query
                .iter()
                .find(|(k, _)| k == "payment_intent")
                .map(|(_, v)| v);
            let data: Vec<Value> = (state.checkout_sessions.iter())
                .filter(|s| wanted.is_none_or(|pi| s["payment_intent"] == pi.as_str()))
                .cloned()
                .collect();
            (
                200,
                json!({"object": "list", "url": "/v1/checkout/sessions", "has_more": false, "data": data}),
            )
        }
        ("GET", ["v1", "checkout", "sessions", id]) => {
            match state.checkout_sessions.iter().find(|s| s["id"] == *id) {
                Some(session) => (200, session.clone()),
                None => missing("checkout.session", id),
            }
        }
        ("POST", ["v1", "checkout", "sessions", id, "expire"]) => {
            let Some(session) = state.checkout_sessions.iter().find(|s| s["id"] == *id) else {
                return missing("checkout.session", id);
            };
            if session["status"] != "open" {
                let message = format!(
                    "Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"{}\".",
                    session["status"].as_str().unwrap_or_default()
                );
                return error(
                    400,
                    json!({"type": "invalid_request_error", "message": message}),
                );
            }
            expire_session(state, id, now);
            let session = state
                .checkout_sessions
                .iter()
                .find(|s| s["id"] == *id)
                .cloned();
            (200, session.unwrap_or_default())
        }
        ("POST", ["v1", "refunds"]) => create_refund(state, request, now),
        ("POST", ["v1", "customers"]) => {
            state.objects_created += 1;
            let id = format!("cus_fake_{}", state.objects_created);
            let mut customer = json!({"id": id, "object": "customer", "email": null,
                "name": null, "phone": null, "address": null, "metadata": {}, "created": now,
                "livemode": false});
            set_customer_fields(&mut customer, request);
            state.customers.push(customer.clone());
            (200, customer)
        }
        ("POST", ["v1", "customers", id]) => {
            match state.customers.iter_mut().find(|c| c["id"] == *id) {
                Some(customer) => {
                    set_customer_fields(customer, request);
                    (200, customer.clone())
                }
                None => missing("customer", id),
            }
        }
        ("GET", ["v1", "invoices", id]) => match state.invoices.get(*id) {
            Some(invoice) => {
                let mut invoice = invoice.clone();
                let query = decode_form(request.query.as_bytes());
                if !query
                    .iter()
                    .any(|(k, v)| k == "expand[]" && v == "payments")
                {
                    object(&mut invoice).remove("payments");
                }
                (200, invoice)
            }
            None => missing("invoice", id),
        },
        ("GET", ["v1", "customers", id]) => match state.customers.iter().find(|c| c["id"] == *id) {
            Some(customer) => (200, customer.clone()),
            None => missing("customer", id),
        },
        ("GET", ["v1", "customers"]) => {
            let customers = state.customers.clone();
            list_objects(state, request, "/v1/customers", customers)
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
        ("GET", ["v1", "balance_transactions", id]) => match state.balance_transactions.get(*id) {
            Some(txn) => (200, txn.clone()),
            None => missing("balance_transaction", id),
        },
        ("GET", ["v1", "balance_transactions"]) => list_payout_transactions(state, request),
        ("GET", ["v1", "refunds"]) => {
            let refunds = state.refunds.clone();
            list_objects(state, request, "/v1/refunds", refunds)
        }
        ("GET", ["v1", "disputes"]) => {
            let disputes = by_creation(state.disputes.values());
            list_objects(state, request, "/v1/disputes", disputes)
        }
        ("GET", ["v1", "payouts"]) => {
            let payouts = by_creation(state.payouts.values());
            list_objects(state, request, "/v1/payouts", payouts)
        }
        ("GET", ["v1", "refunds", id]) => {
            let Some(refund) = state.refunds.iter().find(|r| r["id"] == *id).cloned() else {
                return missing("refund", id);
            };
            (200, expanded(state, request, refund))
        }
        ("GET", ["v1", "disputes", id]) => match state.disputes.get(*id) {
            Some(dispute) => (200, dispute.clone()),
            None => missing("dispute", id),
        },
        ("GET", ["v1", "payouts", id]) => match state.payouts.get(*id).cloned() {
            Some(payout) => (200, expanded(state, request, payout)),
            None => missing("payout", id),
        },
        ("GET", ["v1", "webhook_endpoints"]) => {
            let endpoints = state.webhook_endpoints.clone();
            list_objects(state, request, "/v1/webhook_endpoints", endpoints)
        }
        ("POST", ["v1", "webhook_endpoints"]) => create_webhook_endpoint(state, request, now),
        ("GET", ["v1", "webhook_endpoints", id]) => {
            match state.webhook_endpoints.iter().find(|e| e["id"] == *id) {
                Some(endpoint) => (200, endpoint.clone()),
                None => missing("webhook_endpoint", id),
            }
        }
        ("POST", ["v1", "webhook_endpoints", id]) => {
            match state.webhook_endpoints.iter_mut().find(|e| e["id"] == *id) {
                Some(endpoint) => update_webhook_endpoint(endpoint, request),
                None => missing("webhook_endpoint", id),
            }
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
    if let Some(refused) = unknown_customer(state, request) {
        return refused;
    }
    state.objects_created += 1;
    let id = match state.preset_intent_ids.is_empty() {
        true => format!("pi_fake_{}", state.objects_created),
        false => state.preset_intent_ids.remove(0),
    };
    let form = |key| request.form_value(key);
    let mut intent = json!({
        "id": id, "object": "payment_intent", "amount": amount, "amount_received": 0,
        "currency": currency, "status": "requires_payment_method",
        "client_secret": format!("{id}_secret_fake"), "description": form("description"),
        // Stripe's default since 2024-04-10.
        "capture_method": form("capture_method").unwrap_or("automatic_async"),
        "metadata": nested(request, "metadata"), "receipt_email": form("receipt_email"),
        "shipping": request.sent("shipping[").then(|| nested(request, "shipping")),
        "latest_charge": null, "last_payment_error": null, "customer": form("customer"),
        "cancellation_reason": null, "created": now, "livemode": false,
        "statement_descriptor_suffix": form("statement_descriptor_suffix"),
    });
    if request.sent("automatic_payment_methods[") {
        let enabled = form("automatic_payment_methods[enabled]") == Some("true");
        intent["automatic_payment_methods"] = json!({ "enabled": enabled });
    }
    state.payment_intents.push(intent.clone());
    (200, intent)
}

/// The values of an array parameter, in the order sent (`enabled_events[0]=…` or
/// `enabled_events[]=…`).
fn array(request: &RecordedRequest, name: &str) -> Vec<Value> {
    let prefix = format!("{name}[");
    (request.form.iter())
        .filter(|(k, _)| k.starts_with(&prefix))
        .map(|(_, v)| json!(v))
        .collect()
}

/// `POST /v1/webhook_endpoints`: the answer, and only the answer, carries the signing secret.
fn create_webhook_endpoint(state: &mut State, request: &RecordedRequest, now: i64) -> Reply {
    state.objects_created += 1;
    let id = format!("we_fake_{}", state.objects_created);
    let form = |key| request.form_value(key);
    let endpoint = json!({
        "id": id, "object": "webhook_endpoint", "url": form("url"),
        "enabled_events": array(request, "enabled_events"), "status": "enabled",
        // Without one, Stripe renders events with the account's default version.
        "api_version": form("api_version"), "description": form("description"),
        "metadata": nested(request, "metadata"), "livemode": false, "application": null,
        "created": now,
    });
    state.webhook_endpoints.push(endpoint.clone());
    let mut answer = endpoint;
    let random: String = (0..24).map(|_| fastrand::alphanumeric()).collect();
    answer["secret"] = format!("whsec_fake{random}").into();
    (200, answer)
}

/// `POST /v1/webhook_endpoints/{id}`: what is sent replaces what was there (the event list
/// whole); `disabled` sets the status.
fn update_webhook_endpoint(endpoint: &mut Value, request: &RecordedRequest) -> Reply {
    if request.sent("enabled_events[") {
        endpoint["enabled_events"] = array(request, "enabled_events").into();
    }
    match request.form_value("disabled") {
        Some("true") => endpoint["status"] = "disabled".into(),
        Some("false") => endpoint["status"] = "enabled".into(),
        _ => {}
    }
    for field in ["url", "description"] {
        if let Some(value) = request.form_value(field) {
            endpoint[field] = value.into();
        }
    }
    if let Value::Object(sent) = nested(request, "metadata") {
        object(&mut endpoint["metadata"]).extend(sent);
    }
    (200, endpoint.clone())
}

fn create_checkout_session(state: &mut State, request: &RecordedRequest, now: i64) -> Reply {
    if let Some(refused) = unknown_customer(state, request) {
        return refused;
    }
    if request.form_value("customer").is_some() && request.form_value("customer_email").is_some() {
        return error(
            400,
            json!({"type": "invalid_request_error", "param": "customer_email",
            "message": "You may only specify one of these parameters: customer, customer_email."}),
        );
    }
    state.objects_created += 1;
    let id = format!("cs_fake_{}", state.objects_created);
    let form = |key| request.form_value(key);
    let line_items = arrays(nested(request, "line_items"));
    let total: i64 = (line_items.as_array().into_iter().flatten())
        .map(|item| {
            item["quantity"].as_i64().unwrap_or(1)
                * item["price_data"]["unit_amount"].as_i64().unwrap_or(0)
        })
        .sum();
    let currency = line_items[0]["price_data"]["currency"].clone();
    let session = json!({
        "id": id, "object": "checkout.session", "mode": form("mode"), "status": "open",
        "url": format!("https://checkout.stripe.com/c/pay/{id}"), "payment_status": "unpaid",
        "payment_intent": null, "success_url": form("success_url"), "cancel_url": form("cancel_url"),
        "client_reference_id": form("client_reference_id"), "customer_email": form("customer_email"),
        "customer": form("customer"),
        "metadata": nested(request, "metadata"), "line_items": line_items,
        "payment_intent_data": nested(request, "payment_intent_data"),
        "amount_total": total, "currency": currency,
        "created": now, "expires_at": now + 24 * 3600, "livemode": false,
    });
    state.checkout_sessions.push(session.clone());
    (200, session)
}

/// The session can no longer be paid; Stripe cancels the PaymentIntent it made, if any.
fn expire_session(state: &mut State, id: &str, now: i64) {
    let Some(session) = state.checkout_sessions.iter_mut().find(|s| s["id"] == id) else {
        return;
    };
    merge(session, json!({"status": "expired", "url": null}));
    let intent = session["payment_intent"].as_str().map(str::to_owned);
    if let Some(intent) = intent.and_then(|pi| {
        state
            .payment_intents
            .iter_mut()
            .find(|p| p["id"] == pi.as_str())
    }) {
        if intent["status"] != "succeeded" && intent["status"] != "processing" {
            merge(
                intent,
                json!({"status": "canceled", "canceled_at": now, "cancellation_reason": "abandoned"}),
            );
        }
    }
}

fn create_refund(state: &mut State, request: &RecordedRequest, now: i64) -> Reply {
    let Some(pi) = request.form_value("payment_intent") else {
        return error(
            400,
            json!({"type": "invalid_request_error", "code": "parameter_missing",
            "message": "One of the following params should be provided for this request: payment_intent or charge."}),
        );
    };
    let Some(intent) = state
        .payment_intents
        .iter()
        .find(|p| p["id"] == pi)
        .cloned()
    else {
        return missing("payment_intent", pi);
    };
    if intent["status"] != "succeeded" {
        let message =
            format!("This PaymentIntent ({pi}) does not have a successful charge to refund.");
        return error(
            400,
            json!({"type": "invalid_request_error", "code": "charge_not_refundable", "message": message}),
        );
    }
    let amount = match request.form_value("amount") {
        Some(_) => match integer(request, "amount") {
            Ok(amount) => amount,
            Err(invalid) => return invalid,
        },
        None => intent["amount_received"].as_i64().unwrap_or(0),
    };
    state.objects_created += 1;
    let refund = json!({
        "id": format!("re_fake_{}", state.objects_created), "object": "refund", "amount": amount,
        "currency": intent["currency"], "payment_intent": pi, "charge": intent["latest_charge"],
        "reason": request.form_value("reason"), "status": "succeeded", "balance_transaction": null,
        "metadata": nested(request, "metadata"), "created": now,
    });
    state.refunds.push(refund.clone());
    (200, refund)
}

fn update_payment_intent(intent: &mut Value, request: &RecordedRequest) -> Reply {
    let status = intent["status"].as_str().unwrap_or_default().to_owned();
    let updatable = [
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
    ];
    if request.form_value("amount").is_some() && !updatable.contains(&status.as_str()) {
        let message = format!(
            "This PaymentIntent's amount could not be updated because it has a status of {status}."
        );
        return error(
            400,
            json!({"type": "invalid_request_error",
            "code": "payment_intent_unexpected_state", "message": message}),
        );
    }
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
    // Stripe cancels a PaymentIntent in these states only ("in rare cases, processing": not here).
    let cancelable = [
        "requires_payment_method",
        "requires_capture",
        "requires_confirmation",
        "requires_action",
    ];
    if !cancelable.contains(&status.as_str()) {
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

/// Sets the customer fields the request sent; metadata keys merge, an empty value removes one
/// (as at Stripe).
fn set_customer_fields(customer: &mut Value, request: &RecordedRequest) {
    for field in ["email", "name", "phone"] {
        if let Some(value) = request.form_value(field) {
            customer[field] = if value.is_empty() {
                Value::Null
            } else {
                json!(value)
            };
        }
    }
    if request.sent("address[") {
        customer["address"] = nested(request, "address");
    }
    if let Value::Object(sent) = nested(request, "metadata") {
        for (key, value) in sent {
            match value.as_str() {
                Some("") => {
                    object(&mut customer["metadata"]).remove(&key);
                }
                _ => {
                    object(&mut customer["metadata"]).insert(key, value);
                }
            }
        }
    }
}

/// Stripe refuses a `customer` it does not have (or deleted).
fn unknown_customer(state: &State, request: &RecordedRequest) -> Option<Reply> {
    let id = request.form_value("customer")?;
    let known = (state.customers.iter()).any(|c| c["id"] == id && c["deleted"] != true);
    (!known).then(|| missing("customer", id))
}

fn missing(object: &str, id: &str) -> Reply {
    let message = format!("No such {object}: '{id}'");
    error(
        404,
        json!({"type": "invalid_request_error", "code": "resource_missing",
        "param": "id", "message": message}),
    )
}

/// `object` with each field named in `expand[]` replaced by the balance transaction it names.
fn expanded(state: &State, request: &RecordedRequest, mut object: Value) -> Value {
    for (key, field) in decode_form(request.query.as_bytes()) {
        if !key.starts_with("expand[") {
            continue;
        }
        let txn = object[field.as_str()].as_str().map(str::to_owned);
        if let Some(txn) = txn.and_then(|t| state.balance_transactions.get(&t)) {
            object[field.as_str()] = txn.clone();
        }
    }
    object
}

/// `GET /v1/payment_intents?created[gte]=…`: see [`list_objects`].
fn list_payment_intents(state: &State, request: &RecordedRequest) -> Reply {
    let intents = state.payment_intents.clone();
    list_objects(state, request, "/v1/payment_intents", intents)
}

/// Objects in the order they were made, oldest first (`created`, then id).
fn by_creation<'a>(objects: impl Iterator<Item = &'a Value>) -> Vec<Value> {
    let mut objects: Vec<Value> = objects.cloned().collect();
    objects.sort_by_key(|o| (o["created"].as_i64(), o["id"].as_str().map(str::to_owned)));
    objects
}

/// A Stripe list endpoint over `objects` (oldest first): filtered by `created[gte]`,
/// `arrival_date[gte]` (payouts),
/// `payment_intent` and `charge`, newest first, `limit` a page (10 unless given),
/// `starting_after` the last id seen; `expand[]=data.latest_charge` inlines PaymentIntents'
/// charges.
fn list_objects(state: &State, request: &RecordedRequest, url: &str, objects: Vec<Value>) -> Reply {
    let query = decode_form(request.query.as_bytes());
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let since = |field: &str| -> i64 {
        param(&format!("{field}[gte]"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let (created, arrival) = (since("created"), since("arrival_date"));
    let limit: usize = param("limit").and_then(|l| l.parse().ok()).unwrap_or(10);
    let matches = |object: &Value, field: &str| {
        param(field).is_none_or(|wanted| object[field] == wanted.as_str())
    };
    let mut found: Vec<Value> = (objects.into_iter())
        .filter(|o| o["created"].as_i64().unwrap_or(0) >= created)
        .filter(|o| {
            let arrives = o["arrival_date"].as_i64().or(o["created"].as_i64());
            arrives.unwrap_or(0) >= arrival
        })
        .filter(|o| matches(o, "payment_intent") && matches(o, "charge") && matches(o, "email"))
        .collect();
    found.reverse();
    if let Some(after) = param("starting_after") {
        match found.iter().position(|o| o["id"] == after.as_str()) {
            Some(at) => found.drain(..=at).for_each(drop),
            None => return missing("object", &after),
        }
    }
    let has_more = found.len() > limit;
    let data: Vec<Value> = (found.into_iter().take(limit))
        .map(|o| with_latest_charge(state, request, "data.latest_charge", o))
        .collect();
    (
        200,
        json!({"object": "list", "url": url, "has_more": has_more, "data": data}),
    )
}

/// `object` with its `latest_charge` inlined when the request expands `path`.
fn with_latest_charge(
    state: &State,
    request: &RecordedRequest,
    path: &str,
    mut object: Value,
) -> Value {
    let query = decode_form(request.query.as_bytes());
    let expand = (query.iter()).any(|(k, v)| k.starts_with("expand[") && v == path);
    let charge = object["latest_charge"].as_str().map(str::to_owned);
    if let (true, Some(charge)) = (expand, charge.and_then(|c| state.charges.get(&c))) {
        object["latest_charge"] = charge.clone();
    }
    object
}

/// `GET /v1/balance_transactions?payout=…`: the transactions the payout paid out, in the order
/// they happened, listed like every list (see [`list_objects`]).
fn list_payout_transactions(state: &State, request: &RecordedRequest) -> Reply {
    let query = decode_form(request.query.as_bytes());
    let Some((_, payout)) = query.iter().find(|(k, _)| k == "payout") else {
        return unrecognized(request);
    };
    let paid_out: Vec<Value> = (state.payout_transactions.iter())
        .filter(|(p, _)| p == payout)
        .filter_map(|(_, txn)| state.balance_transactions.get(txn).cloned())
        .collect();
    list_objects(state, request, "/v1/balance_transactions", paid_out)
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

/// Merges `patch` into a PaymentIntent; one that succeeds received its amount unless `patch`
/// says otherwise.
fn patch_intent(intent: &mut Value, patch: Value) {
    let received = (patch["status"] == "succeeded" && patch.get("amount_received").is_none())
        .then(|| intent["amount"].clone());
    merge(intent, patch);
    if let Some(amount) = received {
        intent["amount_received"] = amount;
    }
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
