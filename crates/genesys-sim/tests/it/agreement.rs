//! The aggregates endpoint against an independent count straight from `org().visits` (and the
//! live org's finished visits, where it runs).
//!
//! The expected numbers are tallied here, visit by visit, with the documented rules: `nOffered`
//! at entry, the rest at the outcome instant, each only inside the interval.

use std::collections::BTreeMap;

use genesys_sim::{ManualClock, Org, Outcome, Visit};
use jiff::{Timestamp, tz::TimeZone};
use serde_json::{Value, json};

use crate::support::{TestSim, start, test_config};

/// (group, bucket interval, metric or view name) -> [count, sum, min, max], or for
/// `oServiceLevel` [numerator, denominator, 0, 0].
type Tally = BTreeMap<(String, String, String), [u64; 4]>;

const METRICS: [&str; 7] = [
    "nOffered", "tAnswered", "tAbandon", "tFlowOut", "tShortAbandon", "nOverSla", "oServiceLevel",
];

struct ViewSpec {
    name: &'static str,
    target: &'static str,
    gte: Option<u64>,
    lt: Option<u64>,
}

impl ViewSpec {
    fn json(&self) -> Value {
        let mut range = json!({});
        if let Some(g) = self.gte {
            range["gte"] = json!(g);
        }
        if let Some(l) = self.lt {
            range["lt"] = json!(l);
        }
        json!({"name": self.name, "target": self.target, "function": "rangeBound", "range": range})
    }

    fn admits(&self, wait: u64) -> bool {
        self.gte.is_none_or(|g| wait >= g) && self.lt.is_none_or(|l| wait < l)
    }
}

fn fmt(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn add_timer(tally: &mut Tally, key: (String, String, String), x: u64) {
    let e = tally.entry(key).or_insert([0, 0, u64::MAX, 0]);
    e[0] += 1;
    e[1] += x;
    e[2] = e[2].min(x);
    e[3] = e[3].max(x);
}

fn add_count(tally: &mut Tally, key: (String, String, String), by: [u64; 2]) {
    let e = tally.entry(key).or_insert([0, 0, 0, 0]);
    e[0] += by[0];
    e[1] += by[1];
}

/// The independent tally of the history's visits.
fn expected(
    org: &Org,
    keep: impl Fn(&Visit) -> bool,
    group: impl Fn(&Visit) -> String,
    bucket: impl Fn(Timestamp) -> Option<String>,
    views: &[ViewSpec],
) -> Tally {
    expected_of(org, org.visits.iter(), keep, group, bucket, views)
}

/// The independent tally of any visits of `org`'s queues.
fn expected_of<'a>(
    org: &Org,
    visits: impl Iterator<Item = &'a Visit>,
    keep: impl Fn(&Visit) -> bool,
    group: impl Fn(&Visit) -> String,
    bucket: impl Fn(Timestamp) -> Option<String>,
    views: &[ViewSpec],
) -> Tally {
    let short_abandon_ms = 10_000;
    let mut tally = Tally::new();
    for v in visits.filter(|v| keep(v)) {
        let g = group(v);
        if let Some(b) = bucket(v.entered) {
            add_count(&mut tally, (g.clone(), b, "nOffered".into()), [1, 0]);
        }
        let Some(b) = bucket(v.outcome_at) else {
            continue;
        };
        let key = |name: &str| (g.clone(), b.clone(), name.to_owned());
        let mut timers = vec!["tAnswered"];
        match v.outcome {
            Outcome::Answered => {}
            Outcome::Abandoned => {
                timers[0] = "tAbandon";
                if v.wait_ms < short_abandon_ms {
                    timers.push("tShortAbandon");
                }
            }
            Outcome::FlowOut => timers[0] = "tFlowOut",
        }
        for timer in &timers {
            add_timer(&mut tally, key(timer), v.wait_ms);
            for view in views.iter().filter(|view| view.target == *timer) {
                if view.admits(v.wait_ms) {
                    add_timer(&mut tally, key(view.name), v.wait_ms);
                }
            }
        }
        let queue = org.queues.iter().find(|q| q.id == v.queue_id).unwrap();
        let target = queue.service_level(v.media_type).duration_ms;
        match v.outcome {
            Outcome::Answered => {
                if v.wait_ms > target {
                    add_count(&mut tally, key("nOverSla"), [1, 0]);
                }
                let met = u64::from(v.wait_ms <= target);
                add_count(&mut tally, key("oServiceLevel"), [met, 1]);
            }
            Outcome::Abandoned => add_count(&mut tally, key("oServiceLevel"), [0, 1]),
            Outcome::FlowOut => {}
        }
    }
    tally
}

