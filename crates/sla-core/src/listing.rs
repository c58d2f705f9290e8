//! The queue listing of `sla queues` and `GET /api/v1/queues`: table, JSON (`sla-queues/v1`),
//! CSV and Markdown.

use serde::Serialize;

use crate::model::{Format, MediaType, QueueInfo, ServiceLevelTarget};
use crate::render::grid::{Align, Table};
use crate::render::{csv, json};

/// The schema name every queue listing carries.
pub const QUEUES_SCHEMA: &str = "sla-queues/v1";

/// A queue listing as JSON shows it (`sla-queues/v1`).
#[derive(Serialize)]
struct Listing<'a> {
    schema: &'static str,
    queues: Vec<ListedQueue<'a>>,
}

/// One queue of a listing, named as reports name queues.
#[derive(Serialize)]
struct ListedQueue<'a> {
    queue_id: &'a str,
    queue_name: &'a str,
    division: Option<&'a str>,
    service_levels: Vec<ListedTarget>,
}

#[derive(Serialize)]
struct ListedTarget {
    media_type: &'static str,
    threshold_ms: u64,
    target_percent: f64,
}

fn listed(queue: &QueueInfo) -> ListedQueue<'_> {
    ListedQueue {
        queue_id: queue.queue.id.as_str(),
        queue_name: &queue.queue.name,
        division: queue.division.as_deref(),
        service_levels: queue
            .service_levels
            .iter()
            .map(|(media, target)| ListedTarget {
                media_type: media.as_str(),
                threshold_ms: target.threshold.as_millis(),
                target_percent: target.target_percent,
            })
            .collect(),
    }
}

/// The JSON value of a queue listing (`sla-queues/v1`): `{"schema", "queues": [{queue_id,
/// queue_name, division, service_levels: [{media_type, threshold_ms, target_percent}]}]}`,
/// queues ordered by name ignoring case.
#[must_use]
pub fn queues_json(queues: &[QueueInfo]) -> serde_json::Value {
    let listing = Listing {
        schema: QUEUES_SCHEMA,
        queues: QueueInfo::in_report_order(queues)
            .into_iter()
            .map(listed)
            .collect(),
    };
    // A struct of strings, numbers and options always converts.
    serde_json::to_value(listing).unwrap_or_default()
}

/// Renders a queue listing: JSON as [`queues_json`] makes it, CSV with one line per queue and
/// media type, and the table and Markdown with one column per media type any queue has a
/// target for.
#[must_use]
pub fn render_queues(queues: &[QueueInfo], format: Format) -> String {
    let ordered = || QueueInfo::in_report_order(queues);
    match format {
        // The service answers the same value, so both print the same bytes.
        Format::Json => json::pretty(&queues_json(queues)),
        Format::Csv => csv_text(&ordered()),
        Format::Table => table_text(&ordered()),
        Format::Markdown => markdown(&ordered()),
    }
}

fn csv_text(queues: &[&QueueInfo]) -> String {
    let mut records = Vec::new();
    for queue in queues {
        let who = [
            queue.queue.id.to_string(),
            queue.queue.name.clone(),
            queue.division.clone().unwrap_or_default(),
        ];
        if queue.service_levels.is_empty() {
            records.push(
                [
                    who.as_slice(),
                    &[String::new(), String::new(), String::new()],
                ]
                .concat(),
            );
        }
        for (media, target) in &queue.service_levels {
            let what = [
                media.to_string(),
                target.threshold.as_millis().to_string(),
                target.target_percent.to_string(),
            ];
            records.push([who.as_slice(), &what].concat());
        }
    }
    csv::write(
        &[
            "queue_id", "queue_name", "division", "media_type", "threshold_ms", "target_percent",
        ],
        records,
    )
}

/// A configured target as `80%/20s`: the share to answer within the threshold.
fn target_text(target: &ServiceLevelTarget) -> String {
    format!("{}%/{}", target.target_percent, target.threshold)
}

/// The media types any of `queues` has a target for, in report order.
fn media_columns(queues: &[&QueueInfo]) -> Vec<MediaType> {
    let mut media: Vec<MediaType> = queues
        .iter()
        .flat_map(|q| q.service_levels.keys().copied())
        .collect();
    media.sort_unstable();
    media.dedup();
    media
}

fn division(queue: &QueueInfo) -> String {
    queue.division.clone().unwrap_or_else(|| "-".to_owned())
}

fn targets(queue: &QueueInfo, media: &[MediaType]) -> Vec<String> {
    media
        .iter()
        .map(|m| {
            queue
                .service_levels
                .get(m)
                .map_or_else(|| "-".to_owned(), target_text)
        })
        .collect()
}

fn count_line(queues: &[&QueueInfo]) -> String {
    let noun = if queues.len() == 1 { "queue" } else { "queues" };
    format!("{} {noun}\n", queues.len())
}

/// The terminal table: names, divisions and ids, then the configured targets as one column per
/// media type, as two tables so that the 36-character ids and five media types both fit 100
/// columns without cutting an id a user may need for `--queue`.
fn table_text(queues: &[&QueueInfo]) -> String {
    let mut who = Table::new([
        ("Queue", Align::Left),
        ("Division", Align::Left),
        ("Id", Align::Left),
    ]);
    for queue in queues {
        who.row(vec![
            queue.queue.name.clone(),
            division(queue),
            queue.queue.id.to_string(),
        ]);
    }
    let media = media_columns(queues);
    let mut out = who.text();
    if !media.is_empty() {
        let mut levels = Table::new(
            std::iter::once(("Queue", Align::Left))
                .chain(media.iter().map(|m| (m.as_str(), Align::Left))),
        );
        for queue in queues {
            let mut cells = vec![queue.queue.name.clone()];
            cells.extend(targets(queue, &media));
            levels.row(cells);
        }
        out.push_str("\nConfigured service levels: target % / threshold\n\n");
        out.push_str(&levels.text());
    }
    out.push('\n');
    out.push_str(&count_line(queues));
    out
}

/// One Markdown table of every column: Markdown has no width to fit.
fn markdown(queues: &[&QueueInfo]) -> String {
    let media = media_columns(queues);
    let mut table = Table::new(
        [
            ("Queue", Align::Left),
            ("Division", Align::Left),
            ("Id", Align::Left),
        ]
        .into_iter()
        .chain(media.iter().map(|m| (m.as_str(), Align::Left))),
    );
    for queue in queues {
        let mut cells = vec![
            queue.queue.name.clone(),
            division(queue),
            queue.queue.id.to_string(),
        ];
        cells.extend(targets(queue, &media));
        table.row(cells);
    }
    let mut out = String::from("## Queues\n\n");
    out.push_str(&table.markdown());
    if !media.is_empty() {
        out.push_str("\nService levels as target % / threshold.\n");
    }
    out.push('\n');
    out.push_str(&count_line(queues));
    out
}
