//! The mapping designer: its form actions (map, transform, remove, sample) answer the page with
//! the updated working document, the preview API answers problems with their paths or the
//! exact request, the CSRF token is required, and a hostile pasted sample is shown escaped.

use super::*;

const DESIGNER: &str = "/console/mapping/designer";

fn empty_document() -> String {
    serde_json::to_string_pretty(&environment_document()).unwrap()
}

/// The text of the working document the page holds in its hidden field, unescaped.
fn working_text(page: &str) -> String {
    let start = page.find(r#"id="designer-document""#).unwrap();
    let value = &page[start..];
    let value = &value[value.find("value=\"").unwrap() + 7..];
    let value = &value[..value.find('"').unwrap()];
    value
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The working document the page holds, checked.
fn working_document(page: &str) -> MappingDocument {
    MappingDocument::parse(&working_text(page)).unwrap()
}

async fn post_json(
    app: &Router,
    body: &serde_json::Value,
    csrf: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let mut request =
        Request::post("/console/api/preview").header(header::CONTENT_TYPE, "application/json");
    if let Some(csrf) = csrf {
        request = request.header("x-csrf-token", csrf);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let text = body_text(response).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

#[tokio::test]
async fn the_designer_shows_the_built_in_samples_fields_masked_and_its_request() {
    let (app, _) = console(Gate::Open);
    let (status, page) = get(&app, DESIGNER).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(r#"data-source="Customer.CustomerEmail""#),
        "{page}"
    );
    assert!(
        page.contains(r#"data-source="OrderItems[0].SKUNumber""#),
        "{page}"
    );
    assert!(page.contains(r#"data-target="metadata:new""#), "{page}");
    assert!(page.contains("POST /v1/payment_intents"), "{page}");
    assert!(!page.contains("ada@example.com"), "masked: {page}");
    let (_, mapping) = get(&app, "/console/mapping").await;
    assert!(mapping.contains(r#"href="/console/mapping/designer""#));
}

#[tokio::test]
async fn mapping_a_source_onto_a_new_key_then_removing_it_updates_the_working_document() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    let document = empty_document();
    let (status, page) = post(
        &app,
        DESIGNER,
        &[
            ("csrf", &csrf),
            ("document", &document),
            ("sample", "builtin"),
            ("action", "map"),
            ("source", "Customer.CustomerEmail"),
            ("target", "metadata:new"),
            ("key", "buyer_email"),
            ("transform", "lower"),
            ("argument", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let mapped = working_document(&page);
    assert_eq!(mapped.payment_intent.metadata[0].key, "buyer_email");
    assert!(page.contains("metadata[buyer_email]"), "{page}");
    assert!(
        page.contains("Customer.CustomerEmail mapped to metadata[buyer_email]"),
        "{page}"
    );

    let text = serde_json::to_string_pretty(&mapped).unwrap();
    let (_, page) = post(
        &app,
        DESIGNER,
        &[
            ("csrf", &csrf),
            ("document", &text),
            ("action", "transform@metadata:0"),
            ("transform.metadata:0", "truncate"),
            ("argument.metadata:0", "12"),
        ],
    )
    .await;
    let truncated = working_document(&page);
    assert_eq!(
        truncated.payment_intent.metadata[0].transform,
        vec![paybridge::mapping_doc::document::Transform::Truncate { length: 12 }]
    );

    let text = serde_json::to_string_pretty(&truncated).unwrap();
    let (status, page) = post(
        &app,
        DESIGNER,
        &[
            ("csrf", &csrf),
            ("document", &text),
            ("action", "remove@metadata:0"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(working_document(&page).payment_intent.metadata.is_empty());
}

#[tokio::test]
async fn a_map_without_a_key_says_why_and_keeps_the_document() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    let document = empty_document();
    let (status, page) = post(
        &app,
        DESIGNER,
        &[
            ("csrf", &csrf),
            ("document", &document),
            ("action", "map"),
            ("source", "OrderID"),
            ("target", "metadata:new"),
            ("key", " "),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("name the new metadata key"), "{page}");
    assert!(working_document(&page).payment_intent.metadata.is_empty());
}

#[tokio::test]
async fn a_hostile_pasted_sample_is_shown_escaped_and_masked() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    let event = serde_json::json!({
        "type": "ecommerce.order.created", "id": "evt_x",
        "data": {"object": {"OrderID": 5, "Note": HOSTILE, "Customer": {"CustomerEmail": "grace@example.com"}}}
    })
    .to_string();
    let document = empty_document();
    let (status, page) = post(
        &app,
        DESIGNER,
        &[
            ("csrf", &csrf),
            ("document", &document),
            ("action", "sample"),
            ("sample", "pasted"),
            ("pasted", &event),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(page.contains("&lt;script&gt;"), "{page}");
    assert!(
        page.contains(r#"data-source="Customer.CustomerEmail""#),
        "{page}"
    );
    assert!(page.contains("g***@example.com"), "{page}");
}

#[tokio::test]
async fn the_preview_api_answers_the_request_with_the_new_key() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    let document = serde_json::json!({"schema": 1, "payment_intent": {"metadata": [
        {"key": "buyer_email", "from": ["Customer.CustomerEmail"]}
    ]}});
    let (status, answer) = post_json(
        &app,
        &serde_json::json!({"document": document, "sample": "builtin"}),
        Some(&csrf),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let preview = &answer["preview"];
    assert_eq!(preview["request"], "POST /v1/payment_intents");
    assert_eq!(preview["version"], 1);
    let fields = preview["fields"].as_array().unwrap();
    let email = fields
        .iter()
        .find(|f| f[0] == "metadata[buyer_email]")
        .unwrap();
    assert_eq!(email[1], "a***@example.com", "masked");
    assert!(!answer.to_string().contains("ada@example.com"));
}

#[tokio::test]
async fn the_preview_api_answers_an_invalid_documents_problems_with_their_paths() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    let document = serde_json::json!({"schema": 1, "payment_intent": {"metadata": [
        {"key": "ok", "from": ["OrderID"]},
        {"key": "a_key_that_is_far_too_long_for_stripe_metadata", "from": ["OrderID"]}
    ]}});
    let (status, answer) = post_json(
        &app,
        &serde_json::json!({"document": document}),
        Some(&csrf),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer["problems"][0]["path"], "payment_intent.metadata[1].key",
        "{answer}"
    );
    assert!(answer.get("preview").is_none());
}

#[tokio::test]
async fn the_preview_api_answers_a_mismatch_at_the_rule_it_names() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    let document = serde_json::json!({"schema": 1, "payment_intent": {"statement_descriptor_suffix": {"from": ["OrderID"]}}});
    let (status, answer) = post_json(
        &app,
        &serde_json::json!({"document": document, "sample": "builtin"}),
        Some(&csrf),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("mapping_mismatch"),
        "{answer}"
    );
    assert_eq!(
        answer["problems"][0]["path"], "payment_intent.statement_descriptor_suffix",
        "{answer}"
    );
}

#[tokio::test]
async fn the_preview_api_refuses_a_post_without_the_csrf_token() {
    let (app, _) = console(Gate::Open);
    let body = serde_json::json!({"document": {"schema": 1}, "sample": "builtin"});
    let (status, _) = post_json(&app, &body, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post_json(&app, &body, Some("not-the-token")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_review_and_publish_form_posts_the_working_document_to_the_publish_flow() {
    let (app, _) = console(Gate::Open);
    let (_, page) = get(&app, DESIGNER).await;
    let publish = &page[page.find(r#"action="/console/mapping/publish""#).unwrap()..];
    assert!(publish.contains(r#"name="document""#), "{publish}");
    assert!(publish.contains("Review and publish"));
}

/// The working document the page holds, problems or not.
fn working_draft(page: &str) -> MappingDocument {
    serde_json::from_str(&working_text(page)).unwrap()
}

#[tokio::test]
async fn the_checkout_session_object_previews_the_session_with_the_mapped_metadata() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    let (status, page) = get(&app, &format!("{DESIGNER}?object=checkout_session")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("POST /v1/checkout/sessions"), "{page}");
    assert!(!page.contains("POST /v1/payment_intents"), "{page}");
    assert!(
        page.contains("line_items[0][price_data][unit_amount]"),
        "{page}"
    );
    assert!(page.contains("shared with the PaymentIntent"), "{page}");
    assert!(page.contains("runs in Payment Element mode"), "{page}");
    assert!(
        page.contains(r#"<option value="checkout_session" selected>"#),
        "{page}"
    );
    assert!(
        page.contains(r#"name="object" value="checkout_session""#),
        "the object is kept: {page}"
    );
    let body = &page[page.find(r#"<pre class="body">"#).unwrap()..];
    let body = &body[..body.find("</pre>").unwrap()];
    assert!(body.contains("line_items"), "{body}");
    assert!(body.contains("mode=payment"), "{body}");

    let document = empty_document();
    let (status, page) = post(
        &app,
        DESIGNER,
        &[
            ("csrf", &csrf),
            ("document", &document),
            ("sample", "builtin"),
            ("object", "checkout_session"),
            ("action", "map"),
            ("source", "Customer.CustomerEmail"),
            ("target", "metadata:new"),
            ("key", "buyer_email"),
            ("transform", "none"),
            ("argument", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(
        working_document(&page).payment_intent.metadata[0].key,
        "buyer_email"
    );
    assert!(page.contains("POST /v1/checkout/sessions"), "{page}");
    assert!(
        page.contains("payment_intent_data[metadata][buyer_email]"),
        "{page}"
    );
    assert!(!page.contains("ada@example.com"), "masked: {page}");

    for path in [
        DESIGNER.to_string(),
        format!("{DESIGNER}?object=payment_intent"),
    ] {
        let (_, page) = get(&app, &path).await;
        assert!(page.contains("POST /v1/payment_intents"), "{page}");
        assert!(!page.contains("/v1/checkout/sessions"), "{page}");
        assert!(!page.contains("shared with the PaymentIntent"), "{page}");
        assert!(!page.contains(r#"id="designer-mode""#), "{page}");
    }
}

#[tokio::test]
async fn the_preview_api_previews_the_object_it_is_asked_for() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    let document = serde_json::json!({"schema": 1, "payment_intent": {"metadata": [
        {"key": "order_number", "from": ["OrderID"]}
    ]}});
    let ask = |object: &str| serde_json::json!({"document": document, "sample": "builtin", "object": object});
    let (status, answer) = post_json(&app, &ask("checkout_session"), Some(&csrf)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["preview"]["request"], "POST /v1/checkout/sessions");
    let fields = answer["preview"]["fields"].as_array().unwrap();
    assert!(
        fields
            .iter()
            .any(|f| f[0] == "payment_intent_data[metadata][order_number]"),
        "{answer}"
    );
    let (_, answer) = post_json(&app, &ask("payment_intent"), Some(&csrf)).await;
    assert_eq!(answer["preview"]["request"], "POST /v1/payment_intents");
    let (status, answer) = post_json(&app, &ask("invoice"), Some(&csrf)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
}

#[tokio::test]
async fn the_statuses_action_names_changed_states_and_unnames_empty_ones() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    let (status, page) = get(&app, &format!("{DESIGNER}?object=order_status")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"id="status-succeeded""#), "{page}");
    assert!(page.contains(r#"<label for="status-succeeded">"#), "{page}");
    assert!(!page.contains("Paid in full"), "{page}");
    assert!(!page.contains("/v1/payment_intents"), "{page}");

    let document = r#"{"schema": 1, "statuses": {"processing": "Pending", "canceled": "Storno"}}"#;
    let (status, page) = post(
        &app,
        DESIGNER,
        &[
            ("csrf", &csrf),
            ("document", document),
            ("sample", "builtin"),
            ("object", "order_status"),
            ("action", "statuses"),
            ("status.succeeded", "Paid in full"),
            ("status.processing", ""),
            ("status.canceled", "Storno"),
            ("canceled_statuses", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let named = working_document(&page);
    assert_eq!(named.statuses["succeeded"], "Paid in full");
    assert_eq!(named.statuses["canceled"], "Storno");
    assert!(!named.statuses.contains_key("processing"), "{named:?}");
    assert!(!named.statuses.contains_key("payment_failed"), "{named:?}");
    assert!(
        page.contains("&quot;succeeded&quot;: &quot;Paid in full&quot;"),
        "{page}"
    );
    let written = &page[page.find(r#"id="designer-status-names""#).unwrap()..];
    let written = &written[..written.find("</table>").unwrap()];
    assert!(written.contains("Paid in full"), "{written}");
    assert!(
        !written.contains("<td>Pending</td>"),
        "processing is the environment's: {written}"
    );
    assert!(written.contains("<td>Payment pending</td>"), "{written}");
    assert!(
        page.contains(r#"name="status.succeeded" value="Paid in full""#),
        "{page}"
    );

    let text = serde_json::to_string_pretty(&named).unwrap();
    let (status, page) = post(
        &app,
        DESIGNER,
        &[
            ("csrf", &csrf),
            ("document", &text),
            ("object", "order_status"),
            ("action", "statuses"),
            ("status.succeeded", HOSTILE),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(working_document(&page).statuses["succeeded"], HOSTILE);
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(page.contains("&lt;script&gt;"), "{page}");
}

#[tokio::test]
async fn an_overlong_status_name_shows_at_its_path_and_the_same_form_fixes_it() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    let long = "x".repeat(201);
    let (_, page) = post(
        &app,
        DESIGNER,
        &[
            ("csrf", &csrf),
            ("document", r#"{"schema": 1}"#),
            ("object", "order_status"),
            ("action", "statuses"),
            ("status.refunded", &long),
        ],
    )
    .await;
    assert_eq!(working_draft(&page).statuses["refunded"], long);
    let list = &page[page
        .find(r#"data-problems-for="statuses.refunded""#)
        .unwrap()..];
    let list = &list[..list.find("</ul>").unwrap()];
    assert!(list.contains("a status name must be 1"), "{list}");
    assert!(
        !page.contains(r#"id="designer-status-names""#),
        "no names from an invalid document: {page}"
    );

    let text = serde_json::to_string(&working_draft(&page)).unwrap();
    let (status, page) = post(
        &app,
        DESIGNER,
        &[
            ("csrf", &csrf),
            ("document", &text),
            ("object", "order_status"),
            ("action", "statuses"),
            ("status.refunded", "Money back"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(working_document(&page).statuses["refunded"], "Money back");
    assert!(!page.contains("a status name must be 1"), "{page}");
}

#[tokio::test]
async fn a_customer_field_owner_change_lands_in_the_working_document() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    let (status, page) = get(&app, &format!("{DESIGNER}?object=customer")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<label for="owner-phone">"#), "{page}");
    assert!(
        !page.contains("stripe: Stripe&#39;s changes")
            && !page.contains("stripe: Stripe's changes"),
        "{page}"
    );
    let (status, page) = post(
        &app,
        DESIGNER,
        &[
            ("csrf", &csrf),
            (
                "document",
                r#"{"schema": 1, "customer_field_owners": {"email": "stripe"}}"#,
            ),
            ("object", "customer"),
            ("action", "owners"),
            ("owner.phone", "stripe"),
            ("owner.name", "kentico"),
            ("owner.email", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let owners = working_document(&page).customer_field_owners;
    assert_eq!(owners["phone"], "stripe");
    assert_eq!(owners["name"], "kentico");
    assert!(!owners.contains_key("email"), "{owners:?}");
    let table = &page[page.find(r#"id="designer-owner-table""#).unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(table.contains("stripe: Stripe"), "{table}");
    let (status, _) = post(
        &app,
        DESIGNER,
        &[
            ("csrf", &csrf),
            ("document", r#"{"schema": 1}"#),
            ("object", "customer"),
            ("action", "owners"),
            ("owner.phone", "erp"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_object_picker_switches_objects_and_keeps_the_working_document() {
    let (app, state) = console(Gate::Open);
    let csrf = state.access.process_csrf().to_string();
    let (_, page) = get(&app, DESIGNER).await;
    let pick = &page[page.find(r#"id="designer-pick""#).unwrap()..];
    let pick = &pick[..pick.find("</form>").unwrap()];
    assert!(pick.contains(r#"name="document""#), "{pick}");
    assert!(page.contains(r#"<select id="designer-object" form="designer-pick" name="object">"#));
    assert!(page.contains(r#"<label for="designer-object">"#), "{page}");
    assert!(
        page.contains(r#"<option value="payment_intent" selected>"#),
        "{page}"
    );

    let document = r#"{"schema": 1, "statuses": {"succeeded": "Settled"}}"#;
    let (status, page) = post(
        &app,
        DESIGNER,
        &[
            ("csrf", &csrf),
            ("document", document),
            ("sample", "builtin"),
            ("pasted", ""),
            ("object", "order_status"),
            ("action", "object"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(working_document(&page).statuses["succeeded"], "Settled");
    assert!(
        page.contains(r#"name="status.succeeded" value="Settled""#),
        "{page}"
    );
    assert!(
        page.contains(r#"<option value="order_status" selected>"#),
        "{page}"
    );
    assert!(
        !page.contains(r#"id="designer-map""#),
        "no mapping form: {page}"
    );
    assert!(
        page.contains(r#"action="/console/mapping/publish""#),
        "{page}"
    );
}