fn group_name(group: &Value) -> String {
    let q = group["queueId"].as_str().unwrap_or("-");
    let m = group["mediaType"].as_str().unwrap_or("-");
    format!("{q}/{m}")
}

/// The same shape, read from an aggregates response.
fn observed(body: &Value) -> Tally {
    let mut tally = Tally::new();
    let num = |v: &Value| v.as_u64().unwrap_or(0);
    for result in body["results"].as_array().into_iter().flatten() {
        let g = group_name(&result["group"]);
        for data in result["data"].as_array().unwrap() {
            let b = data["interval"].as_str().unwrap().to_owned();
            let metrics = data["metrics"].as_array().into_iter().flatten();
            let views = data["views"].as_array().into_iter().flatten();
            for (name, s) in metrics
                .map(|m| (&m["metric"], &m["stats"]))
                .chain(views.map(|v| (&v["name"], &v["stats"])))
            {
                let name = name.as_str().unwrap().to_owned();
                let entry = if name == "oServiceLevel" {
                    let ratio = s["ratio"].as_f64().unwrap();
                    let expect =
                        s["numerator"].as_f64().unwrap() / s["denominator"].as_f64().unwrap();
                    assert!((ratio - expect).abs() < 1e-9);
                    [num(&s["numerator"]), num(&s["denominator"]), 0, 0]
                } else if name.starts_with('n') {
                    [num(&s["count"]), 0, 0, 0]
                } else {
                    [
                        num(&s["count"]),
                        num(&s["sum"]),
                        num(&s["min"]),
                        num(&s["max"]),
                    ]
                };
                assert!(tally.insert((g.clone(), b.clone(), name), entry).is_none());
            }
        }
    }
    tally
}

#[track_caller]
fn assert_same(expected: &Tally, observed: &Tally) {
    assert!(!expected.is_empty(), "the query should see data");
    for (key, value) in expected {
        assert_eq!(observed.get(key), Some(value), "{key:?}");
    }
    assert_eq!(expected.len(), observed.len(), "no extra entries");
}

async fn run(t: &TestSim, query: &Value) -> Tally {
    let reply = t.aggregates(query).await;
    observed(reply.expect(200, "ConversationAggregateQueryResponse"))
}

