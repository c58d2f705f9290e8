//! What the report's table and Markdown both show: the heading, the labels of objectives and
//! intervals, and one row per queue (or queue and media type), interval and objective, with the
//! totals last.

use jiff::Timestamp;

use crate::model::{Granularity, MediaType, Threshold, Zone};
use crate::render::grid::{Align, Table};
use crate::report::{Counts, IntervalRow, ReportFormula, ServiceLevel, SlaReport};

/// Marks an interval the window cuts short, in its label and in the note under the table.
const PARTIAL: &str = "*";

pub(crate) fn percent_text(percent: Option<f64>) -> String {
    percent.map_or_else(|| "n/a".to_owned(), |p| format!("{p:.2}"))
}

/// A wait as a person reads it on a wallboard: `8.4s` under a minute, `2m05s` under an hour,
/// `1h02m` beyond; `n/a` when there is none.
#[must_use]
pub fn wait_text(ms: Option<u64>) -> String {
    let Some(ms) = ms else {
        return "n/a".to_owned();
    };
    let tenths = (ms + 50) / 100;
    if tenths < 600 {
        return format!("{}.{}s", tenths / 10, tenths % 10);
    }
    let seconds = (ms + 500) / 1000;
    if seconds < 3600 {
        return format!("{}m{:02}s", seconds / 60, seconds % 60);
    }
    let minutes = (ms + 30_000) / 60_000;
    format!("{}h{:02}m", minutes / 60, minutes % 60)
}

pub(crate) fn optional_percent_text(percent: Option<f64>) -> String {
    percent.map_or_else(|| "-".to_owned(), |p| format!("{p:.2}"))
}

/// An objective as tables name it: with its threshold when the name does not say it already
/// (`contract 30s`, `configured 20s`), or `mixed` where visits had differing thresholds.
pub(crate) fn objective_label(
    objective: &str,
    threshold_ms: Option<u64>,
    measured: bool,
) -> String {
    match threshold_ms.map(Threshold::from_millis) {
        Some(t) if Threshold::parse(objective) == Ok(t) => objective.to_owned(),
        Some(t) => format!("{objective} {t}"),
        // Nothing measured, so no threshold to show (a media type with no configured target).
        None if !measured => objective.to_owned(),
        None => format!("{objective} mixed"),
    }
}

/// How intervals are labelled: local dates for days and longer, local times for shorter, and
/// a mark when the window cuts the interval short.
fn interval_label(interval: &IntervalRow, granularity: Granularity, zone: &Zone) -> String {
    let local = interval.start.to_zoned(zone.tz().clone());
    let mut label = match granularity {
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
    };
    if interval.partial {
        label.push_str(PARTIAL);
    }
    label
}

/// The zone a document's window names (`window.time_zone`).
pub(crate) fn zone_named(time_zone: &str) -> Zone {
    Zone::get(time_zone).unwrap_or_else(|_| Zone::utc())
}

/// The short-abandon bound as headings show it: a duration, or `off`.
pub(crate) fn short_abandon_text(formula: &ReportFormula) -> String {
    formula.short_abandon_ms.map_or_else(
        || "off".to_owned(),
        |ms| Threshold::from_millis(ms).to_string(),
    )
}

/// The two lines above a report's table: the window, and the formula and source.
pub(crate) fn heading(report: &SlaReport) -> String {
    let zone = zone_named(&report.window.time_zone);
    let at = |t: Timestamp| {
        t.to_zoned(zone.tz().clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    // A report from a history store says how far the store holds the window, so that a stale
    // store is never mistaken for a quiet day.
    let store = report
        .store
        .map_or_else(String::new, |store| match store.complete_until {
            Some(t) if t >= report.window.end => {
                format!(" (complete up to {}: the whole window)", at(t))
            }
            Some(t) => format!(" (complete up to {} only)", at(t)),
            None => " (not synced from the window's start)".to_owned(),
        });
    format!(
        "Service levels from {} to {} ({}), granularity {}\nFormula: abandons {}, flow-outs {}, short abandons {}; source {}{store}",
        at(report.window.start),
        at(report.window.end),
        report.window.time_zone,
        report.granularity,
        report.formula.abandons,
        report.formula.flowouts,
        short_abandon_text(&report.formula),
        report.source,
    )
}

/// The note under a table whose intervals include one the window cuts short.
pub(crate) fn partial_note(report: &SlaReport) -> Option<String> {
    report
        .total
        .intervals
        .iter()
        .any(|i| i.partial)
        .then(|| format!("{PARTIAL} partial interval: the window covers only part of it"))
}

/// Which columns a table holds: everything on one line (Markdown), or, for the terminal, the
/// counts with the companion KPIs and the service levels as narrower tables (the KPIs in a
/// table of their own when the counts' table would be too wide with them).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    All,
    CountsAndKpis,
    Counts,
    Kpis,
    Levels,
}

impl Part {
    fn counts(self) -> bool {
        matches!(self, Part::All | Part::CountsAndKpis | Part::Counts)
    }

    fn kpis(self) -> bool {
        matches!(self, Part::All | Part::CountsAndKpis | Part::Kpis)
    }

    fn levels(self) -> bool {
        matches!(self, Part::All | Part::Levels)
    }
}

/// The rows of `report` as a table of `part`'s columns: a rule before the totals, which are
/// strong.
pub(crate) fn table(report: &SlaReport, part: Part) -> Table {
    let columns = Columns {
        by_media: report.total.media.is_some()
            || report.queues.iter().any(|q| q.media_type.is_some()),
        has_intervals: report.granularity != Granularity::Total,
        has_short: report.formula.short_abandon_ms.is_some(),
        part,
    };
    let mut rows = Rows {
        table: Table::new(columns.header()),
        columns,
        granularity: report.granularity,
        zone: zone_named(&report.window.time_zone),
    };
    for row in &report.queues {
        let of = Of {
            name: &row.queue_name,
            media: row.media_type,
            strong: false,
        };
        rows.lines(of, &row.intervals, &row.counts, &row.service_levels);
    }
    rows.table.rule();
    let total = |media| Of {
        name: "TOTAL",
        media,
        strong: true,
    };
    for media in report.total.media.iter().flatten() {
        let of = total(Some(media.media_type));
        rows.lines(of, &media.intervals, &media.counts, &media.service_levels);
    }
    let t = &report.total;
    rows.lines(total(None), &t.intervals, &t.counts, &t.service_levels);
    rows.table
}

/// Which optional columns a table has.
#[derive(Clone, Copy)]
struct Columns {
    by_media: bool,
    has_intervals: bool,
    has_short: bool,
    part: Part,
}

/// Whose lines: a queue's (or queue and media type's), or the totals'.
#[derive(Clone, Copy)]
pub(crate) struct Of<'a> {
    pub(crate) name: &'a str,
    pub(crate) media: Option<MediaType>,
    /// Whether the lines are the totals', shown strong.
    pub(crate) strong: bool,
}

