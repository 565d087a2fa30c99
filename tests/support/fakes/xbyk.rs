//! A fake of the paybridge package for Xperience by Kentico on loopback: the package's four
//! routes (`/paybridge/health`, one order, the order list, the status write-back), orders and
//! order statuses in memory, every request recorded, failures on demand.
//!
//! It refuses what the real package refuses, so a test that passes against it shows that
//! paybridge's XbyK connector speaks the contract: every request's `X-Paybridge-Signature` is
//! verified here, with `hmac` and `sha2` directly and not with paybridge's own code (message
//! `<t>.<METHOD> <path-and-query>\n<body>`, any `v1` matching any secret, `t` within 300 s);
//! the headers paybridge must send (`Accept: application/json`, `User-Agent: paybridge/…`,
//! `Content-Type: application/json` on a POST) are checked; the write-back's body is validated
//! field by field, its `event_id` makes it idempotent, and its status must be one the shop has.
//!
//! `PaybridgeData` (the optional order field the write-back merges into, when the shop added
//! it): a JSON object with the keys `paid` (boolean) and `payment_reference` (string), set when
//! the write sends them non-null, and the write's `details` keys (a null value removes its key);
//! other keys are kept. An order added with `PaybridgeData` as JSON text keeps it as text.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

/// The signature header (lower case, as recorded).
pub const SIGNATURE_HEADER: &str = "x-paybridge-signature";
/// How far `t` may be from the fake's clock, either direction.
pub const TOLERANCE_SECONDS: i64 = 300;
/// The largest write-back body the package reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// `package` and `version` of the health answer.
pub const PACKAGE_NAME: &str = "Paybridge.Xperience";
pub const PACKAGE_VERSION: &str = "1.0.0";

/// The order statuses the fake shop has by default: (ID, code name, display name). Every status
/// name paybridge writes with its default `KENTICO_STATUS_MAP` resolves among them (by code
/// name or display name, without case): "Pending Payment" → `PendingPayment`, "Payment
/// Failed" → `PaymentFailed`, "Payment pending" → `PaymentPending`, "Payment authorized" →
/// `PaymentAuthorized`, "Canceled", "Paid", "Partially refunded" → `PartiallyRefunded`,
/// "Refunded", "Disputed", "Chargeback".
pub const DEFAULT_STATUSES: [(i64, &str, &str); 14] = [
    (1, "New", "New"),
    (2, "InProgress", "In progress"),
    (3, "PaymentPending", "Payment pending"),
    (4, "PaymentAuthorized", "Payment authorized"),
    (5, "Paid", "Paid"),
    (6, "PaymentFailed", "Payment failed"),
    (7, "Canceled", "Canceled"),
    (8, "Completed", "Completed"),
    (9, "Refunded", "Refunded"),
    (10, "PartiallyRefunded", "Partially refunded"),
    (11, "Disputed", "Disputed"),
    (12, "RequiresAction", "Requires action"),
    (13, "PendingPayment", "Pending payment"),
    (14, "Chargeback", "Chargeback"),
];

/// One order status of the fake shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XbykStatus {
    /// `OrderStatusID`.
    pub id: i64,
    /// `OrderStatusName`: what the write-back sends and the answers carry.
    pub code_name: String,
    /// `OrderStatusDisplayName`: also accepted in a write.
    pub display_name: String,
}

/// One request the fake received, with how it was answered.
#[derive(Debug, Clone, PartialEq)]
pub struct XbykRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path as received (percent-encoding kept), e.g. `/paybridge/orders/…/status`.
    pub path: String,
    /// The raw query string without `?`, e.g. `modified_since=…&after_id=0&limit=100`.
    pub query: String,
    /// Headers with lower-case names.
    pub headers: BTreeMap<String, String>,
    /// The body as JSON; a body that is not JSON is kept as a JSON string; `None` when empty.
    pub body: Option<Value>,
    /// The status the fake answered with.
    pub status: u16,
    /// Why the fake refused the request (its own 401 or 400 answer), if it did.
    pub refused: Option<String>,
    /// The answer came from [`FakeXbyk::fail_next`].
    pub injected: bool,
}