fn instant(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn in_interval(t: Timestamp, start: Timestamp, end: Timestamp) -> bool {
    t >= start && t < end
}

#[tokio::test]
async fn views_at_t_plus_one_count_waits_at_the_threshold() {
    let t = start(test_config()).await;
    let org = t.sim.org();
    let (start_ts, end_ts) = (org.start, org.end);
    let interval = format!("{}/{}", fmt(start_ts), fmt(end_ts));
    let views = [
        ViewSpec {
            name: "answeredLe20s",
            target: "tAnswered",
            gte: None,
            lt: Some(20_001),
        },
        ViewSpec {
            name: "answeredLt20s",
            target: "tAnswered",
            gte: None,
            lt: Some(20_000),
        },
        ViewSpec {
            name: "answeredLe30s",
            target: "tAnswered",
            gte: None,
            lt: Some(30_001),
        },
        ViewSpec {
            name: "answeredOver60s",
            target: "tAnswered",
            gte: Some(60_000),
            lt: None,
        },
        ViewSpec {
            name: "abandonedLe20s",
            target: "tAbandon",
            gte: None,
            lt: Some(20_001),
        },
        ViewSpec {
            name: "abandonedUnder10s",
            target: "tAbandon",
            gte: Some(0),
            lt: Some(10_000),
        },
        ViewSpec {
            name: "shortUnder5s",
            target: "tShortAbandon",
            gte: None,
            lt: Some(5_000),
        },
        ViewSpec {
            name: "flowOut20to60",
            target: "tFlowOut",
            gte: Some(20_001),
            lt: Some(60_001),
        },
    ];
    let query = json!({
        "interval": interval,
        "groupBy": ["queueId"],
        "metrics": METRICS,
        "views": views.iter().map(ViewSpec::json).collect::<Vec<_>>(),
    });
    let observed = run(&t, &query).await;
    let expected = expected(
        org,
        |_| true,
        |v| format!("{}/-", v.queue_id),
        |ts| in_interval(ts, start_ts, end_ts).then(|| interval.clone()),
        &views,
    );
    assert_same(&expected, &observed);

    // The dataset has answers at exactly 20000 ms, and `lt: 20001` counts them while `lt: 20000` does not.
    let exact: Vec<&Visit> = org
        .visits
        .iter()
        .filter(|v| v.outcome == Outcome::Answered && v.wait_ms == 20_000)
        .collect();
    assert!(!exact.is_empty());
    assert!(org.visits.iter().any(|v| v.wait_ms == 20_001));
    let count = |view: &str, queue: &str| {
        observed
            .get(&(format!("{queue}/-"), interval.clone(), view.to_owned()))
            .map_or(0, |s| s[0])
    };
    let queue = &exact[0].queue_id;
    let at_exactly = exact.iter().filter(|v| v.queue_id == *queue).count() as u64;
    assert_eq!(
        count("answeredLe20s", queue) - count("answeredLt20s", queue),
        at_exactly
    );
}

#[tokio::test]
async fn local_days_in_london_across_the_spring_change() {
    let t = start(test_config()).await;
    let org = t.sim.org();
    let london = TimeZone::get("Europe/London").unwrap();
    // Local midnight 2 March (GMT) to local midnight 1 April (BST).
    let (start_ts, end_ts) = (
        instant("2026-03-02T00:00:00Z"),
        instant("2026-03-31T23:00:00Z"),
    );
    let query = json!({
        "interval": "2026-03-02T00:00:00.000Z/2026-04-01T00:00:00.000+01:00",
        "granularity": "P1D",
        "timeZone": "Europe/London",
        "groupBy": ["queueId"],
        "metrics": METRICS,
        "views": [{"name": "le20", "target": "tAnswered", "function": "rangeBound", "range": {"lt": 20001}}],
    });
    let observed = run(&t, &query).await;
    let bucket = |ts: Timestamp| {
        if !in_interval(ts, start_ts, end_ts) {
            return None;
        }
        let day = ts.to_zoned(london.clone()).date();
        let from = day.to_zoned(london.clone()).unwrap().timestamp();
        let to = day
            .tomorrow()
            .unwrap()
            .to_zoned(london.clone())
            .unwrap()
            .timestamp();
        Some(format!("{}/{}", fmt(from), fmt(to)))
    };
    let views = [ViewSpec {
        name: "le20",
        target: "tAnswered",
        gte: None,
        lt: Some(20_001),
    }];
    let expected = expected(
        org,
        |_| true,
        |v| format!("{}/-", v.queue_id),
        bucket,
        &views,
    );
    assert_same(&expected, &observed);

    let intervals: Vec<&String> = observed.keys().map(|(_, b, _)| b).collect();
    // The 23-hour day of 29 March 2026, and a BST day after it.
    assert!(intervals.contains(&&"2026-03-29T00:00:00.000Z/2026-03-29T23:00:00.000Z".to_owned()));
    assert!(intervals.contains(&&"2026-03-30T23:00:00.000Z/2026-03-31T23:00:00.000Z".to_owned()));
    assert!(intervals.contains(&&"2026-03-02T00:00:00.000Z/2026-03-03T00:00:00.000Z".to_owned()));
}

#[tokio::test]
async fn queue_and_media_filters_with_hourly_buckets() {
    let t = start(test_config()).await;
    let org = t.sim.org();
    let (a, c) = (org.queues[0].id.clone(), org.queues[2].id.clone());
    let (start_ts, end_ts) = (
        instant("2026-03-10T08:00:00Z"),
        instant("2026-03-12T17:00:00Z"),
    );
    let query = json!({
        "interval": "2026-03-10T08:00:00.000Z/2026-03-12T17:00:00.000Z",
        "granularity": "PT1H",
        "groupBy": ["queueId", "mediaType"],
        "metrics": METRICS,
        "filter": {"type": "and",
            "predicates": [{"type": "dimension", "dimension": "mediaType", "operator": "matches", "value": "voice"}],
            "clauses": [{"type": "or", "predicates": [
                {"dimension": "queueId", "value": a}, {"dimension": "queueId", "value": c}]}]},
    });
    let observed = run(&t, &query).await;
    let hour = 3_600_000;
    let bucket = |ts: Timestamp| {
        in_interval(ts, start_ts, end_ts).then(|| {
            let from = ts.as_millisecond().div_euclid(hour) * hour;
            let at = |ms| Timestamp::from_millisecond(ms).unwrap();
            format!("{}/{}", fmt(at(from)), fmt(at(from + hour)))
        })
    };
    let expected = expected(
        org,
        |v| v.media_type.as_str() == "voice" && (v.queue_id == a || v.queue_id == c),
        |v| format!("{}/{}", v.queue_id, v.media_type.as_str()),
        bucket,
        &[],
    );
    assert_same(&expected, &observed);
    let groups: std::collections::BTreeSet<&String> = observed.keys().map(|(g, _, _)| g).collect();
    assert_eq!(groups.len(), 2);
}

#[tokio::test]
async fn group_by_media_over_an_interval_cut_mid_day() {
    let t = start(test_config()).await;
    let org = t.sim.org();
    let interval = "2026-03-05T12:34:56.789Z/2026-03-09T01:02:03.004Z";
    let (start_ts, end_ts) = (
        instant("2026-03-05T12:34:56.789Z"),
        instant("2026-03-09T01:02:03.004Z"),
    );
    let query = json!({"interval": interval, "groupBy": ["mediaType"], "metrics": METRICS});
    let observed = run(&t, &query).await;
    let expected = expected(
        org,
        |_| true,
        |v| format!("-/{}", v.media_type.as_str()),
        |ts| in_interval(ts, start_ts, end_ts).then(|| interval.to_owned()),
        &[],
    );
    assert_same(&expected, &observed);
    let media: std::collections::BTreeSet<&str> =
        observed.keys().map(|(g, _, _)| g.as_str()).collect();
    assert_eq!(
        media.into_iter().collect::<Vec<_>>(),
        ["-/callback", "-/chat", "-/email", "-/message", "-/voice"]
    );
}

#[tokio::test]
async fn live_visits_add_to_the_history_in_five_minute_buckets() {
    let clock = ManualClock::starting_now();
    let mut config = crate::support::live_config(&clock);
    config.live.autopilot = true;
    config.live.speed_up = 10.0;
    let t = start(config).await;
    let live = t.sim.live().unwrap();
    let begin = live.now();
    clock.advance(std::time::Duration::from_mins(15));
    let snapshot = live.snapshot();
    let org = t.sim.org();
    // Whole minutes from 20 minutes before the live start to 2 minutes past now, in 5-minute steps.
    let minute = 60_000;
    let at = |ms: i64| Timestamp::from_millisecond(ms).unwrap();
    let from = (begin.as_millisecond() - 20 * minute).div_euclid(minute) * minute;
    let to = (snapshot.as_of.as_millisecond() + 2 * minute).div_euclid(minute) * minute;
    let (start_ts, end_ts) = (at(from), at(to));
    let views = [
        ViewSpec {
            name: "answeredLe10s",
            target: "tAnswered",
            gte: None,
            lt: Some(10_001),
        },
        ViewSpec {
            name: "abandonedOver5s",
            target: "tAbandon",
            gte: Some(5_000),
            lt: None,
        },
    ];
    let query = json!({
        "interval": format!("{}/{}", fmt(start_ts), fmt(end_ts)),
        "granularity": "PT5M",
        "groupBy": ["queueId", "mediaType"],
        "metrics": METRICS,
        "views": views.iter().map(ViewSpec::json).collect::<Vec<_>>(),
    });
    let observed = run(&t, &query).await;
    let step = 5 * minute;
    let bucket = |ts: Timestamp| {
        in_interval(ts, start_ts, end_ts).then(|| {
            let b = from + (ts.as_millisecond() - from).div_euclid(step) * step;
            format!("{}/{}", fmt(at(b)), fmt(at((b + step).min(to))))
        })
    };
    let expected = expected_of(
        org,
        org.visits.iter().chain(&snapshot.visits),
        |_| true,
        |v| format!("{}/{}", v.queue_id, v.media_type.as_str()),
        bucket,
        &views,
    );
    assert_same(&expected, &observed);
    // Live visits are in it: buckets after the live start hold more than the history ever had.
    let live_buckets = observed
        .keys()
        .filter(|(_, b, _)| b.as_str() > fmt(begin).as_str())
        .count();
    assert!(live_buckets > 10, "{live_buckets}");
}
