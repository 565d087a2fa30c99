//! Who may use the console and how a request proves it: open on loopback, a token login with an
//! in-memory session beyond it, a CSRF token and a same-site check on every POST, and the
//! security headers on every answer. The decisions are plain functions, tested below.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, Method, header};
use paybridge::secret::SecretString;

/// The session cookie's name.
pub const COOKIE: &str = "paybridge_console";
/// How long a login lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);
/// Sessions kept at most (the oldest go first): a flood of logins cannot grow memory unbounded.
const MAX_SESSIONS: usize = 1_000;
/// Failed logins (from anyone) a minute before every login is refused for the rest of it: a
/// guessed token is tried at most this often.
const MAX_FAILURES_PER_MINUTE: usize = 10;
const MINUTE: Duration = Duration::from_secs(60);

/// Why a login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not the token (or no login on this console).
    WrongToken,
    /// Too many failed logins in the last minute.
    TooManyFailures,
}

/// How the console is reached, decided once at start.
#[derive(Debug)]
pub enum Gate {
    /// Bound to loopback: only this machine reaches it, no login.
    Open,
    /// Bound beyond loopback with `PAYBRIDGE_CONSOLE_TOKEN`: a login first.
    Token(SecretString),
    /// Bound beyond loopback without a token: every page is refused.
    NoToken,
}

impl Gate {
    /// The gate of a console bound to `host` with `token` (blank = none).
    pub fn for_bind(host: IpAddr, token: Option<&str>) -> Self {
        match (host.is_loopback(), token.map(str::trim)) {
            (true, _) => Self::Open,
            (false, Some(token)) if !token.is_empty() => {
                Self::Token(SecretString::new(token.to_string()))
            }
            (false, _) => Self::NoToken,
        }
    }
}

/// A logged-in operator.
#[derive(Debug, Clone)]
struct Session {
    label: String,
    csrf: String,
    expires: Instant,
}

/// Who the request is from, for the pages: the author label and the CSRF token their forms
/// carry.
#[derive(Debug, Clone)]
pub struct Operator {
    /// `console`, or the label given at login.
    pub label: String,
    /// The hidden `csrf` field of every form.
    pub csrf: String,
}

/// The gate, the sessions and the process's own CSRF token (loopback and the login form).
#[derive(Debug)]
pub struct Access {
    gate: Gate,
    process_csrf: String,
    sessions: Mutex<HashMap<String, Session>>,
    failures: Mutex<Vec<Instant>>,
}

/// What the gate decides for one request.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Go on as this operator.
    Allow(Operator),
    /// Not logged in: the login page (303 for a GET, 401 otherwise).
    Login,
    /// No token is configured on a non-loopback bind.
    NoToken,
    /// A loopback console asked for by a name that is not loopback (DNS rebinding).
    ForeignHost,
}

/// Why a POST is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forbidden {
    /// Sent by another site (`Origin`, `Sec-Fetch-Site`).
    CrossSite,
    /// No CSRF token, or not this session's.
    Csrf,
}

/// 32 random bytes from the operating system, hex.
pub fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

impl Access {
    /// The access of a console behind `gate`.
    pub fn new(gate: Gate) -> Result<Self, getrandom::Error> {
        Ok(Self {
            gate,
            process_csrf: random_token()?,
            sessions: Mutex::new(HashMap::new()),
            failures: Mutex::new(Vec::new()),
        })
    }

    /// Whether a login is asked for.
    pub fn needs_login(&self) -> bool {
        matches!(self.gate, Gate::Token(_))
    }

    /// The CSRF token of a form shown to someone not logged in (the login form, a loopback
    /// console).
    pub fn process_csrf(&self) -> &str {
        &self.process_csrf
    }

    /// Decides a request by its headers (the session cookie, the Host).
    pub fn decide(&self, headers: &HeaderMap, now: Instant) -> Decision {
        match &self.gate {
            Gate::NoToken => Decision::NoToken,
            Gate::Open if !loopback_host(headers) => Decision::ForeignHost,
            Gate::Open => Decision::Allow(Operator {
                label: "console".into(),
                csrf: self.process_csrf.clone(),
            }),
            Gate::Token(_) => match self.session(headers, now) {
                Some(session) => Decision::Allow(Operator {
                    label: session.label,
                    csrf: session.csrf,
                }),
                None => Decision::Login,
            },
        }
    }

    fn session(&self, headers: &HeaderMap, now: Instant) -> Option<Session> {
        let id = cookie(headers, COOKIE)?;
        let mut sessions = self
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match sessions.get(&id) {
            Some(session) if session.expires > now => Some(session.clone()),
            Some(_) => {
                sessions.remove(&id);
                None
            }
            None => None,
        }
    }

