//! What can go wrong talking to Kentico, split by who must act: the caller/configuration (permanent) or the network/Kentico itself (transient).

/// Longest slice of a Kentico error body kept in an error message; IIS error pages are long.
const MAX_MESSAGE_CHARS: usize = 500;

/// A failed Kentico REST call. Only [`KenticoError::Unavailable`] is worth retrying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KenticoError {
    /// Kentico refused the request (4xx other than 401/403, or a redirect): retrying
    /// the same request cannot succeed.
    #[error("Kentico rejected the request with HTTP {status}: {message}")]
    Rejected {
        /// The HTTP status Kentico answered with.
        status: u16,
        /// Kentico's own message (the response body, trimmed, at most 500 characters).
        message: String,
    },
    /// Kentico refused the credentials or the REST service forbids the operation.
    #[error(
        "Kentico refused access (HTTP {status}): check KENTICO_USERNAME/KENTICO_PASSWORD, and in \
         Kentico Settings -> Integration -> REST that the service is enabled for objects, object \
         access is not read only and the ecommerce object types are allowed"
    )]
    Unauthorized {
        /// 401 or 403.
        status: u16,
    },
    /// The Xperience by Kentico package refused paybridge's request signature (HTTP 401).
    #[error(
        "the Xperience by Kentico package refused paybridge's signature (HTTP {status}): {message}; \
         KENTICO_WEBHOOK_SECRETS must hold a secret of the package's Paybridge:WebhookSecrets, \
         and both clocks must agree within 300 s"
    )]
    SignatureRefused {
        /// 401 (or 403 from something in front of the app).
        status: u16,
        /// The package's message (which check failed).
        message: String,
    },
    /// Kentico or the way to it is down, slow or overloaded (5xx, 408, 429, timeout,
    /// connection refused): retry later.
    #[error("Kentico is unavailable: {0}")]
    Unavailable(String),
    /// Kentico answered 2xx with something this client cannot read.
    #[error("could not read Kentico's answer: {0}")]
    Decode(String),
    /// The request (or the client configuration) is invalid; nothing was sent.
    #[error("invalid Kentico request: {0}")]
    Invalid(String),
    /// An order status name that neither `KENTICO_ORDER_STATUSES` nor Kentico knows.
    #[error("{}", unknown_status_message(.name, .known, .suggestion.as_deref()))]
    UnknownStatus {
        /// The name asked for.
        name: String,
        /// The status names Kentico knows (StatusName).
        known: Vec<String>,
        /// The closest known name, when one is close enough to be a likely typo.
        suggestion: Option<String>,
    },
}

impl KenticoError {
    /// True when the same call may succeed later (report a batch item failure);
    /// false when it never will (dead-letter it with this error as the reason).
    pub fn is_transient(&self) -> bool {
        matches!(self, KenticoError::Unavailable(_))
    }

    /// Classifies a non-2xx answer. `body` is Kentico's text; each of `secrets` (the password,
    /// the Base64 of the Basic credentials) is scrubbed from it in case an error page echoes
    /// request headers.
    pub fn from_status(status: u16, body: &str, secrets: &[&str]) -> Self {
        let message = clip_message(body, secrets);
        match status {
            401 | 403 => KenticoError::Unauthorized { status },
            // 408 and 429 are Kentico (or IIS in front of it) asking us to come back later.
            408 | 429 | 500..=599 => KenticoError::Unavailable(format!("HTTP {status}: {message}")),
            // The client follows no redirects: one means a wrong base URL or a login page.
            300..=399 => KenticoError::Rejected {
                status,
                message: format!(
                    "redirected; KENTICO_BASE_URL must be the admin application root \
                     (REST answers at <root>/rest). {message}"
                ),
            },
            _ => KenticoError::Rejected { status, message },
        }
    }
}