/// The service level of a queue no objective applies to: it still shows its counts.
fn no_objective() -> ServiceLevel {
    ServiceLevel {
        objective: "-".to_owned(),
        threshold_ms: None,
        target_percent: None,
        answered_within: 0,
        abandoned_within: 0,
        numerator: 0,
        denominator: 0,
        percent: None,
        met_target: None,
    }
}

struct Rows {
    table: Table,
    columns: Columns,
    granularity: Granularity,
    zone: Zone,
}

impl Rows {
    /// The lines of one queue or total: each interval's, then the whole window's (`all`).
    fn lines(
        &mut self,
        of: Of<'_>,
        intervals: &[IntervalRow],
        counts: &Counts,
        levels: &[ServiceLevel],
    ) {
        for interval in intervals {
            let label = interval_label(interval, self.granularity, &self.zone);
            self.span(of, Some(&label), &interval.counts, &interval.service_levels);
        }
        self.span(of, None, counts, levels);
    }

    /// The lines of one span of time: one per objective, or one for the counts alone.
    fn span(
        &mut self,
        of: Of<'_>,
        interval: Option<&str>,
        counts: &Counts,
        levels: &[ServiceLevel],
    ) {
        let none = [no_objective()];
        let levels = if !self.columns.part.levels() || levels.is_empty() {
            &none[..]
        } else {
            levels
        };
        for sl in levels {
            let cells = self.columns.cells(of, interval, counts, sl);
            if of.strong {
                self.table.strong_row(cells);
            } else {
                self.table.row(cells);
            }
        }
    }
}

impl Columns {
    fn header(self) -> Vec<(&'static str, Align)> {
        let text = |h| (h, Align::Left);
        let number = |h| (h, Align::Right);
        let mut header = vec![text("Queue")];
        if self.by_media {
            header.push(text("Media"));
        }
        if self.has_intervals {
            header.push(text("Interval"));
        }
        if self.part.levels() {
            header.push(text("Objective"));
        }
        if self.part.counts() {
            header.extend([number("Offered"), number("Answered"), number("Abandoned")]);
            if self.has_short {
                header.push(number("Short"));
            }
            header.push(number("Flow-outs"));
        }
        if self.part.kpis() {
            header.extend([number("ASA"), number("Longest")]);
            if self.part == Part::All {
                header.extend([number("Avg abandon"), number("Answer %")]);
            }
            header.push(number("Aband %"));
            if self.part == Part::All {
                header.extend([
                    number("Answer wait Σ ms"),
                    number("Longest ms"),
                    number("Abandon wait Σ ms"),
                ]);
            }
        }
        if self.part.levels() {
            header.extend([
                number("Met/Measured"),
                number("SL %"),
                number("Target"),
                text("Met"),
            ]);
        }
        header
    }

    fn cells(
        self,
        of: Of<'_>,
        interval: Option<&str>,
        counts: &Counts,
        sl: &ServiceLevel,
    ) -> Vec<String> {
        let mut cells = vec![of.name.to_owned()];
        if self.by_media {
            cells.push(of.media.map_or("all", MediaType::as_str).to_owned());
        }
        if self.has_intervals {
            cells.push(interval.unwrap_or("all").to_owned());
        }
        if self.part.levels() {
            cells.push(objective_label(
                &sl.objective,
                sl.threshold_ms,
                sl.denominator > 0,
            ));
        }
        if self.part.counts() {
            cells.push(counts.offered.to_string());
            cells.push(counts.answered.to_string());
            cells.push(counts.abandoned.to_string());
            if self.has_short {
                cells.push(counts.short_abandoned.unwrap_or(0).to_string());
            }
            cells.push(counts.flow_outs.to_string());
        }
        if self.part.kpis() {
            let kpis = counts.kpis();
            cells.push(wait_text(kpis.asa_ms));
            cells.push(wait_text(kpis.longest_answer_wait_ms));
            if self.part == Part::All {
                cells.push(wait_text(kpis.average_abandon_wait_ms));
                cells.push(percent_text(kpis.answer_percent));
            }
            cells.push(percent_text(kpis.abandon_percent));
            if self.part == Part::All {
                cells.push(counts.answer_wait_ms_sum.to_string());
                cells.push(counts.answer_wait_ms_max.to_string());
                cells.push(counts.abandon_wait_ms_sum.to_string());
            }
        }
        if self.part.levels() {
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
