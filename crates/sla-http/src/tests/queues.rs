//! `GET /api/v1/queues`: the directory, filtered by name.

use super::*;

// ---------------------------------------------------------------------------------------------
// /api/v1/queues

#[tokio::test]
async fn queues_lists_the_directory() {
    let h = harness();
    let reply = get(&h.app, "/api/v1/queues").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header(header::CONTENT_TYPE), "application/json");
    insta::assert_snapshot!("queues", reply.body);

    let reply = get(&h.app, "/api/v1/queues?name=sa*").await;
    let names: Vec<String> = reply.json()["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["queue_name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Sales"]);

    let reply = get(&h.app, "/api/v1/queues?division=Care").await;
    reply.assert_error(StatusCode::BAD_REQUEST, "unknown_parameter");
}
