//! API Gateway HTTP API (payload v2) requests, built like the ones Lambda receives.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// An API Gateway v2 event for `method` on `path` with these headers and body.
pub fn event(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    base64: bool,
) -> Value {
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "test", "domainName": "test.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "test", "requestId": "req", "routeKey": format!("{method} {path}"),
            "stage": "$default", "time": "29/Nov/2026:12:00:00 +0000", "timeEpoch": 0,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"}
        },
        "body": if base64 { STANDARD.encode(body) } else { String::from_utf8_lossy(body).into_owned() },
        "isBase64Encoded": base64,
    })
}

/// Turns an event (JSON) into the request the Lambda handler receives, as lambda_http does.
pub fn request(event: &Value) -> lambda_http::Request {
    lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway v2 event")
}

/// The status and JSON body of a handler response.
pub fn parts(response: lambda_http::Response<lambda_http::Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: &[u8] = response.body().as_ref();
    (
        status,
        serde_json::from_slice(body).expect("a JSON response body"),
    )
}
