//! The live document as text: `sla-live/v1` JSON, or for a terminal what is happening now
//! beside the rolling window's service levels, as two tables that fit 100 columns; Markdown and
//! CSV carry every figure.

use jiff::Timestamp;

use crate::live_report::{LiveFigures, LiveReport, LiveServiceLevel};
use crate::model::{Format, MediaType, Threshold, Zone};
use crate::render::grid::{Align, Table};
use crate::render::layout::{
    Of, objective_label, optional_percent_text, percent_text, short_abandon_text, wait_text,
    zone_named,
};
use crate::render::{csv, json};
use crate::report::{Counts, Kpis};

/// Queue names longer than this are cut in the terminal tables.
const MAX_NAME: usize = 28;

/// Renders `report` in `format`. Every format ends with a newline.
#[must_use]
pub fn render_live(report: &LiveReport, format: Format) -> String {
    match format {
        Format::Json => json::pretty(report),
        Format::Csv => csv_text(report),
        Format::Table => {
            let mut out = heading(report);
            for mut table in [now_table(report), level_table(report)] {
                table.clip_column(0, MAX_NAME);
                out.push('\n');
                out.push_str(&table.text());
            }
            out
        }
        Format::Markdown => {
            let mut out = String::from("## Live service levels\n\n");
            for line in heading(report).lines() {
                out.push_str(line);
                out.push_str("  \n");
            }
            for table in [now_table(report), level_table(report)] {
                out.push('\n');
                out.push_str(&table.markdown());
            }
            out
        }
    }
}

fn local(t: Timestamp, zone: &Zone, format: &str) -> String {
    t.to_zoned(zone.tz().clone()).strftime(format).to_string()
}

/// The lines above the tables: when, over which rolling window, and with which formula.
fn heading(report: &LiveReport) -> String {
    let zone = zone_named(&report.window.time_zone);
    let length = report.window.end.duration_since(report.window.start);
    let length = Threshold::from_millis(u64::try_from(length.as_millis()).unwrap_or(0));
    let short = short_abandon_text(&report.formula);
    format!(
        "Live at {} ({}); service levels over the last {length}, since {}\n\
         Formula: abandons {}, flow-outs {}, short abandons {short}\n",
        local(report.as_of, &zone, "%Y-%m-%d %H:%M:%S"),
        report.window.time_zone,
        local(report.window.start, &zone, "%H:%M:%S"),
        report.formula.abandons,
        report.formula.flowouts,
    )
}

impl LiveReport {
    fn lines(&self) -> Vec<(Of<'_>, &LiveFigures, &Counts, &Kpis, &[LiveServiceLevel])> {
        let mut lines: Vec<_> = self
            .queues
            .iter()
            .map(|row| {
                let of = Of {
                    name: &row.queue_name,
                    media: row.media_type,
                    strong: false,
                };
                (
                    of,
                    &row.live,
                    &row.counts,
                    &row.kpis,
                    row.service_levels.as_slice(),
                )
            })
            .collect();
        let total = &self.total;
        let of = Of {
            name: "TOTAL",
            media: None,
            strong: true,
        };
        lines.push((
            of,
            &total.live,
            &total.counts,
            &total.kpis,
            total.service_levels.as_slice(),
        ));
        lines
    }

    fn by_media(&self) -> bool {
        self.queues.iter().any(|q| q.media_type.is_some())
    }
}

/// Adds a line, with a rule above the first of the total's.
fn push(table: &mut Table, of: &Of<'_>, ruled: &mut bool, cells: Vec<String>) {
    if of.strong {
        if !std::mem::replace(ruled, true) {
            table.rule();
        }
        table.strong_row(cells);
    } else {
        table.row(cells);
    }
}

fn who(of: &Of<'_>, by_media: bool) -> Vec<String> {
    let mut cells = vec![of.name.to_owned()];
    if by_media {
        cells.push(of.media.map_or("all", MediaType::as_str).to_owned());
    }
    cells
}

