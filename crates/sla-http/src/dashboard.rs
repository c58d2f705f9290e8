//! `GET /`: the wallboard page, rendered on the server from the watched report with no build
//! step and no script: big numbers on a dark background, a bar per interval, and a meta
//! refresh on the refresh interval. The page is a `maud` template, which escapes every value
//! it interpolates, since queue names are user data.

use jiff::Timestamp;
use maud::{Markup, PreEscaped, html};
use sla_core::{IntervalRow, Period, QueueRow, ServiceLevel, SlaReport, Zone, wait_text};

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
    let refresh = context.refresh_secs.max(5);
    let page = html! {
        (PreEscaped("<!doctype html>"))
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="refresh" content=(refresh);
                title { "Service levels" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                @if let Some(report) = &status.report {
                    (board(report, status, context))
                } @else {
                    header {
                        h1 { "Service levels" }
                        div.meta { "refreshes every " (refresh) " s" }
                    }
                    @if let Some(error) = &status.last_error {
                        div.alert { "The last refresh failed: " (error) }
                    }
                    p.empty {
                        @if context.watching {
                            "Waiting for the first refresh of the watched queues."
                        } @else {
                            "No queue is watched. "
                            "Start sla-http with --queue NAME, --queue-name PATTERN or --all-queues."
                        }
                    }
                }
            }
        }
    };
    let mut html = page.into_string();
    html.push('\n');
    html
}

/// The days the window covers, after the period's name when there is one: "Last 7 days ·
/// Monday 1 June 2026 – Sunday 7 June 2026".
fn window_text(report: &SlaReport, context: &PageContext<'_>) -> String {
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
    days
}

fn board(report: &SlaReport, status: &WatchStatus, context: &PageContext<'_>) -> Markup {
    let updated = status
        .refreshed_at
        .map_or_else(|| "-".to_owned(), |t| local(t, context.zone, "%H:%M:%S"));
    html! {
        header {
            h1 {
                "Service levels"
                span.window { (window_text(report, context)) " (" (report.window.time_zone) ")" }
            }
            div.totals {
                @for level in &report.total.service_levels {
                    div class={ "total " (state_class(level)) } data-objective=(level.objective) {
                        div.name { "all queues · " (level.objective) }
                        div.percent { (percent_text(level.percent)) }
                    }
                }
            }
            div.meta {
                "updated " (updated) br;
                "abandons " (report.formula.abandons) " · flow-outs " (report.formula.flowouts) br;
                "refreshes every " (context.refresh_secs.max(5)) " s"
            }
        }
        @if let Some(error) = &status.last_error {
            div.alert { "The last refresh failed; showing the figures of " (updated) ": " (error) }
        }
        main.grid {
            @for row in &report.queues {
                (queue_card(row, context))
            }
        }
        footer.legend {
            span { i style="background:var(--met)" {} "target met" }
            span { i style="background:var(--missed)" {} "target missed" }
            span { i style="background:var(--plain-bar)" {} "no target" }
            span { i style="background:var(--na)" {} "nothing measured" }
            span { i style="background:#fbbf24" {} "target line" }
        }
    }
}

/// What an objective's target is, under its name.
fn target_text(level: &ServiceLevel) -> String {
    match (level.target_percent, level.threshold_ms) {
        (Some(t), _) => format!("target {t}%"),
        (None, Some(ms)) => format!("within {}", sla_core::Threshold::from_millis(ms)),
        (None, None) if level.denominator > 0 => "targets differ".to_owned(),
        (None, None) => String::new(),
    }
}

fn queue_card(row: &QueueRow, context: &PageContext<'_>) -> Markup {
    html! {
        section.queue data-queue-id=(row.queue_id) {
            h2 title=(row.queue_name) {
                (row.queue_name)
                @if let Some(media) = row.media_type {
                    " · " (media)
                }
            }
            div.counts {
                "offered " b { (row.counts.offered) }
                " · answered " b { (row.counts.answered) }
                " · abandoned " b { (row.counts.abandoned) }
                " · flow-outs " b { (row.counts.flow_outs) }
            }
            div.counts.kpis {
                "ASA " b.asa { (wait_text(row.kpis.asa_ms)) }
                " · longest " b { (wait_text(row.kpis.longest_answer_wait_ms)) }
                " · abandoned " b.abandon-percent { (percent_text(row.kpis.abandon_percent)) }
            }
            @for level in &row.service_levels {
                div class={ "objective " (state_class(level)) } data-objective=(level.objective) {
                    div.name { (level.objective) span.target { (target_text(level)) } }
                    @let exact = level.percent.map(|p| p.to_string()).unwrap_or_default();
                    div.percent data-percent=(exact) { (percent_text(level.percent)) }
                    div.bars {
                        @if let Some(t) = level.target_percent {
                            div.goal style={ "bottom:" (t) "%" } {}
                        }
                        @for interval in &row.intervals {
                            (bar(interval, &level.objective, context))
                        }
                    }
                }
            }
            (axis(&row.intervals, context.zone))
        }
    }
}

/// Time labels under the last row of bars: four, evenly spaced, at interval starts.
fn axis(intervals: &[IntervalRow], zone: &Zone) -> Markup {
    if intervals.len() < 2 {
        return html! {};
    }
    let format = if is_daily(&intervals[0]) {
        "%a %-d"
    } else {
        "%H:%M"
    };
    let step = intervals.len().div_ceil(4);
    html! {
        div.axis {
            span {}
            span {}
            div.ticks {
                @for (i, interval) in intervals.iter().enumerate().step_by(step) {
                    // Percent of the width where interval `i` starts; bars are equally wide.
                    span style={ "left:" (i * 100 / intervals.len()) "%" } {
                        (local(interval.start, zone, format))
                    }
                }
            }
        }
    }
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

fn bar(interval: &IntervalRow, objective: &str, context: &PageContext<'_>) -> Markup {
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
    html! {
        div class={ "bar " (class) } style={ "height:" (height) "%" }
            title={ (label) " " (percent_text(percent)) } {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_in_names_are_escaped_in_text_and_attributes() {
        let card = queue_card(
            &QueueRow {
                queue_id: "q\"1".to_owned(),
                queue_name: r#"<script>alert("x")</script> & 'y'"#.to_owned(),
                media_type: None,
                counts: sla_core::Counts::default(),
                kpis: sla_core::Kpis::default(),
                service_levels: Vec::new(),
                intervals: Vec::new(),
            },
            &PageContext {
                zone: &Zone::utc(),
                now: Timestamp::UNIX_EPOCH,
                refresh_secs: 60,
                watching: true,
                period: None,
            },
        )
        .into_string();
        let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; 'y'";
        assert!(
            card.contains(&format!("<h2 title=\"{escaped}\">{escaped}</h2>")),
            "{card}"
        );
        assert!(card.contains("data-queue-id=\"q&quot;1\""), "{card}");
        assert!(!card.contains("<script>"), "{card}");
    }
}
