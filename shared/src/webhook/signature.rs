//! Verifies `t=…,v1=…` webhook signatures: Stripe's `Stripe-Signature` and Kentico's `X-Kentico-Signature`.
//!
//! Both schemes sign `"{t}.{raw body}"` with HMAC-SHA256 and hex-encode the result. A header
//! may carry several `v1` values (Stripe sends one per active endpoint secret during a roll) and
//! the integration may hold several secrets (rotation on our side): any `v1` matching any secret
//! passes. Other schemes (`v0`, Stripe's test-mode legacy signature) are ignored.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::secret::SecretString;

type HmacSha256 = Hmac<Sha256>;

/// The longest signature header read: a header with a timestamp and a `v1` per secret of a
/// rotation is under 300 bytes; anything over this is refused as malformed before it is parsed.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

/// Stripe's and Kentico's default tolerance: a signature older (or newer) than this is refused.
pub const DEFAULT_TOLERANCE_SECONDS: u64 = 300;

/// Why a signature was refused. Each variant has a stable reason code for logs and metrics;
/// none of them carries secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The request had no signature header at all.
    #[error("the signature header is missing")]
    Missing,
    /// The header could not be parsed (no timestamp, a non-numeric timestamp, no `v1`).
    #[error("the signature header is malformed: {0}")]
    Malformed(&'static str),
    /// The timestamp is older than the tolerance allows: a replay or a very late delivery.
    #[error(
        "the signature timestamp is {age_seconds} s old, more than the {tolerance_seconds} s tolerance"
    )]
    Stale {
        /// How old the timestamp is.
        age_seconds: u64,
        /// The configured tolerance.
        tolerance_seconds: u64,
    },
    /// The timestamp lies further in the future than the tolerance allows.
    #[error(
        "the signature timestamp is {ahead_seconds} s in the future, more than the {tolerance_seconds} s tolerance"
    )]
    FromTheFuture {
        /// How far ahead the timestamp is.
        ahead_seconds: u64,
        /// The configured tolerance.
        tolerance_seconds: u64,
    },
    /// No `v1` signature matches any configured secret (tampered body or wrong secret).
    #[error("no signature matches the payload for any configured secret")]
    Mismatch,
}

impl SignatureError {
    /// The stable reason code used in responses, logs and metrics.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::Missing => "signature_missing",
            Self::Malformed(_) => "signature_malformed",
            Self::Stale { .. } => "signature_stale",
            Self::FromTheFuture { .. } => "signature_from_future",
            Self::Mismatch => "signature_mismatch",
        }
    }
}

/// A parsed signature header: the signed timestamp and the candidate `v1` signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    /// Unix seconds the sender signed at.
    pub timestamp: i64,
    /// Every well-formed `v1` signature (32 bytes each).
    pub signatures: Vec<[u8; 32]>,
}

impl SignatureHeader {
    /// Parses `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, ignoring unknown schemes. A header over
    /// [`MAX_HEADER_BYTES`] or with a second `t` (two headers sent, joined by a comma) is
    /// malformed: which timestamp was signed would be a guess.
    pub fn parse(header: &str) -> Result<Self, SignatureError> {
        if header.len() > MAX_HEADER_BYTES {
            return Err(SignatureError::Malformed(
                "the header is longer than 8192 bytes",
            ));
        }
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            let Some((key, value)) = part.trim().split_once('=') else {
                continue;
            };
            match key.trim() {
                "t" if timestamp.is_some() => {
                    return Err(SignatureError::Malformed("more than one timestamp t"));
                }
                "t" => {
                    let parsed = value.trim().parse::<i64>().map_err(|_| {
                        SignatureError::Malformed("the timestamp t is not an integer")
                    })?;
                    timestamp = Some(parsed);
                }
                "v1" => {
                    // A v1 that is not 64 hex digits can never match: skip it rather than fail,
                    // so one odd value beside a good one still verifies.
                    let mut bytes = [0u8; 32];
                    if hex::decode_to_slice(value.trim(), &mut bytes).is_ok() {
                        signatures.push(bytes);
                    }
                }
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(SignatureError::Malformed("no timestamp t"))?;
        if signatures.is_empty() {
            return Err(SignatureError::Malformed("no v1 signature"));
        }
        Ok(Self {
            timestamp,
            signatures,
        })
    }
}

/// Computes the `v1` signature of `payload` signed at `timestamp` with `secret`.
pub fn compute_signature(secret: &str, timestamp: i64, payload: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac.finalize().into_bytes().into()
}

/// Builds a header value `t=…,v1=…` for `payload`, one `v1` per secret: what the senders do,
/// and what `paybridge events sign` and the tests use.
pub fn sign_header(secrets: &[&str], timestamp: i64, payload: &[u8]) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&hex::encode(compute_signature(secret, timestamp, payload)));
    }
    header
}

