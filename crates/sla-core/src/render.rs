//! Renderers: table, JSON, CSV and Markdown as text. They return strings and write nothing.

use std::fmt::Write as _;

use jiff::Timestamp;

use crate::model::{Format, Granularity, Threshold, Zone};
use crate::report::{Counts, ServiceLevel, SlaReport};

/// Renders `report` in `format`. Every format ends with a newline.
#[must_use]
pub fn render(report: &SlaReport, format: Format) -> String {
    match format {
        Format::Table => table(report),
        Format::Json => json(report),
        Format::Csv => csv(report),
        Format::Markdown => markdown(report),
    }
}

fn json(report: &SlaReport) -> String {
    // Serializing plain structs of strings, numbers and options cannot fail.
    let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
    text.push('\n');
    text
}

fn percent_text(percent: Option<f64>) -> String {
    percent.map_or_else(|| "n/a".to_owned(), |p| format!("{p:.2}"))
}

fn optional_percent_text(percent: Option<f64>) -> String {
    percent.map_or_else(|| "-".to_owned(), |p| format!("{p:.2}"))
}

/// An objective as tables name it: with its threshold when the name does not say it already
/// (`contract 30s`, `configured 20s`), or `mixed` where visits had differing thresholds.
fn objective_label(sl: &ServiceLevel) -> String {
    match sl.threshold_ms.map(Threshold::from_millis) {
        Some(t) if Threshold::parse(&sl.objective) == Ok(t) => sl.objective.clone(),
        Some(t) => format!("{} {t}", sl.objective),
        // Nothing measured, so no threshold to show (a media type with no configured target).
        None if sl.denominator == 0 => sl.objective.clone(),
        None => format!("{} mixed", sl.objective),
    }
}

/// How intervals are labelled: local dates for days and longer, local times for shorter.
fn interval_label(start: Timestamp, granularity: Granularity, zone: &Zone) -> String {
    let local = start.to_zoned(zone.tz().clone());
    match granularity {
        // The hour the clocks go back comes twice; its two copies carry the zone's
        // abbreviation so that they read as different hours (01:00 EDT, then 01:00 EST).
        Granularity::HalfHour | Granularity::Hour => {
            let repeated = zone
                .tz()
                .to_ambiguous_zoned(local.datetime())
                .is_ambiguous();
            let format = if repeated {
                "%Y-%m-%d %H:%M %Z"
            } else {
                "%Y-%m-%d %H:%M"
            };
            local.strftime(format).to_string()
        }
        _ => local.strftime("%Y-%m-%d").to_string(),
    }
}

fn report_zone(report: &SlaReport) -> Zone {
    Zone::get(&report.window.time_zone).unwrap_or_else(|_| Zone::utc())
}

