//! The hostile-input catalog (docs/RELIABILITY.md#hostile-input): one table of bad requests,
//! each with what it must get, run against both webhooks on the Lambda path (the ingress
//! handlers with API Gateway events, queues on moto, both workers) and on `paybridge serve`
//! over HTTP, plus raw-TCP requests where HTTP framing matters. Every refused request must
//! enqueue nothing; every request the worker must judge is dead-lettered with its reason; no
//! request reaches Stripe or Kentico; and after every case a good request is accepted.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use integration_tests::{apigw, now_unix};
use paybridge::ingress::lambda::handle;
use paybridge::webhook::Source;
use paybridge::webhook::signature::sign_header;
use serde_json::{Value, json};

use crate::order_to_cash::harness::{self, System};
use crate::serve_process::{self, KENTICO_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET, Setup};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Endpoint {
    Stripe,
    Kentico,
}

const BOTH: &[Endpoint] = &[Endpoint::Stripe, Endpoint::Kentico];
const STRIPE: &[Endpoint] = &[Endpoint::Stripe];
const KENTICO: &[Endpoint] = &[Endpoint::Kentico];

impl Endpoint {
    fn source(self) -> Source {
        match self {
            Self::Stripe => Source::Stripe,
            Self::Kentico => Source::Kentico,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::Stripe => "/webhooks/stripe",
            Self::Kentico => "/webhooks/kentico",
        }
    }

    fn header(self) -> &'static str {
        self.source().signature_header()
    }

    fn other(self) -> Endpoint {
        match self {
            Self::Stripe => Self::Kentico,
            Self::Kentico => Self::Stripe,
        }
    }
}

/// The webhook secrets of the system under test.
#[derive(Clone, Copy)]
struct Secrets {
    stripe: &'static str,
    kentico: &'static str,
}

/// What a case builder knows: the endpoint, its secrets, the time.
struct Ctx {
    endpoint: Endpoint,
    secrets: Secrets,
    now: i64,
}

impl Ctx {
    fn secret_of(&self, endpoint: Endpoint) -> &'static str {
        match endpoint {
            Endpoint::Stripe => self.secrets.stripe,
            Endpoint::Kentico => self.secrets.kentico,
        }
    }

    fn sign_at(&self, t: i64, body: &[u8]) -> String {
        sign_header(&[self.secret_of(self.endpoint)], t, body)
    }

    fn sign(&self, body: &[u8]) -> String {
        self.sign_at(self.now, body)
    }

    /// `body`, signed as the sender signs it.
    fn signed(&self, body: impl Into<Vec<u8>>) -> Req {
        self.signed_at(self.now, body)
    }

    /// `body`, signed as the sender signs it, with the timestamp `t`.
    fn signed_at(&self, t: i64, body: impl Into<Vec<u8>>) -> Req {
        let body = body.into();
        let signature = self.sign_at(t, &body);
        Req::post(body).header(self.endpoint.header(), &signature)
    }

    /// A well-formed event of this endpoint with `patch` applied at the top (a null removes the
    /// field); its type is one no worker routes, so it is enqueued and then ignored.
    fn event(&self, patch: Value) -> String {
        let mut event = json!({"id": self.id(), "type": "hostile.probe", "created": self.now,
            "data": {"object": {}}});
        if self.endpoint == Endpoint::Stripe {
            event["object"] = json!("event");
            event["livemode"] = json!(false);
        } else {
            event["site"] = json!("DancingGoat");
        }
        for (key, value) in patch.as_object().into_iter().flatten() {
            if value.is_null() {
                event.as_object_mut().unwrap().remove(key);
            } else {
                event[key] = value.clone();
            }
        }
        event.to_string()
    }

    /// A Kentico order event for an order changed by `change`.
    fn order_event(&self, change: impl FnOnce(&mut Value)) -> String {
        static ORDER: AtomicU64 = AtomicU64::new(9000);
        let mut order = serve_process::kentico_order(ORDER.fetch_add(1, Ordering::SeqCst) as i64);
        change(&mut order);
        self.event(json!({"type": "ecommerce.order.created", "data": {"object": order}}))
    }

    fn id(&self) -> String {
        match self.endpoint {
            Endpoint::Stripe => format!("evt_hostile{}", harness::uuid_like().replace('-', "")),
            Endpoint::Kentico => harness::uuid_like(),
        }
    }
}

/// One HTTP request: method, headers (a name may repeat), body.
#[derive(Clone)]
struct Req {
    method: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    fn post(body: impl Into<Vec<u8>>) -> Req {
        Req {
            method: "POST",
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        }
    }

    fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    fn method(mut self, method: &'static str) -> Req {
        self.method = method;
        self
    }

    fn content_type(mut self, value: &str) -> Req {
        self.headers.retain(|(name, _)| name != "content-type");
        self.header("content-type", value)
    }
}

