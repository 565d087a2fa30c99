//! The signature of paybridge's requests to the Xperience by Kentico package:
//! `X-Paybridge-Signature: t=<unix>,v1=<hex>[,v1=…]`, each `v1` the HMAC-SHA256 of
//! `<t>.<METHOD> <path-and-query>.<body>` with one secret. Binding the method and the request
//! target keeps a signature for one order or route from being replayed against another.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header the package checks.
pub const SIGNATURE_HEADER: &str = "X-Paybridge-Signature";

/// The `v1` of one request: `method` upper-case, `target` the path and query exactly as sent.
pub fn request_signature(
    secret: &str,
    timestamp: i64,
    method: &str,
    target: &str,
    body: &[u8],
) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(method.as_bytes());
    mac.update(b" ");
    mac.update(target.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The header value for one request, one `v1` per secret (so a secret can be rotated).
pub fn sign_request<S: AsRef<str>>(
    secrets: &[S],
    timestamp: i64,
    method: &str,
    target: &str,
    body: &[u8],
) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&hex::encode(request_signature(
            secret.as_ref(),
            timestamp,
            method,
            target,
            body,
        )));
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vector of docs/CONTRACTS.md#request-signature, which the package's own tests
    // reproduce too (infra/kentico/xbyk).
    const FIRST: &str = "Hq3vX9mL2pR7tY4wZ8nB1cD6fG0jK5sA3eU7iO9yT2rW4qE6";
    const SECOND: &str = "N2bV6cX8zL1kJ4hG7fD9sA3pO5iU0yT6rE2wQ8mB4nZ1xC3v";
    const T: i64 = 1_764_417_600;
    const BODY: &str = "{\"event_id\":\"pbw_0f3a9c1d2e4b5a6978800a1b2c3d4e5f\",\"status\":\"Paid\",\
        \"paid\":true,\"payment_reference\":\"pi_3QxYzA2eZvKYlo2C1a2b3c4d\",\"details\":{\
        \"StripePaymentStatus\":\"succeeded\",\"StripeDeclineReason\":\"Zo\u{eb}'s card \u{2014} \
        \u{201c}declined\u{201d}\"}}";
    const POST_TARGET: &str = "/paybridge/orders/2b4e8d0c-93f1-4c52-8a6e-5f0d7c3b1a29/status";
    const GET_TARGET: &str =
        "/paybridge/orders?modified_since=2026-11-30T12%3A00%3A00Z&after_id=0&limit=100";

    #[test]
    fn the_body_of_the_vector_is_the_documented_bytes() {
        use sha2::Digest;
        assert_eq!(BODY.len(), 230);
        assert_eq!(
            hex::encode(Sha256::digest(BODY.as_bytes())),
            "6499d55433d186a2ad6938dc6d014301cd160c293f983b27907a01683df43c6d"
        );
    }

    #[test]
    fn reproduces_the_documented_signatures() {
        let post = |secret| {
            hex::encode(request_signature(
                secret,
                T,
                "POST",
                POST_TARGET,
                BODY.as_bytes(),
            ))
        };
        let get = |secret| hex::encode(request_signature(secret, T, "GET", GET_TARGET, b""));
        assert_eq!(
            post(FIRST),
            "b3a928e99d6e1f396c5ccffc12b71adeb8bb84507781af2e37ff336c29c7a6bf"
        );
        assert_eq!(
            post(SECOND),
            "bae32d592664ade5f099525ca7df546bb279fe297590a66ffa42f50aa811c42f"
        );
        assert_eq!(
            get(FIRST),
            "179fc910615b141e7df41d2f4f2e2b68da67b71fcad4b019462285bfb4b3f331"
        );
        assert_eq!(
            get(SECOND),
            "5deaae0f66d79dfaa20868b71d92f09ba241a057ecd3bb09fdfbf4d2fc7b703d"
        );
    }

    #[test]
    fn the_header_carries_one_v1_per_secret() {
        let header = sign_request(&[FIRST, SECOND], T, "GET", GET_TARGET, b"");
        assert_eq!(
            header,
            "t=1764417600,v1=179fc910615b141e7df41d2f4f2e2b68da67b71fcad4b019462285bfb4b3f331,\
             v1=5deaae0f66d79dfaa20868b71d92f09ba241a057ecd3bb09fdfbf4d2fc7b703d"
        );
    }

    #[test]
    fn method_target_and_body_are_all_signed() {
        let base = request_signature(FIRST, T, "POST", POST_TARGET, BODY.as_bytes());
        assert_ne!(
            base,
            request_signature(FIRST, T, "PUT", POST_TARGET, BODY.as_bytes())
        );
        assert_ne!(
            base,
            request_signature(
                FIRST,
                T,
                "POST",
                &POST_TARGET.replace("2b4e", "2b4f"),
                BODY.as_bytes()
            )
        );
        assert_ne!(
            base,
            request_signature(FIRST, T, "POST", POST_TARGET, b"{}")
        );
        assert_ne!(
            base,
            request_signature(FIRST, T + 1, "POST", POST_TARGET, BODY.as_bytes())
        );
    }
}
