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

    /// Replaces the secrets the package accepts (`Paybridge:WebhookSecrets` changed).
    pub fn set_secrets(&self, secrets: &[&str]) {
        self.lock().secrets = secrets.iter().map(|s| s.to_string()).collect();
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

/// A complete XbyK order object (as an event's `data.object` carries it) that paybridge reads:
/// `OrderGrandTotal` 129.90 (two lines, shipping 10.00), status `New` (ID 1), modified now, a
/// billing and a shipping address, a customer. Change columns as a test needs.
pub fn sample_order(id: i64, guid: &str) -> Value {
    json!({
        "OrderID": id,
        "OrderGUID": guid,
        "OrderNumber": format!("ORD-2026-{id:06}"),
        "OrderCustomerID": 77,
        "OrderGrandTotal": "129.90",
        "OrderTotalPrice": "119.90",
        "OrderTotalTax": "0.00",
        "OrderTotalShipping": "10.00",
        "OrderOrderStatusID": 1,
        "OrderStatusName": "New",
        "OrderCreatedWhen": now_stamp(),
        "OrderModifiedWhen": now_stamp(),
        "OrderItems": [
            {"OrderItemSKU": "EG-100", "OrderItemName": "Espresso Grinder",
             "OrderItemQuantity": "2", "OrderItemUnitPrice": "49.95",
             "OrderItemTotalPrice": "99.90"},
            {"OrderItemSKU": "FP-20", "OrderItemName": "Filter Pack",
             "OrderItemQuantity": "1", "OrderItemUnitPrice": "20.00",
             "OrderItemTotalPrice": "20.00"}
        ],
        "OrderAddresses": [
            {"OrderAddressType": "Billing", "OrderAddressFirstName": "Ada",
             "OrderAddressLastName": "Lovelace", "OrderAddressCompany": "",
             "OrderAddressEmail": "ada@example.com", "OrderAddressLine1": "1 Navy Way",
             "OrderAddressLine2": "", "OrderAddressCity": "Arlington", "OrderAddressZip": "22202",
             "OrderAddressState": "VA", "OrderAddressCountry": "US",
             "OrderAddressPhone": "+1 703 555 0100"},
            {"OrderAddressType": "Shipping", "OrderAddressFirstName": "Ada",
             "OrderAddressLastName": "Lovelace", "OrderAddressCompany": "",
             "OrderAddressEmail": "ada@example.com", "OrderAddressLine1": "1 Navy Way",
             "OrderAddressLine2": "", "OrderAddressCity": "Arlington", "OrderAddressZip": "22202",
             "OrderAddressState": "VA", "OrderAddressCountry": "US",
             "OrderAddressPhone": "+1 703 555 0100"}
        ],
        "Customer": {"CustomerID": 77, "CustomerGUID": "0b7f3a52-8f87-4c1e-b0a4-1d5c3e2f9a10",
                     "CustomerEmail": "ada@example.com", "CustomerFirstName": "Ada",
                     "CustomerLastName": "Lovelace", "CustomerPhone": "+1 703 555 0100"}
    })
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
    mac.update(format!("{t}.{method} {target}.").as_bytes());
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
             {target}.<body>' with any of the {} secret(s)",
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
        if content_type.is_none_or(|v| media_type(v) != "application/json") {
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
            "statuses": store.statuses.iter()
                .map(|s| json!({"name": s.code_name, "display_name": s.display_name}))
                .collect::<Vec<_>>(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    const SECRET: &str = "whsec_fake_xbyk_current";
    const OLD_SECRET: &str = "whsec_fake_xbyk_rotated_out";

    /// The test's own signer, with `hmac` directly (not the fake's helper).
    fn hmac_hex(secret: &str, t: i64, method: &str, target: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        let mut message = format!("{t}.{method} {target}.").into_bytes();
        message.extend_from_slice(body);
        mac.update(&message);
        hex::encode(mac.finalize().into_bytes())
    }

    fn header(secret: &str, t: i64, method: &str, target: &str, body: &str) -> String {
        format!(
            "t={t},v1={}",
            hmac_hex(secret, t, method, target, body.as_bytes())
        )
    }

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    fn guid(n: u32) -> String {
        format!("2b4e8d0c-93f1-4c52-8a6e-{n:012x}")
    }

    fn order(id: i64, guid: &str, modified: &str) -> Value {
        json!({
            "OrderID": id,
            "OrderGUID": guid,
            "OrderNumber": format!("XB-{id:05}"),
            "OrderCustomerID": 7,
            "OrderGrandTotal": "129.90",
            "OrderTotalPrice": "129.90",
            "OrderOrderStatusID": 1,
            "OrderStatusName": "New",
            "OrderCreatedWhen": "2026-11-01T10:00:00Z",
            "OrderModifiedWhen": modified,
            "OrderItems": [{"OrderItemSKU": "MUG-1", "OrderItemName": "Mug",
                            "OrderItemQuantity": "1", "OrderItemUnitPrice": "129.90",
                            "OrderItemTotalPrice": "129.90"}],
            "OrderAddresses": [{"OrderAddressType": "Billing", "OrderAddressFirstName": "Zoë",
                                "OrderAddressLastName": "Novák", "OrderAddressLine1": "Main 1",
                                "OrderAddressCity": "Brno", "OrderAddressZip": "60200",
                                "OrderAddressCountry": "CZ"}],
            "Customer": {"CustomerID": 7, "CustomerEmail": "zoe@example.com",
                         "CustomerFirstName": "Zoë", "CustomerLastName": "Novák"},
        })
    }

    /// A request with the headers paybridge sends, not yet signed.
    fn request(
        fake: &FakeXbyk,
        method: &str,
        target: &str,
        body: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut builder = reqwest::Client::new()
            .request(method, format!("{}{target}", fake.base_url))
            .header("accept", "application/json")
            .header("user-agent", "paybridge/0.1.0");
        if let Some(body) = body {
            builder = builder
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        builder
    }

    async fn send(builder: reqwest::RequestBuilder) -> (u16, Value) {
        let response = builder.send().await.expect("the fake answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("an answer body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// Signed with [`SECRET`] now, as paybridge sends it.
    async fn signed(
        fake: &FakeXbyk,
        method: &str,
        target: &str,
        body: Option<&str>,
    ) -> (u16, Value) {
        let signature = header(SECRET, now(), method, target, body.unwrap_or_default());
        send(request(fake, method, target, body).header("x-paybridge-signature", signature)).await
    }

    async fn write(fake: &FakeXbyk, guid: &str, body: &Value) -> (u16, Value) {
        let target = format!("/paybridge/orders/{guid}/status");
        signed(fake, "POST", &target, Some(&body.to_string())).await
    }

    async fn started() -> FakeXbyk {
        FakeXbyk::start(&[SECRET, OLD_SECRET]).await
    }

    #[test]
    fn the_signature_scheme_reproduces_the_contract_test_vector() {
        let first = "Hq3vX9mL2pR7tY4wZ8nB1cD6fG0jK5sA3eU7iO9yT2rW4qE6";
        let second = "N2bV6cX8zL1kJ4hG7fD9sA3pO5iU0yT6rE2wQ8mB4nZ1xC3v";
        let t = 1_764_417_600;
        let post_target = "/paybridge/orders/2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29/status";
        let post_body = "{\"event_id\":\"pbw_0f3a9c1d2e4b5a6978800a1b2c3d4e5f\",\"status\":\"Paid\",\
                         \"paid\":true,\"payment_reference\":\"pi_3QxYzA2eZvKYlo2C1a2b3c4d\",\
                         \"details\":{\"StripePaymentStatus\":\"succeeded\",\
                         \"StripeDeclineReason\":\"Zo\u{eb}'s card \u{2014} \u{201c}declined\u{201d}\"}}";
        assert_eq!(post_body.len(), 230, "the contract's body is 230 bytes");
        assert_eq!(
            hex::encode(Sha256::digest(post_body.as_bytes())),
            "6499d55433d186a2ad6938dc6d014301cd160c293f983b27907a01683df43c6d"
        );
        let get_target =
            "/paybridge/orders?modified_since=2026-11-30T12%3A00%3A00Z&after_id=0&limit=100";
        let cases = [
            (
                "POST",
                post_target,
                post_body,
                first,
                "b3a928e99d6e1f396c5ccffc12b71adeb8bb84507781af2e37ff336c29c7a6bf",
            ),
            (
                "POST",
                post_target,
                post_body,
                second,
                "bae32d592664ade5f099525ca7df546bb279fe297590a66ffa42f50aa811c42f",
            ),
            (
                "GET",
                get_target,
                "",
                first,
                "179fc910615b141e7df41d2f4f2e2b68da67b71fcad4b019462285bfb4b3f331",
            ),
            (
                "GET",
                get_target,
                "",
                second,
                "5deaae0f66d79dfaa20868b71d92f09ba241a057ecd3bb09fdfbf4d2fc7b703d",
            ),
        ];
        let secrets = vec![first.to_string(), second.to_string()];
        for (method, target, body, secret, expected) in cases {
            assert_eq!(
                sign_v1(secret, t, method, target, body.as_bytes()),
                expected,
                "{method}"
            );
            assert_eq!(
                hmac_hex(secret, t, method, target, body.as_bytes()),
                expected
            );
            // The fake accepts exactly this v1 within the tolerance, and only for this request.
            let header = format!("t={t},v1={expected}");
            let verify = |method: &str, target: &str, body: &str, now: i64| {
                verify_signature(
                    &secrets,
                    Some(header.as_bytes()),
                    method,
                    target,
                    body.as_bytes(),
                    now,
                )
            };
            assert_eq!(verify(method, target, body, t), Ok(()));
            assert_eq!(verify(method, target, body, t + 300), Ok(()));
            assert_eq!(verify(method, target, body, t - 300), Ok(()));
            let late = verify(method, target, body, t + 301).expect_err("too late");
            assert!(late.contains("timestamp outside tolerance"), "{late}");
            let early = verify(method, target, body, t - 301).expect_err("too early");
            assert!(early.contains("timestamp outside tolerance"), "{early}");
            let other_method = if method == "GET" { "POST" } else { "GET" };
            let tampered = verify(other_method, target, body, t).expect_err("method bound");
            assert!(tampered.contains("no matching signature"), "{tampered}");
            let tampered = verify(method, &format!("{target}x"), body, t).expect_err("path bound");
            assert!(tampered.contains("no matching signature"), "{tampered}");
            let tampered = verify(method, target, &format!("{body} "), t).expect_err("body bound");
            assert!(tampered.contains("no matching signature"), "{tampered}");
            let upper = format!("t={t},v1={}", expected.to_uppercase());
            let refused = verify_signature(
                &secrets,
                Some(upper.as_bytes()),
                method,
                target,
                body.as_bytes(),
                t,
            );
            assert!(refused.is_err(), "v1 is lower-case hex, compared exactly");
        }
        let both = signature_header(
            &[first, second],
            t,
            "POST",
            post_target,
            post_body.as_bytes(),
        );
        assert_eq!(
            both,
            "t=1764417600,v1=b3a928e99d6e1f396c5ccffc12b71adeb8bb84507781af2e37ff336c29c7a6bf,\
             v1=bae32d592664ade5f099525ca7df546bb279fe297590a66ffa42f50aa811c42f"
        );
        // Only the second secret known (the first rotated out): the second v1 still matches.
        let only_second = vec![second.to_string()];
        let verified = verify_signature(
            &only_second,
            Some(both.as_bytes()),
            "POST",
            post_target,
            post_body.as_bytes(),
            t,
        );
        assert_eq!(verified, Ok(()));
    }

    #[tokio::test]
    async fn a_signed_request_is_served_and_health_lists_the_statuses() {
        let fake = started().await;
        let (status, body) = signed(&fake, "GET", "/paybridge/health", None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["package"], "Paybridge.Xperience");
        assert_eq!(body["version"], "1.0.0");
        let listed: Vec<Value> = (DEFAULT_STATUSES.iter())
            .map(|(_, code, display)| json!({"name": code, "display_name": display}))
            .collect();
        assert_eq!(body["statuses"], json!(listed));
        let requests = fake.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].method, "GET");
        assert_eq!(requests[0].path, "/paybridge/health");
        assert_eq!(requests[0].status, 200);
        assert_eq!(requests[0].refused, None);
        assert!(requests[0].headers.contains_key(SIGNATURE_HEADER));
        assert_eq!(requests[0].headers["user-agent"], "paybridge/0.1.0");
        assert_eq!(fake.refused(), 0);

        fake.set_statuses(vec![(1, "Open", "Open"), (2, "Shipped", "Shipped out")]);
        let (_, body) = signed(&fake, "GET", "/paybridge/health", None).await;
        assert_eq!(
            body["statuses"],
            json!([{"name": "Open", "display_name": "Open"},
                   {"name": "Shipped", "display_name": "Shipped out"}])
        );
    }

    #[tokio::test]
    async fn a_missing_malformed_expired_or_unmatched_signature_is_401() {
        let fake = started().await;
        let target = "/paybridge/health";
        let good = hmac_hex(SECRET, now(), "GET", target, b"");
        let cases: Vec<(Option<String>, &str)> = vec![
            (None, "missing"),
            (Some(String::new()), "malformed"),
            (Some("garbage".into()), "malformed"),
            (Some(format!("v1={good}")), "no t="),
            (Some(format!("t={}", now())), "no v1="),
            (Some(format!("t=soon,v1={good}")), "not Unix seconds"),
            (Some(format!("t={},t={},v1={good}", now(), now())), "two t"),
            (
                Some(header(SECRET, now() - 301, "GET", target, "")),
                "outside tolerance",
            ),
            (
                Some(header(SECRET, now() + 400, "GET", target, "")),
                "outside tolerance",
            ),
            (
                Some(header("whsec_someone_else", now(), "GET", target, "")),
                "no matching signature",
            ),
            (
                Some(format!("t={},v1={}", now(), good.to_uppercase())),
                "no matching signature",
            ),
        ];
        let count = cases.len();
        for (signature, expected) in cases {
            let mut builder = request(&fake, "GET", target, None);
            if let Some(signature) = &signature {
                builder = builder.header("x-paybridge-signature", signature);
            }
            let (status, body) = send(builder).await;
            assert_eq!(status, 401, "{signature:?}: {body}");
            assert_eq!(body["error"], "signature_invalid", "{signature:?}");
            let message = body["message"].as_str().expect("a message");
            assert!(message.contains(expected), "{signature:?}: {message}");
        }
        assert_eq!(fake.refused(), count);
        assert!(
            fake.requests()
                .iter()
                .all(|r| r.status == 401 && r.refused.is_some())
        );

        // The rotated-out secret still signs; one good v1 among bad ones is enough.
        let old = header(OLD_SECRET, now(), "GET", target, "");
        let (status, _) =
            send(request(&fake, "GET", target, None).header("x-paybridge-signature", old)).await;
        assert_eq!(status, 200);
        let t = now();
        let mixed = format!(
            "t={t},v1={},v1={},v0=ignored",
            hmac_hex("whsec_wrong", t, "GET", target, b""),
            hmac_hex(SECRET, t, "GET", target, b"")
        );
        let (status, _) =
            send(request(&fake, "GET", target, None).header("x-paybridge-signature", mixed)).await;
        assert_eq!(status, 200);
        assert_eq!(fake.refused(), count);
    }

    #[tokio::test]
    async fn a_signature_for_another_method_path_query_or_body_is_401_and_writes_nothing() {
        let fake = started().await;
        let (a, b) = (guid(1), guid(2));
        fake.add_order(order(1, &a, "2026-11-30T10:00:00Z"));
        fake.add_order(order(2, &b, "2026-11-30T10:00:00Z"));
        let t = now();
        let body = json!({"event_id": "pbw_tamper", "status": "Paid"}).to_string();
        let status_of = |g: &str| format!("/paybridge/orders/{g}/status");

        // Signed for order A, sent to order B.
        let signature = header(SECRET, t, "POST", &status_of(&a), &body);
        let sent = request(&fake, "POST", &status_of(&b), Some(&body))
            .header("x-paybridge-signature", signature);
        let (status, answer) = send(sent).await;
        assert_eq!(
            (status, answer["error"].clone()),
            (401, json!("signature_invalid"))
        );
        // Signed as a GET of the order, sent as the POST.
        let signature = header(SECRET, t, "GET", &status_of(&a), &body);
        let sent = request(&fake, "POST", &status_of(&a), Some(&body))
            .header("x-paybridge-signature", signature);
        assert_eq!(send(sent).await.0, 401);
        // Another body under the same signature.
        let signature = header(SECRET, t, "POST", &status_of(&a), &body);
        let other = json!({"event_id": "pbw_tamper", "status": "Canceled"}).to_string();
        let sent = request(&fake, "POST", &status_of(&a), Some(&other))
            .header("x-paybridge-signature", signature);
        assert_eq!(send(sent).await.0, 401);
        // Another query.
        let signed_target = "/paybridge/orders?modified_since=2026-11-30T00%3A00%3A00Z&limit=10";
        let sent_target = "/paybridge/orders?modified_since=2026-11-30T00%3A00%3A00Z&limit=100";
        let signature = header(SECRET, t, "GET", signed_target, "");
        let sent =
            request(&fake, "GET", sent_target, None).header("x-paybridge-signature", signature);
        assert_eq!(send(sent).await.0, 401);
        // The path as sent on the wire: an upper-case GUID signed, the lower-case one sent.
        let signature = header(
            SECRET,
            t,
            "GET",
            &format!("/paybridge/orders/{}", a.to_uppercase()),
            "",
        );
        let sent = request(&fake, "GET", &format!("/paybridge/orders/{a}"), None)
            .header("x-paybridge-signature", signature);
        assert_eq!(send(sent).await.0, 401);

        assert_eq!(fake.refused(), 5);
        assert!(fake.writes().is_empty());
        assert!(fake.status_changes(&a).is_empty() && fake.status_changes(&b).is_empty());
        assert_eq!(fake.order(&a).expect("order A")["OrderStatusName"], "New");
        assert_eq!(fake.order(&b).expect("order B")["OrderStatusName"], "New");
    }

    #[tokio::test]
    async fn accept_user_agent_and_content_type_are_checked() {
        let fake = started().await;
        let g = guid(1);
        fake.add_order(order(1, &g, "2026-11-30T10:00:00Z"));
        let target = format!("/paybridge/orders/{g}");
        let client = reqwest::Client::new();
        let url = format!("{}{target}", fake.base_url);
        let sign =
            |method: &str, target: &str, body: &str| header(SECRET, now(), method, target, body);

        // No Accept (reqwest then sends */*).
        let sent = client
            .get(&url)
            .header("user-agent", "paybridge/0.1.0")
            .header("x-paybridge-signature", sign("GET", &target, ""));
        let (status, body) = send(sent).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"], "bad_request");
        assert!(
            body["message"]
                .as_str()
                .expect("message")
                .contains("Accept"),
            "{body}"
        );
        // Another User-Agent.
        let sent = client
            .get(&url)
            .header("accept", "application/json")
            .header("user-agent", "curl/8.0")
            .header("x-paybridge-signature", sign("GET", &target, ""));
        let (status, body) = send(sent).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["message"]
                .as_str()
                .expect("message")
                .contains("User-Agent"),
            "{body}"
        );
        // A POST without Content-Type.
        let write_target = format!("{target}/status");
        let payload = json!({"event_id": "pbw_ct", "status": "Paid"}).to_string();
        let sent = client
            .post(format!("{}{write_target}", fake.base_url))
            .header("accept", "application/json")
            .header("user-agent", "paybridge/0.1.0")
            .header(
                "x-paybridge-signature",
                sign("POST", &write_target, &payload),
            )
            .body(payload.clone());
        let (status, body) = send(sent).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["message"]
                .as_str()
                .expect("message")
                .contains("Content-Type"),
            "{body}"
        );
        assert_eq!(fake.refused(), 3);
        assert!(fake.writes().is_empty());

        // With a charset parameter and a list in Accept, all is well.
        let sent = client
            .post(format!("{}{write_target}", fake.base_url))
            .header("accept", "application/json, text/plain;q=0.5")
            .header("user-agent", "paybridge/0.1.0")
            .header("content-type", "application/json; charset=utf-8")
            .header(
                "x-paybridge-signature",
                sign("POST", &write_target, &payload),
            )
            .body(payload);
        let (status, body) = send(sent).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(fake.writes().len(), 1);
    }

    #[tokio::test]
    async fn a_write_sets_the_status_bumps_the_modified_time_and_merges_paybridge_data() {
        let fake = started().await;
        let g = guid(42);
        let mut placed = order(42, &g, "2026-01-01T00:00:00Z");
        placed["PaybridgeData"] =
            json!({"ShopNote": "kept", "StripeCheckoutUrl": "https://checkout.stripe.com/c/x"});
        fake.add_order(placed);
        let body = json!({"event_id": "pbw_paid_42", "status": "Paid", "paid": true,
                          "payment_reference": "pi_42",
                          "details": {"StripePaymentStatus": "succeeded", "StripePaymentIntent": "pi_42",
                                      "StripeCheckoutUrl": null},
                          "unknown_field": "ignored"});
        let (status, answer) = write(&fake, &g, &body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer,
            json!({"order_guid": g, "status": "Paid", "status_changed": true, "replayed": false})
        );
        let now_order = fake.order(&g.to_uppercase()).expect("the order");
        assert_eq!(now_order["OrderOrderStatusID"], 5);
        assert_eq!(now_order["OrderStatusName"], "Paid");
        let modified = now_order["OrderModifiedWhen"].as_str().expect("a time");
        assert_ne!(modified, "2026-01-01T00:00:00Z");
        assert!(
            parse_utc(modified).is_some() && modified.len() == 20 && modified.ends_with('Z'),
            "{modified}"
        );
        assert_eq!(
            now_order["PaybridgeData"],
            json!({"ShopNote": "kept", "paid": true, "payment_reference": "pi_42",
                   "StripePaymentStatus": "succeeded", "StripePaymentIntent": "pi_42"})
        );
        assert_eq!(fake.status_changes(&g), vec!["Paid".to_string()]);
        assert_eq!(fake.writes(), vec![body]);

        // GET answers the order as it is now.
        let (status, read) = signed(&fake, "GET", &format!("/paybridge/orders/{g}"), None).await;
        assert_eq!(status, 200);
        assert_eq!(read, now_order);
        assert_eq!(fake.refused(), 0);
    }

    #[tokio::test]
    async fn a_replayed_event_id_gets_the_first_answer_and_writes_nothing() {
        let fake = started().await;
        let g = guid(7);
        fake.add_order(order(7, &g, "2026-11-30T10:00:00Z"));
        let first = json!({"event_id": "pbw_7", "status": "Paid", "paid": true, "payment_reference": "pi_7"});
        let (_, answer) = write(&fake, &g, &first).await;
        assert_eq!(answer["status_changed"], true);
        let after_first = fake.order(&g).expect("order");

        let (status, again) = write(&fake, &g, &first).await;
        assert_eq!(status, 200);
        assert_eq!(
            again,
            json!({"order_guid": g, "status": "Paid", "status_changed": true, "replayed": true})
        );
        assert_eq!(fake.writes().len(), 1);
        assert_eq!(fake.status_changes(&g).len(), 1);
        assert_eq!(fake.order(&g).expect("order"), after_first);
        assert!(fake.reused_event_ids().is_empty());

        // The same id with another write: the first answer, nothing written, and flagged.
        let other = json!({"event_id": "pbw_7", "status": "Canceled"});
        let (_, again) = write(&fake, &g, &other).await;
        assert_eq!(again["status"], "Paid");
        assert_eq!(again["replayed"], true);
        assert_eq!(fake.order(&g).expect("order"), after_first);
        assert_eq!(fake.reused_event_ids(), vec!["pbw_7".to_string()]);

        // After a restart the id is forgotten: the write is applied again, but changes nothing.
        fake.forget_event_ids();
        let (_, answer) = write(&fake, &g, &first).await;
        assert_eq!(
            answer,
            json!({"order_guid": g, "status": "Paid", "status_changed": false, "replayed": false})
        );
        assert_eq!(fake.writes().len(), 2);
        assert_eq!(fake.status_changes(&g), vec!["Paid".to_string()]);
        assert_eq!(
            fake.order(&g).expect("order")["OrderModifiedWhen"],
            after_first["OrderModifiedWhen"]
        );
    }

    #[tokio::test]
    async fn a_status_the_order_has_changes_nothing_and_names_resolve_by_code_or_display_name() {
        let fake = started().await;
        fake.set_paybridge_data_field(false);
        let g = guid(9);
        let mut paid = order(9, &g, "2026-11-30T10:00:00Z");
        paid["OrderOrderStatusID"] = json!(5);
        paid["OrderStatusName"] = json!("Paid");
        fake.add_order(paid.clone());

        for (n, name) in ["Paid", "paid", "PAID"].iter().enumerate() {
            let body = json!({"event_id": format!("pbw_same_{n}"), "status": name, "paid": true});
            let (status, answer) = write(&fake, &g, &body).await;
            assert_eq!(status, 200, "{answer}");
            assert_eq!(answer["status"], "Paid");
            assert_eq!(answer["status_changed"], false, "{name}");
        }
        let (_, answer) = write(&fake, &g, &json!({"event_id": "pbw_null", "status": null})).await;
        assert_eq!(
            (answer["status"].clone(), answer["status_changed"].clone()),
            (json!("Paid"), json!(false))
        );
        assert!(fake.status_changes(&g).is_empty());
        assert_eq!(
            fake.order(&g).expect("order"),
            paid,
            "nothing changed, not even OrderModifiedWhen"
        );
        assert_eq!(fake.writes().len(), 4);

        // A display name in any case resolves to its code name.
        let body = json!({"event_id": "pbw_display", "status": "payment AUTHORIZED"});
        let (_, answer) = write(&fake, &g, &body).await;
        assert_eq!(answer["status"], "PaymentAuthorized");
        assert_eq!(answer["status_changed"], true);
        let now_order = fake.order(&g).expect("order");
        assert_eq!(now_order["OrderOrderStatusID"], 4);
        assert!(
            now_order.get("PaybridgeData").is_none(),
            "no PaybridgeData field in this shop"
        );
        assert_eq!(
            fake.status_changes(&g),
            vec!["PaymentAuthorized".to_string()]
        );
    }

    #[tokio::test]
    async fn an_unknown_status_is_422_with_the_known_code_names_and_is_not_remembered() {
        let fake = started().await;
        let g = guid(3);
        fake.add_order(order(3, &g, "2026-11-30T10:00:00Z"));
        let before = fake.order(&g).expect("order");
        let body = json!({"event_id": "pbw_shipped", "status": "Shipped", "details": {"StripePaymentStatus": "x"}});
        let (status, answer) = write(&fake, &g, &body).await;
        assert_eq!(status, 422, "{answer}");
        let codes: Vec<&str> = DEFAULT_STATUSES.iter().map(|(_, code, _)| *code).collect();
        assert_eq!(
            answer,
            json!({"error": "unknown_status", "status": "Shipped", "known_statuses": codes})
        );
        assert_eq!(fake.order(&g).expect("order"), before);
        assert!(fake.writes().is_empty());
        assert_eq!(fake.refused(), 0, "a 422 is an answer, not a refusal");

        fake.set_statuses(vec![(1, "New", "New"), (20, "Shipped", "Shipped")]);
        let (status, answer) = write(&fake, &g, &body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["replayed"], false);
        assert_eq!(answer["status"], "Shipped");
        assert_eq!(fake.order(&g).expect("order")["OrderOrderStatusID"], 20);
    }

    #[tokio::test]
    async fn bodies_that_break_the_contract_are_400() {
        let fake = started().await;
        let g = guid(5);
        fake.add_order(order(5, &g, "2026-11-30T10:00:00Z"));
        let target = format!("/paybridge/orders/{g}/status");
        let huge = json!({"event_id": "pbw_big", "details": {"StripeDeclineReason": "x".repeat(MAX_BODY_BYTES)}});
        let bodies = vec![
            ("not json".to_string(), "not JSON"),
            ("\u{feff}{\"event_id\":\"pbw_bom\"}".to_string(), "not JSON"),
            ("[]".to_string(), "JSON object"),
            ("{}".to_string(), "event_id is required"),
            (json!({"event_id": ""}).to_string(), "1–200"),
            (json!({"event_id": "e".repeat(201)}).to_string(), "1–200"),
            (
                json!({"event_id": 5}).to_string(),
                "event_id must be a string",
            ),
            (
                json!({"event_id": "pbw_1", "status": 5}).to_string(),
                "status must be",
            ),
            (
                json!({"event_id": "pbw_1", "paid": "true"}).to_string(),
                "paid must be",
            ),
            (
                json!({"event_id": "pbw_1", "payment_reference": false}).to_string(),
                "payment_reference must be",
            ),
            (
                json!({"event_id": "pbw_1", "details": []}).to_string(),
                "details must be an object",
            ),
            (
                json!({"event_id": "pbw_1", "details": {"StripePaymentStatus": 1}}).to_string(),
                "details.StripePaymentStatus",
            ),
            (huge.to_string(), "at most 65536"),
        ];
        let count = bodies.len();
        for (body, expected) in bodies {
            let (status, answer) = signed(&fake, "POST", &target, Some(&body)).await;
            assert_eq!(status, 400, "{body:.80}: {answer}");
            assert_eq!(answer["error"], "bad_request");
            let message = answer["message"].as_str().expect("a message");
            assert!(message.contains(expected), "{body:.80}: {message}");
        }
        assert_eq!(fake.refused(), count);
        assert!(fake.writes().is_empty());

        // The limits themselves are fine: a 200-character id, absent optional fields.
        let (status, answer) = signed(
            &fake,
            "POST",
            &target,
            Some(&json!({"event_id": "e".repeat(200)}).to_string()),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["status"], "New");
    }

    #[tokio::test]
    async fn unknown_orders_routes_and_guids() {
        let fake = started().await;
        let g = guid(11);
        fake.add_order(order(
            11,
            &format!("{{{}}}", g.to_uppercase()),
            "2026-11-30T10:00:00Z",
        ));
        let unknown = guid(12);

        let (status, body) =
            signed(&fake, "GET", &format!("/paybridge/orders/{unknown}"), None).await;
        assert_eq!((status, body), (404, json!({"error": "order_not_found"})));
        let write_body = json!({"event_id": "pbw_404", "status": "Paid"});
        let (status, body) = write(&fake, &unknown, &write_body).await;
        assert_eq!((status, body), (404, json!({"error": "order_not_found"})));
        // Not remembered: once the order exists the same write is applied.
        fake.add_order(order(12, &unknown, "2026-11-30T10:00:00Z"));
        let (status, body) = write(&fake, &unknown, &write_body).await;
        assert_eq!((status, body["replayed"].clone()), (200, json!(false)));

        for target in [
            "/paybridge/orders/not-a-guid",
            "/paybridge/orders/2b4e8d0c93f14c528a6e00000000000b",
        ] {
            let (status, body) = signed(&fake, "GET", target, None).await;
            assert_eq!(status, 400, "{target}: {body}");
            assert_eq!(body["error"], "bad_request");
        }
        let (status, _) = write(&fake, "1234", &json!({"event_id": "pbw_x"})).await;
        assert_eq!(status, 400);

        // Case and braces (percent-encoded on the wire) are tolerated.
        let braced = format!("/paybridge/orders/%7B{}%7D", g.to_uppercase());
        let (status, body) = signed(&fake, "GET", &braced, None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["OrderID"], 11);
        let (status, body) = write(
            &fake,
            &format!("%7B{g}%7D"),
            &json!({"event_id": "pbw_braced", "status": "Paid"}),
        )
        .await;
        assert_eq!((status, body["order_guid"].clone()), (200, json!(g)));
        assert_eq!(fake.status_changes(&g), vec!["Paid".to_string()]);

        for (method, target) in [
            ("GET", "/paybridge/nope".to_string()),
            ("GET", "/paybridge".to_string()),
            ("GET", "/paybridge/health/".to_string()),
            ("POST", "/paybridge/health".to_string()),
            ("DELETE", format!("/paybridge/orders/{g}")),
            ("GET", format!("/paybridge/orders/{g}/status")),
            ("PUT", format!("/paybridge/orders/{g}/status")),
        ] {
            let body = (method != "GET" && method != "DELETE").then_some("{}");
            let (status, answer) = signed(&fake, method, &target, body).await;
            assert_eq!(status, 404, "{method} {target}: {answer}");
            assert_eq!(answer["error"], "not_found", "{method} {target}");
        }
    }

    #[tokio::test]
    async fn the_list_filters_by_modified_time_and_pages_by_order_id() {
        let fake = started().await;
        // Added out of order; one before the window, one without an offset (UTC), one in +01:00.
        for (id, modified) in [
            (5, "2026-12-01T10:00:00+01:00"),
            (1, "2026-11-30T11:59:59Z"),
            (3, "2026-12-01T08:00:00"),
            (2, "2026-11-30T12:00:00Z"),
            (4, "2026-12-01T09:00:00.123Z"),
        ] {
            fake.add_order(order(id, &guid(id as u32), modified));
        }
        let page = |query: &str| {
            let target = format!("/paybridge/orders?{query}");
            let fake = &fake;
            async move {
                let (status, body) = signed(fake, "GET", &target, None).await;
                assert_eq!(status, 200, "{target}: {body}");
                let ids: Vec<i64> = (body["orders"].as_array().expect("orders").iter())
                    .map(|o| o["OrderID"].as_i64().expect("an id"))
                    .collect();
                ids
            }
        };
        let since = "modified_since=2026-11-30T12%3A00%3A00Z";
        assert_eq!(
            page(&format!("{since}&after_id=0&limit=2")).await,
            vec![2, 3]
        );
        assert_eq!(
            page(&format!("{since}&after_id=3&limit=2")).await,
            vec![4, 5]
        );
        assert_eq!(
            page(&format!("{since}&after_id=5&limit=2")).await,
            Vec::<i64>::new()
        );
        assert_eq!(
            page(since).await,
            vec![2, 3, 4, 5],
            "after_id 0 and limit 100 by default"
        );
        assert_eq!(
            page("modified_since=2026-12-01T09%3A00%3A00%2B00%3A00&limit=100").await,
            vec![4, 5]
        );
        let (status, body) = signed(
            &fake,
            "GET",
            &format!("/paybridge/orders?{since}&limit=1"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            body["orders"][0],
            fake.order(&guid(2)).expect("order 2"),
            "whole order objects"
        );

        for query in [
            "after_id=0&limit=100",
            "modified_since=yesterday",
            "modified_since=2026-11-30T12%3A00%3A00%2B01%3A00",
            &format!("{since}&after_id=-1"),
            &format!("{since}&after_id=x"),
            &format!("{since}&limit=0"),
            &format!("{since}&limit=101"),
            &format!("{since}&limit=ten"),
        ] {
            let (status, body) =
                signed(&fake, "GET", &format!("/paybridge/orders?{query}"), None).await;
            assert_eq!(status, 400, "{query}: {body}");
            assert_eq!(body["error"], "bad_request", "{query}");
        }
        assert_eq!(fake.refused(), 8);
    }

    #[tokio::test]
    async fn paybridge_data_kept_as_text_when_it_is_text_and_null_removes_a_key() {
        let fake = started().await;
        let g = guid(21);
        let mut placed = order(21, &g, "2026-11-30T10:00:00Z");
        placed["PaybridgeData"] =
            json!("{\"ShopNote\":1,\"StripeRetryUrl\":\"https://shop/retry\"}");
        fake.add_order(placed);
        let body = json!({"event_id": "pbw_text", "status": null, "paid": false,
                          "details": {"StripeRetryUrl": null, "StripeDeclineReason": "card_declined"}});
        let (status, answer) = write(&fake, &g, &body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["status_changed"], false);
        let now_order = fake.order(&g).expect("order");
        let text = now_order["PaybridgeData"].as_str().expect("still text");
        let data: Value = serde_json::from_str(text).expect("JSON text");
        assert_eq!(
            data,
            json!({"ShopNote": 1, "paid": false, "StripeDeclineReason": "card_declined"})
        );
        assert_ne!(
            now_order["OrderModifiedWhen"], "2026-11-30T10:00:00Z",
            "the data changed"
        );
        assert!(fake.status_changes(&g).is_empty());
    }

    #[tokio::test]
    async fn fail_next_and_fault_plans_answer_before_any_check() {
        let fake = started().await;
        fake.fail_next(2, 503, r#"{"error":"internal","message":"down"}"#);
        let unsigned = || request(&fake, "GET", "/paybridge/health", None);
        let (status, body) = send(unsigned()).await;
        assert_eq!((status, body["error"].clone()), (503, json!("internal")));
        assert_eq!(send(unsigned()).await.0, 503);
        assert_eq!(send(unsigned()).await.0, 401, "the failures are used up");
        let injected: Vec<bool> = fake.requests().iter().map(|r| r.injected).collect();
        assert_eq!(injected, vec![true, true, false]);
        assert_eq!(fake.refused(), 1);

        fake.fail_next(5, 500, "plain text");
        let (status, body) = send(unsigned()).await;
        assert_eq!((status, body), (500, json!("plain text")));
        fake.clear_failures();
        assert_eq!(signed(&fake, "GET", "/paybridge/health", None).await.0, 200);

        use super::super::faults::{FaultKind, FaultPlan};
        fake.faults
            .install("xbyk", FaultPlan::always(FaultKind::Status(502)));
        assert_eq!(signed(&fake, "GET", "/paybridge/health", None).await.0, 502);
        fake.faults.clear();
        assert_eq!(signed(&fake, "GET", "/paybridge/health", None).await.0, 200);
        assert_eq!(fake.faults.total(), 1);
    }

    #[test]
    fn every_default_status_name_paybridge_writes_resolves() {
        use paybridge::mapping::payment_status::{AfterPayment, PaymentState, StatusMapping};
        let statuses = statuses_of(DEFAULT_STATUSES.to_vec());
        let mapping = StatusMapping::default();
        let names = (PaymentState::ALL.iter().map(|s| mapping.name(*s)))
            .chain(AfterPayment::ALL.iter().map(|s| mapping.after_name(*s)));
        for name in names {
            assert!(
                resolve(&statuses, name).is_some(),
                "'{name}' is not a status of the fake"
            );
        }
        let mut ids: Vec<i64> = statuses.iter().map(|s| s.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), statuses.len(), "unique IDs");
        assert_eq!(
            resolve(&statuses, "Pending Payment").map(|s| s.id),
            Some(13)
        );
        assert_eq!(resolve(&statuses, "Payment Failed").map(|s| s.id), Some(6));
    }

    #[test]
    fn the_sample_order_is_one_paybridge_reads() {
        use paybridge::mapping::{Currency, KenticoOrder};
        let usd = Currency::parse("currency", "USD").expect("USD");
        let mut sample = sample_order(2051, &guid(2051));
        let order =
            KenticoOrder::from_xbyk_event_object(&sample, Some(usd)).expect("paybridge reads it");
        assert_eq!(order.id, 2051);
        // With PaybridgeData (an extra column) as the package would send it after a write.
        sample["PaybridgeData"] = json!({"paid": true});
        KenticoOrder::from_xbyk_event_object(&sample, Some(usd))
            .expect("an extra column is ignored");
    }

    #[test]
    fn guids_are_normalized_and_anything_else_refused() {
        let g = "2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29";
        assert_eq!(parse_guid(g).as_deref(), Some(g));
        assert_eq!(parse_guid(&g.to_uppercase()).as_deref(), Some(g));
        assert_eq!(parse_guid(&format!("{{{g}}}")).as_deref(), Some(g));
        assert_eq!(parse_guid(&format!("%7b{g}%7D")).as_deref(), Some(g));
        for bad in [
            "",
            "42",
            "2b4e8d0c93f14c528a6e5f0d7c3b1a29",
            "2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a2g",
            "{2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29",
        ] {
            assert_eq!(parse_guid(bad), None, "{bad}");
        }
    }
}
