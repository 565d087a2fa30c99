//! A loopback QuickBooks Online: Intuit's OAuth2 token endpoint and the accounting API's
//! `JournalEntry` create, in the shapes Intuit publishes, refusing what QuickBooks refuses.
//!
//! - `POST /oauth2/v1/tokens/bearer`: HTTP Basic client credentials, form
//!   `grant_type=refresh_token&refresh_token=…`; answers `{"token_type": "bearer",
//!   "access_token", "expires_in": 3600, "refresh_token", "x_refresh_token_expires_in"}`. Each
//!   refresh rotates the refresh token and only the newest works afterwards (stricter than
//!   Intuit, which honours the previous one for a while); an unknown one is `400
//!   {"error": "invalid_grant"}`, bad client credentials `401 {"error": "invalid_client"}`.
//! - `POST /v3/company/{realmId}/journalentry?requestid=…&minorversion=…`: `Authorization:
//!   Bearer <access token>` (expired or unknown: `401` with an `AuthenticationFailed` fault);
//!   the entry must have lines, each `DetailType: JournalEntryLineDetail` with `PostingType`
//!   `Debit` or `Credit`, a known `AccountRef`, a non-negative `Amount`; debits must equal
//!   credits (`400` `ValidationFault`, code 6000); `DocNumber` at most 21 characters; a repeated
//!   `requestid` answers the first answer again — a refusal included — and books nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rust_decimal::Decimal;
use serde_json::{Value, json};

#[derive(Default)]
struct Books {
    client_id: String,
    client_secret: String,
    realm_id: String,
    accounts: BTreeSet<String>,
    refresh_token: String,
    access_tokens: BTreeSet<String>,
    issued: u64,
    /// requestid → the first answer.
    answers: BTreeMap<String, (u16, Value)>,
    /// Booked journal entries (the request bodies), in order.
    booked: Vec<Value>,
    /// The next N journal-entry calls answer 503.
    down_for: usize,
    /// The next N booked entries' answers are lost on the way back (a 502 instead).
    lose_answers: usize,
    refreshes: usize,
}

