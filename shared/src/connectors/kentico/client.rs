//! The HTTP client for Kentico's REST service (`{base}/rest/<object type>/<id>?format=json`, Basic auth).

use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::{Method, Url, redirect};
use serde_json::{Map, Value, json};

use super::custom_data::merge_custom_data;
use super::error::KenticoError;
use super::response::{as_i64, decode_object, decode_objects, decode_order_statuses};
use super::statuses::OrderStatus;
use super::update::{OrderUpdate, validate_customer_fields, validate_id};
use crate::secret::SecretString;

/// Orders per page of [`KenticoClient::orders_modified_since`].
const ORDERS_PAGE: usize = 100;

/// How long one Kentico call may take, connection included, unless configured otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// Where Kentico is and how to log in (`KENTICO_BASE_URL`, `KENTICO_USERNAME`, `KENTICO_PASSWORD`).
#[derive(Debug, Clone)]
pub struct KenticoConfig {
    /// The admin application root; REST calls go to `{base_url}/rest/...`. A trailing slash is fine.
    pub base_url: String,
    /// The Kentico user the REST service authenticates (Basic auth).
    pub username: String,
    /// That user's password.
    pub password: SecretString,
    /// Per-call timeout ([`DEFAULT_TIMEOUT`] by default).
    pub timeout: Duration,
}

