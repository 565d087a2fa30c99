//! The HTTP client for the paybridge package's endpoints in an Xperience by Kentico app
//! (`{base}/paybridge/…`), every request signed ([`super::signature`]).

use std::time::{Duration, Instant};

use reqwest::{Method, Url};
use serde_json::{Map, Value};

use crate::connectors::kentico::KenticoError;
use crate::connectors::kentico::client::{chain, checked_base_url, http_client};
use crate::connectors::kentico::error::clip_message;
use crate::connectors::kentico::statuses::{OrderStatus, resolve};
use crate::secret::SecretString;

use super::signature::{SIGNATURE_HEADER, sign_request};

/// Orders per page of [`XbykClient::orders_modified_since`].
const ORDERS_PAGE: usize = 100;

/// Where the app is and what paybridge signs with.
#[derive(Debug, Clone)]
pub struct XbykConfig {
    /// The XbyK app root; the package answers at `{base_url}/paybridge/…`.
    pub base_url: String,
    /// The secrets to sign with (the package's `Paybridge:WebhookSecrets`).
    pub secrets: Vec<SecretString>,
    /// Per-call timeout.
    pub timeout: Duration,
}

/// What `GET /paybridge/health` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageHealth {
    /// The package's name.
    pub package: String,
    /// Its version.
    pub version: String,
    /// The shop's order statuses: code name and display name (no IDs: paybridge sends names).
    pub statuses: Vec<OrderStatus>,
}

/// A client of the package's endpoints. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct XbykClient {
    http: reqwest::Client,
    base_url: String,
    secrets: Vec<SecretString>,
    timeout: Duration,
    latency: crate::metrics::CallLatency,
}

impl XbykClient {
    /// Checks the configuration and builds the HTTP client once; `Invalid` lists what is wrong.
    pub fn new(config: XbykConfig) -> Result<Self, KenticoError> {
        let (base_url, mut problems) = checked_base_url(
            &config.base_url,
            "the package authenticates paybridge by signature",
        );
        if config.secrets.is_empty() {
            problems.push("no secret to sign the package's requests with".to_string());
        }
        if config.timeout.is_zero() {
            problems.push("the Kentico timeout must be greater than zero".to_string());
        }
        if !problems.is_empty() {
            return Err(KenticoError::Invalid(problems.join("; ")));
        }
        let http = http_client(config.timeout)?;
        Ok(Self {
            http,
            base_url,
            secrets: config.secrets,
            timeout: config.timeout,
            latency: crate::metrics::CallLatency::default(),
        })
    }

    /// Times every call into `latency` (`/metrics`, CloudWatch).
    pub fn with_latency(mut self, latency: crate::metrics::CallLatency) -> Self {
        self.latency = latency;
        self
    }

    /// `GET /paybridge/health`: the package is there, accepts the signature, and lists the
    /// shop's order statuses.
    pub async fn health(&self) -> Result<PackageHealth, KenticoError> {
        let body = self.call(Method::GET, "/paybridge/health", None).await?;
        let value = decode(&body)?;
        let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default();
        let statuses = match value.get("statuses") {
            Some(Value::Array(items)) => (items.iter().enumerate())
                .map(|(index, item)| {
                    let name = item.get("name").and_then(Value::as_str).ok_or_else(|| {
                        KenticoError::Decode(format!("health: a status without a name: {item}"))
                    })?;
                    let display = item.get("display_name").and_then(Value::as_str);
                    let mut status = status_named(index, name);
                    status.display_name = display.map(str::to_owned);
                    Ok(status)
                })
                .collect::<Result<_, KenticoError>>()?,
            _ => return Err(KenticoError::Decode("health: no statuses list".into())),
        };
        Ok(PackageHealth {
            package: text("package").to_string(),
            version: text("version").to_string(),
            statuses,
        })
    }

    /// `GET /paybridge/orders/{guid}`: the order as an event carries it.
    pub async fn get_order(&self, guid: &str) -> Result<Map<String, Value>, KenticoError> {
        let path = format!("/paybridge/orders/{}", checked_guid(guid)?);
        match decode(&self.call(Method::GET, &path, None).await?)? {
            Value::Object(order) => Ok(order),
            other => Err(KenticoError::Decode(format!(
                "the order is not an object: {}",
                clip(&other)
            ))),
        }
    }

