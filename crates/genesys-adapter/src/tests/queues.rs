//! The queue directory through the client: every page of the listing, names sent to Genesys and
//! exact names kept exact, ids batched as repeated parameters.

use serde_json::{Value, json};
use sla_core::ports::{QueueDirectory as _, QueueSelector};
use sla_core::{MediaType, QueueId, Threshold};

use crate::tests::{QUEUES, assert_valid, client, with_token};
use crate::{HttpRequest, Reply, ScriptedTransport};

/// A queue entity as Genesys lists it.
fn queue_json(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name, "division": {"id": "d1", "name": "Home"},
           "mediaSettings": {"call": {"serviceLevel": {"percentage": 0.8, "durationMs": 20000}}}})
}

fn query_pairs(request: &HttpRequest) -> Vec<(String, String)> {
    request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Serves `names` as queues `q-0`, `q-1`, ... three per page, paging by `pageCount` or, when
/// `page_count` is false, by `nextUri` only.
fn serve_queues(transport: &ScriptedTransport, names: &'static [&'static str], page_count: bool) {
    transport.respond(QUEUES, move |request| {
        let pairs = query_pairs(request);
        assert_eq!(param(&pairs, "pageSize"), ["100"]);
        let page: usize = param(&pairs, "pageNumber")[0].parse().unwrap();
        let ids = param(&pairs, "id");
        let all: Vec<Value> = names
            .iter()
            .enumerate()
            .map(|(i, n)| queue_json(&format!("q-{i}"), n))
            .filter(|q| ids.is_empty() || ids.contains(&q["id"].as_str().unwrap()))
            .collect();
        let pages = all.len().div_ceil(3).max(1);
        let entities: Vec<Value> = all.iter().skip((page - 1) * 3).take(3).cloned().collect();
        let mut listing =
            json!({"entities": entities, "pageSize": 3, "pageNumber": page, "total": all.len()});
        if page_count {
            listing["pageCount"] = json!(pages);
        }
        if page < pages {
            listing["nextUri"] = json!(format!(
                "/api/v2/routing/queues?pageSize=3&pageNumber={}",
                page + 1
            ));
        }
        assert_valid("QueueEntityListing", &listing);
        Reply::json(200, &listing)
    });
}

const NAMES: &[&str] = &[
    "Billing", "Sales", "Support", "support", "Support Tier 2", "Claims", "Returns",
];

#[tokio::test]
async fn every_queue_is_listed_across_pages() {
    for by_page_count in [true, false] {
        let transport = with_token();
        serve_queues(&transport, NAMES, by_page_count);
        let (client, _, _) = client(&transport, |_| {});
        let got = client.queues(&QueueSelector::All).await.unwrap();
        let names: Vec<&str> = got.iter().map(|q| q.queue.name.as_str()).collect();
        assert_eq!(names, NAMES);
        assert_eq!(transport.count(QUEUES), 3);
        let first = &got[0];
        assert_eq!(first.division.as_deref(), Some("Home"));
        assert_eq!(
            first.service_levels[&MediaType::Voice].threshold,
            Threshold::from_millis(20_000)
        );
        assert!(
            (first.service_levels[&MediaType::Voice].target_percent - 80.0).abs() < f64::EPSILON
        );
    }
}

#[tokio::test]
async fn names_are_sent_to_genesys_and_exact_names_kept_exact() {
    let transport = with_token();
    // Whatever Genesys matched for the name, only exact (case-insensitive) names are kept.
    transport.respond(QUEUES, |request| {
        let pairs = query_pairs(request);
        let name = param(&pairs, "name")[0].to_owned();
        let entities: Vec<Value> = NAMES
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                n.to_lowercase()
                    .starts_with(&name.trim_end_matches('*').to_lowercase())
            })
            .map(|(i, n)| queue_json(&format!("q-{i}"), n))
            .collect();
        Reply::json(
            200,
            &json!({"entities": entities, "pageNumber": 1, "pageCount": 1}),
        )
    });
    let (client, _, _) = client(&transport, |_| {});
    let exact = client
        .queues(&QueueSelector::Name("SUPPORT".to_owned()))
        .await
        .unwrap();
    let names: Vec<&str> = exact.iter().map(|q| q.queue.name.as_str()).collect();
    assert_eq!(names, ["Support", "support"]);
    let wildcard = client
        .queues(&QueueSelector::Name("Sup*".to_owned()))
        .await
        .unwrap();
    assert_eq!(wildcard.len(), 3);
    let sent: Vec<Vec<(String, String)>> = transport
        .requests()
        .iter()
        .filter(|r| r.url.path() == QUEUES)
        .map(query_pairs)
        .collect();
    assert_eq!(param(&sent[0], "name"), ["SUPPORT"]);
    assert_eq!(param(&sent[1], "name"), ["Sup*"]);
}

#[tokio::test]
async fn ids_are_batched_as_repeated_parameters() {
    let transport = with_token();
    serve_queues(&transport, NAMES, true);
    let (client, _, _) = client(&transport, |c| c.queues_per_request = 2);
    let ids: Vec<QueueId> = ["q-0", "q-2", "q-4", "q-6", "q-2", "q-missing"]
        .into_iter()
        .map(QueueId::new)
        .collect();
    let got = client.queues(&QueueSelector::Ids(ids)).await.unwrap();
    let found: Vec<&str> = got.iter().map(|q| q.queue.id.as_str()).collect();
    assert_eq!(found, ["q-0", "q-2", "q-4", "q-6"]);
    let batches: Vec<Vec<String>> = transport
        .requests()
        .iter()
        .filter(|r| r.url.path() == QUEUES)
        .map(|r| {
            param(&query_pairs(r), "id")
                .into_iter()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    assert_eq!(
        batches,
        [
            vec!["q-0", "q-2"],
            vec!["q-4", "q-6"],
            vec!["q-2", "q-missing"]
        ]
    );
    // No ids, no request.
    assert!(
        client
            .queues(&QueueSelector::Ids(Vec::new()))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(transport.count(QUEUES), 3);
}
