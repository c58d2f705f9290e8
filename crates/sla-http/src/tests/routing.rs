//! Unknown routes, methods and oversized bodies get JSON errors.

use super::*;

#[tokio::test]
async fn unknown_routes_methods_and_bodies_get_json_errors() {
    let h = harness();
    let reply = get(&h.app, "/api/v2/report").await;
    reply.assert_error(StatusCode::NOT_FOUND, "not_found");

    let delete = Request::delete("/api/v1/report")
        .body(Body::empty())
        .unwrap();
    let reply = send(&h.app, delete).await;
    reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert!(reply.header(header::ALLOW).contains("GET"));
    assert!(reply.header(header::ALLOW).contains("POST"));

    let big = Request::get("/healthz")
        .header(header::CONTENT_LENGTH, 1_000_000)
        .body(Body::from(vec![b'x'; 1_000_000]))
        .unwrap();
    let reply = send(&h.app, big).await;
    reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}
