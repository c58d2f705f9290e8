//! `GET /api/v2/routing/queues`: paging, the name filter, the id filter, queue settings.

use genesys_sim::{MediaType, SimConfig};
use serde_json::Value;

use crate::support::{start, test_config};

fn names(body: &Value) -> Vec<&str> {
    body["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn pages_follow_next_uri_to_the_end() {
    let t = start(SimConfig {
        queues: 10,
        ..test_config()
    })
    .await;
    let mut path = "/api/v2/routing/queues?pageSize=4".to_owned();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let reply = t.get(&path).await;
        let body = reply.expect(200, "QueueEntityListing");
        pages += 1;
        assert_eq!(body["pageSize"], 4);
        assert_eq!(body["pageNumber"], pages);
        assert_eq!(body["total"], 10);
        assert_eq!(body["pageCount"], 3);
        assert!(body["firstUri"].as_str().unwrap().ends_with("pageNumber=1"));
        assert!(body["lastUri"].as_str().unwrap().ends_with("pageNumber=3"));
        seen.extend(names(body).into_iter().map(str::to_owned));
        match body["nextUri"].as_str() {
            Some(next) => path = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut sorted = seen.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert_eq!(seen, sorted, "sorted by name");
    assert_eq!(seen.len(), 10);
    assert!(seen.contains(&"Sales 2".to_owned()) && seen.contains(&"Support Tier 2".to_owned()));

    // Past the last page: no entities, no nextUri.
    let past = t
        .get("/api/v2/routing/queues?pageSize=4&pageNumber=9")
        .await;
    let body = past.expect(200, "QueueEntityListing");
    assert_eq!(body["entities"].as_array().unwrap().len(), 0);
    assert!(body.get("nextUri").is_none());
}

#[tokio::test]
async fn name_filter_is_exact_case_insensitive_with_wildcards() {
    let t = start(test_config()).await;
    let check = |pattern: &'static str, expected: &'static [&'static str]| {
        let t = &t;
        async move {
            let reply = t
                .get(&format!("/api/v2/routing/queues?name={pattern}"))
                .await;
            let body = reply.expect(200, "QueueEntityListing");
            assert_eq!(names(body), expected, "name={pattern}");
            assert_eq!(body["total"], expected.len());
        }
    };
    check("sales", &["Sales"]).await;
    check("Sales*", &["Sales", "Sales Priority"]).await;
    check("*PRIORITY", &["Sales Priority"]).await;
    check("*port*", &["Support", "Support Tier 2"]).await;
    check("Sales%20Priority", &["Sales Priority"]).await;
    check("Nothing", &[]).await;
}

#[tokio::test]
async fn id_filter_repeats_and_queue_settings_vary() {
    let t = start(test_config()).await;
    let org = t.sim.org();
    let (a, b) = (&org.queues[0], &org.queues[3]);
    let reply = t
        .get(&format!("/api/v2/routing/queues?id={}&id={}", a.id, b.id))
        .await;
    let body = reply.expect(200, "QueueEntityListing");
    assert_eq!(names(body), [a.name.as_str(), b.name.as_str()]);
    // The official Python SDK sends lists comma-separated.
    let commas = t
        .get(&format!("/api/v2/routing/queues?id={},{}", a.id, b.id))
        .await;
    assert_eq!(names(commas.expect(200, "QueueEntityListing")), names(body));
    let sales = &body["entities"][0];
    assert_eq!(sales["id"], a.id.as_str());
    assert_eq!(sales["division"]["id"], a.division.id.as_str());
    let call = &sales["mediaSettings"]["call"]["serviceLevel"];
    assert_eq!(
        call["durationMs"],
        a.service_level(MediaType::Voice).duration_ms
    );
    assert_eq!(
        sales["mediaSettings"]["email"]["serviceLevel"]["durationMs"],
        86_400_000
    );
    for key in ["call", "callback", "chat", "email", "message"] {
        assert!(sales["mediaSettings"][key]["serviceLevel"]["percentage"].is_number());
    }
    // A `configured` objective needs differing thresholds across queues.
    let voice: Vec<u64> = org
        .queues
        .iter()
        .map(|q| q.service_level(MediaType::Voice).duration_ms)
        .collect();
    assert!(voice.contains(&20_000) && voice.contains(&30_000));

    let one = t.get(&format!("/api/v2/routing/queues/{}", b.id)).await;
    assert_eq!(one.expect(200, "Queue")["name"], b.name.as_str());
    t.get("/api/v2/routing/queues/00000000-0000-0000-0000-000000000000")
        .await
        .expect_error(404, "not found");
}

#[tokio::test]
async fn bad_paging_is_a_400() {
    let t = start(test_config()).await;
    t.get("/api/v2/routing/queues?pageSize=501")
        .await
        .expect_error(400, "pageSize");
    t.get("/api/v2/routing/queues?pageNumber=0")
        .await
        .expect_error(400, "pageNumber");
    t.get("/api/v2/routing/queues?sortOrder=sideways")
        .await
        .expect_error(400, "sortOrder");
    let all = t
        .get("/api/v2/routing/queues?pageSize=500&sortOrder=desc")
        .await;
    let body = all.expect(200, "QueueEntityListing");
    assert_eq!(names(body).first(), Some(&"Support Tier 2"));
}
