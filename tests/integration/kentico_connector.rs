//! The Kentico REST connector against the loopback fake: status by name, custom-data merge, and how each failure is classified.

use std::collections::HashMap;

use integration_tests::fakes::kentico::FakeKentico;
use paybridge::connectors::kentico::{
    KenticoClient, KenticoConfig, KenticoError, OrderStatusResolver, OrderUpdate,
};
use paybridge::secret::SecretString;
use serde_json::{Value, json};

const USER: &str = "rest-client";
const PASSWORD: &str = "pw-kentico-local";

fn client_for(base_url: &str, password: &str) -> KenticoClient {
    let config = KenticoConfig::new(format!("{base_url}/"), USER, SecretString::new(password));
    KenticoClient::new(config).expect("valid configuration")
}

async fn fake_with_order() -> FakeKentico {
    let fake = FakeKentico::start(USER, PASSWORD).await;
    fake.add_order(json!({"OrderID": 42, "OrderStatusID": 1, "OrderIsPaid": false,
        "OrderCustomData": "<CustomData><ErpRef>E-7</ErpRef><StripePaymentIntent>pi_old</StripePaymentIntent></CustomData>"}));
    fake
}

#[tokio::test]
async fn marks_an_order_paid_by_status_name_and_looks_the_statuses_up_once() {
    let fake = fake_with_order().await;
    let client = client_for(&fake.base_url, PASSWORD);
    let resolver = OrderStatusResolver::new(client.clone(), HashMap::new());

    let status_id = resolver.id_for("paid").await.unwrap();
    let update = OrderUpdate {
        status_id: Some(status_id),
        is_paid: Some(true),
        custom_data: vec![],
    };
    client.update_order(42, &update).await.unwrap();
    assert_eq!(resolver.clone().id_for("Payment Failed").await.unwrap(), 7);

    let order = fake.order(42).unwrap();
    assert_eq!(
        (order["OrderStatusID"].clone(), order["OrderIsPaid"].clone()),
        (json!(6), json!(true))
    );
    let requests = fake.requests();
    let listed: Vec<_> = requests
        .iter()
        .filter(|r| r.path == "/rest/ecommerce.orderstatus")
        .collect();
    assert_eq!(
        listed.len(),
        1,
        "statuses are cached across calls and clones"
    );
    let put = requests.iter().find(|r| r.method == "PUT").unwrap();
    assert_eq!(put.path, "/rest/ecommerce.order/42");
    assert_eq!(put.query, "format=json");
    assert!(put.headers["authorization"].starts_with("Basic "));
    assert!(put.headers["content-type"].starts_with("application/json"));
    assert_eq!(
        put.body,
        Some(json!({"ecommerce.order": {"OrderStatusID": 6, "OrderIsPaid": true}}))
    );
}