/// A write-back the fake applied, remembered under its `event_id`.
struct Applied {
    guid: String,
    body: Value,
    answer: Value,
}

#[derive(Default)]
struct Store {
    secrets: Vec<String>,
    /// By lower-case dashed `OrderGUID`.
    orders: BTreeMap<String, Value>,
    statuses: Vec<XbykStatus>,
    paybridge_data_field: bool,
    requests: Vec<XbykRequest>,
    failures: VecDeque<(u16, String)>,
    applied: HashMap<String, Applied>,
    writes: Vec<Value>,
    /// (order GUID, code name set), in order.
    status_changes: Vec<(String, String)>,
    reused_event_ids: Vec<String>,
}

/// A running fake XbyK app with the paybridge package; it stops when dropped.
pub struct FakeXbyk {
    /// The XbyK app's root to use as `KENTICO_BASE_URL` (no trailing slash).
    pub base_url: String,
    /// Faults injected in front of every request (none until a plan is installed).
    pub faults: super::faults::Faults,
    store: Arc<Mutex<Store>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeXbyk {
    /// Starts the fake on 127.0.0.1 with the default statuses and the `PaybridgeData` field,
    /// accepting requests signed with any of `secrets` (`Paybridge:WebhookSecrets`).
    pub async fn start(secrets: &[&str]) -> FakeXbyk {
        assert!(!secrets.is_empty(), "the fake XbyK package needs a secret");
        let store = Arc::new(Mutex::new(Store {
            secrets: secrets.iter().map(|s| s.to_string()).collect(),
            statuses: statuses_of(DEFAULT_STATUSES.to_vec()),
            paybridge_data_field: true,
            ..Store::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("local address");
        let faults = super::faults::Faults::default();
        let app = Router::new()
            .fallback(handle)
            .with_state(store.clone())
            .layer(axum::middleware::from_fn_with_state(
                faults.clone(),
                super::faults::inject,
            ));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake XbyK server");
        });
        FakeXbyk {
            base_url: format!("http://{address}"),
            faults,
            store,
            server,
        }
    }

    /// Stores an XbyK order object (the columns of an event's `data.object`: `OrderID`,
    /// `OrderGUID`, `OrderNumber`, `OrderGrandTotal`, `OrderStatusName`, `OrderOrderStatusID`,
    /// `OrderModifiedWhen`, `OrderItems`, `OrderAddresses`, `Customer`, …), keyed by its
    /// `OrderGUID` (braces and case normalized). It needs a numeric `OrderID` for the list.
    pub fn add_order(&self, order: Value) {
        let raw = order["OrderGUID"]
            .as_str()
            .expect("the order needs an OrderGUID string");
        let guid = parse_guid(raw).expect("the order's OrderGUID must be a dashed GUID");
        id_of(&order, "OrderID").expect("the order needs a numeric OrderID");
        self.lock().orders.insert(guid, order);
    }

    /// The order as it is now, after any writes (`guid` in any case, with or without braces).
    pub fn order(&self, guid: &str) -> Option<Value> {
        let guid = parse_guid(guid)?;
        self.lock().orders.get(&guid).cloned()
    }

    /// Every request so far, in arrival order, refused and failed ones included (not those a
    /// fault plan answered before the fake saw them).
    pub fn requests(&self) -> Vec<XbykRequest> {
        self.lock().requests.clone()
    }

    /// How many requests the fake refused itself (its 401 and 400 answers).
    pub fn refused(&self) -> usize {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.refused.is_some())
            .count()
    }

    /// The write-back bodies the fake applied, in order (replays and refused writes excluded).
    pub fn writes(&self) -> Vec<Value> {
        self.lock().writes.clone()
    }

    /// The status code names set on this order, in order: each is a notification Kentico would
    /// send (a write whose status the order already has sets nothing).
    pub fn status_changes(&self, guid: &str) -> Vec<String> {
        let Some(guid) = parse_guid(guid) else {
            return Vec::new();
        };
        let store = self.lock();
        (store.status_changes.iter())
            .filter(|(g, _)| *g == guid)
            .map(|(_, status)| status.clone())
            .collect()
    }

    /// `event_id`s that came again with another order or another body: two different writes
    /// under one idempotency key (the package answers the first write's answer and writes
    /// nothing; a connector that does this loses writes).
    pub fn reused_event_ids(&self) -> Vec<String> {
        self.lock().reused_event_ids.clone()
    }

    /// Forgets the applied `event_id`s, as a restart of the XbyK app does.
    pub fn forget_event_ids(&self) {
        self.lock().applied.clear();
    }

    /// The next `count` requests are answered with `status` and this body (as JSON when it is
    /// JSON, else as text), before any check.
    pub fn fail_next(&self, count: usize, status: u16, body: &str) {
        let mut store = self.lock();
        store
            .failures
            .extend(std::iter::repeat_n((status, body.to_string()), count));
    }

    /// Drops the failures `fail_next` queued and not yet answered.
    pub fn clear_failures(&self) {
        self.lock().failures.clear();
    }

    /// Replaces the order statuses: (ID, code name, display name), in the admin's order.
    pub fn set_statuses(&self, statuses: Vec<(i64, &str, &str)>) {
        self.lock().statuses = statuses_of(statuses);
    }

    /// The order statuses the shop has now.
    pub fn statuses(&self) -> Vec<XbykStatus> {
        self.lock().statuses.clone()
    }

    /// Whether the shop added the `PaybridgeData` field to the order class (default true).
    pub fn set_paybridge_data_field(&self, present: bool) {
        self.lock().paybridge_data_field = present;
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for FakeXbyk {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn statuses_of(statuses: Vec<(i64, &str, &str)>) -> Vec<XbykStatus> {
    statuses
        .into_iter()
        .map(|(id, code, display)| XbykStatus {
            id,
            code_name: code.to_string(),
            display_name: display.to_string(),
        })
        .collect()
}

/// The lower-case hex HMAC-SHA256 of `<t>.<METHOD> <target>\n<body>` with `secret`: one `v1`.
pub fn sign_v1(secret: &str, t: i64, method: &str, target: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{t}.{method} {target}\n").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A whole `X-Paybridge-Signature` value: `t=<t>,v1=<hex>` with one `v1` per secret.
pub fn signature_header(
    secrets: &[&str],
    t: i64,
    method: &str,
    target: &str,
    body: &[u8],
) -> String {
    let mut header = format!("t={t}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&sign_v1(secret, t, method, target, body));
    }
    header
}

/// The package's check of `X-Paybridge-Signature` (`header`: its raw value, `None` when
/// absent) at `now` (Unix seconds); the error says which check failed.
pub fn verify_signature(
    secrets: &[String],
    header: Option<&[u8]>,
    method: &str,
    target: &str,
    body: &[u8],
    now: i64,
) -> Result<(), String> {
    let Some(header) = header else {
        return Err("the X-Paybridge-Signature header is missing".into());
    };
    let Ok(header) = std::str::from_utf8(header) else {
        return Err("the X-Paybridge-Signature header is malformed: not text".into());
    };
    let mut t = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            return Err(format!(
                "the X-Paybridge-Signature header is malformed: '{}' is not key=value",
                part.trim()
            ));
        };
        match key {
            "t" if t.is_some() => {
                return Err("the X-Paybridge-Signature header is malformed: two t values".into());
            }
            "t" => t = Some(value),
            "v1" => signatures.push(value),
            _ => {}
        }
    }
    let Some(t_raw) = t else {
        return Err("the X-Paybridge-Signature header is malformed: no t=".into());
    };
    let t = t_raw
        .parse::<i64>()
        .ok()
        .filter(|t| *t >= 0 && t.to_string() == t_raw);
    let Some(t) = t else {
        return Err(format!(
            "the X-Paybridge-Signature header is malformed: t='{t_raw}' is not Unix seconds"
        ));
    };
    if signatures.is_empty() {
        return Err("the X-Paybridge-Signature header is malformed: no v1=".into());
    }
    let skew = now.abs_diff(t);
    if skew > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(format!(
            "timestamp outside tolerance: t={t} is {skew} s from the server's clock \
             (at most {TOLERANCE_SECONDS} s)"
        ));
    }
    let expected: Vec<String> = secrets
        .iter()
        .map(|secret| sign_v1(secret, t, method, target, body))
        .collect();
    if signatures
        .iter()
        .any(|given| expected.iter().any(|e| e == given))
    {
        Ok(())
    } else {
        Err(format!(
            "no matching signature: none of the {} v1 value(s) is the HMAC of '{t}.{method} \
             {target}\\n<body>' with any of the {} secret(s)",
            signatures.len(),
            secrets.len()
        ))
    }
}

/// An answer of the fake: status and JSON body.
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    fn ok(body: Value) -> Answer {
        Answer { status: 200, body }
    }

    fn error(status: u16, error: &str, message: impl Into<String>) -> Answer {
        let message: String = message.into();
        Answer {
            status,
            body: json!({"error": error, "message": message}),
        }
    }

    fn bad_request(message: impl Into<String>) -> Answer {
        Answer::error(400, "bad_request", message)
    }

    fn order_not_found() -> Answer {
        Answer {
            status: 404,
            body: json!({"error": "order_not_found"}),
        }
    }

    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.body)).into_response()
    }
}

