//! Shared helpers: a store of each kind, a scripted visit source that filters as Genesys
//! conversation details do, seeded visits, and comparisons.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use sla_core::ports::{
    OutcomeKind, SourceError, TallyQuery, Visit, VisitOutcome, VisitQuery, VisitSink, VisitSource,
};
use sla_core::{
    Granularity, MediaType, QueueId, QueueInfo, QueueRef, ServiceLevelTarget, TallySet, Threshold,
    TimeWindow, Zone, tally_visits,
};
use sla_store::Store;

use sla_store::test_support;

/// A tally a store is checked by: granularity, zone name, window, thresholds and short-abandon
/// bound.
pub(crate) type TallyCase = (
    Granularity,
    &'static str,
    TimeWindow,
    Vec<Threshold>,
    Option<Threshold>,
);

/// The query of `case` over `queues` and `media`, and what the store of `db` and `source` each
/// tally for it: a store synced from `source` must count as `source` does.
pub(crate) async fn tallied_both_ways(
    db: &Db,
    source: &dyn VisitSource,
    queues: Vec<QueueId>,
    media: Vec<MediaType>,
    case: TallyCase,
) -> (TallyQuery, TallySet, TallySet) {
    let (granularity, zone, window, thresholds, short_abandon) = case;
    let query = TallyQuery {
        queues,
        media,
        window,
        zone: Zone::get(zone).unwrap(),
        granularity,
        thresholds,
        short_abandon,
    };
    let stored = tally_visits(&query, db.store.as_ref()).await.unwrap();
    let direct = tally_visits(&query, source).await.unwrap();
    (query, stored, direct)
}

/// A store under test, with whatever keeps it alive.
pub(crate) struct Db {
    pub(crate) store: Arc<Store>,
    pub(crate) url: String,
    /// The SQLite file's path.
    pub(crate) file: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    /// A new SQLite file in a temporary directory.
    pub(crate) async fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("sla.db");
        let url = format!("sqlite://{}", file.display());
        let store = sla_store::open(&url).await.expect("the SQLite store opens");
        Db {
            store,
            url,
            file: Some(file),
            _dir: Some(dir),
        }
    }

    /// A new database on the run's PostgreSQL cluster.
    pub(crate) async fn postgres() -> Db {
        let url = test_support::database().await;
        let store = sla_store::open(&url)
            .await
            .expect("the PostgreSQL store opens");
        Db {
            store,
            url,
            file: None,
            _dir: None,
        }
    }

    /// The same store, opened again.
    pub(crate) async fn reopen(&self) -> Arc<Store> {
        sla_store::open(&self.url)
            .await
            .expect("the store opens again")
    }
}

/// Runs each named `async fn(Db)` once on SQLite and once on PostgreSQL, as tests named
/// `sqlite::NAME` and `postgres::NAME`.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::support::Db::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::support::Db::postgres().await).await;
                }
            )*
        }
    };
}
pub(crate) use on_both;

pub(crate) fn ts(text: &str) -> Timestamp {
    text.parse()
        .unwrap_or_else(|e| panic!("bad instant {text}: {e}"))
}

pub(crate) fn win(start: &str, end: &str) -> TimeWindow {
    TimeWindow::new(ts(start), ts(end)).unwrap()
}

pub(crate) fn q(id: &str) -> QueueId {
    QueueId::new(id)
}

pub(crate) fn queue(id: &str, name: &str) -> QueueInfo {
    QueueInfo {
        queue: QueueRef {
            id: q(id),
            name: name.to_owned(),
        },
        division: Some("Home".to_owned()),
        service_levels: [
            (
                MediaType::Voice,
                ServiceLevelTarget {
                    threshold: Threshold::from_millis(20_000),
                    target_percent: 80.0,
                },
            ),
            (
                MediaType::Chat,
                ServiceLevelTarget {
                    threshold: Threshold::from_millis(60_000),
                    target_percent: 90.0,
                },
            ),
        ]
        .into_iter()
        .collect::<BTreeMap<_, _>>(),
    }
}

/// The queues the seeded visits go to.
pub(crate) fn queues() -> Vec<QueueInfo> {
    vec![
        queue("q-sales", "Sales"),
        queue("q-support", "Support"),
        queue("q-billing", "Billing"),
    ]
}

/// Whether a details source delivers `visit` for `query`: to one of its queues and media
/// types, with `nOffered` or the outcome emitted inside its window.
pub(crate) fn selected(visit: &Visit, query: &VisitQuery) -> bool {
    let w = query.window;
    query.queues.contains(&visit.queue)
        && (query.media.is_empty() || query.media.contains(&visit.media))
        && (visit.offered_at.is_some_and(|t| w.contains(t))
            || visit.outcome.is_some_and(|o| w.contains(o.at)))
}

/// A visit source over a list of visits that can change between reads (a restatement) and can
/// fail on a chosen read.
#[derive(Debug, Default)]
pub(crate) struct Script {
    pub(crate) visits: Mutex<Vec<Visit>>,
    pub(crate) reads: Mutex<Vec<VisitQuery>>,
    /// The read (counted from 1) that fails.
    pub(crate) fail_on: Mutex<Option<usize>>,
}

