//! Unit tests of the client through its ports over a scripted transport, one file per idea,
//! and the helpers they share.

mod aggregates;
mod chunking;
mod client;
mod config;
mod details;
mod errors;
mod fuzz;
mod live;
mod queues;
pub(crate) mod retry;
mod secrets;
mod shared;
mod tokens;

use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::Value;
use sla_core::ports::{TallyQuery, Visit};
use sla_core::{BucketPlan, Granularity, QueueId, Tallier, TallySet};

use crate::tests::shared::tally_query_of;
pub(crate) use crate::tests::shared::{assert_valid, chain};
use crate::{
    GenesysClient, GenesysConfig, HttpRequest, InstantSleep, ManualClock, Region, Reply,
    ScriptedTransport, Seams,
};

const SECRET: &str = "sup3r-s3cret-value";
const TOKEN_PATH: &str = "/oauth/token";
const AGGREGATES: &str = "/api/v2/analytics/conversations/aggregates/query";
const QUEUES: &str = "/api/v2/routing/queues";

fn client(
    transport: &ScriptedTransport,
    tweak: impl FnOnce(&mut GenesysConfig),
) -> (GenesysClient, ManualClock, InstantSleep) {
    let mut config =
        GenesysConfig::new(Region::default(), "test-client", SecretString::from(SECRET));
    "http://api.genesys.test".clone_into(&mut config.api_base);
    tweak(&mut config);
    let (seams, clock, sleep) = Seams::scripted(transport);
    (
        GenesysClient::with_seams(config, seams).unwrap(),
        clock,
        sleep,
    )
}

/// A scripted transport whose login host hands out one token, good for a day.
fn with_token() -> ScriptedTransport {
    let transport = ScriptedTransport::new();
    transport.script(TOKEN_PATH, [Reply::token("tok", 86_400)]);
    transport
}

fn body_of(request: &HttpRequest) -> Value {
    serde_json::from_str(request.body.as_deref().unwrap()).unwrap()
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}
/// What the core's own tallier counts for `query` over `visits`.
fn expected(query: &TallyQuery, visits: &[Visit]) -> TallySet {
    let plan = BucketPlan::new(&query.window, query.granularity, &query.zone);
    let mut tallier = Tallier::new(plan, &query.thresholds, query.short_abandon);
    for visit in visits {
        if query.queues.contains(&visit.queue)
            && (query.media.is_empty() || query.media.contains(&visit.media))
        {
            tallier.add(visit);
        }
    }
    tallier.finish()
}
fn tally_query(
    queues: &[&str],
    zone: &str,
    from: Timestamp,
    to: Timestamp,
    granularity: Granularity,
) -> TallyQuery {
    tally_query_of(
        queues.iter().map(|q| QueueId::new(*q)).collect(),
        zone,
        (from, to),
        granularity,
        &[10_000, 15_000, 20_000, 30_000, 45_000, 60_000],
        5_000,
    )
}
