//! The queue listing of `sla queues` and `GET /api/v1/queues`: table, JSON and CSV.

use std::fmt::Write as _;

use serde::Serialize;

use crate::model::Format;
use crate::model::{MediaType, QueueInfo};
use crate::render::csv_field;

/// One queue of a listing, as JSON shows it.
#[derive(Serialize)]
struct ListedQueue<'a> {
    id: &'a str,
    name: &'a str,
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
        id: queue.queue.id.as_str(),
        name: &queue.queue.name,
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

/// The JSON value of a queue listing: `{"queues": [{id, name, division, service_levels}]}`,
/// ordered by name ignoring case.
#[must_use]
pub fn queues_json(queues: &[QueueInfo]) -> serde_json::Value {
    let listed: Vec<ListedQueue<'_>> = QueueInfo::in_report_order(queues)
        .into_iter()
        .map(listed)
        .collect();
    serde_json::json!({ "queues": listed })
}

/// Renders a queue listing. Markdown is rendered as the table.
#[must_use]
pub fn render_queues(queues: &[QueueInfo], format: Format) -> String {
    match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&queues_json(queues)).unwrap_or_default();
            text.push('\n');
            text
        }
        Format::Csv => {
            let mut out = String::from(
                "queue_id,queue_name,division,media_type,threshold_ms,target_percent\n",
            );
            for queue in QueueInfo::in_report_order(queues) {
                let q = listed(queue);
                let division = q.division.unwrap_or_default();
                let name = csv_field(q.name);
                let division = csv_field(division);
                if q.service_levels.is_empty() {
                    let _ = writeln!(out, "{},{name},{division},,,", q.id);
                }
                for t in &q.service_levels {
                    let _ = writeln!(
                        out,
                        "{},{name},{division},{},{},{}",
                        q.id, t.media_type, t.threshold_ms, t.target_percent
                    );
                }
            }
            out
        }
        Format::Table | Format::Markdown => table(queues),
    }
}

fn table(queues: &[QueueInfo]) -> String {
    let rows: Vec<[String; 4]> = QueueInfo::in_report_order(queues)
        .into_iter()
        .map(|q| {
            let targets: Vec<String> = q
                .service_levels
                .iter()
                .map(|(media, t)| target_text(*media, t.threshold, t.target_percent))
                .collect();
            [
                q.queue.name.clone(),
                q.queue.id.to_string(),
                q.division.clone().unwrap_or_else(|| "-".to_owned()),
                if targets.is_empty() {
                    "-".to_owned()
                } else {
                    targets.join(", ")
                },
            ]
        })
        .collect();
    let header = ["Queue", "Id", "Division", "Configured service levels"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; 4]| {
        let text = format!(
            "{:w0$}  {:w1$}  {:w2$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header);
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3]]);
    }
    let _ = writeln!(
        out,
        "{} {}",
        rows.len(),
        if rows.len() == 1 { "queue" } else { "queues" }
    );
    out
}

/// A configured target as `voice 80%/20s`: short enough for five media types on one line.
fn target_text(media: MediaType, threshold: crate::model::Threshold, percent: f64) -> String {
    format!("{media} {percent}%/{threshold}")
}