    /// Checks `token` (in constant time) and opens a session: its cookie value, or `None`.
    pub fn login(&self, token: &str, label: &str, now: Instant) -> Result<String, Refused> {
        let Gate::Token(expected) = &self.gate else {
            return Err(Refused::WrongToken);
        };
        {
            let mut failures = self
                .failures
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            failures.retain(|at| now.saturating_duration_since(*at) < MINUTE);
            if failures.len() >= MAX_FAILURES_PER_MINUTE {
                return Err(Refused::TooManyFailures);
            }
            if !expected.matches(token.trim()) {
                failures.push(now);
                return Err(Refused::WrongToken);
            }
        }
        let id = random_token().map_err(|_| Refused::WrongToken)?;
        let csrf = random_token().map_err(|_| Refused::WrongToken)?;
        let label = match label.trim() {
            "" => "console".to_string(),
            label => format!("console:{}", label.chars().take(40).collect::<String>()),
        };
        let mut sessions = self
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sessions.retain(|_, s| s.expires > now);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = (sessions.iter())
                .min_by_key(|(_, s)| s.expires)
                .map(|(id, _)| id.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(
            id.clone(),
            Session {
                label,
                csrf,
                expires: now + SESSION_LIFETIME,
            },
        );
        Ok(id)
    }

    /// Ends the session of these headers.
    pub fn logout(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers, COOKIE) {
            self.sessions
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&id);
        }
    }
}

/// The session cookie carrying `id`.
pub fn session_cookie(id: &str) -> String {
    format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/console; Max-Age={}",
        SESSION_LIFETIME.as_secs()
    )
}

/// The cookie that ends the session in the browser.
pub fn expired_cookie() -> String {
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/console; Max-Age=0")
}

