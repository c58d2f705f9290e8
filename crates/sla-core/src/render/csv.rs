//! CSV: the report as tidy rows, and the writer every CSV output shares (the `csv` crate, which
//! quotes a field only when it holds a comma, a quote or a line break).

use jiff::Timestamp;

use crate::report::{Counts, IntervalRow, ServiceLevel, SlaReport};

/// `records` under `header` as CSV, one line each, `\n`-terminated.
pub(crate) fn write<R, F>(header: &[&str], records: R) -> String
where
    R: IntoIterator<Item = Vec<F>>,
    F: AsRef<[u8]>,
{
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    // Writing to memory fails only on an I/O error, which a `Vec` never has.
    let _ = writer.write_record(header);
    for record in records {
        let _ = writer.write_record(record);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    // Every field was a `&str` or a `String`, so the bytes are UTF-8.
    String::from_utf8(bytes).unwrap_or_default()
}

/// The columns of the report's CSV. Columns added since the first version come last, so that
/// readers that pick columns by position keep working.
const HEADER: [&str; 29] = [
    "queue_id",
    "queue_name",
    "media_type",
    "interval_start",
    "interval_end",
    "objective",
    "threshold_ms",
    "target_percent",
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "flow_outs",
    "answered_within",
    "abandoned_within",
    "numerator",
    "denominator",
    "percent",
    "met_target",
    "scope",
    "partial",
    "answer_wait_ms_sum",
    "answer_wait_ms_max",
    "abandon_wait_ms_sum",
    "asa_ms",
    "average_abandon_wait_ms",
    "longest_answer_wait_ms",
    "answer_percent",
    "abandon_percent",
];

/// Who a line is about: `scope` (`queue` or `total`), queue id and name, and media type.
#[derive(Clone, Copy)]
struct Who<'a> {
    scope: &'a str,
    queue_id: &'a str,
    queue_name: &'a str,
    media_type: &'a str,
}

/// One time span of a row: the window (`partial` is then false) or an interval.
struct Span<'a> {
    start: Timestamp,
    end: Timestamp,
    partial: bool,
    counts: &'a Counts,
    levels: &'a [ServiceLevel],
}

/// The report as tidy CSV: one line per queue (or queue and media type), interval and
/// objective, with `scope` `queue`, then the totals in the same shape with `scope` `total` and
/// no queue: per media type with `by_media`, then over everything. With granularity `total`
/// the window is the one interval. A line with no objective keeps the counts of a queue no
/// objective applies to.
pub(super) fn render(report: &SlaReport) -> String {
    let mut records = Vec::new();
    for row in &report.queues {
        let who = Who {
            scope: "queue",
            queue_id: &row.queue_id,
            queue_name: &row.queue_name,
            media_type: row.media_type.map_or("", |m| m.as_str()),
        };
        lines(
            &mut records, report, who, &row.intervals, &row.counts, &row.service_levels,
        );
    }
    let total = &report.total;
    for media in total.media.iter().flatten() {
        let who = Who {
            media_type: media.media_type.as_str(),
            ..Who::TOTAL
        };
        lines(
            &mut records, report, who, &media.intervals, &media.counts, &media.service_levels,
        );
    }
    let who = Who::TOTAL;
    lines(
        &mut records, report, who, &total.intervals, &total.counts, &total.service_levels,
    );
    write(&HEADER, records)
}

impl Who<'_> {
    /// The totals over every row.
    const TOTAL: Who<'static> = Who {
        scope: "total",
        queue_id: "",
        queue_name: "",
        media_type: "",
    };
}

fn lines(
    records: &mut Vec<Vec<String>>,
    report: &SlaReport,
    who: Who<'_>,
    intervals: &[IntervalRow],
    counts: &Counts,
    levels: &[ServiceLevel],
) {
    let spans: Vec<Span<'_>> = if intervals.is_empty() {
        vec![Span {
            start: report.window.start,
            end: report.window.end,
            partial: false,
            counts,
            levels,
        }]
    } else {
        intervals
            .iter()
            .map(|i| Span {
                start: i.start,
                end: i.end,
                partial: i.partial,
                counts: &i.counts,
                levels: &i.service_levels,
            })
            .collect()
    };
    for span in spans {
        if span.levels.is_empty() {
            records.push(record(who, &span, None));
        }
        for sl in span.levels {
            records.push(record(who, &span, Some(sl)));
        }
    }
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn record(who: Who<'_>, span: &Span<'_>, sl: Option<&ServiceLevel>) -> Vec<String> {
    let counts = span.counts;
    let kpis = counts.kpis();
    let percent = |p: Option<f64>| p.map(|p| format!("{p:.2}")).unwrap_or_default();
    let objective = |f: fn(&ServiceLevel) -> String| sl.map(f).unwrap_or_default();
    vec![
        who.queue_id.to_owned(),
        who.queue_name.to_owned(),
        who.media_type.to_owned(),
        span.start.to_string(),
        span.end.to_string(),
        objective(|sl| sl.objective.clone()),
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
        who.scope.to_owned(),
        span.partial.to_string(),
        counts.answer_wait_ms_sum.to_string(),
        counts.answer_wait_ms_max.to_string(),
        counts.abandon_wait_ms_sum.to_string(),
        opt(kpis.asa_ms),
        opt(kpis.average_abandon_wait_ms),
        opt(kpis.longest_answer_wait_ms),
        percent(kpis.answer_percent),
        percent(kpis.abandon_percent),
    ]
}
