//! Fault injection for the loopback fakes: a [`FaultPlan`] per endpoint (method and path prefix)
//! with a rate for each [`FaultKind`], drawn from a seeded RNG (the seed is printed, so a failing
//! run can be replayed), installed and cleared at runtime, every injected fault counted.
//!
//! The kinds are what a client meets in production: a 5xx, a 429 with `Retry-After`, a hang
//! longer than the client's timeout, a connection dropped without an answer, a slow answer, and
//! an answer lost after the request took effect (the handler runs, then the connection is
//! dropped) — the case Stripe's `Idempotency-Key` exists for.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// One kind of injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// A 5xx with this status (before the handler: nothing happens).
    Status(u16),
    /// 429 with `Retry-After: <seconds>` (before the handler).
    RateLimited(u64),
    /// No answer for [`FaultPlan::hang`], then the connection is dropped (before the handler).
    Hang,
    /// The connection is dropped without an answer (before the handler).
    Reset,
    /// The answer comes after [`FaultPlan::slow`] (the request is handled normally).
    Slow,
    /// The request takes effect, then the connection is dropped: the client sees an error.
    Lost,
}

impl FaultKind {
    /// A short name for count tables.
    pub fn label(&self) -> String {
        match self {
            Self::Status(status) => status.to_string(),
            Self::RateLimited(seconds) => format!("429 ({seconds} s)"),
            Self::Hang => "hang".into(),
            Self::Reset => "reset".into(),
            Self::Slow => "slow".into(),
            Self::Lost => "lost answer".into(),
        }
    }
}

/// Which requests a rule covers: a method (`None`: any) and a path prefix.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub method: Option<String>,
    pub path_prefix: String,
}

/// The faults to inject: for each endpoint (the first rule that matches a request wins), the
/// rate (0–1) of each kind; their sum is the chance that a request meets a fault.
#[derive(Debug, Clone)]
pub struct FaultPlan {
    pub seed: u64,
    pub rules: Vec<(Endpoint, Vec<(FaultKind, f64)>)>,
    /// How long a [`FaultKind::Hang`] holds the request: longer than the client's timeout.
    pub hang: Duration,
    /// How long a [`FaultKind::Slow`] answer is delayed.
    pub slow: Duration,
    /// At most this many faults, then none (`None`: no limit).
    pub max_faults: Option<u64>,
}

impl FaultPlan {
    /// No rules yet, seeded with `seed` (random when `None`).
    pub fn new(seed: Option<u64>) -> FaultPlan {
        FaultPlan {
            seed: seed.unwrap_or_else(|| fastrand::u64(..)),
            rules: Vec::new(),
            hang: Duration::from_secs(30),
            slow: Duration::from_millis(300),
            max_faults: None,
        }
    }

    /// Injects at most `n` faults, then none.
    pub fn at_most(mut self, n: u64) -> Self {
        self.max_faults = Some(n);
        self
    }

    /// Adds a rule: requests with `method` (`"*"`: any) whose path starts with `path_prefix`
    /// meet these faults at these rates.
    pub fn on(mut self, method: &str, path_prefix: &str, rates: &[(FaultKind, f64)]) -> Self {
        let endpoint = Endpoint {
            method: (method != "*").then(|| method.to_uppercase()),
            path_prefix: path_prefix.to_string(),
        };
        self.rules.push((endpoint, rates.to_vec()));
        self
    }

    /// Every request meets `kind` (an outage).
    pub fn always(kind: FaultKind) -> Self {
        FaultPlan::new(Some(0)).on("*", "/", &[(kind, 1.0)])
    }

    /// `total` of the requests to every endpoint meet a fault, spread evenly over `kinds`.
    pub fn everywhere(seed: Option<u64>, total: f64, kinds: &[FaultKind]) -> Self {
        let each = total / kinds.len().max(1) as f64;
        let rates: Vec<(FaultKind, f64)> = kinds.iter().map(|k| (*k, each)).collect();
        FaultPlan::new(seed).on("*", "/", &rates)
    }
}

