//! The queue directory against the simulator: paging, exact names, wildcards, id batches and
//! configured service levels.

use genesys_sim::SimConfig;
use sla_core::ports::{QueueDirectory, QueueSelector, SourceError};
use sla_core::{MediaType, QueueId};

use crate::shared::chain;
use crate::support::{real_client, sim_config, start};

fn many_queues() -> SimConfig {
    SimConfig {
        queues: 130,
        days: 1,
        visits_per_day: 1,
        ..sim_config()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_queue_is_listed_with_its_configured_service_levels() {
    let sim = start(many_queues()).await;
    let client = real_client(&sim, |_| {});
    let got = client.queues(&QueueSelector::All).await.unwrap();
    assert_eq!(got.len(), 130);
    // Two pages of 100.
    let pages = sim.requests_by_path()["GET /api/v2/routing/queues"];
    assert_eq!(pages, 2);
    for queue in &sim.org().queues {
        let info = got
            .iter()
            .find(|q| q.queue.id.as_str() == queue.id)
            .unwrap();
        assert_eq!(info.queue.name, queue.name);
        assert_eq!(info.division.as_deref(), Some(queue.division.name.as_str()));
        for (media, sim_media) in [
            (MediaType::Voice, genesys_sim::MediaType::Voice),
            (MediaType::Callback, genesys_sim::MediaType::Callback),
            (MediaType::Chat, genesys_sim::MediaType::Chat),
            (MediaType::Email, genesys_sim::MediaType::Email),
            (MediaType::Message, genesys_sim::MediaType::Message),
        ] {
            let want = queue.service_level(sim_media);
            let have = info.service_levels[&media];
            assert_eq!(have.threshold.as_millis(), want.duration_ms);
            assert!((have.target_percent - want.percentage * 100.0).abs() < 1e-6);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_wildcards_and_ids_select_queues() {
    let sim = start(sim_config()).await;
    let client = real_client(&sim, |c| c.queues_per_request = 2);
    let names = |queues: Vec<sla_core::QueueInfo>| -> Vec<String> {
        let mut names: Vec<String> = queues.into_iter().map(|q| q.queue.name).collect();
        names.sort();
        names
    };
    let exact = client
        .queues(&QueueSelector::Name("support".to_owned()))
        .await
        .unwrap();
    assert_eq!(names(exact), ["Support"]);
    let wildcard = client
        .queues(&QueueSelector::Name("Sales*".to_owned()))
        .await
        .unwrap();
    assert_eq!(names(wildcard), ["Sales", "Sales Priority"]);
    let none = client
        .queues(&QueueSelector::Name("Nope".to_owned()))
        .await
        .unwrap();
    assert!(none.is_empty());
    let ids: Vec<QueueId> = sim
        .org()
        .queues
        .iter()
        .map(|q| QueueId::new(q.id.clone()))
        .collect();
    let by_id = client
        .queues(&QueueSelector::Ids(ids.clone()))
        .await
        .unwrap();
    assert_eq!(by_id.len(), ids.len());
    assert!(ids.iter().all(|id| by_id.iter().any(|q| &q.queue.id == id)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_unauthorized_with_the_login_hosts_reason() {
    let sim = start(sim_config()).await;
    let client = real_client(&sim, |c| c.client_secret = "wrong".to_owned().into());
    let err = client.queues(&QueueSelector::All).await.unwrap_err();
    assert!(matches!(err, SourceError::Unauthorized(_)), "{err:?}");
    let reason = std::error::Error::source(&err).unwrap().to_string();
    assert!(
        reason.starts_with("authentication failed with status 401: client authentication failed"),
        "{reason}"
    );
    // Where the credentials come from, and the id Genesys support asks for.
    assert!(
        reason.contains("; check GENESYSCLOUD_OAUTHCLIENT_ID and GENESYSCLOUD_OAUTHCLIENT_SECRET [correlationId "),
        "{reason}"
    );
    // A refusal is final: one token request, no API request.
    assert_eq!(sim.token_requests(), 1);
    assert_eq!(sim.api_requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_too_long_for_a_url_is_a_short_error_and_never_sent() {
    let sim = start(sim_config()).await;
    let client = real_client(&sim, |_| {});
    let name = "n".repeat(100_000);
    let err = client.queues(&QueueSelector::Name(name)).await.unwrap_err();
    assert!(matches!(err, SourceError::Rejected(_)), "{err:?}");
    assert_eq!(
        chain(&err),
        format!(
            "request rejected: cannot send GET /api/v2/routing/queues: its URL is {} characters \
             long, more than the 65534 HTTP allows: the name parameter alone is 100000 characters \
             ({}…)",
            sim.base_url().len()
                + "/api/v2/routing/queues?pageSize=100&pageNumber=1&name=".len()
                + 100_000,
            "n".repeat(40)
        )
    );
    // Not retried, and nothing reached the simulator but the token request.
    let stats = client.upstream_stats();
    assert_eq!(stats.retries, 0, "{stats:?}");
    assert_eq!(sim.api_requests(), 0);
}
