//! The gate: CSRF, same-site, the token login, no token.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use paybridge::secret::SecretString;
use tower::ServiceExt as _;

use super::*;

#[tokio::test]
async fn a_post_without_the_csrf_token_or_from_another_site_is_refused() {
    let (app, state) = console(Gate::Open);
    let (status, _) = post(
        &app,
        "/console/flows/switch/confirm",
        &[("flow", "ledger"), ("on", "false"), ("expected", "0")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let csrf = state.access.process_csrf().to_string();
    let cross = app
        .clone()
        .oneshot(
            Request::post("/console/flows/switch/confirm")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "cross-site")
                .body(Body::from(form(&[
                    ("csrf", &csrf),
                    ("flow", "ledger"),
                    ("on", "false"),
                    ("expected", "0"),
                ])))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert_eq!(state.backend.mappings().active().await.unwrap().0, 0);
}

#[tokio::test]
async fn beyond_loopback_every_page_needs_a_login_with_the_right_token() {
    let (app, state) = console(Gate::Token(SecretString::new("s3cret")));

    let (status, _) = get(&app, "/console/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = get(&app, "/console/api/flows").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post(
        &app,
        "/console/flows/switch",
        &[("flow", "ledger"), ("on", "false")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, login) = get(&app, "/console/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(login.contains(r#"name="token""#));

    let csrf = state.access.process_csrf().to_string();
    let (status, _) = post(
        &app,
        "/console/login",
        &[("csrf", &csrf), ("token", "wrong")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post(&app, "/console/login", &[("token", "s3cret")]).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a login needs the form's CSRF token too"
    );

    let response = app
        .clone()
        .oneshot(
            Request::post("/console/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form(&[
                    ("csrf", &csrf),
                    ("token", "s3cret"),
                    ("label", "ada"),
                ])))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/console"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();

    let page = app
        .clone()
        .oneshot(
            Request::get("/console/")
                .header(header::COOKIE, &session)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let text = body_text(page).await;
    assert!(text.contains("console:ada"), "{text}");
    // The session's forms carry its own CSRF token, not the process's.
    let session_csrf = text
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    assert_ne!(session_csrf, csrf);
    let with_process_csrf = app
        .clone()
        .oneshot(
            Request::post("/console/flows/switch")
                .header(header::COOKIE, &session)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form(&[
                    ("csrf", &csrf),
                    ("flow", "ledger"),
                    ("on", "false"),
                ])))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(with_process_csrf.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn beyond_loopback_without_a_token_every_page_explains_how_to_set_one() {
    let (app, _) = console(Gate::NoToken);
    for path in [
        "/console/",
        "/console/login",
        "/console/dlq",
        "/console/api/flows",
    ] {
        let (status, text) = get(&app, path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(text.contains("PAYBRIDGE_CONSOLE_TOKEN"), "{text}");
    }
}