fn unknown_status_message(name: &str, known: &[String], suggestion: Option<&str>) -> String {
    let hint = suggestion
        .map(|s| format!(" Did you mean \"{s}\"?"))
        .unwrap_or_default();
    format!(
        "Kentico has no order status named \"{name}\" (known: {}).{hint} Create it in Kentico or \
         pin its ID with KENTICO_ORDER_STATUSES (Name=ID,...)",
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    )
}

/// Removes each of `secrets` (as sent, and with its whitespace collapsed as a server may echo
/// it), collapses whitespace, trims and cuts to [`MAX_MESSAGE_CHARS`].
pub(crate) fn clip_message(body: &str, secrets: &[&str]) -> String {
    let collapse = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut text = body.to_string();
    for secret in secrets.iter().filter(|s| !s.trim().is_empty()) {
        text = text.replace(secret, "[redacted]");
    }
    text = collapse(&text);
    for secret in secrets
        .iter()
        .map(|s| collapse(s))
        .filter(|s| !s.is_empty())
    {
        text = text.replace(&secret, "[redacted]");
    }
    if text.is_empty() {
        return "(empty body)".to_string();
    }
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unavailable_is_transient() {
        assert!(KenticoError::from_status(503, "busy", &[]).is_transient());
        assert!(KenticoError::from_status(429, "slow down", &[]).is_transient());
        assert!(!KenticoError::from_status(400, "bad", &[]).is_transient());
        assert!(!KenticoError::from_status(404, "missing", &[]).is_transient());
        assert!(!KenticoError::Invalid("x".into()).is_transient());
        assert!(!KenticoError::Decode("x".into()).is_transient());
        let redirect = KenticoError::from_status(302, "", &[]);
        assert!(matches!(
            redirect,
            KenticoError::Rejected { status: 302, .. }
        ));
        assert!(redirect.to_string().contains("KENTICO_BASE_URL"));
    }

    #[test]
    fn credentials_problems_point_at_the_settings_to_check() {
        let error = KenticoError::from_status(401, "Unauthorized", &[]);
        assert_eq!(error, KenticoError::Unauthorized { status: 401 });
        assert!(
            error
                .to_string()
                .contains("KENTICO_USERNAME/KENTICO_PASSWORD")
        );
    }

    #[test]
    fn a_rejection_keeps_kenticos_message_trimmed_and_short() {
        let body = format!("  Object not found\n\n {}", "x".repeat(900));
        let KenticoError::Rejected { status, message } = KenticoError::from_status(404, &body, &[])
        else {
            panic!("expected Rejected");
        };
        assert_eq!(status, 404);
        assert!(message.starts_with("Object not found x"));
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn the_password_never_survives_into_a_message() {
        let error = KenticoError::from_status(400, "bad header Basic pw-123 from you", &["pw-123"]);
        assert!(!error.to_string().contains("pw-123"));
    }

    #[test]
    fn the_basic_header_and_a_password_with_whitespace_are_scrubbed_too() {
        let password = "correct  horse\tbattery";
        let basic = "cGF5YnJpZGdlOmNvcnJlY3QgIGhvcnNlCWJhdHRlcnk=";
        for body in [
            format!("echo: Authorization: Basic {basic}"),
            format!("your password {password} is wrong"),
            "your password correct horse battery is wrong".to_string(),
        ] {
            let text = KenticoError::from_status(400, &body, &[password, basic]).to_string();
            assert!(!text.contains(basic) && !text.contains("horse"), "{text}");
            assert!(text.contains("[redacted]"), "{text}");
        }
    }

    #[test]
    fn an_unknown_status_names_the_known_ones_and_the_likely_typo() {
        let error = KenticoError::UnknownStatus {
            name: "Payed".into(),
            known: vec!["New".into(), "Paid".into()],
            suggestion: Some("Paid".into()),
        };
        let text = error.to_string();
        assert!(text.contains("known: New, Paid"));
        assert!(text.contains("Did you mean \"Paid\"?"));
        assert!(text.contains("KENTICO_ORDER_STATUSES"));
    }
}