/// Now: waiting, longest wait, agents and conversations in hand; and the window's ASA and
/// abandon rate beside them.
fn now_table(report: &LiveReport) -> Table {
    let by_media = report.by_media();
    let mut header = vec![("Queue", Align::Left)];
    if by_media {
        header.push(("Media", Align::Left));
    }
    header.extend([
        ("Waiting", Align::Right),
        ("Longest", Align::Right),
        ("Agents", Align::Right),
        ("Interacting", Align::Right),
        ("Offered", Align::Right),
        ("ASA", Align::Right),
        ("Aband %", Align::Right),
    ]);
    let mut table = Table::new(header);
    let mut ruled = false;
    for (of, live, counts, kpis, _) in report.lines() {
        let mut cells = who(&of, by_media);
        let longest = if live.waiting == 0 {
            "-".to_owned()
        } else {
            wait_text(Some(live.longest_waiting_ms))
        };
        cells.extend([
            truncated(live.waiting, live.truncated),
            longest,
            live.on_queue_agents.to_string(),
            live.interacting.to_string(),
            counts.offered.to_string(),
            wait_text(kpis.asa_ms),
            percent_text(kpis.abandon_percent),
        ]);
        push(&mut table, &of, &mut ruled, cells);
    }
    table
}

/// A count that may be a lower bound, marked `+` when it is.
fn truncated(count: u64, truncated: bool) -> String {
    if truncated {
        format!("{count}+")
    } else {
        count.to_string()
    }
}

/// The rolling window's service levels, and where they land if everyone waiting past the
/// threshold now is a miss.
fn level_table(report: &LiveReport) -> Table {
    let by_media = report.by_media();
    let mut header = vec![("Queue", Align::Left)];
    if by_media {
        header.push(("Media", Align::Left));
    }
    header.extend([
        ("Objective", Align::Left),
        ("Met/Measured", Align::Right),
        ("SL %", Align::Right),
        ("Waiting > T", Align::Right),
        ("Projected", Align::Right),
        ("Target", Align::Right),
    ]);
    let mut table = Table::new(header);
    let mut ruled = false;
    for (of, live, _, _, levels) in report.lines() {
        for level in levels {
            let sl = &level.level;
            let mut cells = who(&of, by_media);
            cells.extend([
                objective_label(&sl.objective, sl.threshold_ms, sl.denominator > 0),
                format!("{}/{}", sl.numerator, sl.denominator),
                percent_text(sl.percent),
                truncated(level.waiting_over_threshold, live.truncated),
                percent_text(level.projected_percent),
                optional_percent_text(sl.target_percent),
            ]);
            push(&mut table, &of, &mut ruled, cells);
        }
    }
    table
}

/// One line per queue (or queue and media type) and objective, then the total's, with every
/// live figure, count and KPI.
fn csv_text(report: &LiveReport) -> String {
    const HEADER: [&str; 24] = [
        "as_of", "window_start", "window_end", "scope", "queue_id", "queue_name", "media_type",
        "waiting", "longest_waiting_ms", "interacting", "on_queue_agents", "truncated", "offered",
        "answered", "abandoned", "asa_ms", "abandon_percent", "objective", "threshold_ms",
        "numerator", "denominator", "percent", "waiting_over_threshold", "projected_percent",
    ];
    let opt = |v: Option<String>| v.unwrap_or_default();
    let mut records = Vec::new();
    let ids = report
        .queues
        .iter()
        .map(|q| q.queue_id.as_str())
        .chain(std::iter::once(""));
    for ((of, live, counts, kpis, levels), id) in report.lines().into_iter().zip(ids) {
        let mut base = vec![
            report.as_of.to_string(),
            report.window.start.to_string(),
            report.window.end.to_string(),
            if of.strong { "total" } else { "queue" }.to_owned(),
            id.to_owned(),
            if of.strong { "" } else { of.name }.to_owned(),
            of.media.map_or("", MediaType::as_str).to_owned(),
            live.waiting.to_string(),
            live.longest_waiting_ms.to_string(),
            live.interacting.to_string(),
            live.on_queue_agents.to_string(),
            live.truncated.to_string(),
            counts.offered.to_string(),
            counts.answered.to_string(),
            counts.abandoned.to_string(),
            opt(kpis.asa_ms.map(|v| v.to_string())),
            opt(kpis.abandon_percent.map(|p| format!("{p:.2}"))),
        ];
        if levels.is_empty() {
            base.resize(HEADER.len(), String::new());
            records.push(base);
            continue;
        }
        for level in levels {
            let sl = &level.level;
            let mut record = base.clone();
            record.extend([
                sl.objective.clone(),
                opt(sl.threshold_ms.map(|v| v.to_string())),
                sl.numerator.to_string(),
                sl.denominator.to_string(),
                opt(sl.percent.map(|p| format!("{p:.2}"))),
                level.waiting_over_threshold.to_string(),
                opt(level.projected_percent.map(|p| format!("{p:.2}"))),
            ]);
            records.push(record);
        }
    }
    csv::write(&HEADER, records)
}
