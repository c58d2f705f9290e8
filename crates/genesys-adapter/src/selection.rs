//! What a query selects, in Genesys's filter terms: its distinct queues and media types, and the
//! filters naming them in aggregates, details and observations queries.

use sla_core::{MediaType, QueueId};

use crate::wire::{
    DetailClause, DetailFilter, DetailPredicate, QueryClause, QueryFilter, QueryPredicate,
};

/// The distinct queues and media types of a query, in its order.
pub(crate) fn distinct<'q>(
    queues: &'q [QueueId],
    media: &[MediaType],
) -> (Vec<&'q QueueId>, Vec<MediaType>) {
    let mut unique_queues: Vec<&QueueId> = Vec::with_capacity(queues.len());
    for queue in queues {
        if !unique_queues.contains(&queue) {
            unique_queues.push(queue);
        }
    }
    let mut unique_media = Vec::with_capacity(media.len());
    for m in media {
        if !unique_media.contains(m) {
            unique_media.push(*m);
        }
    }
    (unique_queues, unique_media)
}

/// The clauses to `and` together: one `or` of predicates naming `queues`, and one naming `media`
/// when there are any. Both query APIs take these, each in its own predicate and clause types.
fn clauses<P, C>(
    queues: &[&QueueId],
    media: &[MediaType],
    matches: impl Fn(&'static str, &str) -> P,
    or: impl Fn(Vec<P>) -> C,
) -> Vec<C> {
    let mut clauses = vec![or(queue_predicates(queues, &matches))];
    if !media.is_empty() {
        clauses.push(or(media
            .iter()
            .map(|m| matches("mediaType", m.as_str()))
            .collect()));
    }
    clauses
}

/// A predicate naming each of `queues`.
fn queue_predicates<P>(queues: &[&QueueId], matches: impl Fn(&'static str, &str) -> P) -> Vec<P> {
    queues
        .iter()
        .map(|q| matches("queueId", q.as_str()))
        .collect()
}

/// `queueId in queues and mediaType in media`, each list an `or` clause, for an aggregates query.
pub(crate) fn aggregates_filter(queues: &[&QueueId], media: &[MediaType]) -> QueryFilter {
    QueryFilter {
        kind: "and",
        predicates: Vec::new(),
        clauses: clauses(
            queues,
            media,
            |dimension, value| QueryPredicate::matches(dimension, value),
            QueryClause::or,
        ),
    }
}

/// `queueId in queues` (and `mediaType in media`, when given), for an observations query. A
/// filter on queues alone is one `or` list of predicates, the shape Genesys documents for this
/// query; with media types, it is the aggregates query's filter.
pub(crate) fn observations_filter(queues: &[&QueueId], media: &[MediaType]) -> QueryFilter {
    if !media.is_empty() {
        return aggregates_filter(queues, media);
    }
    QueryFilter {
        kind: "or",
        predicates: queue_predicates(queues, |dimension, value| {
            QueryPredicate::matches(dimension, value)
        }),
        clauses: Vec::new(),
    }
}

/// A segment on one of `queues` (and of one of `media`, when given), for a details query.
pub(crate) fn segment_filters(queues: &[&QueueId], media: &[MediaType]) -> Vec<DetailFilter> {
    vec![DetailFilter {
        kind: "and",
        predicates: Vec::new(),
        clauses: clauses(
            queues,
            media,
            |dimension, value| DetailPredicate::matches(dimension, value),
            DetailClause::or,
        ),
    }]
}

/// `conversationEnd exists`: finished conversations only, whose details no longer change.
pub(crate) fn finished_conversations() -> Vec<DetailFilter> {
    vec![DetailFilter {
        kind: "and",
        predicates: vec![DetailPredicate::exists("conversationEnd")],
        clauses: Vec::new(),
    }]
}