impl Script {
    pub(crate) fn new(visits: Vec<Visit>) -> Script {
        Script {
            visits: Mutex::new(visits),
            ..Script::default()
        }
    }

    /// What the source delivers for `query`, sorted.
    pub(crate) fn expected(&self, query: &VisitQuery) -> Vec<Visit> {
        let mut out = self.matching(query);
        sort(&mut out);
        out
    }

    /// The scripted visits `query` selects, in script order, as the source delivers them.
    fn matching(&self, query: &VisitQuery) -> Vec<Visit> {
        self.visits
            .lock()
            .unwrap()
            .iter()
            .filter(|v| selected(v, query))
            .cloned()
            .collect()
    }
}

#[async_trait]
impl VisitSource for Script {
    async fn visits(
        &self,
        query: &VisitQuery,
        sink: &mut (dyn VisitSink + 'static),
    ) -> Result<(), SourceError> {
        let read = {
            let mut reads = self.reads.lock().unwrap();
            reads.push(query.clone());
            reads.len()
        };
        if *self.fail_on.lock().unwrap() == Some(read) {
            return Err(SourceError::Other(
                format!("connection reset on read {read}").into(),
            ));
        }
        for v in self.matching(query) {
            sink.visit(v);
        }
        Ok(())
    }
}

/// Collects what a source delivers.
#[derive(Debug, Default)]
pub(crate) struct Collect(pub(crate) Vec<Visit>);

impl VisitSink for Collect {
    fn visit(&mut self, visit: Visit) {
        self.0.push(visit);
    }
}

/// Everything `source` delivers for `query`, sorted.
pub(crate) async fn read(source: &dyn VisitSource, query: &VisitQuery) -> Vec<Visit> {
    let mut sink = Collect::default();
    source
        .visits(query, &mut sink)
        .await
        .expect("visits are read");
    sort(&mut sink.0);
    sink.0
}

pub(crate) fn sort(visits: &mut [Visit]) {
    visits.sort_by(|a, b| {
        (&a.conversation_id, a.entered, &a.queue).cmp(&(&b.conversation_id, b.entered, &b.queue))
    });
}

pub(crate) fn query(queues: &[&str], media: &[MediaType], window: TimeWindow) -> VisitQuery {
    VisitQuery {
        queues: queues.iter().map(|id| q(id)).collect(),
        media: media.to_vec(),
        window,
    }
}

/// `SplitMix64`, so the seeded visits never change.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn millis(n: u64) -> SignedDuration {
    SignedDuration::from_millis(i64::try_from(n).unwrap())
}

/// About `per_day` conversations a day for `days` days from `start` (a UTC midnight) across
/// [`queues`], in every shape the store must keep apart: answered, abandoned (some short),
/// flowed out and transferred to another queue, waits that cross midnight, visits never
/// offered, and visits without an outcome.
pub(crate) fn visits(start: &str, days: u64, per_day: u64, seed: u64) -> Vec<Visit> {
    let mut rng = Rng(seed);
    let ids: Vec<QueueId> = queues().into_iter().map(|q| q.queue.id).collect();
    let media = [
        MediaType::Voice,
        MediaType::Voice,
        MediaType::Chat,
        MediaType::Email,
        MediaType::Callback,
    ];
    let start = ts(start);
    let mut out = Vec::new();
    for n in 0..days * per_day {
        let day = n / per_day;
        // Arrivals spread over the day, a few in its last minutes so that waits cross midnight.
        let offset_ms = if rng.below(20) == 0 {
            86_400_000 - 1 - rng.below(120_000)
        } else {
            rng.below(86_400_000)
        };
        let entered = start
            + SignedDuration::from_hours(i64::try_from(day * 24).unwrap())
            + millis(offset_ms);
        let queue = ids[usize::try_from(rng.below(3)).unwrap()].clone();
        let conversation_id = format!("conv-{seed}-{n:06}");
        let medium = media[usize::try_from(rng.below(5)).unwrap()];
        let wait = 500 + rng.below(180_000);
        let roll = rng.below(100);
        let (kind, offered) = match roll {
            0..=59 => (Some(OutcomeKind::Answered), true),
            60..=79 => (Some(OutcomeKind::Abandoned), true),
            80..=91 => (Some(OutcomeKind::FlowOut), true),
            92..=95 => (Some(OutcomeKind::FlowOut), false),
            _ => (None, true),
        };
        let first = Visit {
            conversation_id: conversation_id.clone(),
            queue: queue.clone(),
            media: medium,
            entered,
            offered_at: offered.then_some(entered),
            outcome: kind.map(|kind| VisitOutcome {
                kind,
                wait_ms: wait,
                at: entered + millis(wait),
            }),
        };
        out.push(first);
        if (80..=91).contains(&roll) {
            // Transferred to another queue and answered there.
            let at = entered + millis(wait);
            let next = ids
                .iter()
                .find(|id| **id != queue)
                .expect("another queue")
                .clone();
            let second_wait = 200 + rng.below(40_000);
            out.push(Visit {
                conversation_id,
                queue: next,
                media: medium,
                entered: at,
                offered_at: Some(at),
                outcome: Some(VisitOutcome {
                    kind: OutcomeKind::Answered,
                    wait_ms: second_wait,
                    at: at + millis(second_wait),
                }),
            });
        }
    }
    out
}
