//! Which API the details path reads: jobs only for long windows the data lake already holds.

use std::sync::Arc;

use sla_core::Granularity;

use super::emulator::{Quirks, dataset, serve_jobs, serve_query};
use super::{AVAILABILITY, JOBS, QUERY};
use crate::DetailsMode;
use crate::tests::with_token;
use crate::tests::{client, expected, tally_query, ts};

#[tokio::test]
async fn the_mode_picks_jobs_only_for_windows_the_data_lake_holds() {
    let queues = ["q-a"];
    let data = Arc::new(dataset(
        10,
        &queues,
        ts("2024-05-01T00:00:00Z"),
        ts("2024-05-20T00:00:00Z"),
        300,
    ));
    // (mode, window, availability) -> (availability asked, jobs used)
    let table = [
        (
            DetailsMode::Auto,
            ("2024-05-10T00:00:00Z", "2024-05-12T00:00:00Z"),
            "2024-06-01T00:00:00.000Z",
            (false, false),
        ),
        (
            DetailsMode::Auto,
            ("2024-05-01T00:00:00Z", "2024-05-08T00:00:00Z"),
            "2024-06-01T00:00:00.000Z",
            (false, false),
        ),
        (
            DetailsMode::Auto,
            ("2024-05-01T00:00:00Z", "2024-05-08T00:00:01Z"),
            "2024-06-01T00:00:00.000Z",
            (true, true),
        ),
        (
            DetailsMode::Auto,
            ("2024-05-01T00:00:00Z", "2024-05-20T00:00:00Z"),
            "2024-05-20T00:00:00.000Z",
            (true, true),
        ),
        (
            DetailsMode::Auto,
            ("2024-05-01T00:00:00Z", "2024-05-20T00:00:00Z"),
            "2024-05-19T23:59:59.999Z",
            (true, false),
        ),
        (
            DetailsMode::Jobs,
            ("2024-05-10T00:00:00Z", "2024-05-12T00:00:00Z"),
            "2024-06-01T00:00:00.000Z",
            (true, true),
        ),
        (
            DetailsMode::Jobs,
            ("2024-05-10T00:00:00Z", "2024-05-12T00:00:00Z"),
            "2024-05-11T00:00:00.000Z",
            (true, false),
        ),
        (
            DetailsMode::Query,
            ("2024-05-01T00:00:00Z", "2024-05-20T00:00:00Z"),
            "2024-06-01T00:00:00.000Z",
            (false, false),
        ),
    ];
    for (mode, (from, to), available, (asked, jobs)) in table {
        let transport = with_token();
        serve_query(&transport, &data, Quirks::default());
        serve_jobs(&transport, &data, available, &["FULFILLED"], 100);
        let (client, _, _) = client(&transport, |c| c.details_mode = mode);
        let query = tally_query(&queues, "UTC", ts(from), ts(to), Granularity::Day);
        let got = sla_core::tally_visits(&query, &client).await.unwrap();
        assert_eq!(got, expected(&query, &data.visits), "{mode} {from} {to}");
        let row = format!("{mode} {from}..{to} available until {available}");
        assert_eq!(transport.count(AVAILABILITY) == 1, asked, "{row}");
        assert_eq!(transport.count(JOBS) == 1, jobs, "{row}");
        assert_eq!(transport.count(QUERY) > 0, !jobs, "{row}");
    }
}

#[test]
fn details_modes_parse_and_print() {
    for mode in [DetailsMode::Auto, DetailsMode::Query, DetailsMode::Jobs] {
        assert_eq!(mode.to_string().parse::<DetailsMode>().unwrap(), mode);
    }
    assert_eq!(" JOBS ".parse::<DetailsMode>().unwrap(), DetailsMode::Jobs);
    assert_eq!(
        "sometimes".parse::<DetailsMode>().unwrap_err().to_string(),
        "invalid configuration: unknown details mode 'sometimes': expected auto, query or jobs"
    );
}