impl KenticoConfig {
    /// A configuration with the default timeout.
    pub fn new(
        base_url: impl Into<String>,
        username: impl Into<String>,
        password: SecretString,
    ) -> Self {
        Self {
            base_url: base_url.into(),
            username: username.into(),
            password,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// A Kentico REST client. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct KenticoClient {
    http: reqwest::Client,
    base_url: String,
    username: String,
    password: SecretString,
    timeout: Duration,
    latency: crate::metrics::CallLatency,
}

impl KenticoClient {
    /// Checks the configuration and builds the HTTP client once; `Invalid` lists what is wrong.
    pub fn new(config: KenticoConfig) -> Result<Self, KenticoError> {
        let (base_url, mut problems) =
            checked_base_url(&config.base_url, "use KENTICO_USERNAME/KENTICO_PASSWORD");
        // Basic auth joins user and password with ':', so a ':' in the user name cannot work.
        if config.username.is_empty() || config.username.contains(':') {
            problems.push("KENTICO_USERNAME must be non-empty and contain no ':'".to_string());
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
            username: config.username,
            password: config.password,
            timeout: config.timeout,
            latency: crate::metrics::CallLatency::default(),
        })
    }

    /// Times every call into `latency` (`/metrics`, CloudWatch).
    pub fn with_latency(mut self, latency: crate::metrics::CallLatency) -> Self {
        self.latency = latency;
        self
    }

    /// One order's columns, as Kentico returns them (`GET /rest/ecommerce.order/{id}`).
    pub async fn get_order(&self, order_id: i64) -> Result<Map<String, Value>, KenticoError> {
        validate_id("order", order_id)?;
        let body = self
            .call(Method::GET, &format!("ecommerce.order/{order_id}"), None)
            .await?;
        decode_object(&body, "ecommerce.order")
    }

    /// Every order last modified at or after `since` (`where` is SQL on Kentico's side, in the
    /// server's clock: the caller pads the window for time zones). Pages by `OrderID` with
    /// `where`, `orderby` and `topn`, the REST service's documented query parameters, so an
    /// order changed while the listing runs is neither skipped nor listed twice.
    pub async fn orders_modified_since(
        &self,
        since: &str,
    ) -> Result<Vec<Map<String, Value>>, KenticoError> {
        let valid = since.len() == 19
            && since.chars().enumerate().all(|(i, c)| match i {
                4 | 7 => c == '-',
                10 => c == 'T',
                13 | 16 => c == ':',
                _ => c.is_ascii_digit(),
            });
        if !valid {
            return Err(KenticoError::Invalid(format!(
                "{since:?} is not a timestamp like 2026-11-30T08:00:00"
            )));
        }
        self.orders_where(&format!("OrderLastModified >= '{since}'"))
            .await
    }

    /// Every order of a customer (`OrderCustomerID`), paged as [`Self::orders_modified_since`].
    pub async fn orders_of_customer(
        &self,
        customer_id: i64,
    ) -> Result<Vec<Map<String, Value>>, KenticoError> {
        validate_id("customer", customer_id)?;
        self.orders_where(&format!("OrderCustomerID = {customer_id}"))
            .await
    }

    /// `GET /rest/ecommerce.customer/{id}`.
    pub async fn get_customer(&self, customer_id: i64) -> Result<Map<String, Value>, KenticoError> {
        validate_id("customer", customer_id)?;
        let body = self
            .call(
                Method::GET,
                &format!("ecommerce.customer/{customer_id}"),
                None,
            )
            .await?;
        decode_object(&body, "ecommerce.customer")
    }

    /// The customers with this e-mail (`where=CustomerEmail = '…'`, the quote doubled as SQL
    /// escapes it).
    pub async fn customers_by_email(
        &self,
        email: &str,
    ) -> Result<Vec<Map<String, Value>>, KenticoError> {
        let email = email.trim();
        if email.is_empty() || email.len() > 254 || email.chars().any(char::is_control) {
            return Err(KenticoError::Invalid(format!(
                "{email:?} is not an e-mail address"
            )));
        }
        let condition = format!("CustomerEmail = '{}'", email.replace('\'', "''"));
        let query = [("where", condition.as_str())];
        let body = self
            .call_with(Method::GET, "ecommerce.customer", &query, None)
            .await?;
        decode_objects(&body, "ecommerce.customer")
    }

    /// Every order matching `condition`, keyset-paged by `OrderID`.
    async fn orders_where(&self, condition: &str) -> Result<Vec<Map<String, Value>>, KenticoError> {
        let mut all: Vec<Map<String, Value>> = Vec::new();
        let mut after = 0_i64;
        loop {
            let condition = format!("{condition} AND OrderID > {after}");
            let topn = ORDERS_PAGE.to_string();
            let query = [
                ("where", condition.as_str()),
                ("orderby", "OrderID"),
                ("topn", topn.as_str()),
            ];
            let body = self
                .call_with(Method::GET, "ecommerce.order", &query, None)
                .await?;
            let page = decode_objects(&body, "ecommerce.order")?;
            let last = page
                .iter()
                .filter_map(|o| o.get("OrderID").and_then(as_i64))
                .max();
            all.extend(page);
            // Until a page comes back empty: a server that caps pages below `topn` loses nothing.
            match last {
                Some(last) if last > after => after = last,
                _ => return Ok(all),
            }
        }
    }

    /// A currency's ISO code by its `CurrencyID` (`GET /rest/ecommerce.currency/{id}`).
    pub async fn currency_code(&self, currency_id: i64) -> Result<String, KenticoError> {
        validate_id("currency", currency_id)?;
        let body = self
            .call(
                Method::GET,
                &format!("ecommerce.currency/{currency_id}"),
                None,
            )
            .await?;
        let currency = decode_object(&body, "ecommerce.currency")?;
        currency
            .get("CurrencyCode")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                KenticoError::Decode(format!("currency {currency_id} has no CurrencyCode"))
            })
    }

    /// Writes the set fields of `update` to the order. With custom data it first reads the
    /// order and merges into its `OrderCustomData`, so other modules' keys survive. The
    /// REST service has no conditional update, so a write by someone else between our read
    /// and write is lost; keep custom-data writes rare. An empty update sends nothing.
    pub async fn update_order(
        &self,
        order_id: i64,
        update: &OrderUpdate,
    ) -> Result<(), KenticoError> {
        update.validate(order_id)?;
        if update.is_empty() {
            return Ok(());
        }
        let custom_data = if update.custom_data.is_empty() {
            None
        } else {
            let order = self.get_order(order_id).await?;
            let merged = Self::merged_custom_data(&order, update)?;
            if update.is_shown_by(&order, Some(&merged)) {
                tracing::info!(
                    order_id,
                    "the order already shows this update: not written again"
                );
                return Ok(());
            }
            Some(merged)
        };
        let body = update.body(custom_data);
        self.call(
            Method::PUT,
            &format!("ecommerce.order/{order_id}"),
            Some(&body),
        )
        .await?;
        Ok(())
    }

    /// `order`'s `OrderCustomData` with `update`'s keys set.
    fn merged_custom_data(
        order: &Map<String, Value>,
        update: &OrderUpdate,
    ) -> Result<String, KenticoError> {
        let existing = match order.get("OrderCustomData") {
            None | Some(Value::Null) => "",
            Some(Value::String(xml)) => xml.as_str(),
            Some(other) => {
                return Err(KenticoError::Decode(format!(
                    "OrderCustomData is not text: {other}"
                )));
            }
        };
        merge_custom_data(existing, &update.custom_data)
    }

    /// The order statuses of the site the base URL belongs to (`GET /rest/ecommerce.orderstatus`).
    pub async fn list_order_statuses(&self) -> Result<Vec<OrderStatus>, KenticoError> {
        let body = self
            .call(Method::GET, "ecommerce.orderstatus", None)
            .await?;
        decode_order_statuses(&body)
    }

    /// Sets customer columns (`PUT /rest/ecommerce.customer/{id}`); values must be scalars.
    pub async fn update_customer(
        &self,
        customer_id: i64,
        fields: &Map<String, Value>,
    ) -> Result<(), KenticoError> {
        validate_customer_fields(customer_id, fields)?;
        let body = json!({ "ecommerce.customer": fields });
        let path = format!("ecommerce.customer/{customer_id}");
        self.call(Method::PUT, &path, Some(&body)).await?;
        Ok(())
    }

    /// A harmless authorized read (the status list), for `doctor` and start-up checks.
    pub async fn check_access(&self) -> Result<(), KenticoError> {
        self.list_order_statuses().await.map(|_| ())
    }

    /// Sends one request and returns the body of a 2xx answer; anything else is classified.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Vec<u8>, KenticoError> {
        self.call_with(method, path, &[], body).await
    }

    /// [`Self::call`] with query parameters (URL-encoded here).
    async fn call_with(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Vec<u8>, KenticoError> {
        let mut url = format!("{}/rest/{path}?format=json", self.base_url);
        if !query.is_empty() {
            // Never send the call without its filter.
            let mut parsed = Url::parse(&url)
                .map_err(|e| KenticoError::Invalid(format!("cannot build {url}: {e}")))?;
            parsed.query_pairs_mut().extend_pairs(query);
            url = parsed.to_string();
        }
        // Within a worker's deadline, the call gets what is left (and is not made without it).
        let timeout = crate::clock::call_timeout(self.timeout).map_err(|left| {
            KenticoError::Unavailable(format!(
                "{method} {path} not sent: {} ms left before the invocation's deadline",
                left.as_millis()
            ))
        })?;
        let mut request = self
            .http
            .request(method.clone(), &url)
            .timeout(timeout)
            .basic_auth(&self.username, Some(self.password.expose()))
            .header(reqwest::header::ACCEPT, "application/json")
            // Without it Kentico answers in the server's default encoding (Settings -> REST).
            .header(reqwest::header::ACCEPT_CHARSET, "utf-8");
        if let Some(body) = body {
            request = request.json(body);
        }
        let started = Instant::now();
        let sent = request.send().await;
        // The object type names the operation; ids stay out of the metric's labels.
        let object_type = path.split('/').next().unwrap_or_default();
        let status_label = sent
            .as_ref()
            .map_or_else(|_| "error".to_string(), |r| r.status().as_u16().to_string());
        self.latency.observe(
            "kentico",
            &format!("{method} {object_type}"),
            &status_label,
            started.elapsed().as_secs_f64(),
        );
        let response = sent.map_err(|e| self.transport_error(&e, &url))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(&e, &url))?;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        tracing::debug!(%method, path, status = status.as_u16(), elapsed_ms, "kentico call");
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let text = String::from_utf8_lossy(&bytes);
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.username,
            self.password.expose()
        ));
        Err(KenticoError::from_status(
            status.as_u16(),
            &text,
            &[self.password.expose(), &basic],
        ))
    }

    fn transport_error(&self, error: &reqwest::Error, url: &str) -> KenticoError {
        if error.is_builder() {
            KenticoError::Invalid(format!(
                "cannot build the request to {url}: {}",
                chain(error)
            ))
        } else if error.is_timeout() {
            KenticoError::Unavailable(format!("no answer from {url} within {:?}", self.timeout))
        } else if error.is_connect() {
            KenticoError::Unavailable(format!("cannot connect to {url}: {}", chain(error)))
        } else {
            KenticoError::Unavailable(format!("request to {url} failed: {}", chain(error)))
        }
    }
}

