//! `GET /`: the wallboard page, rendered on the server from the watched report with no build
//! step and no script: big numbers on a dark background, a bar per interval, and a meta
//! refresh on the refresh interval. Every name is escaped, since queue names are user data.

use std::fmt::Write as _;

use jiff::Timestamp;
use sla_core::{IntervalRow, Period, QueueRow, ServiceLevel, SlaReport, Zone};

use crate::state::WatchStatus;

/// What the page shows besides the report.
#[derive(Debug)]
pub(crate) struct PageContext<'a> {
    /// The service's zone, for clock times.
    pub(crate) zone: &'a Zone,
    /// Now, to grey out intervals still to come.
    pub(crate) now: Timestamp,
    /// Seconds between reloads.
    pub(crate) refresh_secs: u64,
    /// Whether any queue is watched at all.
    pub(crate) watching: bool,
    /// The watched period as configured (`today`, `last-7-days`, ...).
    pub(crate) period: Option<Period>,
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How a service level compares with its target, as a CSS class.
fn state_class(level: &ServiceLevel) -> &'static str {
    match (level.percent, level.met_target) {
        (None, _) => "na",
        (Some(_), Some(true)) => "met",
        (Some(_), Some(false)) => "missed",
        (Some(_), None) => "untargeted",
    }
}

fn percent_text(percent: Option<f64>) -> String {
    percent.map_or_else(|| "n/a".to_owned(), |p| format!("{p:.1}%"))
}

fn local(t: Timestamp, zone: &Zone, format: &str) -> String {
    t.to_zoned(zone.tz().clone()).strftime(format).to_string()
}

const STYLE: &str = r"
:root { color-scheme: dark; --met: #2fbf71; --missed: #ef4f4f; --na: #6b7280; --plain: #e5e9f0;
  --plain-bar: #8fa3bf; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px; background: #0b0f17; color: #e5e9f0;
  font-family: 'DejaVu Sans', 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; }