#[tokio::test]
async fn an_override_wins_without_asking_kentico() {
    let fake = fake_with_order().await;
    let overrides = HashMap::from([("paid".to_string(), 16)]);
    let resolver = OrderStatusResolver::new(client_for(&fake.base_url, PASSWORD), overrides);

    assert_eq!(resolver.id_for("Paid").await.unwrap(), 16);
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn an_unknown_status_name_suggests_the_closest_known_one() {
    let fake = fake_with_order().await;
    fake.set_statuses(vec![(11, "Paid"), (12, "Refunded")]);
    let resolver = OrderStatusResolver::new(client_for(&fake.base_url, PASSWORD), HashMap::new());

    let error = resolver.id_for("Payed").await.unwrap_err();

    let KenticoError::UnknownStatus {
        known, suggestion, ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(known, &vec!["Paid".to_string(), "Refunded".to_string()]);
    assert_eq!(suggestion.as_deref(), Some("Paid"));
    assert!(!error.is_transient());
}

#[tokio::test]
async fn custom_data_is_merged_so_other_modules_keep_their_keys() {
    let fake = fake_with_order().await;
    let client = client_for(&fake.base_url, PASSWORD);
    let custom_data = vec![
        ("StripePaymentIntent".to_string(), "pi_123".to_string()),
        ("StripeNote".to_string(), "card <visa> & co".to_string()),
    ];

    client
        .update_order(
            42,
            &OrderUpdate {
                custom_data,
                ..Default::default()
            },
        )
        .await
        .unwrap();

    assert_eq!(
        fake.order(42).unwrap()["OrderCustomData"],
        json!(
            "<CustomData><ErpRef>E-7</ErpRef><StripePaymentIntent>pi_123</StripePaymentIntent>\
               <StripeNote>card &lt;visa&gt; &amp; co</StripeNote></CustomData>"
        )
    );
    let methods: Vec<_> = fake.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, vec!["GET", "PUT"]);
}

#[tokio::test]
async fn a_503_is_unavailable_and_worth_retrying() {
    let fake = fake_with_order().await;
    fake.fail_next(1, 503, "Service Unavailable");
    let client = client_for(&fake.base_url, PASSWORD);

    let error = client.get_order(42).await.unwrap_err();

    assert!(matches!(error, KenticoError::Unavailable(_)), "{error:?}");
    assert!(error.is_transient());
    assert!(
        client.get_order(42).await.is_ok(),
        "the next call goes through"
    );
}

#[tokio::test]
async fn a_400_is_rejected_for_good_with_kenticos_message() {
    let fake = fake_with_order().await;
    fake.fail_next(1, 400, "  Column 'OrderFoo' does not exist.\n");
    let client = client_for(&fake.base_url, PASSWORD);

    let error = client
        .update_order(
            42,
            &OrderUpdate {
                is_paid: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();

    assert_eq!(
        error,
        KenticoError::Rejected {
            status: 400,
            message: "Column 'OrderFoo' does not exist.".into()
        }
    );
    assert!(!error.is_transient());
}

#[tokio::test]
async fn a_wrong_password_is_unauthorized_and_never_echoed() {
    let fake = fake_with_order().await;
    let client = client_for(&fake.base_url, "pw-wrong-one");

    let error = client.check_access().await.unwrap_err();

    assert_eq!(error, KenticoError::Unauthorized { status: 401 });
    assert!(!error.is_transient());
    assert!(error.to_string().contains("KENTICO_PASSWORD"));
    assert!(!error.to_string().contains("pw-wrong-one"));
}

#[tokio::test]
async fn an_unreachable_kentico_is_a_transient_failure() {
    // Bind and release a port so nothing listens on it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let client = client_for(&format!("http://{address}"), PASSWORD);

    let error = client.list_order_statuses().await.unwrap_err();

    assert!(matches!(error, KenticoError::Unavailable(_)), "{error:?}");
    assert!(error.is_transient());
}

#[tokio::test]
async fn invalid_writes_never_reach_kentico_and_customers_are_written() {
    let fake = fake_with_order().await;
    let client = client_for(&fake.base_url, PASSWORD);
    let bad = OrderUpdate {
        custom_data: vec![("not a name".into(), "v".into())],
        ..Default::default()
    };

    assert!(matches!(
        client.update_order(42, &bad).await,
        Err(KenticoError::Invalid(_))
    ));
    assert!(fake.requests().is_empty());

    let fields = json!({"CustomerPhone": "+1 555 0100"})
        .as_object()
        .cloned()
        .unwrap();
    client.update_customer(9, &fields).await.unwrap();
    assert_eq!(
        fake.customer(9).unwrap()["CustomerPhone"],
        json!("+1 555 0100")
    );
    assert_eq!(
        fake.requests()[0].body,
        Some(json!({"ecommerce.customer": {"CustomerPhone": "+1 555 0100"}}))
    );
}

#[tokio::test]
async fn the_orders_changed_since_a_time_are_read_page_after_page_by_order_id() {
    let fake = FakeKentico::start(USER, PASSWORD).await;
    for id in 1..=230_i64 {
        let day = if id % 3 == 0 {
            "2026-11-20"
        } else {
            "2026-11-29"
        };
        fake.add_order(
            json!({"OrderID": id, "OrderLastModified": format!("{day}T10:00:00"),
            "OrderCurrencyID": 2, "OrderCurrencyCode": "EUR"}),
        );
    }
    let client = client_for(&fake.base_url, PASSWORD);

    let orders = client
        .orders_modified_since("2026-11-28T00:00:00")
        .await
        .unwrap();

    let ids: Vec<i64> = orders
        .iter()
        .map(|o| o["OrderID"].as_i64().unwrap())
        .collect();
    let expected: Vec<i64> = (1..=230).filter(|id| id % 3 != 0).collect();
    assert_eq!(ids, expected, "every changed order once, in OrderID order");
    let listings: Vec<_> = (fake.requests().into_iter())
        .filter(|r| r.path == "/rest/ecommerce.order")
        .collect();
    assert_eq!(
        listings.len(),
        3,
        "100 a page: 154 orders take two pages, and an empty third says there is no more"
    );
    let after = format!("OrderID+%3E+{}&", expected[99]);
    assert!(
        listings[1].query.contains(&after),
        "the second page starts after the last OrderID seen: {}",
        listings[1].query
    );
    assert_eq!(client.currency_code(2).await.unwrap(), "EUR");

    let refused = client.orders_modified_since("2026-11-28' OR 1=1 --").await;
    assert!(
        matches!(refused, Err(KenticoError::Invalid(_))),
        "{refused:?}"
    );
    assert_eq!(
        (fake.requests().into_iter())
            .filter(|r| r.path == "/rest/ecommerce.order")
            .count(),
        3,
        "a malformed time is refused before any request"
    );
}

#[tokio::test]
async fn customers_are_found_by_id_and_by_email_quoted_as_sql_and_their_orders_by_customer() {
    let fake = fake_with_order().await;
    let client = client_for(&fake.base_url, PASSWORD);
    fake.add_customer(
        json!({"CustomerID": "9", "CustomerEmail": "o'brien@example.com",
        "CustomerLastName": "O'Brien"}),
    );
    fake.add_customer(json!({"CustomerID": 10, "CustomerEmail": "other@example.com"}));
    for (id, customer) in [(50, 9), (51, 10), (52, 9)] {
        fake.add_order(json!({"OrderID": id, "OrderCustomerID": customer}));
    }

    let found = client
        .customers_by_email("o'brien@example.com")
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["CustomerLastName"], "O'Brien");
    let sent = fake.requests().last().unwrap().query.clone();
    assert!(
        sent.contains("O%27%27brien") || sent.contains("o%27%27brien"),
        "{sent}"
    );
    assert!(
        client
            .customers_by_email("nobody@example.com")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        client.customers_by_email("a\u{0}b").await,
        Err(KenticoError::Invalid(_))
    ));
    assert_eq!(
        client.get_customer(9).await.unwrap()["CustomerEmail"],
        "o'brien@example.com"
    );
    let orders = client.orders_of_customer(9).await.unwrap();
    let ids: Vec<&Value> = orders.iter().map(|o| &o["OrderID"]).collect();
    assert_eq!(ids, [&json!(50), &json!(52)]);
}

#[tokio::test]
async fn an_error_page_echoing_the_credentials_never_carries_them_into_the_error() {
    use base64::Engine;
    let fake = fake_with_order().await;
    let client = client_for(&fake.base_url, PASSWORD);
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    // IIS-style diagnostics: the request's headers, one folded the way a server may fold them.
    fake.fail_next(
        2,
        400,
        &format!("Bad Request. Authorization: Basic {basic}\r\nX-Debug-Password:  {PASSWORD}"),
    );
    for _ in 0..2 {
        let error = client.get_order(42).await.unwrap_err().to_string();
        assert!(
            !error.contains(&basic) && !error.contains(PASSWORD),
            "{error}"
        );
        assert!(error.contains("[redacted]"), "{error}");
    }
}

/// Inside a worker's deadline, a hanging Kentico gets what is left, not its 15 s timeout.
#[tokio::test]
async fn a_call_inside_a_deadline_ends_by_it_and_none_is_made_without_time_left() {
    let base = integration_tests::silent_server().await;
    let client = client_for(&base, PASSWORD);

    let started = std::time::Instant::now();
    let end_by = started + std::time::Duration::from_millis(1_500);
    let error = paybridge::clock::with_deadline(end_by, client.check_access())
        .await
        .unwrap_err();
    assert!(matches!(error, KenticoError::Unavailable(_)), "{error}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    let error = paybridge::clock::with_deadline(std::time::Instant::now(), client.check_access())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("not sent"), "{error}");
}