/// The fake company.
pub struct FakeQuickBooks {
    /// The API base (`QUICKBOOKS_API_BASE`).
    pub api_base: String,
    /// The token endpoint (`QUICKBOOKS_TOKEN_URL`).
    pub token_url: String,
    books: Arc<Mutex<Books>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeQuickBooks {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeQuickBooks {
    /// A company `realm_id` with `accounts` (their Ids), an app `client_id`/`client_secret`,
    /// and `refresh_token` granted to paybridge.
    pub async fn start(
        realm_id: &str,
        accounts: &[&str],
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
    ) -> FakeQuickBooks {
        let books = Arc::new(Mutex::new(Books {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            realm_id: realm_id.into(),
            accounts: accounts.iter().map(|a| a.to_string()).collect(),
            refresh_token: refresh_token.into(),
            ..Books::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("local address");
        let app = Router::new().fallback(handle).with_state(books.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake QuickBooks");
        });
        FakeQuickBooks {
            api_base: format!("http://{address}"),
            token_url: format!("http://{address}/oauth2/v1/tokens/bearer"),
            books,
            server,
        }
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The journal entries booked, in order.
    pub fn booked(&self) -> Vec<Value> {
        self.books().booked.clone()
    }

    /// The refresh token that works now.
    pub fn current_refresh_token(&self) -> String {
        self.books().refresh_token.clone()
    }

    /// How many refreshes were granted.
    pub fn refreshes(&self) -> usize {
        self.books().refreshes
    }

    /// Revokes every access token (as if they expired).
    pub fn expire_access_tokens(&self) {
        self.books().access_tokens.clear();
    }

    /// Answers the next `calls` journal-entry requests with 503.
    pub fn go_down_for(&self, calls: usize) {
        self.books().down_for = calls;
    }

    /// Books the next `entries` but loses their answers (the caller sees a 502).
    pub fn lose_next_answers(&self, entries: usize) {
        self.books().lose_answers = entries;
    }

    /// Makes account `id` inactive: entries posting to it are refused from now on.
    pub fn close_account(&self, id: &str) {
        self.books().accounts.remove(id);
    }

    /// Makes account `id` active again.
    pub fn reopen_account(&self, id: &str) {
        self.books().accounts.insert(id.to_string());
    }

    /// How many more journal-entry calls it will answer 503.
    pub fn still_down_for(&self) -> usize {
        self.books().down_for
    }
}

async fn handle(
    State(books): State<Arc<Mutex<Books>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut books = books.lock().unwrap_or_else(|p| p.into_inner());
    let path = uri.path().to_string();
    match (method.as_str(), path.as_str()) {
        ("POST", "/oauth2/v1/tokens/bearer") => token(&mut books, &headers, &body),
        ("POST", p) if p.starts_with("/v3/company/") && p.ends_with("/journalentry") => {
            let realm = p
                .trim_start_matches("/v3/company/")
                .trim_end_matches("/journalentry");
            if realm != books.realm_id {
                return fault(
                    403,
                    "AuthorizationFailed",
                    "003100",
                    "not this company",
                    "AUTHORIZATION",
                );
            }
            journal_entry(&mut books, uri.query().unwrap_or_default(), &headers, &body)
        }
        _ => (StatusCode::NOT_FOUND, "no such resource").into_response(),
    }
}

fn form(body: &[u8]) -> BTreeMap<String, String> {
    super::decode_form(body).into_iter().collect()
}

fn token(books: &mut Books, headers: &HeaderMap, body: &[u8]) -> Response {
    let expected = format!("{}:{}", books.client_id, books.client_secret);
    let client_ok = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .is_some_and(|decoded| decoded == expected.as_bytes());
    if !client_ok {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let form = form(body);
    if form.get("grant_type").map(String::as_str) != Some("refresh_token") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "unsupported_grant_type"})),
        )
            .into_response();
    }
    if form.get("refresh_token") != Some(&books.refresh_token) {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    books.issued += 1;
    books.refreshes += 1;
    let access = format!("access-{}", books.issued);
    books.access_tokens.insert(access.clone());
    books.refresh_token = format!("AB11-refresh-{}", books.issued);
    axum::Json(
        json!({"token_type": "bearer", "access_token": access, "expires_in": 3600,
        "refresh_token": books.refresh_token, "x_refresh_token_expires_in": 8_726_400}),
    )
    .into_response()
}

fn fault(status: u16, message: &str, code: &str, detail: &str, kind: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({"Fault": {"Error": [{"Message": message, "Detail": detail, "code": code}],
        "type": kind}, "time": "2026-11-30T12:00:00.000-08:00"});
    (status, axum::Json(body)).into_response()
}

fn journal_entry(books: &mut Books, query: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !books.access_tokens.contains(bearer) {
        return fault(
            401,
            "message=AuthenticationFailed; errorCode=003200; statusCode=401",
            "3200",
            "Token expired",
            "AUTHENTICATION",
        );
    }
    if books.down_for > 0 {
        books.down_for -= 1;
        return (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response();
    }
    let query = form(query.as_bytes());
    let Some(request_id) = query.get("requestid").cloned() else {
        return fault(
            400,
            "requestid is required by this fake",
            "2000",
            "",
            "ValidationFault",
        );
    };
    if let Some((status, answer)) = books.answers.get(&request_id) {
        let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::OK);
        return (status, axum::Json(answer.clone())).into_response();
    }
    let entry: Value = match serde_json::from_slice(body) {
        Ok(entry) => entry,
        Err(e) => {
            return fault(
                400,
                "Request has invalid or unsupported property",
                "2010",
                &e.to_string(),
                "ValidationFault",
            );
        }
    };
    if let Err(why) = validate(books, &entry) {
        // Like QuickBooks may, the answer is kept for the requestid: repeating it repeats the refusal.
        let message = "A business validation error has occurred while processing your request";
        let body = json!({"Fault": {"Error": [{"Message": message, "Detail": why, "code": "6000"}],
            "type": "ValidationFault"}, "time": "2026-11-30T12:00:00.000-08:00"});
        books.answers.insert(request_id, (400, body.clone()));
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    books.issued += 1;
    let mut created = entry.clone();
    created["Id"] = json!(books.issued.to_string());
    created["SyncToken"] = json!("0");
    let answer = json!({"JournalEntry": created, "time": "2026-11-30T12:00:00.000-08:00"});
    books.booked.push(entry);
    books.answers.insert(request_id, (200, answer.clone()));
    if books.lose_answers > 0 {
        books.lose_answers -= 1;
        return (StatusCode::BAD_GATEWAY, "Bad Gateway").into_response();
    }
    axum::Json(answer).into_response()
}

fn validate(books: &Books, entry: &Value) -> Result<(), String> {
    let lines = entry["Line"]
        .as_array()
        .filter(|l| !l.is_empty())
        .ok_or("no Line")?;
    if entry["DocNumber"]
        .as_str()
        .is_some_and(|d| d.chars().count() > 21)
    {
        return Err("DocNumber is longer than 21 characters".into());
    }
    let (mut debits, mut credits) = (Decimal::ZERO, Decimal::ZERO);
    for line in lines {
        if line["DetailType"] != "JournalEntryLineDetail" {
            return Err(format!("DetailType {}", line["DetailType"]));
        }
        let detail = &line["JournalEntryLineDetail"];
        let account = detail["AccountRef"]["value"].as_str().unwrap_or_default();
        if !books.accounts.contains(account) {
            return Err(format!("Invalid Reference Id: account {account}"));
        }
        let amount: Decimal = line["Amount"]
            .as_number()
            .and_then(|n| n.to_string().parse().ok())
            .ok_or("Amount is not a number")?;
        if amount < Decimal::ZERO {
            return Err("Amount is negative".into());
        }
        match detail["PostingType"].as_str() {
            Some("Debit") => debits += amount,
            Some("Credit") => credits += amount,
            other => return Err(format!("PostingType {other:?}")),
        }
    }
    if debits != credits {
        return Err(format!(
            "Transaction is not balanced: debits {debits}, credits {credits}"
        ));
    }
    Ok(())
}