fn heading(report: &SlaReport) -> String {
    let zone = report_zone(report);
    let at = |t: Timestamp| {
        t.to_zoned(zone.tz().clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    let short = report.formula.short_abandon_ms.map_or_else(
        || "off".to_owned(),
        |ms| Threshold::from_millis(ms).to_string(),
    );
    format!(
        "Service levels from {} to {} ({}), granularity {}\nFormula: abandons {}, flow-outs {}, short abandons {}; source {}",
        at(report.window.start),
        at(report.window.end),
        report.window.time_zone,
        report.granularity,
        report.formula.abandons,
        report.formula.flowouts,
        short,
        report.source,
    )
}

/// Which columns a grid holds: everything on one line (Markdown), or, for the terminal table,
/// the counts and the service levels as two narrower grids, so that a report of several
/// objectives per day still fits 100 columns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    All,
    Counts,
    Levels,
}

/// The rows shared by the table and Markdown renderers: a header, then body lines grouped into
/// sections (a queue's lines, then the totals).
struct Grid {
    header: Vec<&'static str>,
    /// Which columns hold numbers (right-aligned).
    numeric: Vec<bool>,
    sections: Vec<Vec<Vec<String>>>,
}

fn grid(report: &SlaReport, part: Part) -> Grid {
    let by_media = report.queues.iter().any(|q| q.media_type.is_some());
    let has_intervals = report.granularity != Granularity::Total;
    let has_short = report.formula.short_abandon_ms.is_some();
    let zone = report_zone(report);

    let columns = Columns {
        by_media,
        has_intervals,
        has_short,
        part,
    };
    let header = columns.header();
    let numeric = header
        .iter()
        .map(|h| !matches!(*h, "Queue" | "Media" | "Interval" | "Objective" | "Met"))
        .collect();
    // A queue no objective applies to still shows its counts.
    let none = ServiceLevel {
        objective: "-".to_owned(),
        threshold_ms: None,
        target_percent: None,
        answered_within: 0,
        abandoned_within: 0,
        numerator: 0,
        denominator: 0,
        percent: None,
        met_target: None,
    };
    // The lines of one queue or interval: one per objective, or one for the counts alone.
    let lines = |out: &mut Vec<Vec<String>>,
                 name: &str,
                 media: Option<&str>,
                 interval: Option<String>,
                 counts: &Counts,
                 levels: &[ServiceLevel]| {
        if part == Part::Counts {
            out.push(columns.line(name, media, interval, counts, &none));
            return;
        }
        let levels = if levels.is_empty() {
            std::slice::from_ref(&none)
        } else {
            levels
        };
        for sl in levels {
            out.push(columns.line(name, media, interval.clone(), counts, sl));
        }
    };

    let mut sections = Vec::new();
    for row in &report.queues {
        let media = row.media_type.map(crate::model::MediaType::as_str);
        let mut section = Vec::new();
        for interval in &row.intervals {
            let label = interval_label(interval.start, report.granularity, &zone);
            lines(
                &mut section,
                &row.queue_name,
                media,
                Some(label),
                &interval.counts,
                &interval.service_levels,
            );
        }
        lines(
            &mut section,
            &row.queue_name,
            media,
            None,
            &row.counts,
            &row.service_levels,
        );
        sections.push(section);
    }
    let mut totals = Vec::new();
    for interval in &report.total.intervals {
        let label = interval_label(interval.start, report.granularity, &zone);
        lines(
            &mut totals,
            "TOTAL",
            None,
            Some(label),
            &interval.counts,
            &interval.service_levels,
        );
    }
    lines(
        &mut totals,
        "TOTAL",
        None,
        None,
        &report.total.counts,
        &report.total.service_levels,
    );
    sections.push(totals);
    Grid {
        header,
        numeric,
        sections,
    }
}

/// Which optional columns a grid has.
#[derive(Clone, Copy)]
struct Columns {
    by_media: bool,
    has_intervals: bool,
    has_short: bool,
    part: Part,
}

impl Columns {
    fn header(self) -> Vec<&'static str> {
        let mut header = vec!["Queue"];
        if self.by_media {
            header.push("Media");
        }
        if self.has_intervals {
            header.push("Interval");
        }
        if self.part != Part::Counts {
            header.push("Objective");
        }
        if self.part != Part::Levels {
            header.extend(["Offered", "Answered", "Abandoned"]);
            if self.has_short {
                header.push("Short");
            }
            header.push("Flow-outs");
        }
        if self.part != Part::Counts {
            header.extend(["Met/Measured", "SL %", "Target", "Met"]);
        }
        header
    }

    fn line(
        self,
        name: &str,
        media: Option<&str>,
        interval: Option<String>,
        counts: &Counts,
        sl: &ServiceLevel,
    ) -> Vec<String> {
        let mut cells = vec![name.to_owned()];
        if self.by_media {
            cells.push(media.unwrap_or("all").to_owned());
        }
        if self.has_intervals {
            cells.push(interval.unwrap_or_else(|| "all".to_owned()));
        }
        if self.part != Part::Counts {
            cells.push(objective_label(sl));
        }
        if self.part != Part::Levels {
            cells.push(counts.offered.to_string());
            cells.push(counts.answered.to_string());
            cells.push(counts.abandoned.to_string());
            if self.has_short {
                cells.push(counts.short_abandoned.unwrap_or(0).to_string());
            }
            cells.push(counts.flow_outs.to_string());
        }
        if self.part != Part::Counts {
            cells.push(format!("{}/{}", sl.numerator, sl.denominator));
            cells.push(percent_text(sl.percent));
            cells.push(optional_percent_text(sl.target_percent));
            cells.push(
                match sl.met_target {
                    Some(true) => "yes",
                    Some(false) => "NO",
                    None => "-",
                }
                .to_owned(),
            );
        }
        cells
    }
}

/// Queue names longer than this are cut in the table so that a typical report fits 100 columns.
const MAX_NAME: usize = 28;

fn clip(text: &str) -> String {
    if text.chars().count() > MAX_NAME {
        let mut cut: String = text.chars().take(MAX_NAME - 1).collect();
        cut.push('…');
        cut
    } else {
        text.to_owned()
    }
}

