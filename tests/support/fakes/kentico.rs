//! A fake Kentico REST service on loopback: orders, customers and order statuses in memory, every request recorded, failures on demand.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Map, Value, json};

/// The statuses a fresh Kentico 13 e-commerce site has, with the IDs the tests expect.
const DEFAULT_STATUSES: [(i64, &str); 9] = [
    (1, "New"),
    (2, "In progress"),
    (3, "Pending Payment"),
    (4, "Payment pending"),
    (5, "Payment authorized"),
    (6, "Paid"),
    (7, "Payment Failed"),
    (8, "Canceled"),
    (9, "Completed"),
];

/// One request the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct KenticoRequest {
    /// `GET`, `PUT`, ...
    pub method: String,
    /// The path, e.g. `/rest/ecommerce.order/42`.
    pub path: String,
    /// The raw query string without `?`, e.g. `format=json`.
    pub query: String,
    /// Headers with lower-case names.
    pub headers: BTreeMap<String, String>,
    /// The body as JSON; a body that is not JSON is kept as a JSON string.
    pub body: Option<Value>,
}

#[derive(Default)]
struct Store {
    username: String,
    password: String,
    orders: BTreeMap<i64, Value>,
    customers: BTreeMap<i64, Value>,
    statuses: Vec<(i64, String)>,
    requests: Vec<KenticoRequest>,
    failures: VecDeque<(u16, String)>,
}

