//! The real client against the simulated org: a sync of a few days through Genesys's wire
//! format, then the same tallies from the store as from conversation details, on both
//! databases.

use genesys_adapter::{GenesysClient, GenesysConfig, Region};
use genesys_sim::{SimConfig, SimServer};
use secrecy::SecretString;
use sla_core::ports::{QueueDirectory, QueueSelector};
use sla_core::{Granularity, SyncRequest, Threshold, sync_visits};

use crate::support::{Db, on_both, tallied_both_ways, ts, win};

on_both!(a_synced_week_of_the_simulated_org_reports_as_genesys_does);

async fn a_synced_week_of_the_simulated_org_reports_as_genesys_does(db: Db) {
    let sim = SimServer::start(SimConfig {
        seed: 11,
        queues: 4,
        days: 8,
        visits_per_day: 120,
        end_date: Some(jiff::civil::date(2026, 3, 10)),
        ..SimConfig::default()
    })
    .await
    .expect("the simulator starts");
    let mut config = GenesysConfig::new(
        Region::default(),
        sim.config().client_id.clone(),
        SecretString::from(sim.config().client_secret.clone()),
    );
    config.api_base = sim.base_url();
    let client = GenesysClient::new(config).expect("a valid configuration");
    let queues = client.queues(&QueueSelector::All).await.unwrap();
    assert_eq!(queues.len(), 4);

    // Four days across New York's change to summer time (8 March 2026), synced long after.
    let window = win("2026-03-06T00:00:00Z", "2026-03-10T00:00:00Z");
    let request = SyncRequest::new(queues.clone(), window, ts("2026-03-12T00:00:00Z"));
    let first = sync_visits(&request, &client, db.store.as_ref(), &|_| {})
        .await
        .unwrap();
    // Pieces of 8 UTC days from the epoch: 6 to 8 March, then 8 to 10 March.
    assert_eq!((first.pieces_done, first.pieces_total), (2, 2));
    assert_eq!(first.complete_until, Some(window.end()));
    assert!(first.written.new > 1_000, "{first:?}");

    let ids: Vec<_> = queues.iter().map(|q| q.queue.id.clone()).collect();
    let ms = Threshold::from_millis;
    let cases = [
        (Granularity::Total, "UTC", window, vec![ms(20_000)], None),
        (
            Granularity::HalfHour,
            "America/New_York",
            win("2026-03-07T05:00:00Z", "2026-03-09T04:00:00Z"),
            vec![ms(10_000), ms(20_000), ms(60_000)],
            Some(ms(10_000)),
        ),
        (
            Granularity::Hour,
            "Europe/Paris",
            win("2026-03-06T23:00:00Z", "2026-03-09T23:00:00Z"),
            vec![ms(30_000)],
            None,
        ),
        (
            Granularity::Day,
            "Australia/Sydney",
            win("2026-03-06T13:00:00Z", "2026-03-09T13:00:00Z"),
            vec![ms(20_000), ms(120_000)],
            Some(ms(5_000)),
        ),
    ];
    for case in cases {
        let (granularity, zone) = (case.0, case.1);
        let (_, stored, genesys) =
            tallied_both_ways(&db, &client, ids.clone(), Vec::new(), case).await;
        assert!(!genesys.is_empty());
        assert_eq!(stored, genesys, "{granularity} in {zone}");
    }
    // The queues came along, so reports need no directory upstream.
    let mut stored_queues = db.store.queues(&QueueSelector::All).await.unwrap();
    let mut expected = queues.clone();
    stored_queues.sort_by(|a, b| a.queue.id.cmp(&b.queue.id));
    expected.sort_by(|a, b| a.queue.id.cmp(&b.queue.id));
    assert_eq!(stored_queues, expected);

    // Syncing again reads the restated tail and changes nothing.
    let again = sync_visits(&request, &client, db.store.as_ref(), &|_| {})
        .await
        .unwrap();
    assert_eq!(
        (
            again.written.new, again.written.updated, again.written.removed
        ),
        (0, 0, 0)
    );
    assert!(again.written.unchanged > 0);
}