async fn handle(
    State(store): State<Arc<Mutex<Store>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut store = store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut request = XbykRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: (!body.is_empty()).then(|| {
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()))
        }),
        status: 0,
        refused: None,
        injected: false,
    };
    if let Some((status, text)) = store.failures.pop_front() {
        request.status = status;
        request.injected = true;
        store.requests.push(request);
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let content_type = match serde_json::from_str::<Value>(&text) {
            Ok(_) => "application/json; charset=utf-8",
            Err(_) => "text/plain; charset=utf-8",
        };
        return (
            status,
            [(axum::http::header::CONTENT_TYPE, content_type)],
            text,
        )
            .into_response();
    }
    // The request target exactly as received: the path with its percent-encoding, then
    // `?query` when there is one.
    let target = match uri.path_and_query() {
        Some(path_and_query) => path_and_query.as_str().to_string(),
        None => uri.path().to_string(),
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let signature = headers.get(SIGNATURE_HEADER).map(|v| v.as_bytes());
    let answer = match verify_signature(
        &store.secrets,
        signature,
        method.as_str(),
        &target,
        &body,
        now,
    ) {
        Err(message) => Answer::error(401, "signature_invalid", message),
        Ok(()) => match check_headers(&method, &headers) {
            Err(message) => Answer::bad_request(message),
            Ok(()) => route(&mut store, &method, &uri, &body),
        },
    };
    request.status = answer.status;
    if matches!(answer.status, 400 | 401) {
        request.refused = Some(
            (answer.body["message"].as_str())
                .unwrap_or("refused")
                .to_string(),
        );
    }
    store.requests.push(request);
    answer.into_response()
}

