//! Access control: the bearer token on the API, the Basic password on the dashboard, open metrics and probes, and 401 for unknown API paths.

use super::*;

// ---------------------------------------------------------------------------------------------
// Access control.

#[tokio::test]
async fn with_a_token_the_api_wants_it_as_a_bearer_token() {
    let h = with_token();
    let missing = get(&h.app, DAYS_QUERY).await;
    missing.assert_challenge("Bearer realm=\"sla\"");
    insta::assert_json_snapshot!("unauthorized_missing", missing.json());

    let wrong = get_with(&h.app, DAYS_QUERY, "Bearer s3cret-tokem").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    insta::assert_json_snapshot!("unauthorized_wrong", wrong.json());
    let wrong_scheme = get_with(&h.app, DAYS_QUERY, &basic("x", "s3cret-token")).await;
    assert_eq!(wrong_scheme.status, StatusCode::UNAUTHORIZED);
    let prefix = get_with(&h.app, DAYS_QUERY, "Bearer s3cret").await;
    assert_eq!(prefix.status, StatusCode::UNAUTHORIZED);

    let right = get_with(&h.app, DAYS_QUERY, "Bearer s3cret-token").await;
    assert_eq!(right.status, StatusCode::OK);
    let scheme_case = get_with(&h.app, "/api/v1/queues", "bearer s3cret-token").await;
    assert_eq!(scheme_case.status, StatusCode::OK);

    // Authentication comes before validation: a stranger learns nothing about parameters.
    let bad = get(&h.app, "/api/v1/report?nonsense=1").await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn with_a_token_the_dashboard_wants_it_as_the_basic_password() {
    let h = with_token();
    refresh_all(&h.state).await;
    let missing = get(&h.app, "/").await;
    missing.assert_challenge("Basic realm=\"sla\", charset=\"UTF-8\"");
    assert_eq!(missing.json()["error"]["code"], "unauthorized");
    let wrong = get_with(&h.app, "/", &basic("wallboard", "guess")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let bearer = get_with(&h.app, "/", "Bearer s3cret-token").await;
    assert_eq!(bearer.status, StatusCode::UNAUTHORIZED);
    let garbage = get_with(&h.app, "/", "Basic !!!").await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    for user in ["wallboard", "", "any one"] {
        let right = get_with(&h.app, "/", &basic(user, "s3cret-token")).await;
        assert_eq!(right.status, StatusCode::OK, "user {user:?}");
    }
    // The wallboard's data is the dashboard's too.
    let data = get(&h.app, "/dashboard.json").await;
    assert_eq!(data.status, StatusCode::UNAUTHORIZED);
    let data = get_with(
        &h.app,
        "/dashboard.json",
        &basic("wallboard", "s3cret-token"),
    )
    .await;
    assert_eq!(data.status, StatusCode::OK);
}

#[tokio::test]
async fn with_a_token_metrics_and_probes_stay_open() {
    let h = with_token();
    watch::refresh(&h.state).await;
    for uri in ["/metrics", "/healthz", "/readyz"] {
        assert_eq!(get(&h.app, uri).await.status, StatusCode::OK, "{uri}");
    }
}

#[tokio::test]
async fn with_a_token_unknown_api_paths_and_methods_are_401_too() {
    let h = with_token();
    let delete = || {
        Request::delete("/api/v1/report")
            .body(Body::empty())
            .unwrap()
    };
    for uri in ["/api/v2/report", "/api/v1/report/extra", "/api/", "/api"] {
        let reply = get(&h.app, uri).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(
            reply.header(header::WWW_AUTHENTICATE),
            "Bearer realm=\"sla\""
        );
    }
    assert_eq!(
        send(&h.app, delete()).await.status,
        StatusCode::UNAUTHORIZED
    );

    // With the token, they are what they are.
    let reply = get_with(&h.app, "/api/v2/report", "Bearer s3cret-token").await;
    reply.assert_error(StatusCode::NOT_FOUND, "not_found");
    let mut request = delete();
    request.headers_mut().insert(
        header::AUTHORIZATION,
        "Bearer s3cret-token".parse().unwrap(),
    );
    let reply = send(&h.app, request).await;
    reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    // Outside /api nothing changes.
    assert_eq!(get(&h.app, "/nowhere").await.status, StatusCode::NOT_FOUND);
}