    /// Every order modified at or after `since` (RFC 3339, UTC), paged by `OrderID`.
    pub async fn orders_modified_since(
        &self,
        since: &str,
    ) -> Result<Vec<Map<String, Value>>, KenticoError> {
        let mut orders = Vec::new();
        let mut after_id = 0_i64;
        loop {
            let mut url = Url::parse("http://x/paybridge/orders")
                .map_err(|e| KenticoError::Invalid(e.to_string()))?;
            url.query_pairs_mut()
                .append_pair("modified_since", since)
                .append_pair("after_id", &after_id.to_string())
                .append_pair("limit", &ORDERS_PAGE.to_string());
            let target = format!("{}?{}", url.path(), url.query().unwrap_or_default());
            let page = decode(&self.call(Method::GET, &target, None).await?)?;
            let Some(Value::Array(rows)) = page.get("orders") else {
                return Err(KenticoError::Decode("orders: no orders list".into()));
            };
            if rows.is_empty() {
                return Ok(orders);
            }
            for row in rows {
                let Value::Object(order) = row else {
                    return Err(KenticoError::Decode(format!(
                        "orders: not an object: {row}"
                    )));
                };
                let id = order
                    .get("OrderID")
                    .and_then(crate::connectors::kentico::as_i64);
                match id {
                    Some(id) if id > after_id => after_id = id,
                    _ => {
                        return Err(KenticoError::Decode(format!(
                            "orders: OrderID missing or not ascending after {after_id}"
                        )));
                    }
                }
                orders.push(order.clone());
            }
        }
    }

    /// `POST /paybridge/orders/{guid}/status` with `body` (built by [`super::write_body`]);
    /// returns the package's answer. An unknown status is [`KenticoError::UnknownStatus`]
    /// with the package's list of known ones.
    pub async fn write_status(&self, guid: &str, body: &Value) -> Result<Value, KenticoError> {
        let path = format!("/paybridge/orders/{}/status", checked_guid(guid)?);
        let bytes = serde_json::to_vec(body)
            .map_err(|e| KenticoError::Invalid(format!("cannot encode the write: {e}")))?;
        decode(&self.call(Method::POST, &path, Some(bytes)).await?)
    }

    /// Sends one signed request to `target` (path and query, already encoded) and returns the
    /// body of a 2xx answer; anything else is classified.
    async fn call(
        &self,
        method: Method,
        target: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, KenticoError> {
        let url = Url::parse(&format!("{}{target}", self.base_url))
            .map_err(|e| KenticoError::Invalid(format!("cannot build the URL of {target}: {e}")))?;
        // Signed exactly as reqwest writes the request line.
        let signed_target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        };
        let timeout = crate::clock::call_timeout(self.timeout).map_err(|left| {
            KenticoError::Unavailable(format!(
                "{method} {target} not sent: {} ms left before the invocation's deadline",
                left.as_millis()
            ))
        })?;
        let bytes = body.unwrap_or_default();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let secrets: Vec<&str> = self.secrets.iter().map(SecretString::expose).collect();
        let signature = sign_request(&secrets, now, method.as_str(), &signed_target, &bytes);
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .timeout(timeout)
            .header(SIGNATURE_HEADER, signature)
            .header(reqwest::header::ACCEPT, "application/json");
        if method == Method::POST {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes);
        }
        let started = Instant::now();
        let sent = request.send().await;
        let status_label = sent
            .as_ref()
            .map_or_else(|_| "error".to_string(), |r| r.status().as_u16().to_string());
        self.latency.observe(
            "kentico",
            &format!("{method} {}", operation(target)),
            &status_label,
            started.elapsed().as_secs_f64(),
        );
        let response = sent.map_err(|e| self.transport_error(&e, &url))?;
        let status = response.status().as_u16();
        let answer = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e, &url))?;
        tracing::debug!(%method, target, status, elapsed_ms = started.elapsed().as_millis() as u64, "xbyk package call");
        if (200..300).contains(&status) {
            return Ok(answer.to_vec());
        }
        Err(self.classify(status, &answer))
    }

    /// A non-2xx answer as an error: 401/403 is the signature, 422 an unknown status, the rest
    /// as for Kentico 13.
    fn classify(&self, status: u16, answer: &[u8]) -> KenticoError {
        let text = String::from_utf8_lossy(answer);
        let secrets: Vec<&str> = self.secrets.iter().map(SecretString::expose).collect();
        let parsed: Option<Value> = serde_json::from_slice(answer).ok();
        let field = |key: &str| {
            parsed
                .as_ref()
                .and_then(|v| v.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match status {
            401 | 403 => KenticoError::SignatureRefused {
                status,
                message: clip_message(
                    &field("message").unwrap_or_else(|| text.to_string()),
                    &secrets,
                ),
            },
            422 if field("error").as_deref() == Some("unknown_status") => {
                let name = field("status").unwrap_or_default();
                let known: Vec<OrderStatus> = parsed
                    .as_ref()
                    .and_then(|v| v.get("known_statuses"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .enumerate()
                    .map(|(index, code)| status_named(index, code))
                    .collect();
                match resolve(&name, &known) {
                    Err(unknown) => unknown,
                    // The package refused a name its own list has: report it as it said.
                    Ok(_) => KenticoError::Rejected {
                        status,
                        message: clip_message(&text, &secrets),
                    },
                }
            }
            300..=399 => KenticoError::Rejected {
                status,
                message: "redirected; KENTICO_BASE_URL must be the Xperience by Kentico app root \
                          (the package answers at <root>/paybridge/…)"
                    .to_string(),
            },
            _ => KenticoError::from_status(status, &text, &secrets),
        }
    }

    fn transport_error(&self, error: &reqwest::Error, url: &Url) -> KenticoError {
        let text = chain(error);
        if error.is_timeout() {
            KenticoError::Unavailable(format!("no answer from {url} within {:?}", self.timeout))
        } else if error.is_connect() {
            KenticoError::Unavailable(format!("cannot connect to {url}: {text}"))
        } else if error.is_builder() {
            KenticoError::Invalid(format!("cannot build the request to {url}: {text}"))
        } else {
            KenticoError::Unavailable(format!("request to {url} failed: {text}"))
        }
    }
}

fn status_named(index: usize, code: &str) -> OrderStatus {
    OrderStatus {
        id: i64::try_from(index).unwrap_or(i64::MAX).saturating_add(1),
        name: code.to_string(),
        display_name: None,
        site_id: None,
        enabled: None,
    }
}

/// The route without ids, for the latency metric's label.
fn operation(target: &str) -> &'static str {
    let path = target.split('?').next().unwrap_or_default();
    if path == "/paybridge/health" {
        "health"
    } else if path.ends_with("/status") {
        "order status"
    } else if path == "/paybridge/orders" {
        "orders"
    } else {
        "order"
    }
}

/// A GUID as the routes take it: 36 characters of hex digits and dashes, lower-cased.
fn checked_guid(guid: &str) -> Result<String, KenticoError> {
    let guid = guid
        .trim()
        .trim_matches(|c| c == '{' || c == '}')
        .to_ascii_lowercase();
    let shape = guid.len() == 36
        && guid.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if shape {
        Ok(guid)
    } else {
        Err(KenticoError::Invalid(format!(
            "'{guid}' is not an order GUID"
        )))
    }
}

fn decode(body: &[u8]) -> Result<Value, KenticoError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    serde_json::from_slice(body).map_err(|e| {
        KenticoError::Decode(format!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ))
    })
}