/// The media type of a header value, without parameters, in lower case.
fn media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The headers paybridge must send besides the signature.
fn check_headers(method: &Method, headers: &HeaderMap) -> Result<(), String> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let accept = text("accept");
    if !accept.is_some_and(|v| v.split(',').any(|m| media_type(m) == "application/json")) {
        return Err(format!(
            "Accept must be application/json (got {})",
            accept.map_or("none".to_string(), |v| format!("'{v}'"))
        ));
    }
    let agent = text("user-agent");
    if !agent.is_some_and(|v| v.len() > "paybridge/".len() && v.starts_with("paybridge/")) {
        return Err(format!(
            "User-Agent must be paybridge/<version> (got {})",
            agent.map_or("none".to_string(), |v| format!("'{v}'"))
        ));
    }
    if method == Method::POST {
        let content_type = text("content-type");
        if !content_type.is_some_and(|v| media_type(v) == "application/json") {
            return Err(format!(
                "Content-Type must be application/json on a POST (got {})",
                content_type.map_or("none".to_string(), |v| format!("'{v}'"))
            ));
        }
    }
    Ok(())
}

fn route(store: &mut Store, method: &Method, uri: &Uri, body: &[u8]) -> Answer {
    let path = uri.path();
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["paybridge", "health"]) => Answer::ok(json!({
            "package": PACKAGE_NAME,
            "version": PACKAGE_VERSION,
            "statuses": code_names(&store.statuses),
        })),
        ("GET", ["paybridge", "orders"]) => list(store, uri.query().unwrap_or_default()),
        ("GET", ["paybridge", "orders", guid]) => match parse_guid(guid) {
            None => Answer::bad_request(format!("'{guid}' is not a GUID")),
            Some(guid) => match store.orders.get(&guid) {
                Some(order) => Answer::ok(order.clone()),
                None => Answer::order_not_found(),
            },
        },
        ("POST", ["paybridge", "orders", guid, "status"]) => write(store, guid, body),
        _ => Answer {
            status: 404,
            body: json!({"error": "not_found", "message": format!("no route {method} {path}")}),
        },
    }
}