fn table(report: &SlaReport) -> String {
    let mut out = heading(report);
    out.push('\n');
    for part in [Part::Counts, Part::Levels] {
        out.push('\n');
        out.push_str(&table_grid(grid(report, part)));
    }
    out
}

fn table_grid(mut grid: Grid) -> String {
    for line in grid.sections.iter_mut().flatten() {
        line[0] = clip(&line[0]);
    }
    let mut widths: Vec<usize> = grid.header.iter().map(|h| h.chars().count()).collect();
    for line in grid.sections.iter().flatten() {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let format_line = |cells: &[String]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i > 0 {
                out.push_str("  ");
            }
            if grid.numeric[i] {
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                if i + 1 < cells.len() {
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    };
    let rule_width = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
    let mut out = String::new();
    let header: Vec<String> = grid.header.iter().map(|h| (*h).to_owned()).collect();
    out.push_str(&format_line(&header));
    out.push_str(&"-".repeat(rule_width));
    out.push('\n');
    let last = grid.sections.len() - 1;
    for (i, section) in grid.sections.iter().enumerate() {
        if i == last {
            out.push_str(&"-".repeat(rule_width));
            out.push('\n');
        }
        for line in section {
            out.push_str(&format_line(line));
        }
    }
    out
}

fn markdown(report: &SlaReport) -> String {
    let grid = grid(report, Part::All);
    let escape = |cell: &str| cell.replace('|', "\\|");
    let mut out = String::from("## Service levels\n\n");
    for line in heading(report).lines() {
        let _ = writeln!(out, "{line}  ");
    }
    out.push('\n');
    let _ = writeln!(out, "| {} |", grid.header.join(" | "));
    let rule: Vec<&str> = grid
        .numeric
        .iter()
        .map(|n| if *n { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "| {} |", rule.join(" | "));
    let last = grid.sections.len() - 1;
    for (i, section) in grid.sections.iter().enumerate() {
        for line in section {
            let cells: Vec<String> = line
                .iter()
                .map(|c| {
                    let c = escape(c);
                    if i == last { format!("**{c}**") } else { c }
                })
                .collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
    }
    out
}

/// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
pub(crate) fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// The columns of the tidy CSV.
const CSV_HEADER: &str = "queue_id,queue_name,media_type,interval_start,interval_end,objective,threshold_ms,target_percent,offered,answered,abandoned,short_abandoned,flow_outs,answered_within,abandoned_within,numerator,denominator,percent,met_target";

fn csv(report: &SlaReport) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for row in &report.queues {
        // One line per interval; with granularity `total` the window is the one interval.
        let whole = [(
            report.window.start,
            report.window.end,
            &row.counts,
            &row.service_levels,
        )];
        let intervals: Vec<_> = if row.intervals.is_empty() {
            whole.to_vec()
        } else {
            row.intervals
                .iter()
                .map(|i| (i.start, i.end, &i.counts, &i.service_levels))
                .collect()
        };
        for (start, end, counts, levels) in intervals {
            // A queue no objective applies to keeps its counts, on a line with no objective.
            let none = [None];
            let levels: Vec<Option<&ServiceLevel>> = if levels.is_empty() {
                none.to_vec()
            } else {
                levels.iter().map(Some).collect()
            };
            for sl in levels {
                let objective = |f: fn(&ServiceLevel) -> String| sl.map(f).unwrap_or_default();
                let fields = [
                    csv_field(&row.queue_id),
                    csv_field(&row.queue_name),
                    opt(row.media_type),
                    start.to_string(),
                    end.to_string(),
                    objective(|sl| csv_field(&sl.objective)),
                    objective(|sl| opt(sl.threshold_ms)),
                    objective(|sl| opt(sl.target_percent)),
                    counts.offered.to_string(),
                    counts.answered.to_string(),
                    counts.abandoned.to_string(),
                    opt(counts.short_abandoned),
                    counts.flow_outs.to_string(),
                    objective(|sl| sl.answered_within.to_string()),
                    objective(|sl| sl.abandoned_within.to_string()),
                    objective(|sl| sl.numerator.to_string()),
                    objective(|sl| sl.denominator.to_string()),
                    objective(|sl| sl.percent.map(|p| format!("{p:.2}")).unwrap_or_default()),
                    objective(|sl| opt(sl.met_target)),
                ];
                out.push_str(&fields.join(","));
                out.push('\n');
            }
        }
    }
    out
}