#[derive(Default)]
struct Inner {
    plan: Option<(FaultPlan, fastrand::Rng)>,
    /// Faults injected under the current plan.
    plan_faults: u64,
    counts: BTreeMap<FaultKind, u64>,
    requests: u64,
}

/// The faults a fake injects; shared with its middleware. Cheap to clone.
#[derive(Clone, Default)]
pub struct Faults {
    inner: Arc<Mutex<Inner>>,
}

impl Faults {
    /// Installs `plan` (replacing any other; the counts go on); prints its seed.
    pub fn install(&self, name: &str, plan: FaultPlan) {
        eprintln!("{name}: fault plan seed {}", plan.seed);
        let rng = fastrand::Rng::with_seed(plan.seed);
        let mut inner = self.lock();
        inner.plan = Some((plan, rng));
        inner.plan_faults = 0;
    }

    /// No more faults.
    pub fn clear(&self) {
        self.lock().plan = None;
    }

    /// How many faults of each kind were injected so far.
    pub fn counts(&self) -> BTreeMap<FaultKind, u64> {
        self.lock().counts.clone()
    }

    /// Injected faults of every kind, together.
    pub fn total(&self) -> u64 {
        self.lock().counts.values().sum()
    }

    /// Requests seen (faulted or not).
    pub fn requests(&self) -> u64 {
        self.lock().requests
    }

    /// The counts as one line, e.g. `503: 4, hang: 1, lost answer: 2`.
    pub fn summary(&self) -> String {
        let counts = self.counts();
        if counts.is_empty() {
            return "none".into();
        }
        (counts.iter())
            .map(|(kind, n)| format!("{}: {n}", kind.label()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The fault `method path` meets now, if any (counted), and the plan's delays.
    fn draw(&self, method: &str, path: &str) -> Option<(FaultKind, Duration, Duration)> {
        let mut inner = self.lock();
        inner.requests += 1;
        let injected = inner.plan_faults;
        let (plan, rng) = inner.plan.as_mut()?;
        if plan.max_faults.is_some_and(|max| injected >= max) {
            return None;
        }
        let (_, rates) = plan.rules.iter().find(|(endpoint, _)| {
            endpoint.method.as_deref().is_none_or(|m| m == method)
                && path.starts_with(&endpoint.path_prefix)
        })?;
        let mut roll = rng.f64();
        let mut drawn = None;
        for (kind, rate) in rates {
            if roll < *rate {
                drawn = Some(*kind);
                break;
            }
            roll -= rate;
        }
        let kind = drawn?;
        let delays = (kind, plan.hang, plan.slow);
        inner.plan_faults += 1;
        *inner.counts.entry(kind).or_default() += 1;
        Some(delays)
    }
}

/// The middleware: draws a fault for the request and injects it around the fake's handler.
pub async fn inject(State(faults): State<Faults>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let Some((kind, hang, slow)) = faults.draw(&method, &path) else {
        return next.run(request).await;
    };
    match kind {
        FaultKind::Status(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            let body = json!({"error": {"type": "api_error", "message": "injected fault"}});
            (status, axum::Json(body)).into_response()
        }
        FaultKind::RateLimited(seconds) => {
            let body =
                json!({"error": {"type": "rate_limit_error", "message": "injected rate limit"}});
            let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
            let value = HeaderValue::from_str(&seconds.to_string()).expect("digits");
            response.headers_mut().insert("retry-after", value);
            response
        }
        FaultKind::Hang => {
            tokio::time::sleep(hang).await;
            dropped_connection()
        }
        FaultKind::Reset => dropped_connection(),
        FaultKind::Slow => {
            tokio::time::sleep(slow).await;
            next.run(request).await
        }
        FaultKind::Lost => {
            // The handler runs to the end: the effect is real, only its answer is lost.
            let _answer = next.run(request).await;
            dropped_connection()
        }
    }
}

/// A response whose body fails before its first byte: hyper closes the connection, and the
/// client sees it end without a (complete) answer.
fn dropped_connection() -> Response {
    let failing = futures::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected connection reset",
        ))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-length", "64")
        .body(Body::from_stream(failing))
        .expect("a valid response")
}
