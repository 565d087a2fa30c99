//! The Stripe event envelope: what ingress reads from a verified body (`webhook::EventEnvelope`),
//! the queue envelope it wraps it in, what the worker decodes back (`worker::ReceivedEvent`),
//! and the typed `Event` and its `data.object` as the payment worker reads them.
//!
//! Beyond "no panic": an accepted event has a non-empty id and type without control characters,
//! at most 255 characters, and a positive `created`; the worker decodes exactly the id, type and
//! JSON ingress queued; the typed event agrees with the envelope.

#![no_main]

use libfuzzer_sys::fuzz_target;
use paybridge::connectors::stripe::{
    BalanceTransaction, Charge, CheckoutSession, Customer, Dispute, Event, Invoice, PaymentIntent,
    Payout, Refund,
};
use paybridge::queue::QueueEnvelope;
use paybridge::webhook::{EventEnvelope, Source};
use paybridge::worker::ReceivedEvent;
use serde_json::Value;

fn check_text(field: &str) {
    assert!(!field.trim().is_empty(), "{field:?} is empty");
    assert!(field.chars().count() <= 255, "{field:?} is too long");
    assert!(
        !field.chars().any(char::is_control),
        "{field:?} has a control character"
    );
}

fn read_object(object: &Value) {
    let _ = serde_json::from_value::<PaymentIntent>(object.clone());
    let _ = serde_json::from_value::<Charge>(object.clone());
    let _ = serde_json::from_value::<Refund>(object.clone());
    let _ = serde_json::from_value::<Dispute>(object.clone());
    let _ = serde_json::from_value::<CheckoutSession>(object.clone());
    let _ = serde_json::from_value::<Invoice>(object.clone());
    let _ = serde_json::from_value::<Customer>(object.clone());
    let _ = serde_json::from_value::<Payout>(object.clone());
    let _ = serde_json::from_value::<BalanceTransaction>(object.clone());
}

fuzz_target!(|data: &[u8]| {
    // Ingress refuses a body that is not UTF-8 before reading it.
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(event) = EventEnvelope::parse(body) else {
        return;
    };
    check_text(&event.id);
    check_text(&event.event_type);
    assert!(event.created > 0);

    let envelope = QueueEnvelope::wrap(
        Source::Stripe,
        &event,
        "2026-11-29T12:00:12.345Z".to_string(),
        body,
    )
    .expect("an accepted event wraps");
    let message = envelope.to_message().expect("an envelope serializes");
    let received =
        ReceivedEvent::decode(&message.body).expect("the worker reads what ingress queued");
    assert_eq!(received.event_id(), event.id);
    assert_eq!(received.event_type(), event.event_type);
    let sent: Value = serde_json::from_str(body).expect("an accepted body is JSON");
    assert_eq!(received.payload, sent, "the payload is queued verbatim");

    if let Ok(typed) = serde_json::from_value::<Event>(received.payload.clone()) {
        assert_eq!(typed.id, event.id);
        assert_eq!(typed.event_type, event.event_type);
        assert_eq!(typed.created, event.created);
        assert_eq!(Some(typed.livemode), event.livemode);
        read_object(&typed.data.object);
    }
});