fn clip(value: &Value) -> String {
    value.to_string().chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base_url: &str) -> Result<XbykClient, KenticoError> {
        XbykClient::new(XbykConfig {
            base_url: base_url.into(),
            secrets: vec![SecretString::new("0123456789abcdef0123")],
            timeout: Duration::from_secs(5),
        })
    }

    #[test]
    fn checks_the_base_url() {
        assert!(client("https://shop.example/ ").is_ok());
        for bad in [
            "ftp://shop",
            "https://u:p@shop.example",
            "https://shop.example/?a=1",
            "shop",
        ] {
            assert!(
                matches!(client(bad), Err(KenticoError::Invalid(_))),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn order_guids_are_normalized_or_refused() {
        assert_eq!(
            checked_guid("{2B4E8D0C-93F1-4C52-8A6E-5F0D7C3B1A29}").unwrap(),
            "2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29"
        );
        assert!(checked_guid("2b4e8d0c93f14c528a6e5f0d7c3b1a29").is_err());
        assert!(checked_guid("../../paybridge/health").is_err());
    }

    #[test]
    fn answers_are_classified() {
        let client = client("https://shop.example").unwrap();
        let unknown = client.classify(
            422,
            br#"{"error":"unknown_status","status":"Payed","known_statuses":["New","Paid","PaymentFailed"]}"#,
        );
        assert_eq!(
            unknown,
            KenticoError::UnknownStatus {
                name: "Payed".into(),
                known: vec!["New".into(), "Paid".into(), "PaymentFailed".into()],
                suggestion: Some("Paid".into()),
            }
        );
        assert!(matches!(
            client.classify(401, br#"{"error":"signature_invalid","message":"timestamp outside the tolerance"}"#),
            KenticoError::SignatureRefused { status: 401, ref message } if message == "timestamp outside the tolerance"
        ));
        assert!(client.classify(503, b"busy").is_transient());
        assert!(client.classify(429, b"slow down").is_transient());
        assert!(matches!(
            client.classify(404, br#"{"error":"order_not_found"}"#),
            KenticoError::Rejected { status: 404, .. }
        ));
        assert!(matches!(
            client.classify(302, b""),
            KenticoError::Rejected { status: 302, .. }
        ));
        // A 422 that is not about a status is a plain rejection.
        assert!(matches!(
            client.classify(422, br#"{"error":"something_else"}"#),
            KenticoError::Rejected { status: 422, .. }
        ));
    }

    #[test]
    fn a_secret_echoed_in_an_error_is_redacted() {
        let client = client("https://shop.example").unwrap();
        let KenticoError::Rejected { message, .. } =
            client.classify(400, b"bad request, secret was 0123456789abcdef0123")
        else {
            panic!("expected Rejected");
        };
        assert!(!message.contains("0123456789abcdef0123"), "{message}");
    }
}