/// A running fake Kentico; it stops when dropped.
pub struct FakeKentico {
    /// The admin application root to use as `KENTICO_BASE_URL` (no trailing slash).
    pub base_url: String,
    /// Faults injected in front of every request (none until a plan is installed).
    pub faults: super::faults::Faults,
    store: Arc<Mutex<Store>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeKentico {
    /// Starts the fake on 127.0.0.1 with the default statuses, accepting these Basic credentials.
    pub async fn start(username: &str, password: &str) -> FakeKentico {
        let store = Arc::new(Mutex::new(Store {
            username: username.to_string(),
            password: password.to_string(),
            statuses: DEFAULT_STATUSES
                .iter()
                .map(|(id, name)| (*id, name.to_string()))
                .collect(),
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
            axum::serve(listener, app)
                .await
                .expect("fake Kentico server");
        });
        FakeKentico {
            base_url: format!("http://{address}"),
            faults,
            store,
            server,
        }
    }

    /// Stores an order, keyed by its `OrderID` (a number or a numeric string).
    pub fn add_order(&self, order: Value) {
        let id = id_of(&order, "OrderID").expect("the order needs a numeric OrderID");
        self.lock().orders.insert(id, order);
    }

    /// The order as it is now, after any updates.
    pub fn order(&self, id: i64) -> Option<Value> {
        self.lock().orders.get(&id).cloned()
    }

    /// Stores a customer, keyed by its `CustomerID`.
    pub fn add_customer(&self, customer: Value) {
        let id = id_of(&customer, "CustomerID").expect("the customer needs a numeric CustomerID");
        self.lock().customers.insert(id, customer);
    }

    /// The customer as written through the REST service.
    pub fn customer(&self, id: i64) -> Option<Value> {
        self.lock().customers.get(&id).cloned()
    }

    /// Every request so far, in arrival order, failed ones included.
    pub fn requests(&self) -> Vec<KenticoRequest> {
        self.lock().requests.clone()
    }

    /// The next `count` requests are answered with `status` and this text body.
    pub fn fail_next(&self, count: usize, status: u16, body: &str) {
        let mut store = self.lock();
        store
            .failures
            .extend(std::iter::repeat_n((status, body.to_string()), count));
    }

    /// Drops the failures `fail_next` queued and not yet answered: Kentico is well again.
    pub fn clear_failures(&self) {
        self.lock().failures.clear();
    }

    /// Replaces the order statuses (ID, StatusName; the display name is the same).
    pub fn set_statuses(&self, statuses: Vec<(i64, &str)>) {
        self.lock().statuses = statuses
            .into_iter()
            .map(|(id, name)| (id, name.to_string()))
            .collect();
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for FakeKentico {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn id_of(object: &Value, column: &str) -> Option<i64> {
    match object.get(column)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
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
    let request = KenticoRequest {
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
    };
    store.requests.push(request.clone());
    if let Some((status, text)) = store.failures.pop_front() {
        return text_response(status, &text);
    }
    if !authorized(&store, &headers) {
        return text_response(401, "Unauthorized: invalid user name or password");
    }
    let json_format = request
        .query
        .split('&')
        .any(|pair| pair.eq_ignore_ascii_case("format=json"));
    if !json_format {
        return text_response(
            400,
            "This fake only speaks JSON: add format=json to the query string",
        );
    }
    route(&mut store, &method, &request)
}

fn route(store: &mut Store, method: &Method, request: &KenticoRequest) -> Response {
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["rest", "ecommerce.orderstatus"]) => status_list(&store.statuses),
        ("GET", ["rest", "ecommerce.order"]) => order_list(&store.orders, &request.query),
        ("GET", ["rest", "ecommerce.currency", id]) => {
            let code = id.parse::<i64>().ok().and_then(|id| {
                let orders = store.orders.values();
                orders
                    .filter(|o| id_of(o, "OrderCurrencyID") == Some(id))
                    .find_map(|o| o["OrderCurrencyCode"].as_str().map(str::to_owned))
            });
            match code {
                Some(code) => single(
                    "ecommerce_currency",
                    &json!({"CurrencyID": id, "CurrencyCode": code}),
                ),
                None => text_response(
                    404,
                    &format!("Object ecommerce.currency with ID {id} not found"),
                ),
            }
        }
        ("GET", ["rest", "ecommerce.order", id]) => {
            match id.parse().ok().and_then(|id: i64| store.orders.get(&id)) {
                Some(order) => single("ecommerce_order", order),
                None => text_response(
                    404,
                    &format!("Object ecommerce.order with ID {id} not found"),
                ),
            }
        }
        ("PUT", ["rest", "ecommerce.order", id]) => {
            let Some(fields) = fields_of(request, "ecommerce.order") else {
                return text_response(400, "Expected a JSON body {\"ecommerce.order\": {...}}");
            };
            match id
                .parse()
                .ok()
                .and_then(|id: i64| store.orders.get_mut(&id))
            {
                Some(order) => {
                    merge(order, fields);
                    // Kentico stamps every save.
                    order["OrderLastModified"] = json!(now_stamp());
                    single("ecommerce_order", order)
                }
                None => text_response(
                    404,
                    &format!("Object ecommerce.order with ID {id} not found"),
                ),
            }
        }
        ("GET", ["rest", "ecommerce.customer"]) => customer_list(&store.customers, &request.query),
        (verb @ ("GET" | "PUT"), ["rest", "ecommerce.customer", id]) => {
            let Ok(id) = id.parse::<i64>() else {
                return text_response(404, &format!("Object ecommerce.customer {id} not found"));
            };
            if verb == "PUT" {
                let Some(fields) = fields_of(request, "ecommerce.customer") else {
                    return text_response(
                        400,
                        "Expected a JSON body {\"ecommerce.customer\": {...}}",
                    );
                };
                let customer = store
                    .customers
                    .entry(id)
                    .or_insert_with(|| json!({"CustomerID": id}));
                merge(customer, fields);
            }
            match store.customers.get(&id) {
                Some(customer) => single("ecommerce_customer", customer),
                None => text_response(
                    404,
                    &format!("Object ecommerce.customer with ID {id} not found"),
                ),
            }
        }
        _ => text_response(
            404,
            &format!("No such REST resource: {} {}", method, request.path),
        ),
    }
}

/// Now as Kentico's REST service writes `OrderLastModified` (server clock, here UTC).
fn now_stamp() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A query string's parameters, names in lower case (the REST service ignores their case).
fn query_params(query: &str) -> BTreeMap<String, String> {
    (super::decode_form(query.as_bytes()).into_iter())
        .map(|(k, v)| (k.to_lowercase(), v))
        .collect()
}

/// `GET /rest/ecommerce.customer?where=CustomerEmail = '…'`: the one condition paybridge sends
/// (a doubled quote is one quote, as in SQL); anything else is SQL this fake cannot run.
fn customer_list(customers: &BTreeMap<i64, Value>, query: &str) -> Response {
    let params = query_params(query);
    let condition = params.get("where").map(String::as_str).unwrap_or_default();
    let email = (condition.strip_prefix("CustomerEmail = '"))
        .and_then(|rest| rest.strip_suffix('\''))
        .filter(|quoted| !quoted.replace("''", "").contains('\''))
        .map(|quoted| quoted.replace("''", "'"));
    let Some(email) = email else {
        return text_response(400, &format!("Invalid where condition: {condition}"));
    };
    let rows: Vec<Value> = (customers.values())
        .filter(|c| c["CustomerEmail"].as_str() == Some(email.as_str()))
        .cloned()
        .collect();
    let total = rows.len().to_string();
    axum::Json(json!({"ecommerce_customers": [
        {"ecommerce_customer": rows},
        {"TotalRecords": [{"TotalRecords": total}]}
    ]}))
    .into_response()
}

/// `GET /rest/ecommerce.order?where=…&orderby=OrderID&topn=N`. The REST service runs `where`
/// as SQL; this fake understands only the conditions paybridge sends
/// (`OrderLastModified >= '…' AND OrderID > N`, `OrderCustomerID = C AND OrderID > N`) and
/// answers anything else as Kentico answers SQL it cannot run.
fn order_list(orders: &BTreeMap<i64, Value>, query: &str) -> Response {
    let params = query_params(query);
    let condition = params.get("where").map(String::as_str).unwrap_or_default();
    let modified = condition
        .strip_prefix("OrderLastModified >= '")
        .and_then(|rest| rest.split_once("' AND OrderID > "))
        .and_then(|(since, after)| Some((since.to_string(), None, after.parse::<i64>().ok()?)));
    let of_customer = condition
        .strip_prefix("OrderCustomerID = ")
        .and_then(|rest| rest.split_once(" AND OrderID > "))
        .and_then(|(customer, after)| {
            let customer = customer.parse::<i64>().ok()?;
            Some((String::new(), Some(customer), after.parse::<i64>().ok()?))
        });
    let Some((since, customer, after)) = modified.or(of_customer) else {
        return text_response(400, &format!("Invalid where condition: {condition}"));
    };
    if params.get("orderby").map(String::as_str) != Some("OrderID") {
        return text_response(400, "this fake pages by orderby=OrderID only");
    }
    let topn: usize = params
        .get("topn")
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);
    let rows: Vec<Value> = (orders.iter())
        .filter(|(id, _)| **id > after)
        .filter(|(_, o)| customer.is_none_or(|c| id_of(o, "OrderCustomerID") == Some(c)))
        .filter(|(_, o)| {
            let modified = o["OrderLastModified"].as_str().unwrap_or_default();
            modified.get(..19).unwrap_or(modified) >= since.as_str()
        })
        .take(topn)
        .map(|(_, o)| o.clone())
        .collect();
    let total = rows.len().to_string();
    axum::Json(json!({"ecommerce_orders": [
        {"ecommerce_order": rows},
        {"TotalRecords": [{"TotalRecords": total}]}
    ]}))
    .into_response()
}

fn authorized(store: &Store, headers: &HeaderMap) -> bool {
    let expected = format!("{}:{}", store.username, store.password);
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
        })
        .is_some_and(|decoded| decoded == expected.as_bytes())
}

fn fields_of<'a>(request: &'a KenticoRequest, object_type: &str) -> Option<&'a Map<String, Value>> {
    request.body.as_ref()?.get(object_type)?.as_object()
}

fn merge(target: &mut Value, fields: &Map<String, Value>) {
    if let Value::Object(target) = target {
        target.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

fn single(type_key: &str, object: &Value) -> Response {
    axum::Json(json!({ type_key: [object] })).into_response()
}

/// Kentico's list shape, with IDs and flags as strings the way the REST service sends them.
fn status_list(statuses: &[(i64, String)]) -> Response {
    let rows: Vec<Value> = statuses
        .iter()
        .map(|(id, name)| {
            json!({"StatusID": id.to_string(), "StatusName": name, "StatusDisplayName": name,
                   "StatusSiteID": "1", "StatusEnabled": "true"})
        })
        .collect();
    axum::Json(json!({"ecommerce_orderstatuses": [
        {"ecommerce_orderstatus": rows},
        {"TotalRecords": [{"TotalRecords": statuses.len().to_string()}]}
    ]}))
    .into_response()
}

fn text_response(status: u16, body: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        body.to_string(),
    )
        .into_response()
}