fn code_names(statuses: &[XbykStatus]) -> Vec<String> {
    statuses.iter().map(|s| s.code_name.clone()).collect()
}

/// `%XX` decoded (a path segment).
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A dashed GUID, any case, with or without braces (percent-encoded or not), as the lower-case
/// dashed form; `None` for anything else.
pub fn parse_guid(raw: &str) -> Option<String> {
    let decoded = percent_decode(raw.trim());
    let inner = (decoded.strip_prefix('{'))
        .and_then(|rest| rest.strip_suffix('}'))
        .unwrap_or(&decoded);
    let bytes = inner.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let well_formed = bytes.iter().enumerate().all(|(i, b)| match i {
        8 | 13 | 18 | 23 => *b == b'-',
        _ => b.is_ascii_hexdigit(),
    });
    well_formed.then(|| inner.to_ascii_lowercase())
}

fn id_of(object: &Value, column: &str) -> Option<i64> {
    match object.get(column)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Now as XbyK stamps `OrderModifiedWhen`: `yyyy-MM-ddTHH:mm:ssZ`, UTC.
fn now_stamp() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `modified_since`: RFC 3339 in UTC (`Z` or `+00:00`).
fn parse_utc(raw: &str) -> Option<time::OffsetDateTime> {
    let parsed =
        time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339).ok()?;
    parsed.offset().is_utc().then_some(parsed)
}

/// An order's `OrderModifiedWhen`: RFC 3339, or an ISO date-time without offset read as UTC.
fn modified_when(order: &Value) -> Option<time::OffsetDateTime> {
    let raw = order.get("OrderModifiedWhen")?.as_str()?.trim();
    if let Ok(t) = time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
    {
        return Some(t);
    }
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    time::PrimitiveDateTime::parse(raw, &format)
        .ok()
        .map(time::PrimitiveDateTime::assume_utc)
}

