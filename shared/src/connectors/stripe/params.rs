//! Request parameters, encoded the way Stripe reads them: a form body in bracket notation.

use std::collections::BTreeMap;

use serde::Serialize;

use super::StripeError;

/// `POST /v1/payment_intents`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreatePaymentIntent {
    /// In the currency's smallest unit (cents).
    pub amount: i64,
    /// ISO 4217, lower case.
    pub currency: String,
    /// Let Stripe offer the payment methods enabled in the dashboard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automatic_payment_methods: Option<AutomaticPaymentMethods>,
    /// `automatic` (default), `automatic_async` or `manual`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture_method: Option<String>,
    /// Shown in the dashboard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Our references, e.g. `kentico_order_id`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Where the goods go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping: Option<Shipping>,
    /// Where Stripe sends the receipt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_email: Option<String>,
    /// The Stripe Customer of the order's customer (`cus_…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// Appended to the account's statement descriptor on card statements (≤ 22 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_descriptor_suffix: Option<String>,
}

/// `POST /v1/customers` and `POST /v1/customers/{id}`: the fields paybridge keeps in step with
/// the Kentico customer. On an update an absent field is left as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CustomerParams {
    /// E-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Full name or business name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Billing address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<StripeAddress>,
    /// Our references, e.g. `kentico_customer_id`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// `automatic_payment_methods[enabled]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AutomaticPaymentMethods {
    /// Whether Stripe picks the payment methods.
    pub enabled: bool,
}

/// `shipping[…]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Shipping {
    /// Recipient name (required by Stripe).
    pub name: String,
    /// Recipient phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Shipping address.
    pub address: StripeAddress,
}

/// Stripe's address shape; `country` is ISO 3166-1 alpha-2.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StripeAddress {
    /// Street line 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
    /// Street line 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// City.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State, county, province or region.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// ZIP or postal code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Two-letter country code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// `POST /v1/payment_intents/{id}`.
///
/// An empty `metadata` is left out on purpose: Stripe reads `metadata=` as "delete every key".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdatePaymentIntent {
    /// New amount, smallest unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// New description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Keys to set (an empty value deletes that key at Stripe).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// `POST /v1/checkout/sessions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreateCheckoutSession {
    /// `payment` for a one-off order.
    pub mode: String,
    /// What the customer pays for.
    pub line_items: Vec<CheckoutLineItem>,
    /// Where Stripe sends the customer after paying.
    pub success_url: String,
    /// Where Stripe sends the customer on "back".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
    /// Our reference (the Kentico order), echoed back on the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_reference_id: Option<String>,
    /// Prefills the email field (only without `customer`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<String>,
    /// The Stripe Customer of the order's customer (`cus_…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// Metadata on the session itself.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Passed on to the PaymentIntent the session creates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_intent_data: Option<PaymentIntentData>,
}

/// `line_items[n][…]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckoutLineItem {
    /// How many.
    pub quantity: i64,
    /// An inline price, so no Price object has to exist at Stripe.
    pub price_data: PriceData,
}

/// `line_items[n][price_data][…]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PriceData {
    /// ISO 4217, lower case.
    pub currency: String,
    /// Smallest unit, per item.
    pub unit_amount: i64,
    /// An inline product.
    pub product_data: ProductData,
}

/// `line_items[n][price_data][product_data][…]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProductData {
    /// Shown on the checkout page.
    pub name: String,
}

/// `payment_intent_data[…]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PaymentIntentData {
    /// Metadata on the PaymentIntent (what the webhooks carry).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Description on the PaymentIntent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The PaymentIntent's statement descriptor suffix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_descriptor_suffix: Option<String>,
}

/// `POST /v1/refunds`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreateRefund {
    /// The PaymentIntent to refund (its latest charge), in full unless `amount` is set.
    pub payment_intent: String,
    /// Part of it, smallest unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// `duplicate`, `fraudulent` or `requested_by_customer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Our references.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

/// `POST /v1/payment_intents/{id}/cancel`.
#[derive(Debug, Serialize)]
pub(crate) struct CancelPaymentIntent<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_reason: Option<&'a str>,
}