/// What a case must get.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// This status and reason code; nothing enqueued.
    Refused(u16, &'static str),
    /// 200 `other_mode_ignored`; nothing enqueued.
    Ignored,
    /// 202 and enqueued: harmless (no worker routes it).
    Accepted,
    /// 202 and enqueued; the worker dead-letters it with this failure kind.
    DeadLettered(&'static str),
}

struct Case {
    name: &'static str,
    endpoints: &'static [Endpoint],
    build: fn(&Ctx) -> Req,
    expect: Expect,
}

const fn case(
    name: &'static str,
    endpoints: &'static [Endpoint],
    expect: Expect,
    build: fn(&Ctx) -> Req,
) -> Case {
    Case {
        name,
        endpoints,
        build,
        expect,
    }
}

use Expect::{Accepted, DeadLettered, Ignored, Refused};

/// Over the accepted size (1 MiB less the dead-letter reserve) but under `serve`'s 2 MiB.
const OVER_THE_LIMIT: usize = 1_048_577;

fn padded(ctx: &Ctx, size: usize) -> String {
    let head = ctx.event(json!({"pad": ""}));
    let pad = "x".repeat(size.saturating_sub(head.len()));
    head.replacen(r#""pad":"""#, &format!(r#""pad":"{pad}""#), 1)
}

fn raw_event(ctx: &Ctx, fields: &str) -> String {
    format!(
        r#"{{"id":"{}","type":"hostile.probe","created":{},{fields}}}"#,
        ctx.id(),
        ctx.now
    )
}

fn catalog() -> Vec<Case> {
    vec![
        // --- The signature header.
        case(
            "no signature header",
            BOTH,
            Refused(401, "signature_missing"),
            |c| Req::post(c.event(json!({}))),
        ),
        case(
            "an empty signature header",
            BOTH,
            Refused(400, "signature_malformed"),
            |c| Req::post(c.event(json!({}))).header(c.endpoint.header(), ""),
        ),
        case(
            "a garbled signature header",
            BOTH,
            Refused(400, "signature_malformed"),
            |c| Req::post(c.event(json!({}))).header(c.endpoint.header(), "sha256=deadbeef"),
        ),
        case(
            "a timestamp without v1",
            BOTH,
            Refused(400, "signature_malformed"),
            |c| Req::post(c.event(json!({}))).header(c.endpoint.header(), &format!("t={}", c.now)),
        ),
        case(
            "a timestamp that is not a number",
            BOTH,
            Refused(400, "signature_malformed"),
            |c| {
                let body = c.event(json!({}));
                let good = c.sign(body.as_bytes());
                let v1 = good.split_once(",v1=").unwrap().1.to_string();
                Req::post(body).header(c.endpoint.header(), &format!("t=yesterday,v1={v1}"))
            },
        ),
        case(
            "a timestamp beyond i64",
            BOTH,
            Refused(400, "signature_malformed"),
            |c| {
                let body = c.event(json!({}));
                let good = c.sign(body.as_bytes());
                let v1 = good.split_once(",v1=").unwrap().1.to_string();
                Req::post(body).header(
                    c.endpoint.header(),
                    &format!("t=99999999999999999999,v1={v1}"),
                )
            },
        ),
        case(
            "a v1 that is not hex",
            BOTH,
            Refused(400, "signature_malformed"),
            |c| {
                Req::post(c.event(json!({}))).header(
                    c.endpoint.header(),
                    &format!("t={},v1={}", c.now, "zz".repeat(32)),
                )
            },
        ),
        case(
            "the right HMAC as v0 only",
            BOTH,
            Refused(400, "signature_malformed"),
            |c| {
                let body = c.event(json!({}));
                let v0 = c.sign(body.as_bytes()).replace(",v1=", ",v0=");
                Req::post(body).header(c.endpoint.header(), &v0)
            },
        ),
        case(
            "the good header sent twice",
            BOTH,
            Refused(400, "signature_malformed"),
            |c| {
                let body = c.event(json!({}));
                let good = c.sign(body.as_bytes());
                Req::post(body)
                    .header(c.endpoint.header(), &good)
                    .header(c.endpoint.header(), &good)
            },
        ),
        case(
            "a bad header, then the good one",
            BOTH,
            Refused(400, "signature_malformed"),
            |c| {
                let body = c.event(json!({}));
                let good = c.sign(body.as_bytes());
                let bad = c.sign_at(c.now - 3600, b"another body");
                Req::post(body)
                    .header(c.endpoint.header(), &bad)
                    .header(c.endpoint.header(), &good)
            },
        ),
        case(
            "a 9 KiB header with the good signature in it",
            BOTH,
            Refused(400, "signature_malformed"),
            |c| {
                let body = c.event(json!({}));
                let header = format!("{},v0={}", c.sign(body.as_bytes()), "0".repeat(9 * 1024));
                Req::post(body).header(c.endpoint.header(), &header)
            },
        ),
        case(
            "a signature of another body",
            BOTH,
            Refused(401, "signature_mismatch"),
            |c| {
                let body = c.event(json!({}));
                let other = c.event(json!({}));
                Req::post(body).header(c.endpoint.header(), &c.sign(other.as_bytes()))
            },
        ),
        case(
            "one byte of the body changed",
            BOTH,
            Refused(401, "signature_mismatch"),
            |c| {
                let body = c.event(json!({"data": {"object": {"amount": 100}}}));
                let signature = c.sign(body.as_bytes());
                Req::post(body.replace("100", "900")).header(c.endpoint.header(), &signature)
            },
        ),
        case(
            "a signature made with another secret",
            BOTH,
            Refused(401, "signature_mismatch"),
            |c| {
                let body = c.event(json!({}));
                let signature = sign_header(&["whsec_attacker"], c.now, body.as_bytes());
                Req::post(body).header(c.endpoint.header(), &signature)
            },
        ),
        case(
            "a signature made with the other webhook's secret",
            BOTH,
            Refused(401, "signature_mismatch"),
            |c| {
                let body = c.event(json!({}));
                let signature =
                    sign_header(&[c.secret_of(c.endpoint.other())], c.now, body.as_bytes());
                Req::post(body).header(c.endpoint.header(), &signature)
            },
        ),
        case(
            "signed, but in the other webhook's header",
            BOTH,
            Refused(401, "signature_missing"),
            |c| {
                let body = c.event(json!({}));
                let signature = c.sign(body.as_bytes());
                Req::post(body).header(c.endpoint.other().header(), &signature)
            },
        ),
        case(
            "a replay 330 s old (tolerance 300 s)",
            BOTH,
            Refused(401, "signature_stale"),
            |c| c.signed_at(c.now - 330, c.event(json!({}))),
        ),
        case(
            "a replay a day old",
            BOTH,
            Refused(401, "signature_stale"),
            |c| c.signed_at(c.now - 86_400, c.event(json!({}))),
        ),
        case(
            "signed at t=0",
            BOTH,
            Refused(401, "signature_stale"),
            |c| c.signed_at(0, c.event(json!({}))),
        ),
        case(
            "signed 330 s in the future",
            BOTH,
            Refused(401, "signature_from_future"),
            |c| c.signed_at(c.now + 330, c.event(json!({}))),
        ),
        case(
            "signed a year in the future",
            BOTH,
            Refused(401, "signature_from_future"),
            |c| c.signed_at(c.now + 31_536_000, c.event(json!({}))),
        ),
        // --- Method, size, encoding.
        case("GET", BOTH, Refused(405, "method_not_allowed"), |c| {
            c.signed(c.event(json!({}))).method("GET")
        }),
        case(
            "PUT, signed",
            BOTH,
            Refused(405, "method_not_allowed"),
            |c| c.signed(c.event(json!({}))).method("PUT"),
        ),
        case(
            "a body over the limit",
            BOTH,
            Refused(413, "payload_too_large"),
            |c| c.signed(padded(c, OVER_THE_LIMIT)),
        ),
        case(
            "a body over 2 MiB",
            BOTH,
            Refused(413, "payload_too_large"),
            |c| c.signed(padded(c, 2 * 1024 * 1024 + 1)),
        ),
        case(
            "a 10^6-element array (2 MB)",
            BOTH,
            Refused(413, "payload_too_large"),
            |c| {
                let array = format!("[{}0]", "0,".repeat(999_999));
                c.signed(raw_event(
                    c,
                    &format!(r#""data":{{"object":{{"a":{array}}}}}"#),
                ))
            },
        ),
        case(
            "a 4x10^5-element array within the limit",
            BOTH,
            Accepted,
            |c| {
                let array = format!("[{}0]", "0,".repeat(399_999));
                c.signed(raw_event(
                    c,
                    &format!(r#""data":{{"object":{{"a":{array}}}}}"#),
                ))
            },
        ),
        case("an empty body", BOTH, Refused(400, "json_malformed"), |c| {
            c.signed("")
        }),
        case(
            "a body that is not UTF-8",
            BOTH,
            Refused(400, "json_malformed"),
            |c| {
                let mut body = c.event(json!({"note": "caf"})).into_bytes();
                let at = body.windows(3).position(|w| w == b"caf").unwrap() + 3;
                body.insert(at, 0xE9);
                c.signed(body)
            },
        ),
        case(
            "a UTF-8 byte-order mark",
            BOTH,
            Refused(400, "json_malformed"),
            |c| c.signed(format!("\u{feff}{}", c.event(json!({})))),
        ),
        case(
            "a JSON bomb 100000 arrays deep",
            BOTH,
            Refused(400, "json_malformed"),
            |c| {
                let bomb = "[".repeat(100_000) + &"]".repeat(100_000);
                c.signed(raw_event(c, &format!(r#""data":{bomb}"#)))
            },
        ),
        case(
            "objects nested 65 deep",
            BOTH,
            Refused(400, "json_malformed"),
            |c| {
                let nested = r#"{"a":"#.repeat(64) + "1" + &"}".repeat(64);
                c.signed(raw_event(c, &format!(r#""data":{nested}"#)))
            },
        ),
        case(
            "a duplicate id",
            BOTH,
            Refused(400, "json_malformed"),
            |c| {
                let body = c.event(json!({}));
                c.signed(body.replacen('{', &format!(r#"{{"id":"{}","#, c.id()), 1))
            },
        ),
        case(
            "a duplicate key deep inside data",
            BOTH,
            Refused(400, "json_malformed"),
            |c| {
                c.signed(raw_event(
                    c,
                    r#""data":{"object":{"OrderGrandTotal":"1.00","OrderGrandTotal":"900.00"}}"#,
                ))
            },
        ),
        case(
            "a duplicate key written with an escape",
            BOTH,
            Refused(400, "json_malformed"),
            |c| {
                c.signed(raw_event(
                    c,
                    r#""data":{"object":{"amount":100,"\u0061mount":90000}}"#,
                ))
            },
        ),
        case(
            "text after the JSON",
            BOTH,
            Refused(400, "json_malformed"),
            |c| c.signed(c.event(json!({})) + "garbage"),
        ),
        case(
            "two events in one body",
            BOTH,
            Refused(400, "json_malformed"),
            |c| c.signed(c.event(json!({})) + &c.event(json!({}))),
        ),
        case(
            "a form-encoded body",
            BOTH,
            Refused(400, "json_malformed"),
            |c| {
                c.signed("id=evt_1&type=hostile.probe&created=1")
                    .content_type("application/x-www-form-urlencoded")
            },
        ),
        case(
            "a JSON array",
            BOTH,
            Refused(400, "envelope_invalid"),
            |c| c.signed(format!("[{}]", c.event(json!({})))),
        ),
        case(
            "a JSON string",
            BOTH,
            Refused(400, "envelope_invalid"),
            |c| c.signed("\"evt\""),
        ),
        case("JSON null", BOTH, Refused(400, "envelope_invalid"), |c| {
            c.signed("null")
        }),
        case(
            "a signed event sent as text/plain (content type is not trusted, the body is)",
            BOTH,
            Accepted,
            |c| c.signed(c.event(json!({}))).content_type("text/plain"),
        ),
        case(
            "a signed event without a content type",
            BOTH,
            Accepted,
            |c| {
                let mut request = c.signed(c.event(json!({})));
                request.headers.retain(|(name, _)| name != "content-type");
                request
            },
        ),
        // --- The envelope's fields.
        case("no id", BOTH, Refused(400, "envelope_invalid"), |c| {
            c.signed(c.event(json!({"id": null})))
        }),
        case(
            "a numeric id",
            BOTH,
            Refused(400, "envelope_invalid"),
            |c| c.signed(c.event(json!({"id": 42}))),
        ),
        case("an empty id", BOTH, Refused(400, "envelope_invalid"), |c| {
            c.signed(c.event(json!({"id": " "})))
        }),
        case(
            "an id of 256 characters",
            BOTH,
            Refused(400, "envelope_invalid"),
            |c| c.signed(c.event(json!({"id": "e".repeat(256)}))),
        ),
        case(
            "an id with a newline",
            BOTH,
            Refused(400, "envelope_invalid"),
            |c| c.signed(c.event(json!({"id": "evt_1\nforged log line"}))),
        ),
        case("no type", BOTH, Refused(400, "envelope_invalid"), |c| {
            c.signed(c.event(json!({"type": null})))
        }),
        case("type null", BOTH, Refused(400, "envelope_invalid"), |c| {
            c.signed(
                raw_event(c, r#""data":{}"#).replace(r#""type":"hostile.probe""#, r#""type":null"#),
            )
        }),
        case(
            "type an object",
            BOTH,
            Refused(400, "envelope_invalid"),
            |c| c.signed(c.event(json!({"type": {"name": "payment_intent.succeeded"}}))),
        ),
        case("no created", BOTH, Refused(400, "envelope_invalid"), |c| {
            c.signed(c.event(json!({"created": null})))
        }),
        case(
            "created as text",
            BOTH,
            Refused(400, "envelope_invalid"),
            |c| c.signed(c.event(json!({"created": "2026-12-02T00:00:00Z"}))),
        ),
        case(
            "created negative",
            BOTH,
            Refused(400, "envelope_invalid"),
            |c| c.signed(c.event(json!({"created": -1}))),
        ),
        case(
            "created zero",
            BOTH,
            Refused(400, "envelope_invalid"),
            |c| c.signed(c.event(json!({"created": 0}))),
        ),
        case(
            "created a fraction",
            BOTH,
            Refused(400, "envelope_invalid"),
            |c| c.signed(c.event(json!({"created": 1.5}))),
        ),
        case(
            "created beyond u64",
            BOTH,
            Refused(400, "envelope_invalid"),
            |c| {
                c.signed(raw_event(c, r#""data":{}"#).replace(
                    &format!(r#""created":{}"#, c.now),
                    r#""created":18446744073709551616"#,
                ))
            },
        ),
        case(
            "created 1e400 (out of range)",
            BOTH,
            Refused(400, "json_malformed"),
            |c| {
                c.signed(
                    raw_event(c, r#""data":{}"#)
                        .replace(&format!(r#""created":{}"#, c.now), r#""created":1e400"#),
                )
            },
        ),
        // --- Stripe only.
        case(
            "a live-mode event in a test-mode deployment",
            STRIPE,
            Ignored,
            |c| c.signed(c.event(json!({"type": "payment_intent.succeeded", "livemode": true}))),
        ),
        case(
            "livemode as a string",
            STRIPE,
            Refused(400, "envelope_invalid"),
            |c| c.signed(c.event(json!({"livemode": "true"}))),
        ),
        case(
            "a payment_intent.succeeded whose data is not an object",
            STRIPE,
            DeadLettered("undecodable_event"),
            |c| c.signed(c.event(json!({"type": "payment_intent.succeeded", "data": 5}))),
        ),
        // --- Kentico only: signed, well-formed, and an impossible order.
        case(
            "an order whose data is not an object",
            KENTICO,
            DeadLettered("mapping_mismatch"),
            |c| c.signed(c.event(json!({"type": "ecommerce.order.created", "data": [1, 2]}))),
        ),
        case(
            "a negative quantity",
            KENTICO,
            DeadLettered("mapping_mismatch"),
            |c| c.signed(c.order_event(|o| o["OrderItems"][0]["OrderItemUnitCount"] = json!(-2))),
        ),
        case(
            "a negative grand total",
            KENTICO,
            DeadLettered("mapping_mismatch"),
            |c| c.signed(c.order_event(|o| o["OrderGrandTotal"] = json!("-42.00"))),
        ),
        case(
            "an absurd grand total",
            KENTICO,
            DeadLettered("mapping_mismatch"),
            |c| c.signed(c.order_event(|o| o["OrderGrandTotal"] = json!("1000000000000.00"))),
        ),
        case(
            "a grand total of 10^308",
            KENTICO,
            DeadLettered("mapping_mismatch"),
            |c| c.signed(c.order_event(|o| o["OrderGrandTotal"] = json!(1e308))),
        ),
        case(
            "a grand total of NaN",
            KENTICO,
            DeadLettered("mapping_mismatch"),
            |c| c.signed(c.order_event(|o| o["OrderGrandTotal"] = json!("NaN"))),
        ),
        case(
            "10^4 order lines",
            KENTICO,
            DeadLettered("mapping_mismatch"),
            |c| {
                c.signed(c.order_event(|o| {
                let line = json!({"OrderItemSKUName": "Filter Pack", "OrderItemUnitCount": 1, "OrderItemUnitPrice": "0.01"});
                o["OrderItems"] = Value::Array(vec![line; 10_000]);
                o["OrderGrandTotal"] = json!("100.00");
            }))
            },
        ),
        case(
            "lines that do not add up to the total price",
            KENTICO,
            DeadLettered("mapping_mismatch"),
            |c| {
                c.signed(c.order_event(|o| {
                    o["OrderItems"][0]["OrderItemTotalPrice"] = json!("42.00");
                    o["OrderTotalPrice"] = json!("4200.00");
                }))
            },
        ),
        case(
            "order id 0",
            KENTICO,
            DeadLettered("mapping_mismatch"),
            |c| c.signed(c.order_event(|o| o["OrderID"] = json!(0))),
        ),
        case(
            "a grand total of 1e400 (out of range)",
            KENTICO,
            Refused(400, "json_malformed"),
            |c| {
                let body = c.order_event(|o| o["OrderGrandTotal"] = json!("TOTAL"));
                c.signed(body.replace(r#""TOTAL""#, "1e400"))
            },
        ),
    ]
}

/// What one run got.
struct Got {
    status: u16,
    body: Value,
}

/// Checks `got` and how much was enqueued against the case; returns what is wrong.
fn judge(expect: Expect, got: &Got, enqueued: i64) -> Option<String> {
    let code = got.body["error"]["code"].as_str();
    let ok = match expect {
        Refused(status, reason) => got.status == status && code == Some(reason) && enqueued == 0,
        Ignored => got.status == 200 && got.body["reason"] == "other_mode_ignored" && enqueued == 0,
        Accepted | DeadLettered(_) => got.status == 202 && enqueued == 1,
    };
    (!ok).then(|| {
        format!(
            "expected {expect:?}, got {} {} with {enqueued} enqueued",
            got.status, got.body
        )
    })
}

/// Where a case runs: the Lambda path or `serve`.
enum Target<'a> {
    Lambda {
        system: &'a System,
        sqs: aws_sdk_sqs::Client,
    },
    Serve {
        url: String,
        client: reqwest::Client,
    },
}

impl Target<'_> {
    async fn send(&self, endpoint: Endpoint, request: &Req) -> Got {
        match self {
            Self::Lambda { system, .. } => {
                // API Gateway hands a repeated header to the Lambda as one, joined by commas.
                let mut headers: Vec<(String, String)> = Vec::new();
                for (name, value) in &request.headers {
                    match headers
                        .iter_mut()
                        .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    {
                        Some((_, joined)) => {
                            joined.push(',');
                            joined.push_str(value);
                        }
                        None => headers.push((name.clone(), value.clone())),
                    }
                }
                let headers: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                let base64 = std::str::from_utf8(&request.body).is_err();
                let event = apigw::event(
                    request.method,
                    endpoint.path(),
                    &headers,
                    &request.body,
                    base64,
                );
                let ingress = system.ingress(endpoint.source());
                let (status, body) = apigw::parts(handle(ingress, apigw::request(&event)).await);
                Got { status, body }
            }
            Self::Serve { url, client } => {
                let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
                let mut builder = client.request(method, format!("{url}{}", endpoint.path()));
                for (name, value) in &request.headers {
                    builder = builder.header(name, value);
                }
                let response = builder
                    .body(request.body.clone())
                    .send()
                    .await
                    .expect("serve answers");
                let status = response.status().as_u16();
                let text = response.text().await.unwrap_or_default();
                Got {
                    status,
                    body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
                }
            }
        }
    }

    /// How many events `endpoint`'s ingress has enqueued so far (Lambda: the queue's depth;
    /// serve: its accepted counter, its workers take messages off the queue as they come).
    async fn enqueued(&self, endpoint: Endpoint) -> i64 {
        match self {
            Self::Lambda { system, sqs } => {
                let url = match endpoint {
                    Endpoint::Stripe => &system.env["STRIPE_EVENTS_QUEUE_URL"],
                    Endpoint::Kentico => &system.env["KENTICO_EVENTS_QUEUE_URL"],
                };
                let attributes = sqs
                    .get_queue_attributes()
                    .queue_url(url)
                    .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                    .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                    .send()
                    .await
                    .expect("moto answers")
                    .attributes
                    .unwrap_or_default();
                [
                    QueueAttributeName::ApproximateNumberOfMessages,
                    QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
                ]
                .iter()
                .map(|name| {
                    attributes
                        .get(name)
                        .and_then(|n| n.parse::<i64>().ok())
                        .unwrap_or(0)
                })
                .sum()
            }
            Self::Serve { url, client } => {
                let source = endpoint.source().as_str();
                metric(
                    client,
                    url,
                    &format!(
                        r#"paybridge_webhook_requests_total{{source="{source}",outcome="accepted"}}"#
                    ),
                )
                .await
            }
        }
    }
}

/// The sum of every `/metrics` sample whose line starts with `prefix`.
async fn metric(client: &reqwest::Client, url: &str, prefix: &str) -> i64 {
    let text = client
        .get(format!("{url}/metrics"))
        .send()
        .await
        .expect("serve answers /metrics")
        .text()
        .await
        .unwrap_or_default();
    text.lines()
        .filter(|line| line.starts_with(prefix))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|n| n as i64)
        .sum()
}

/// What a catalog run leaves to check afterwards.
#[derive(Default)]
struct Run {
    runs: usize,
    failures: Vec<String>,
    /// (endpoint, event id, failure kind) the workers must dead-letter.
    dead_letters: Vec<(Endpoint, String, &'static str)>,
}

/// CI runs the catalog once in its order; `PAYBRIDGE_LONG_SCENARIOS=1` runs it five times, each
/// round in a random order (the seed is printed), every request built afresh.
fn rounds() -> (usize, u64) {
    let long = std::env::var("PAYBRIDGE_LONG_SCENARIOS").is_ok_and(|v| v == "1");
    (if long { 5 } else { 1 }, fastrand::u64(..))
}

/// Runs every case on every endpoint it names, each followed by a good request.
async fn run_catalog(target: &Target<'_>, secrets: Secrets) -> Run {
    let mut run = Run::default();
    let cases = catalog();
    let mut plan: Vec<(&Case, Endpoint)> = cases
        .iter()
        .flat_map(|case| case.endpoints.iter().map(move |&endpoint| (case, endpoint)))
        .collect();
    let (rounds, seed) = rounds();
    let mut rng = fastrand::Rng::with_seed(seed);
    if rounds > 1 {
        eprintln!("hostile catalog: {rounds} rounds in random order, seed {seed}");
    }
    for round in 0..rounds {
        if round > 0 {
            rng.shuffle(&mut plan);
        }
        for &(case, endpoint) in &plan {
            let ctx = Ctx {
                endpoint,
                secrets,
                now: now_unix(),
            };
            let request = (case.build)(&ctx);
            let before = target.enqueued(endpoint).await;
            let got = target.send(endpoint, &request).await;
            let after = target.enqueued(endpoint).await;
            run.runs += 1;
            if let Some(wrong) = judge(case.expect, &got, after - before) {
                run.failures
                    .push(format!("{endpoint:?}: {}: {wrong}", case.name));
            }
            if let DeadLettered(kind) = case.expect {
                let id = serde_json::from_slice::<Value>(&request.body).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_string();
                run.dead_letters.push((endpoint, id, kind));
            }
            // The service is up and takes the next good event.
            let good = ctx.signed(ctx.event(json!({})));
            let got = target.send(endpoint, &good).await;
            let enqueued = target.enqueued(endpoint).await - after;
            if got.status != 202 || enqueued != 1 {
                run.failures.push(format!(
                    "{endpoint:?}: after {}: a good event got {} {} ({enqueued} enqueued)",
                    case.name, got.status, got.body
                ));
            }
        }
    }
    run
}

fn assert_no_failures(what: &str, run: &Run) {
    assert!(
        run.failures.is_empty(),
        "{what}: {} of {} runs went wrong:\n{}",
        run.failures.len(),
        run.runs,
        run.failures.join("\n")
    );
}

#[tokio::test]
async fn every_hostile_request_on_the_lambda_path_gets_its_answer_and_effects_nothing() {
    let system = System::start(&[]).await;
    let sqs = aws_sdk_sqs::Client::new(&integration_tests::moto::sdk_config().await);
    let target = Target::Lambda {
        system: &system,
        sqs,
    };
    let secrets = Secrets {
        stripe: harness::STRIPE_WEBHOOK_SECRET,
        kentico: harness::KENTICO_WEBHOOK_SECRET,
    };
    let started = Instant::now();

    let run = run_catalog(&target, secrets).await;
    system.drain().await;

    assert_no_failures("Lambda path", &run);
    for endpoint in [Endpoint::Stripe, Endpoint::Kentico] {
        let mut dead: Vec<(String, String)> = system
            .dead_letters(endpoint.source())
            .await
            .iter()
            .map(|m| {
                (
                    m.attributes["event_id"].clone(),
                    m.attributes["failure_kind"].clone(),
                )
            })
            .collect();
        let mut expected: Vec<(String, String)> = (run.dead_letters.iter())
            .filter(|(e, _, _)| *e == endpoint)
            .map(|(_, id, kind)| (id.clone(), kind.to_string()))
            .collect();
        dead.sort();
        expected.sort();
        assert_eq!(dead, expected, "{endpoint:?}: exactly these dead letters");
    }
    assert!(
        system.stripe.requests().is_empty(),
        "a hostile request reached Stripe: {:?}",
        system.stripe.requests().len()
    );
    assert!(
        system.kentico.requests().is_empty(),
        "a hostile request reached Kentico"
    );
    eprintln!(
        "hostile catalog, Lambda path: {} runs ({} dead-lettered by the workers) in {:.1} s",
        run.runs,
        run.dead_letters.len(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test]
async fn every_hostile_request_on_serve_gets_its_answer_and_effects_nothing() {
    let setup = Setup::new().await;
    let serve = setup.serve().await;
    let client = reqwest::Client::new();
    let target = Target::Serve {
        url: serve.url.clone(),
        client: client.clone(),
    };
    let secrets = Secrets {
        stripe: STRIPE_WEBHOOK_SECRET,
        kentico: KENTICO_WEBHOOK_SECRET,
    };
    let stripe_calls = setup.stripe.requests().len();
    let kentico_calls = setup.kentico.requests().len();
    let started = Instant::now();

    let mut run = run_catalog(&target, secrets).await;
    let raw = raw_tcp_cases(&target, &serve.url, secrets).await;
    run.runs += raw.runs;
    run.failures.extend(raw.failures);

    assert_no_failures("serve", &run);
    // serve's own workers judge what ingress accepted: the impossible orders are dead-lettered.
    for (endpoint, worker) in [
        (Endpoint::Stripe, "payment-worker"),
        (Endpoint::Kentico, "order-worker"),
    ] {
        let expected = (run.dead_letters.iter())
            .filter(|(e, _, _)| *e == endpoint)
            .count() as i64;
        let prefix = format!(r#"paybridge_worker_messages_total{{worker="{worker}""#);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = client
                .get(format!("{}/metrics", serve.url))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let dead: i64 = text
                .lines()
                .filter(|l| l.starts_with(&prefix) && l.contains(r#"outcome="dead_lettered""#))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .map(|n| n as i64)
                .sum();
            if dead == expected {
                break;
            }
            assert!(
                dead < expected && Instant::now() < deadline,
                "{worker}: {dead} dead-lettered, expected {expected}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert_eq!(
        setup.stripe.requests().len(),
        stripe_calls,
        "a hostile request reached Stripe"
    );
    assert_eq!(
        setup.kentico.requests().len(),
        kentico_calls,
        "a hostile request reached Kentico"
    );
    eprintln!(
        "hostile catalog, serve: {} runs ({} raw TCP) in {:.1} s",
        run.runs,
        raw.runs,
        started.elapsed().as_secs_f64()
    );
}

/// Sends `bytes` on a fresh connection (writing and reading at once, so an early answer is
/// not lost), optionally closing the write side after; returns the status line's code (0 for
/// none) and the answer.
async fn raw_exchange(address: String, bytes: Vec<u8>, half_close: bool) -> (u16, String) {
    tokio::task::spawn_blocking(move || {
        let stream = std::net::TcpStream::connect(&address).expect("serve listens");
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        let sender = std::thread::spawn(move || {
            let _ = writer.write_all(&bytes);
            if half_close {
                let _ = writer.shutdown(std::net::Shutdown::Write);
            }
        });
        let mut answer = Vec::new();
        let mut reader = stream;
        let mut buffer = [0u8; 8192];
        loop {
            match reader.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buffer[..n]);
                    // One answer is all a case needs: stop once its body is complete.
                    if complete(&answer) {
                        break;
                    }
                }
            }
        }
        let _ = sender.join();
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        (status, text)
    })
    .await
    .unwrap()
}

/// Whether `answer` holds a whole response (headers and a `content-length` body).
fn complete(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    body.len() >= length
}

fn request_head(endpoint: Endpoint, extra: &[String]) -> String {
    let mut head = format!(
        "POST {} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nconnection: close\r\n",
        endpoint.path()
    );
    for line in extra {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head
}

/// A whole request: the head with `extra` header lines, a blank line, then `body` as given.
fn request(endpoint: Endpoint, extra: &[String], body: &[u8]) -> Vec<u8> {
    let mut bytes = request_head(endpoint, extra).into_bytes();
    bytes.extend_from_slice(b"\r\n");
    bytes.extend_from_slice(body);
    bytes
}

/// (name, the bytes sent, whether the sender then stops writing, status, reason code)
type RawCase = (&'static str, Vec<u8>, bool, u16, Option<&'static str>);

/// The requests only a raw socket can make: bodies framed wrongly, headers beyond reason.
async fn raw_tcp_cases(target: &Target<'_>, url: &str, secrets: Secrets) -> Run {
    let address = url.trim_start_matches("http://").to_string();
    let endpoint = Endpoint::Stripe;
    let ctx = Ctx {
        endpoint,
        secrets,
        now: now_unix(),
    };
    let header = endpoint.header();
    let mut cases: Vec<RawCase> = Vec::new();

    // A chunked body that grows past serve's 2 MiB.
    let big = padded(&ctx, 2 * 1024 * 1024 + 64 * 1024);
    let mut bytes = request_head(
        endpoint,
        &[
            format!("{header}: {}", ctx.sign(big.as_bytes())),
            "transfer-encoding: chunked".into(),
        ],
    )
    .into_bytes();
    bytes.extend_from_slice(b"\r\n");
    for chunk in big.as_bytes().chunks(64 * 1024) {
        bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        bytes.extend_from_slice(chunk);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"0\r\n\r\n");
    cases.push((
        "a chunked body over 2 MiB",
        bytes,
        false,
        413,
        Some("payload_too_large"),
    ));

    // A Content-Length over 2 MiB, announced before any of the body.
    let bytes = request(
        endpoint,
        &[
            format!("{header}: {}", ctx.sign(big.as_bytes())),
            format!("content-length: {}", big.len()),
        ],
        big.as_bytes(),
    );
    cases.push((
        "a Content-Length over 2 MiB",
        bytes,
        false,
        413,
        Some("payload_too_large"),
    ));

    // A Content-Length shorter than the body: the body read is cut, its signature fails.
    let body = ctx.event(json!({}));
    let bytes = request(
        endpoint,
        &[
            format!("{header}: {}", ctx.sign(body.as_bytes())),
            format!("content-length: {}", body.len() / 2),
        ],
        body.as_bytes(),
    );
    cases.push((
        "a Content-Length shorter than the body",
        bytes,
        false,
        401,
        Some("signature_mismatch"),
    ));

    // A Content-Length longer than the body, and the sender stops writing.
    let body = ctx.event(json!({}));
    let bytes = request(
        endpoint,
        &[
            format!("{header}: {}", ctx.sign(body.as_bytes())),
            format!("content-length: {}", body.len() + 100),
        ],
        body.as_bytes(),
    );
    cases.push((
        "a Content-Length longer than the body",
        bytes,
        true,
        400,
        Some("body_unreadable"),
    ));

    // A chunk size that is not hex.
    let bytes = request(
        endpoint,
        &[
            format!("{header}: {}", ctx.sign(body.as_bytes())),
            "transfer-encoding: chunked".into(),
        ],
        b"zz\r\n{}\r\n0\r\n\r\n",
    );
    cases.push((
        "a chunk size that is not hex",
        bytes,
        false,
        400,
        Some("body_unreadable"),
    ));

    // A flood of headers.
    let flood: Vec<String> = (0..200).map(|i| format!("x-flood-{i}: {i}")).collect();
    let mut bytes = request_head(endpoint, &flood).into_bytes();
    bytes.extend_from_slice(b"content-length: 2\r\n\r\n{}");
    cases.push(("200 headers", bytes, false, 431, None));

    // A signature header of 100 KiB.
    let bytes = request(
        endpoint,
        &[
            format!(
                "{header}: {},v0={}",
                ctx.sign(body.as_bytes()),
                "0".repeat(100 * 1024)
            ),
            format!("content-length: {}", body.len()),
        ],
        body.as_bytes(),
    );
    cases.push((
        "a 100 KiB signature header",
        bytes,
        false,
        400,
        Some("signature_malformed"),
    ));

    // Not HTTP at all: a TLS ClientHello's first bytes.
    cases.push((
        "a TLS handshake on the plain port",
        vec![
            0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03,
        ],
        true,
        400,
        None,
    ));

    let mut run = Run::default();
    for (name, bytes, half_close, status, code) in cases {
        let before = target.enqueued(endpoint).await;
        let (got, answer) = raw_exchange(address.clone(), bytes, half_close).await;
        let after = target.enqueued(endpoint).await;
        run.runs += 1;
        let code_ok = code.is_none_or(|code| answer.contains(&format!(r#""code":"{code}""#)));
        if got != status || !code_ok || after != before {
            run.failures.push(format!(
                "raw TCP: {name}: expected {status} {code:?}, got {:?} ({} enqueued)",
                answer.chars().take(300).collect::<String>(),
                after - before
            ));
        }
        let good = ctx.signed(ctx.event(json!({})));
        let got = target.send(endpoint, &good).await;
        if got.status != 202 {
            run.failures.push(format!(
                "raw TCP: after {name}: a good event got {} {}",
                got.status, got.body
            ));
        }
    }
    run
}