/// `GET /paybridge/orders?modified_since=…&after_id=…&limit=…`.
fn list(store: &Store, query: &str) -> Answer {
    let params: BTreeMap<String, String> = (super::decode_form(query.as_bytes()).into_iter())
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    let since = match params.get("modified_since") {
        None => return Answer::bad_request("modified_since is required"),
        Some(raw) => match parse_utc(raw) {
            Some(since) => since,
            None => {
                return Answer::bad_request(format!(
                    "modified_since '{raw}' is not an RFC 3339 date-time in UTC"
                ));
            }
        },
    };
    let after_id = match params.get("after_id") {
        None => 0,
        Some(raw) => match raw.parse::<i64>() {
            Ok(id) if id >= 0 => id,
            _ => {
                return Answer::bad_request(format!(
                    "after_id '{raw}' is not a non-negative integer"
                ));
            }
        },
    };
    let limit = match params.get("limit") {
        None => 100,
        Some(raw) => match raw.parse::<usize>() {
            Ok(limit) if (1..=100).contains(&limit) => limit,
            _ => return Answer::bad_request(format!("limit '{raw}' is not an integer 1..100")),
        },
    };
    let mut rows: Vec<(i64, &Value)> = (store.orders.values())
        .filter_map(|order| Some((id_of(order, "OrderID")?, order)))
        .filter(|(id, _)| *id > after_id)
        .filter(|(_, order)| modified_when(order).is_some_and(|when| when >= since))
        .collect();
    rows.sort_by_key(|(id, _)| *id);
    let orders: Vec<Value> = rows
        .into_iter()
        .take(limit)
        .map(|(_, order)| order.clone())
        .collect();
    Answer::ok(json!({ "orders": orders }))
}

/// A write-back body, checked.
struct Write {
    event_id: String,
    status: Option<String>,
    paid: Option<bool>,
    payment_reference: Option<String>,
    details: Vec<(String, Option<String>)>,
    body: Value,
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn optional_string(object: &Map<String, Value>, field: &str) -> Result<Option<String>, String> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "{field} must be a string or null, not {}",
            kind(other)
        )),
    }
}

fn parse_write(body: &[u8]) -> Result<Write, String> {
    if body.len() > MAX_BODY_BYTES {
        return Err(format!(
            "the body is {} bytes; at most {MAX_BODY_BYTES}",
            body.len()
        ));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Some(object) = value.as_object() else {
        return Err(format!(
            "the body must be a JSON object, not {}",
            kind(&value)
        ));
    };
    let event_id = match object.get("event_id") {
        None => return Err("event_id is required".into()),
        Some(Value::String(id)) => {
            let length = id.chars().count();
            if !(1..=200).contains(&length) {
                return Err(format!("event_id must be 1–200 characters, not {length}"));
            }
            id.clone()
        }
        Some(other) => return Err(format!("event_id must be a string, not {}", kind(other))),
    };
    let status = optional_string(object, "status")?;
    let paid = match object.get("paid") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(paid)) => Some(*paid),
        Some(other) => {
            return Err(format!(
                "paid must be a boolean or null, not {}",
                kind(other)
            ));
        }
    };
    let payment_reference = optional_string(object, "payment_reference")?;
    let details = match object.get("details") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(details)) => {
            let mut pairs = Vec::with_capacity(details.len());
            for (key, value) in details {
                match value {
                    Value::Null => pairs.push((key.clone(), None)),
                    Value::String(s) => pairs.push((key.clone(), Some(s.clone()))),
                    other => {
                        return Err(format!(
                            "details.{key} must be a string or null, not {}",
                            kind(other)
                        ));
                    }
                }
            }
            pairs
        }
        Some(other) => return Err(format!("details must be an object, not {}", kind(other))),
    };
    Ok(Write {
        event_id,
        status,
        paid,
        payment_reference,
        details,
        body: value,
    })
}

/// A status name as the package resolves it: the code name, else the display name, no case.
fn resolve<'a>(statuses: &'a [XbykStatus], name: &str) -> Option<&'a XbykStatus> {
    let name = name.trim();
    (statuses
        .iter()
        .find(|s| s.code_name.eq_ignore_ascii_case(name)))
    .or_else(|| (statuses.iter()).find(|s| s.display_name.to_lowercase() == name.to_lowercase()))
}