/// Verifies one signature header against the raw body.
#[derive(Debug, Clone)]
pub struct SignatureVerifier {
    secrets: Vec<SecretString>,
    tolerance_seconds: u64,
}

impl SignatureVerifier {
    /// A verifier accepting any of `secrets` within `tolerance_seconds` either side of now.
    pub fn new(secrets: Vec<SecretString>, tolerance_seconds: u64) -> Self {
        Self {
            secrets,
            tolerance_seconds,
        }
    }

    /// The configured tolerance in seconds.
    pub fn tolerance_seconds(&self) -> u64 {
        self.tolerance_seconds
    }

    /// Checks `header` (if any) against `payload` at `now` (unix seconds); returns the signed
    /// timestamp on success.
    pub fn verify(
        &self,
        header: Option<&str>,
        payload: &[u8],
        now: i64,
    ) -> Result<i64, SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        let parsed = SignatureHeader::parse(header)?;
        let tolerance = self.tolerance_seconds;
        let age = now.saturating_sub(parsed.timestamp);
        if age > 0 && age.unsigned_abs() > tolerance {
            return Err(SignatureError::Stale {
                age_seconds: age.unsigned_abs(),
                tolerance_seconds: tolerance,
            });
        }
        if age < 0 && age.unsigned_abs() > tolerance {
            return Err(SignatureError::FromTheFuture {
                ahead_seconds: age.unsigned_abs(),
                tolerance_seconds: tolerance,
            });
        }
        // Every comparison runs, matched or not, in constant time per candidate.
        let mut matched = subtle::Choice::from(0u8);
        for secret in &self.secrets {
            let expected = compute_signature(secret.expose(), parsed.timestamp, payload);
            for candidate in &parsed.signatures {
                matched |= expected.ct_eq(candidate);
            }
        }
        if bool::from(matched) {
            Ok(parsed.timestamp)
        } else {
            Err(SignatureError::Mismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded","created":1700000000}"#;

    fn verifier(secrets: &[&str]) -> SignatureVerifier {
        SignatureVerifier::new(
            secrets.iter().map(|s| SecretString::new(*s)).collect(),
            DEFAULT_TOLERANCE_SECONDS,
        )
    }

    #[test]
    fn accepts_a_valid_signature() {
        let header = sign_header(&["whsec_a"], NOW, BODY);
        assert_eq!(
            verifier(&["whsec_a"]).verify(Some(&header), BODY, NOW),
            Ok(NOW)
        );
    }

    #[test]
    fn matches_a_known_stripe_signature() {
        // HMAC-SHA256("whsec_test_secret", "1700000000.{}") computed independently with openssl:
        // printf '1700000000.{}' | openssl dgst -sha256 -hmac whsec_test_secret
        let expected = "ceb8863f7208fa249a6cd8f951e993c7563412aca65866f6272283debe143ab3";
        let computed = hex::encode(compute_signature("whsec_test_secret", NOW, b"{}"));
        assert_eq!(computed, expected);
    }

    #[test]
    fn refuses_a_body_tampered_by_one_byte() {
        let header = sign_header(&["whsec_a"], NOW, BODY);
        let mut tampered = BODY.to_vec();
        tampered[10] ^= 0x01;
        assert_eq!(
            verifier(&["whsec_a"]).verify(Some(&header), &tampered, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn refuses_a_signature_made_with_another_secret() {
        let header = sign_header(&["whsec_other"], NOW, BODY);
        assert_eq!(
            verifier(&["whsec_a"]).verify(Some(&header), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn accepts_either_secret_during_rotation() {
        let both = verifier(&["whsec_old", "whsec_new"]);
        for secret in ["whsec_old", "whsec_new"] {
            let header = sign_header(&[secret], NOW, BODY);
            assert_eq!(both.verify(Some(&header), BODY, NOW), Ok(NOW), "{secret}");
        }
    }

    #[test]
    fn accepts_several_v1_when_one_is_valid() {
        let bad = hex::encode([7u8; 32]);
        let good = hex::encode(compute_signature("whsec_a", NOW, BODY));
        let header = format!("t={NOW},v1={bad},v0={bad},v1=nothex,v1={good}");
        assert_eq!(
            verifier(&["whsec_a"]).verify(Some(&header), BODY, NOW),
            Ok(NOW)
        );
    }

    #[test]
    fn ignores_v0_signatures() {
        let good_as_v0 = hex::encode(compute_signature("whsec_a", NOW, BODY));
        let header = format!("t={NOW},v0={good_as_v0}");
        assert_eq!(
            verifier(&["whsec_a"]).verify(Some(&header), BODY, NOW),
            Err(SignatureError::Malformed("no v1 signature"))
        );
    }

    #[test]
    fn refuses_a_signature_older_than_the_tolerance() {
        let header = sign_header(&["whsec_a"], NOW - 301, BODY);
        assert_eq!(
            verifier(&["whsec_a"]).verify(Some(&header), BODY, NOW),
            Err(SignatureError::Stale {
                age_seconds: 301,
                tolerance_seconds: 300
            })
        );
        let at_the_edge = sign_header(&["whsec_a"], NOW - 300, BODY);
        assert!(
            verifier(&["whsec_a"])
                .verify(Some(&at_the_edge), BODY, NOW)
                .is_ok()
        );
    }

    #[test]
    fn refuses_a_signature_from_too_far_in_the_future() {
        let header = sign_header(&["whsec_a"], NOW + 301, BODY);
        assert_eq!(
            verifier(&["whsec_a"]).verify(Some(&header), BODY, NOW),
            Err(SignatureError::FromTheFuture {
                ahead_seconds: 301,
                tolerance_seconds: 300
            })
        );
    }

    #[test]
    fn checks_the_timestamp_before_the_signature() {
        // A stale header with a wrong signature is reported as stale: the cheaper, truer reason.
        let header = sign_header(&["whsec_other"], NOW - 1000, BODY);
        assert_eq!(
            verifier(&["whsec_a"])
                .verify(Some(&header), BODY, NOW)
                .map_err(|e| e.reason_code()),
            Err("signature_stale")
        );
    }

    #[test]
    fn refuses_malformed_headers() {
        let v = verifier(&["whsec_a"]);
        let sig = hex::encode(compute_signature("whsec_a", NOW, BODY));
        for header in [
            "".to_string(),
            "garbage".to_string(),
            format!("v1={sig}"),
            format!("t=abc,v1={sig}"),
            format!("t={NOW}"),
            format!("t={NOW},v1="),
        ] {
            assert!(
                matches!(
                    v.verify(Some(&header), BODY, NOW),
                    Err(SignatureError::Malformed(_))
                ),
                "{header:?} should be malformed"
            );
        }
        assert_eq!(v.verify(None, BODY, NOW), Err(SignatureError::Missing));
    }

    #[test]
    fn refuses_two_timestamps_as_two_headers_joined_would_have() {
        let v = verifier(&["whsec_a"]);
        let good = sign_header(&["whsec_a"], NOW, BODY);
        let other = sign_header(&["whsec_a"], NOW - 10, b"another body");
        for header in [format!("{good},{other}"), format!("{other},{good}")] {
            assert_eq!(
                v.verify(Some(&header), BODY, NOW),
                Err(SignatureError::Malformed("more than one timestamp t")),
                "{header}"
            );
        }
    }

    #[test]
    fn refuses_a_header_over_the_limit_even_with_a_good_signature_in_it() {
        let v = verifier(&["whsec_a"]);
        let good = sign_header(&["whsec_a"], NOW, BODY);
        let at_limit = format!(
            "{good},v0={}",
            "0".repeat(MAX_HEADER_BYTES - good.len() - 4)
        );
        assert_eq!(at_limit.len(), MAX_HEADER_BYTES);
        assert_eq!(v.verify(Some(&at_limit), BODY, NOW), Ok(NOW));
        let over = format!("{at_limit}0");
        assert_eq!(
            v.verify(Some(&over), BODY, NOW)
                .map_err(|e| e.reason_code()),
            Err("signature_malformed")
        );
    }

    #[test]
    fn verifies_an_empty_body_only_with_its_own_signature() {
        let v = verifier(&["whsec_a"]);
        let empty = sign_header(&["whsec_a"], NOW, b"");
        assert_eq!(v.verify(Some(&empty), b"", NOW), Ok(NOW));
        let of_body = sign_header(&["whsec_a"], NOW, BODY);
        assert_eq!(
            v.verify(Some(&of_body), b"", NOW),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn tolerates_spaces_around_parts() {
        let sig = hex::encode(compute_signature("whsec_a", NOW, BODY));
        let header = format!(" t={NOW} , v1={sig} ");
        assert_eq!(
            verifier(&["whsec_a"]).verify(Some(&header), BODY, NOW),
            Ok(NOW)
        );
    }

    #[test]
    fn refuses_everything_when_no_secret_is_configured() {
        let header = sign_header(&["whsec_a"], NOW, BODY);
        assert_eq!(
            verifier(&[]).verify(Some(&header), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
    }
}
