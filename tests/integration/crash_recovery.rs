//! Crash recovery under fire: `paybridge serve` killed with SIGKILL at random moments while
//! order and payment events pour in, restarted each time. Nothing may be lost and nothing done
//! twice: one PaymentIntent per order at the Stripe fake, every order marked Paid once at the
//! Kentico fake.
//!
//! CI runs 500 orders (1,000 events) and 10 kills; `PAYBRIDGE_LONG_SCENARIOS=1` runs 1,000
//! orders (2,000 events) and 30 kills (figures in docs/RELIABILITY.md).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use integration_tests::fakes::stripe::FakeStripe;
use tokio::sync::Mutex;

use crate::serve_process::{
    KENTICO_WEBHOOK_SECRET, STRIPE_WEBHOOK_SECRET, Serve, Setup, deliver, kentico_order,
    order_event, wait_for,
};

const PAID: i64 = 6;

fn long() -> bool {
    std::env::var("PAYBRIDGE_LONG_SCENARIOS").is_ok_and(|v| v == "1")
}

/// Kills `serve` with SIGKILL after a random pause and starts it again, `kills` times, until
/// `done`; returns how many kills it made.
async fn killer(
    setup: Arc<Setup>,
    serve: Arc<Mutex<Serve>>,
    done: Arc<AtomicBool>,
    kills: usize,
    seed: u64,
) -> usize {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut made = 0;
    while made < kills {
        tokio::time::sleep(Duration::from_millis(rng.u64(100..500))).await;
        if done.load(Ordering::SeqCst) {
            break;
        }
        let mut running = serve.lock().await;
        running.child.kill().expect("SIGKILL");
        running.child.wait().expect("reaped");
        *running = setup.serve().await;
        made += 1;
    }
    made
}

/// One phase of the run: what to send where, and when it is over.
struct Phase<'a> {
    path: &'static str,
    header: &'static str,
    secret: &'static str,
    bodies: Vec<String>,
    finished: &'a (dyn Fn() -> bool + Sync),
}

/// Sends every body over 8 lanes (retrying each until accepted, as the senders do) and waits
/// until the phase is finished, with up to `kills` SIGKILLs of serve at random moments in
/// between (while events arrive and while the workers work them off); returns the kills made.
async fn under_fire(
    setup: &Arc<Setup>,
    serve: &Arc<Mutex<Serve>>,
    phase: Phase<'_>,
    kills: usize,
    seed: u64,
) -> usize {
    let url = serve.lock().await.url.clone();
    let bodies = Arc::new(phase.bodies);
    let done = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicUsize::new(0));
    let killer = tokio::spawn(killer(
        setup.clone(),
        serve.clone(),
        done.clone(),
        kills,
        seed,
    ));
    let (path, header, secret) = (phase.path, phase.header, phase.secret);
    let lanes: Vec<_> = (0..8)
        .map(|lane| {
            let (url, bodies, accepted) = (url.clone(), bodies.clone(), accepted.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                for body in bodies.iter().skip(lane).step_by(8) {
                    deliver(&client, &url, path, header, secret, body).await;
                    accepted.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for lane in lanes {
        lane.await.unwrap();
    }
    assert_eq!(accepted.load(Ordering::SeqCst), bodies.len());
    wait_for(path, phase.finished).await;
    done.store(true, Ordering::SeqCst);
    killer.await.unwrap()
}

#[tokio::test]
async fn serve_killed_at_random_moments_during_a_run_loses_nothing_and_does_nothing_twice() {
    let (orders, kills_per_phase) = if long() { (1_000, 15) } else { (500, 5) };
    let setup = Arc::new(Setup::new().await);
    for id in 1..=orders {
        setup.kentico.add_order(kentico_order(id));
    }
    let serve = Arc::new(Mutex::new(setup.serve().await));

    // Phase 1: the orders' events, serve killed now and then.
    let all_intents = || setup.stripe.payment_intents().len() >= orders as usize;
    let phase = Phase {
        path: "/webhooks/kentico",
        header: "x-kentico-signature",
        secret: KENTICO_WEBHOOK_SECRET,
        bodies: (1..=orders)
            .map(|id| order_event(&kentico_order(id)))
            .collect(),
        finished: &all_intents,
    };
    let mut kills = under_fire(&setup, &serve, phase, kills_per_phase, 13).await;

    // Phase 2: the customers pay; the payment events, serve killed again.
    let all_paid = || {
        (1..=orders).all(|id| (setup.kentico.order(id)).is_some_and(|o| o["OrderStatusID"] == PAID))
    };
    let phase = Phase {
        path: "/webhooks/stripe",
        header: "stripe-signature",
        secret: STRIPE_WEBHOOK_SECRET,
        bodies: (setup.stripe.payment_intents().iter())
            .map(|intent| {
                let id = intent["id"].as_str().unwrap();
                let paid = setup.stripe.succeed_payment_intent(id);
                FakeStripe::event_body(
                    &format!("evt_crash_{id}"),
                    "payment_intent.succeeded",
                    &paid,
                )
            })
            .collect(),
        finished: &all_paid,
    };
    kills += under_fire(&setup, &serve, phase, kills_per_phase, 31).await;
    // Give a duplicate the chance to show up (past serve's 3 s visibility timeout).
    tokio::time::sleep(Duration::from_secs(5)).await;

    let intents = setup.stripe.payment_intents();
    let mut per_order: BTreeMap<String, usize> = BTreeMap::new();
    for intent in &intents {
        let order = intent["metadata"]["kentico_order_id"].as_str().unwrap();
        *per_order.entry(order.to_string()).or_default() += 1;
    }
    let mut paid_writes: BTreeMap<String, usize> = BTreeMap::new();
    for request in setup.kentico.requests() {
        let sets_paid = request.method == "PUT"
            && request.path.starts_with("/rest/ecommerce.order/")
            && (request.body.as_ref())
                .is_some_and(|b| b["ecommerce.order"]["OrderStatusID"] == PAID);
        if sets_paid {
            *paid_writes.entry(request.path.clone()).or_default() += 1;
        }
    }
    let twice: Vec<_> = per_order.iter().filter(|(_, n)| **n > 1).collect();
    let written_twice: Vec<_> = paid_writes.iter().filter(|(_, n)| **n > 1).collect();
    eprintln!(
        "| orders | events | SIGKILLs | PaymentIntents | orders with one | Paid writes | orders written Paid twice |\n\
         | {orders} | {} | {kills} | {} | {} | {} | {} |",
        orders * 2,
        intents.len(),
        per_order.values().filter(|n| **n == 1).count(),
        paid_writes.values().sum::<usize>(),
        written_twice.len(),
    );
    assert!(
        kills >= 2 * kills_per_phase - 2,
        "only {kills} kills were made"
    );
    assert_eq!(
        per_order.len(),
        orders as usize,
        "every order has a PaymentIntent"
    );
    assert!(
        twice.is_empty(),
        "orders with two PaymentIntents: {twice:?}"
    );
    assert_eq!(
        paid_writes.len(),
        orders as usize,
        "every order written Paid"
    );
    assert!(
        written_twice.is_empty(),
        "orders written Paid twice: {written_twice:?}"
    );
}