/// `KENTICO_BASE_URL` without a trailing slash, and what is wrong with it: an http(s) URL with
/// a host, no credentials (they would end up in every error message and log line; `hint` says
/// where they go instead), no query or fragment.
pub(crate) fn checked_base_url(raw: &str, hint: &str) -> (String, Vec<String>) {
    let base_url = raw.trim().trim_end_matches('/').to_string();
    let mut problems = Vec::new();
    match Url::parse(&base_url) {
        Ok(url) if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() => {
            problems.push("KENTICO_BASE_URL must be an http(s) URL with a host".to_string())
        }
        Ok(url) if !url.username().is_empty() || url.password().is_some() => problems.push(
            format!("KENTICO_BASE_URL must not contain credentials; {hint}"),
        ),
        Ok(url) if url.query().is_some() || url.fragment().is_some() => {
            problems.push("KENTICO_BASE_URL must not have a query or fragment".to_string())
        }
        Ok(_) => {}
        Err(e) => problems.push(format!("KENTICO_BASE_URL is not a URL ({e})")),
    }
    (base_url, problems)
}

/// The HTTP client of a Kentico connector: `timeout` per call (connecting at most 5 s), no
/// redirects (one means a wrong base URL or a login page; following it would turn a PUT into
/// a GET of HTML, so it is reported instead), paybridge's `User-Agent`.
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, KenticoError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(redirect::Policy::none())
        .user_agent(concat!("paybridge/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| KenticoError::Invalid(format!("cannot build the HTTP client: {}", chain(&e))))
}

/// An error and its causes on one line; reqwest's own message omits the cause.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(base_url: &str, username: &str) -> KenticoConfig {
        KenticoConfig::new(base_url, username, SecretString::new("pw-secret"))
    }

    #[test]
    fn tolerates_a_trailing_slash_on_the_base_url() {
        let client = KenticoClient::new(config("https://shop.example/admin/ ", "rest")).unwrap();
        assert_eq!(client.base_url, "https://shop.example/admin");
        assert_eq!(client.timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn lists_every_configuration_problem_at_once() {
        let Err(KenticoError::Invalid(message)) = KenticoClient::new(config("ftp://shop", "a:b"))
        else {
            panic!("expected Invalid");
        };
        assert!(
            message.contains("KENTICO_BASE_URL") && message.contains("KENTICO_USERNAME"),
            "{message}"
        );
    }

    #[test]
    fn refuses_credentials_in_the_base_url_without_echoing_them() {
        let Err(error) = KenticoClient::new(config("https://u:pw-secret@shop.example", "rest"))
        else {
            panic!("expected an error");
        };
        assert!(!error.to_string().contains("pw-secret"));
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let client = KenticoClient::new(config("https://shop.example", "rest")).unwrap();
        assert!(!format!("{client:?}").contains("pw-secret"));
    }

    /// Answers each connection with the next of `bodies` (HTTP 200), then closes it.
    fn serve_bodies(bodies: Vec<Vec<u8>>) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for body in bodies {
                let (mut stream, _) = listener.accept().unwrap();
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    let read = stream.read(&mut buffer).unwrap();
                    if read == 0 {
                        break;
                    }
                    request.extend_from_slice(&buffer[..read]);
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes()).unwrap();
                stream.write_all(&body).unwrap();
            }
        });
        format!("http://{address}")
    }

    #[tokio::test]
    async fn the_public_decoders_read_raw_bodies_as_the_client_does() {
        let order = b"\xEF\xBB\xBF{\"ecommerce_order\":[{\"OrderID\":\"42\",\"OrderGUID\":\"g\"}]}"
            .to_vec();
        let customers = br#"[{"page":{"ecommerce_customer":{"CustomerID":7}}},{"ecommerce_customer":[{"CustomerID":"8"},3]}]"#.to_vec();
        let statuses = br#"{"ecommerce_orderstatuses":[{"ecommerce_orderstatus":[{"StatusID":"6","StatusName":"Paid"},{"StatusName":"no id"}]},{"TotalRecords":[{"TotalRecords":"2"}]}]}"#.to_vec();
        let html = b"<html><body>Login</body></html>".to_vec();
        let base = serve_bodies(vec![
            order.clone(),
            customers.clone(),
            statuses.clone(),
            html.clone(),
        ]);
        let client = KenticoClient::new(config(&base, "rest")).unwrap();

        let read = client.get_order(42).await;
        assert_eq!(read, decode_object(&order, "ecommerce.order"));
        assert_eq!(read.unwrap().get("OrderID").and_then(as_i64), Some(42));

        let found = client.customers_by_email("ada@example.com").await;
        assert_eq!(found, decode_objects(&customers, "ecommerce.customer"));
        assert_eq!(found.unwrap().len(), 2);

        let listed = client.list_order_statuses().await;
        assert_eq!(listed, decode_order_statuses(&statuses));
        assert_eq!(listed.unwrap().len(), 1);

        let refused = client.get_customer(7).await;
        assert_eq!(refused, decode_object(&html, "ecommerce.customer"));
        assert!(matches!(refused, Err(KenticoError::Decode(_))));
    }

    #[tokio::test]
    async fn invalid_requests_fail_before_any_network_call() {
        // Port 9 (discard) on a reserved documentation address: reaching the network would time out, not fail fast.
        let client = KenticoClient::new(config("http://192.0.2.1:9", "rest")).unwrap();
        let update = OrderUpdate {
            custom_data: vec![("bad key".into(), "v".into())],
            ..Default::default()
        };
        assert!(matches!(
            client.update_order(42, &update).await,
            Err(KenticoError::Invalid(_))
        ));
        assert!(matches!(
            client.get_order(-1).await,
            Err(KenticoError::Invalid(_))
        ));
        assert!(matches!(
            client.update_customer(0, &Map::new()).await,
            Err(KenticoError::Invalid(_))
        ));
        assert!(
            client
                .update_order(42, &OrderUpdate::default())
                .await
                .is_ok()
        );
    }
}