/// The form body for `params`: brackets left readable (`metadata[k]=v`) as in Stripe's own
/// examples, arrays indexed (`line_items[0][quantity]=1`), everything else percent-encoded.
#[expect(
    clippy::result_large_err,
    reason = "StripeError mirrors Stripe's error object field for field; errors are rare"
)]
pub(crate) fn encode_form<T: Serialize>(params: &T) -> Result<String, StripeError> {
    // Checkout's `line_items[0][price_data][product_data][name]` is five keys deep.
    const FORM: serde_qs::Config = serde_qs::Config::new()
        .max_depth(8)
        .use_form_encoding(false)
        .array_format(serde_qs::ArrayFormat::Indexed);
    FORM.serialize_string(params)
        .map_err(|e| StripeError::Config(format!("parameters cannot be form-encoded: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_payment_intent_encodes_in_stripes_bracket_notation() {
        let params = CreatePaymentIntent {
            amount: 12_550,
            currency: "eur".into(),
            automatic_payment_methods: Some(AutomaticPaymentMethods { enabled: true }),
            capture_method: None,
            description: Some("Order 1042".into()),
            metadata: metadata(&[("kentico_order_id", "1042"), ("kentico_order_guid", "a-b")]),
            shipping: Some(Shipping {
                name: "Zoë Müller".into(),
                phone: None,
                address: StripeAddress {
                    line1: Some("Hauptstraße 1".into()),
                    city: Some("Berlin".into()),
                    postal_code: Some("10115".into()),
                    country: Some("DE".into()),
                    ..StripeAddress::default()
                },
            }),
            receipt_email: Some("zoe+shop@example.com".into()),
            customer: None,
            statement_descriptor_suffix: None,
        };

        assert_eq!(
            encode_form(&params).unwrap(),
            "amount=12550&currency=eur&automatic_payment_methods[enabled]=true\
             &description=Order+1042\
             &metadata[kentico_order_guid]=a-b&metadata[kentico_order_id]=1042\
             &shipping[name]=Zo%C3%AB+M%C3%BCller\
             &shipping[address][line1]=Hauptstra%C3%9Fe+1&shipping[address][city]=Berlin\
             &shipping[address][postal_code]=10115&shipping[address][country]=DE\
             &receipt_email=zoe%2Bshop@example.com"
        );
    }

    #[test]
    fn false_is_spelled_out_and_absent_fields_and_empty_metadata_are_left_out() {
        let create = CreatePaymentIntent {
            amount: 100,
            currency: "usd".into(),
            automatic_payment_methods: Some(AutomaticPaymentMethods { enabled: false }),
            ..CreatePaymentIntent::default()
        };

        assert_eq!(
            encode_form(&create).unwrap(),
            "amount=100&currency=usd&automatic_payment_methods[enabled]=false"
        );
        assert_eq!(encode_form(&UpdatePaymentIntent::default()).unwrap(), "");
        assert_eq!(
            encode_form(&CancelPaymentIntent {
                cancellation_reason: Some("abandoned")
            })
            .unwrap(),
            "cancellation_reason=abandoned"
        );
    }

    #[test]
    fn characters_that_would_break_the_form_are_escaped() {
        let params = UpdatePaymentIntent {
            amount: None,
            description: Some("a&b=c+d [x] 50%".into()),
            metadata: metadata(&[("note", "#1")]),
        };

        assert_eq!(
            encode_form(&params).unwrap(),
            "description=a%26b%3Dc%2Bd+%5Bx%5D+50%25&metadata[note]=%231"
        );
    }

    #[test]
    fn a_checkout_session_indexes_its_line_items() {
        let item = |name: &str, quantity, unit_amount| CheckoutLineItem {
            quantity,
            price_data: PriceData {
                currency: "eur".into(),
                unit_amount,
                product_data: ProductData { name: name.into() },
            },
        };
        let params = CreateCheckoutSession {
            mode: "payment".into(),
            line_items: vec![item("Mug", 2, 900), item("Tea", 1, 450)],
            success_url: "https://shop.example/ok?session={CHECKOUT_SESSION_ID}".into(),
            cancel_url: None,
            client_reference_id: Some("1042".into()),
            customer_email: None,
            customer: None,
            metadata: metadata(&[("kentico_order_id", "1042")]),
            payment_intent_data: Some(PaymentIntentData {
                metadata: metadata(&[("kentico_order_id", "1042")]),
                description: None,
                statement_descriptor_suffix: None,
            }),
        };

        // `=` inside a value is escaped; Stripe's `{CHECKOUT_SESSION_ID}` placeholder survives decoding.
        assert_eq!(
            encode_form(&params).unwrap(),
            "mode=payment\
             &line_items[0][quantity]=2&line_items[0][price_data][currency]=eur\
             &line_items[0][price_data][unit_amount]=900\
             &line_items[0][price_data][product_data][name]=Mug\
             &line_items[1][quantity]=1&line_items[1][price_data][currency]=eur\
             &line_items[1][price_data][unit_amount]=450\
             &line_items[1][price_data][product_data][name]=Tea\
             &success_url=https://shop.example/ok?session%3D{CHECKOUT_SESSION_ID}\
             &client_reference_id=1042&metadata[kentico_order_id]=1042\
             &payment_intent_data[metadata][kentico_order_id]=1042"
        );
    }
}