/// The order's status now: by `OrderOrderStatusID`, else by `OrderStatusName`.
fn current_status<'a>(statuses: &'a [XbykStatus], order: &Value) -> Option<&'a XbykStatus> {
    match id_of(order, "OrderOrderStatusID") {
        Some(id) => statuses.iter().find(|s| s.id == id),
        None => order["OrderStatusName"]
            .as_str()
            .and_then(|name| resolve(statuses, name)),
    }
}

/// Merges the write into `PaybridgeData`; whether it changed.
fn merge_paybridge_data(order: &mut Value, write: &Write) -> bool {
    let (mut data, as_text) = match order.get("PaybridgeData") {
        Some(Value::Object(data)) => (data.clone(), false),
        Some(Value::String(text)) => (serde_json::from_str(text).unwrap_or_default(), true),
        _ => (Map::new(), false),
    };
    let before = data.clone();
    if let Some(paid) = write.paid {
        data.insert("paid".into(), json!(paid));
    }
    if let Some(reference) = &write.payment_reference {
        data.insert("payment_reference".into(), json!(reference));
    }
    for (key, value) in &write.details {
        match value {
            Some(value) => data.insert(key.clone(), json!(value)),
            None => data.remove(key),
        };
    }
    if data == before {
        return false;
    }
    order["PaybridgeData"] = if as_text {
        Value::String(Value::Object(data).to_string())
    } else {
        Value::Object(data)
    };
    true
}

/// `POST /paybridge/orders/{orderGuid}/status`, in the package's order of checks.
fn write(store: &mut Store, raw_guid: &str, body: &[u8]) -> Answer {
    let Some(guid) = parse_guid(raw_guid) else {
        return Answer::bad_request(format!("'{raw_guid}' is not a GUID"));
    };
    let write = match parse_write(body) {
        Ok(write) => write,
        Err(message) => return Answer::bad_request(message),
    };
    if let Some(applied) = store.applied.get(&write.event_id) {
        let mut answer = applied.answer.clone();
        answer["replayed"] = json!(true);
        if applied.guid != guid || applied.body != write.body {
            store.reused_event_ids.push(write.event_id.clone());
        }
        return Answer::ok(answer);
    }
    let data_field = store.paybridge_data_field;
    let Store {
        orders, statuses, ..
    } = &mut *store;
    let Some(order) = orders.get_mut(&guid) else {
        return Answer::order_not_found();
    };
    let wanted = match &write.status {
        None => None,
        Some(name) => match resolve(statuses, name) {
            Some(status) => Some(status.clone()),
            None => {
                return Answer {
                    status: 422,
                    body: json!({"error": "unknown_status", "status": name,
                                 "known_statuses": code_names(statuses)}),
                };
            }
        },
    };
    let current = current_status(statuses, order).cloned();
    let status_changed = match &wanted {
        Some(status) if current.as_ref().map(|c| c.id) != Some(status.id) => {
            order["OrderOrderStatusID"] = json!(status.id);
            order["OrderStatusName"] = json!(status.code_name);
            true
        }
        _ => false,
    };
    let data_changed = data_field && merge_paybridge_data(order, &write);
    if status_changed || data_changed {
        order["OrderModifiedWhen"] = json!(now_stamp());
    }
    let status_now = wanted.or(current).map(|s| s.code_name);
    let answer = json!({"order_guid": guid, "status": status_now,
                        "status_changed": status_changed, "replayed": false});
    if status_changed && let Some(status) = &status_now {
        store.status_changes.push((guid.clone(), status.clone()));
    }
    store.writes.push(write.body.clone());
    store.applied.insert(
        write.event_id,
        Applied {
            guid,
            body: write.body,
            answer: answer.clone(),
        },
    );
    Answer::ok(answer)
}