header { display: flex; justify-content: space-between; align-items: flex-end; gap: 24px;
  border-bottom: 1px solid #1f2937; padding-bottom: 14px; margin-bottom: 20px; flex-wrap: wrap; }
h1 { margin: 0; font-size: 34px; font-weight: 700; letter-spacing: 0.5px; }
h1 .window { display: block; font-size: 18px; font-weight: 400; color: #9ca3af; margin-top: 4px; }
.totals { display: flex; gap: 28px; align-items: flex-end; }
.total { text-align: right; }
.total .name { font-size: 14px; color: #9ca3af; text-transform: uppercase; letter-spacing: 1px; }
.total .percent { font-size: 40px; font-weight: 700; line-height: 1.1; }
.meta { font-size: 14px; color: #9ca3af; text-align: right; }
.alert { background: #3b1111; border: 1px solid var(--missed); color: #fecaca; padding: 12px 16px;
  border-radius: 8px; margin-bottom: 20px; font-size: 18px; }
.empty { font-size: 28px; color: #9ca3af; margin-top: 80px; text-align: center; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(470px, 1fr)); gap: 18px; }
.queue { background: #111827; border: 1px solid #1f2937; border-radius: 12px; padding: 16px 20px; }
.queue h2 { margin: 0; font-size: 26px; font-weight: 700; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.counts { font-size: 15px; color: #9ca3af; margin: 4px 0 10px; }
.counts b { color: #d1d5db; font-weight: 600; }
.objective { display: grid; grid-template-columns: 128px 150px 1fr; align-items: center; gap: 12px;
  padding: 8px 0; border-top: 1px solid #1f2937; }
.objective .name { font-size: 18px; font-weight: 600; color: #d1d5db; overflow: hidden;
  text-overflow: ellipsis; }
.objective .target { display: block; font-size: 13px; font-weight: 400; color: #9ca3af; }
.objective .percent { font-size: 46px; font-weight: 800; text-align: right; line-height: 1;
  font-variant-numeric: tabular-nums; }
.met .percent, .total.met .percent { color: var(--met); }
.missed .percent, .total.missed .percent { color: var(--missed); }
.na .percent, .total.na .percent { color: var(--na); }
.untargeted .percent, .total.untargeted .percent { color: var(--plain); }
.bars { position: relative; height: 58px; display: flex; align-items: flex-end; gap: 2px;
  border-bottom: 1px solid #374151; }
.bar { flex: 1; min-width: 3px; border-radius: 2px 2px 0 0; background: var(--plain-bar); }
.bar.met { background: var(--met); }
.bar.missed { background: var(--missed); }
.bar.na { background: #374151; }
.bar.future { background: transparent; }
.bars .goal { position: absolute; left: 0; right: 0; border-top: 1px dashed #fbbf24; opacity: 0.8; }
.axis { display: grid; grid-template-columns: 128px 150px 1fr; gap: 12px; }
.ticks { position: relative; height: 16px; font-size: 12px; color: #6b7280; }
.ticks span { position: absolute; top: 2px; }
footer { margin-top: 22px; font-size: 13px; color: #6b7280; }
.legend span { margin-right: 14px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; }
";

/// The whole page.
pub(crate) fn page(status: &WatchStatus, context: &PageContext<'_>) -> String {
    let mut html = String::with_capacity(32 * 1024);
    let refresh = context.refresh_secs.max(5);
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"refresh\" content=\"{refresh}\">\n\
         <title>Service levels</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
    );
    if let Some(report) = &status.report {
        board(&mut html, report, status, context);
    } else {
        let _ = writeln!(
            html,
            "<header><h1>Service levels</h1><div class=\"meta\">refreshes every {refresh} s</div></header>"
        );
        if let Some(error) = &status.last_error {
            let _ = writeln!(
                html,
                "<div class=\"alert\">The last refresh failed: {}</div>",
                escape(error)
            );
        }
        let message = if context.watching {
            "Waiting for the first refresh of the watched queues."
        } else {
            "No queue is watched. Start sla-http with --queue NAME, --queue-name PATTERN or --all-queues."
        };
        let _ = writeln!(html, "<p class=\"empty\">{message}</p>");
    }
    html.push_str("</body>\n</html>\n");
    html
}

fn board(html: &mut String, report: &SlaReport, status: &WatchStatus, context: &PageContext<'_>) {
    let zone = context.zone;
    let start = report.window.start;
    let last = report
        .window
        .end
        .checked_sub(jiff::SignedDuration::from_secs(1))
        .unwrap_or(start);
    let first_day = local(start, zone, "%A %-d %B %Y");
    let last_day = local(last, zone, "%A %-d %B %Y");
    let mut days = if first_day == last_day {
        first_day
    } else {
        format!("{first_day} – {last_day}")
    };
    if let Some(period) = context.period {
        // `last-7-days` reads as "Last 7 days".
        let words = period.to_string().replace('-', " ");
        let mut chars = words.chars();
        if let Some(first) = chars.next() {
            days = format!("{}{} · {days}", first.to_uppercase(), chars.as_str());
        }
    }
    let _ = write!(
        html,
        "<header>\n<h1>Service levels<span class=\"window\">{} ({})</span></h1>\n<div class=\"totals\">",
        escape(&days),
        escape(&report.window.time_zone)
    );
    for level in &report.total.service_levels {
        let _ = write!(
            html,
            "<div class=\"total {}\" data-objective=\"{}\"><div class=\"name\">all queues · {}</div>\
             <div class=\"percent\">{}</div></div>",
            state_class(level),
            escape(&level.objective),
            escape(&level.objective),
            percent_text(level.percent)
        );
    }
    let updated = status
        .refreshed_at
        .map_or_else(|| "-".to_owned(), |t| local(t, zone, "%H:%M:%S"));
    let _ = write!(
        html,
        "</div>\n<div class=\"meta\">updated {updated}<br>abandons {} · flow-outs {}<br>refreshes every {} s</div>\n</header>\n",
        report.formula.abandons,
        report.formula.flowouts,
        context.refresh_secs.max(5)
    );
    if let Some(error) = &status.last_error {
        let _ = writeln!(
            html,
            "<div class=\"alert\">The last refresh failed; showing the figures of {updated}: {}</div>",
            escape(error)
        );
    }
    html.push_str("<main class=\"grid\">\n");
    for row in &report.queues {
        queue_card(html, row, context);
    }
    html.push_str("</main>\n");
    let _ = writeln!(
        html,
        "<footer class=\"legend\"><span><i style=\"background:var(--met)\"></i>target met</span>\
         <span><i style=\"background:var(--missed)\"></i>target missed</span>\
         <span><i style=\"background:var(--plain-bar)\"></i>no target</span>\
         <span><i style=\"background:var(--na)\"></i>nothing measured</span>\
         <span><i style=\"background:#fbbf24\"></i>target line</span></footer>"
    );
}

fn queue_card(html: &mut String, row: &QueueRow, context: &PageContext<'_>) {
    let media = row
        .media_type
        .map(|m| format!(" · {m}"))
        .unwrap_or_default();
    let _ = write!(
        html,
        "<section class=\"queue\" data-queue-id=\"{}\">\n<h2 title=\"{}\">{}{}</h2>\n\
         <div class=\"counts\">offered <b>{}</b> · answered <b>{}</b> · abandoned <b>{}</b> · flow-outs <b>{}</b></div>\n",
        escape(&row.queue_id),
        escape(&row.queue_name),
        escape(&row.queue_name),
        escape(&media),
        row.counts.offered,
        row.counts.answered,
        row.counts.abandoned,
        row.counts.flow_outs
    );
    for level in &row.service_levels {
        let target = match (level.target_percent, level.threshold_ms) {
            (Some(t), _) => format!("target {t}%"),
            (None, Some(ms)) => format!("within {}", sla_core::Threshold::from_millis(ms)),
            (None, None) if level.denominator > 0 => "targets differ".to_owned(),
            (None, None) => String::new(),
        };
        let percent_attr = level.percent.map(|p| p.to_string()).unwrap_or_default();
        let _ = write!(
            html,
            "<div class=\"objective {}\" data-objective=\"{}\">\
             <div class=\"name\">{}<span class=\"target\">{}</span></div>\
             <div class=\"percent\" data-percent=\"{}\">{}</div>\
             <div class=\"bars\">",
            state_class(level),
            escape(&level.objective),
            escape(&level.objective),
            escape(&target),
            percent_attr,
            percent_text(level.percent)
        );
        if let Some(t) = level.target_percent {
            let _ = write!(html, "<div class=\"goal\" style=\"bottom:{t}%\"></div>");
        }
        for interval in &row.intervals {
            bar(html, interval, &level.objective, context);
        }
        html.push_str("</div></div>\n");
    }
    axis(html, &row.intervals, context.zone);
    html.push_str("</section>\n");
}

/// Time labels under the last row of bars: four, evenly spaced, at interval starts.
fn axis(html: &mut String, intervals: &[IntervalRow], zone: &Zone) {
    if intervals.len() < 2 {
        return;
    }
    let format = if is_daily(&intervals[0]) {
        "%a %-d"
    } else {
        "%H:%M"
    };
    let step = intervals.len().div_ceil(4);
    html.push_str("<div class=\"axis\"><span></span><span></span><div class=\"ticks\">");
    for (i, interval) in intervals.iter().enumerate().step_by(step) {
        // Percent of the width where interval `i` starts; bars are equally wide.
        let left = i * 100 / intervals.len();
        let _ = write!(
            html,
            "<span style=\"left:{left}%\">{}</span>",
            local(interval.start, zone, format)
        );
    }
    html.push_str("</div></div>\n");
}

/// Whether `interval` is a day or longer; a day across a DST change lasts 23 or 25 hours.
fn is_daily(interval: &IntervalRow) -> bool {
    interval.end.duration_since(interval.start) >= jiff::SignedDuration::from_hours(23)
}

/// A bar's tooltip: the day it covers, or its clock times within the day.
fn bar_label(interval: &IntervalRow, zone: &Zone) -> String {
    if is_daily(interval) {
        local(interval.start, zone, "%a %-d %b")
    } else {
        let from = local(interval.start, zone, "%H:%M");
        let to = local(interval.end, zone, "%H:%M");
        format!("{from}–{to}")
    }
}

fn bar(html: &mut String, interval: &IntervalRow, objective: &str, context: &PageContext<'_>) {
    let level = interval
        .service_levels
        .iter()
        .find(|l| l.objective == objective);
    let label = bar_label(interval, context.zone);
    let percent = level.and_then(|l| l.percent);
    let (class, height) = match (level, percent) {
        _ if interval.start > context.now => ("future", 0.0),
        (Some(l), Some(p)) => (state_class(l), p.max(3.0)),
        _ => ("na", 3.0),
    };
    let _ = write!(
        html,
        "<div class=\"bar {class}\" style=\"height:{height}%\" title=\"{label} {}\"></div>",
        percent_text(percent)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}