/// The value of cookie `name`.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    (headers.get_all(header::COOKIE).iter())
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Whether the Host names this machine (no Host, as in a test request, counts as loopback:
/// every browser sends one).
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return headers.get(header::HOST).is_none();
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether a state-changing request may go on: same-site, and carrying `expected` as its `csrf`
/// form field (compared in constant time).
pub fn check_post(
    method: &Method,
    headers: &HeaderMap,
    sent_csrf: Option<&str>,
    expected: &str,
) -> Result<(), Forbidden> {
    if method == Method::GET || method == Method::HEAD {
        return Ok(());
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|site| site.eq_ignore_ascii_case("cross-site")) {
        return Err(Forbidden::CrossSite);
    }
    // A browser may send `Origin: null` with the console's own form POSTs (Chromium does under a
    // `no-referrer` policy, which a proxy in front may set); its `Sec-Fetch-Site` (which no page
    // can set) says where they come from.
    let same_origin =
        header("sec-fetch-site").is_some_and(|site| site.eq_ignore_ascii_case("same-origin"));
    if let Some(origin) = header("origin").filter(|_| !same_origin) {
        let origin_host = origin
            .split_once("://")
            .map(|(_, rest)| rest.trim_end_matches('/'));
        let same = match (origin_host, header("host")) {
            (Some(origin_host), Some(host)) => origin_host.eq_ignore_ascii_case(host),
            _ => false,
        };
        if !same {
            return Err(Forbidden::CrossSite);
        }
    }
    let matches = sent_csrf.is_some_and(|sent| SecretString::new(expected).matches(sent));
    if matches {
        Ok(())
    } else {
        Err(Forbidden::Csrf)
    }
}

/// The headers every console answer carries: no framing, no inline code, no sniffing, no
/// referrer to other sites, and (for pages and JSON) no caching.
pub fn security_headers(headers: &mut HeaderMap, cacheable: bool) {
    let set = |headers: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // `same-origin`, not `no-referrer`: under `no-referrer` a browser sends `Origin: null` with
    // the console's own form POSTs (Fetch's origin serialization), which `check_post` refuses.
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    if !cacheable {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn a_loopback_bind_is_open_and_any_other_needs_a_token() {
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        let any: IpAddr = "0.0.0.0".parse().unwrap();
        assert!(matches!(Gate::for_bind(loopback, None), Gate::Open));
        assert!(matches!(Gate::for_bind(any, None), Gate::NoToken));
        assert!(matches!(Gate::for_bind(any, Some("  ")), Gate::NoToken));
        assert!(matches!(
            Gate::for_bind(any, Some("s3cret")),
            Gate::Token(_)
        ));
    }

    #[test]
    fn a_loopback_console_refuses_a_host_that_is_not_this_machine() {
        let access = Access::new(Gate::Open).unwrap();
        let now = Instant::now();
        for host in [
            "127.0.0.1:8081",
            "localhost:8081",
            "[::1]:8081",
            "localhost",
        ] {
            let decision = access.decide(&headers(&[("host", host)]), now);
            assert!(matches!(decision, Decision::Allow(_)), "{host}");
        }
        let rebound = access.decide(&headers(&[("host", "evil.example:8081")]), now);
        assert!(matches!(rebound, Decision::ForeignHost));
    }

    #[test]
    fn the_right_token_opens_a_session_until_it_expires_and_a_wrong_one_does_not() {
        let access = Access::new(Gate::Token(SecretString::new("s3cret"))).unwrap();
        let now = Instant::now();
        assert!(matches!(
            access.decide(&HeaderMap::new(), now),
            Decision::Login
        ));
        assert_eq!(access.login("wrong", "", now), Err(Refused::WrongToken));
        assert_eq!(access.login("s3cre", "", now), Err(Refused::WrongToken));

        let id = access.login("s3cret", "ada", now).unwrap();
        let with_cookie = headers(&[("cookie", &format!("other=1; {COOKIE}={id}"))]);
        match access.decide(&with_cookie, now) {
            Decision::Allow(operator) => {
                assert_eq!(operator.label, "console:ada");
                assert_ne!(operator.csrf, access.process_csrf());
            }
            other => panic!("{other:?}"),
        }
        let later = now + SESSION_LIFETIME + Duration::from_secs(1);
        assert!(matches!(
            access.decide(&with_cookie, later),
            Decision::Login
        ));
        let forged = headers(&[("cookie", &format!("{COOKIE}=not-a-session"))]);
        assert!(matches!(access.decide(&forged, now), Decision::Login));
    }

    #[test]
    fn after_ten_failed_logins_in_a_minute_even_the_right_token_waits() {
        let access = Access::new(Gate::Token(SecretString::new("s3cret"))).unwrap();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES_PER_MINUTE {
            assert_eq!(access.login("guess", "", now), Err(Refused::WrongToken));
        }
        assert_eq!(
            access.login("s3cret", "", now),
            Err(Refused::TooManyFailures)
        );
        assert!(access.login("s3cret", "", now + MINUTE).is_ok());
    }

    #[test]
    fn logging_out_ends_the_session() {
        let access = Access::new(Gate::Token(SecretString::new("s3cret"))).unwrap();
        let now = Instant::now();
        let id = access.login("s3cret", "", now).unwrap();
        let with_cookie = headers(&[("cookie", &format!("{COOKIE}={id}"))]);
        access.logout(&with_cookie);
        assert!(matches!(access.decide(&with_cookie, now), Decision::Login));
    }

    #[test]
    fn without_a_token_beyond_loopback_everything_is_refused() {
        let access = Access::new(Gate::NoToken).unwrap();
        assert!(matches!(
            access.decide(&HeaderMap::new(), Instant::now()),
            Decision::NoToken
        ));
        assert!(access.login("", "", Instant::now()).is_err());
    }

    #[test]
    fn a_post_needs_the_csrf_token_and_must_not_come_from_another_site() {
        let post = Method::POST;
        let same = headers(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "http://127.0.0.1:8081"),
        ]);
        assert_eq!(check_post(&post, &same, Some("t0k"), "t0k"), Ok(()));
        assert_eq!(check_post(&post, &same, None, "t0k"), Err(Forbidden::Csrf));
        assert_eq!(
            check_post(&post, &same, Some("t0"), "t0k"),
            Err(Forbidden::Csrf)
        );
        let other = headers(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "https://evil.example"),
        ]);
        assert_eq!(
            check_post(&post, &other, Some("t0k"), "t0k"),
            Err(Forbidden::CrossSite)
        );
        let null = headers(&[("host", "127.0.0.1:8081"), ("origin", "null")]);
        assert_eq!(
            check_post(&post, &null, Some("t0k"), "t0k"),
            Err(Forbidden::CrossSite)
        );
        // Chromium's own form POST under `Referrer-Policy: no-referrer`.
        let own_form = headers(&[
            ("host", "127.0.0.1:8081"),
            ("origin", "null"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert_eq!(check_post(&post, &own_form, Some("t0k"), "t0k"), Ok(()));
        assert_eq!(
            check_post(&post, &own_form, Some("t0"), "t0k"),
            Err(Forbidden::Csrf)
        );
        let fetch = headers(&[("sec-fetch-site", "cross-site")]);
        assert_eq!(
            check_post(&post, &fetch, Some("t0k"), "t0k"),
            Err(Forbidden::CrossSite)
        );
        assert_eq!(check_post(&Method::GET, &fetch, None, "t0k"), Ok(()));
    }

    #[test]
    fn random_tokens_differ() {
        assert_ne!(random_token().unwrap(), random_token().unwrap());
        assert_eq!(random_token().unwrap().len(), 64);
    }
}
