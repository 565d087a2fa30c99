//! The Kentico REST service's answers as the client reads them (`connectors::kentico`): object
//! lists and single objects found by type name anywhere in the JSON, order status lists, and
//! error bodies classified and clipped.
//!
//! Beyond "no panic": a single-object read is the first of the list read, or an error when the
//! list is empty; every status read has an ID and a name; an error message never shows the
//! password or the Basic credentials and is clipped.

#![no_main]

use libfuzzer_sys::fuzz_target;
use paybridge::connectors::kentico::{
    KenticoError, decode_object, decode_objects, decode_order_statuses,
};

const PASSWORD: &str = "Pa55w0rdZQ";
/// Base64 of `rest:Pa55w0rdZQ`.
const BASIC: &str = "cmVzdDpQYTU1dzByZFpR";

fuzz_target!(|data: &[u8]| {
    for object_type in [
        "ecommerce.order",
        "ecommerce.customer",
        "ecommerce.orderstatus",
    ] {
        let single = decode_object(data, object_type);
        match decode_objects(data, object_type) {
            Ok(list) => match list.first() {
                Some(first) => assert_eq!(single.as_ref().ok(), Some(first)),
                None => assert!(matches!(single, Err(KenticoError::Decode(_)))),
            },
            Err(error) => assert_eq!(single, Err(error)),
        }
    }
    if let Ok(statuses) = decode_order_statuses(data) {
        for status in statuses {
            assert!(!status.name.trim().is_empty());
        }
    }
    let text = String::from_utf8_lossy(data);
    for status in [302, 400, 401, 404, 429, 503] {
        let message = KenticoError::from_status(status, &text, &[PASSWORD, BASIC]).to_string();
        assert!(!message.contains(PASSWORD), "{message}");
        assert!(!message.contains(BASIC), "{message}");
        assert!(
            message.chars().count() <= 800,
            "{} characters",
            message.chars().count()
        );
    }
});
