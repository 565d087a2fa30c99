//! The `t=…,v1=…` signature header parser and verifier (`webhook::signature`), fed any header
//! with the input itself as the body.
//!
//! Beyond "no panic": a header that parses re-renders (`t=`, each `v1=` in hex) to the same
//! parse; a header that verifies still verifies re-rendered; a header we sign for the body always
//! verifies; extreme clocks neither overflow nor pass a header they should not.

#![no_main]

use libfuzzer_sys::fuzz_target;
use paybridge::secret::SecretString;
use paybridge::webhook::signature::{SignatureHeader, SignatureVerifier, sign_header};

const SECRET: &str = "whsec_fuzz";
const NOW: i64 = 1_700_000_000;

fn render(header: &SignatureHeader) -> String {
    let mut text = format!("t={}", header.timestamp);
    for signature in &header.signatures {
        text.push_str(",v1=");
        text.push_str(&hex::encode(signature));
    }
    text
}

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let verifier = SignatureVerifier::new(vec![SecretString::new(SECRET)], 300);
    let parsed = SignatureHeader::parse(header);
    if let Ok(parsed) = &parsed {
        assert!(!parsed.signatures.is_empty(), "a parsed header has a v1");
        assert_eq!(
            SignatureHeader::parse(&render(parsed)).as_ref(),
            Ok(parsed),
            "a parsed header re-renders"
        );
    }
    let verified = verifier.verify(Some(header), data, NOW);
    if let Ok(timestamp) = verified {
        let parsed = parsed.expect("a verified header parses");
        assert_eq!(timestamp, parsed.timestamp);
        assert_eq!(
            verifier.verify(Some(&render(&parsed)), data, NOW),
            Ok(timestamp)
        );
    }
    // Any clock: no overflow, and far from the signed time nothing passes.
    for now in [i64::MIN, i64::MAX, 0] {
        if let Ok(timestamp) = verifier.verify(Some(header), data, now) {
            assert!(
                timestamp.abs_diff(now) <= 300,
                "{timestamp} passed at {now}"
            );
        }
    }
    // The body is anything; a header signed for it always verifies, one for another body never.
    let good = sign_header(&[SECRET], NOW, data);
    assert_eq!(verifier.verify(Some(&good), data, NOW), Ok(NOW));
    let other = sign_header(&["whsec_other"], NOW, data);
    assert!(verifier.verify(Some(&other), data, NOW).is_err());
});
