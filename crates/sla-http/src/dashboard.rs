//! `GET /`: the live wallboard. The first paint is rendered on the server from the last live
//! document and today's report, so the page has figures at once; then a small inline script
//! follows `/api/v1/live/stream` and updates the figures in place, reads today's figures from
//! `/dashboard.json` as they are refreshed, says how old the figures are every second, and
//! reconnects after a dropped stream. No framework and no build step.
//!
//! The page is a `maud` template, which escapes every value it interpolates, since queue names
//! are user data; the script writes data only through `textContent` and attributes.

use jiff::Timestamp;
use maud::{Markup, PreEscaped, html};
use serde::Serialize;
use sla_core::{
    IntervalRow, LiveReport, LiveRow, LiveServiceLevel, MediaType, Period, QueueRow, ServiceLevel,
    SlaReport, Threshold, Zone, wait_text,
};

use crate::live::LiveStatus;
use crate::state::WatchStatus;

/// The stylesheet: a dark wallboard, big numbers, four columns of cards on a 1920 px screen and
/// one on a phone.
const STYLE: &str = include_str!("dashboard/wallboard.css");

/// The script that keeps the page live.
const SCRIPT: &str = include_str!("dashboard/wallboard.js");

/// What the page shows besides the documents.
#[derive(Debug)]
pub(crate) struct PageContext<'a> {
    /// The service's zone, for clock times.
    pub(crate) zone: &'a Zone,
    /// Now, to grey out intervals still to come and to say how old the figures are.
    pub(crate) now: Timestamp,
    /// Whether any queue is watched at all.
    pub(crate) watching: bool,
    /// The watched period as configured (`today`, `last-7-days`, ...).
    pub(crate) period: Option<Period>,
    /// Seconds between polls of the live figures.
    pub(crate) live_interval_secs: u64,
    /// Seconds between reads of today's figures by the script.
    pub(crate) data_every_secs: u64,
    /// The rolling window, as configured (`30m`).
    pub(crate) live_window: String,
}

impl PageContext<'_> {
    /// How old the live figures may grow before the page's script calls them stale: as the
    /// server does.
    fn stale_after_secs(&self) -> u64 {
        crate::live::stale_after(std::time::Duration::from_secs(self.live_interval_secs)).as_secs()
    }
}

/// How a service level compares with its target, as a CSS class.
fn state_class(percent: Option<f64>, met_target: Option<bool>) -> &'static str {
    match (percent, met_target) {
        (None, _) => "na",
        (Some(_), Some(true)) => "met",
        (Some(_), Some(false)) => "missed",
        (Some(_), None) => "untargeted",
    }
}

/// A projected level against the target of its objective.
fn projected_class(level: &LiveServiceLevel) -> &'static str {
    let met = level
        .level
        .target_percent
        .zip(level.projected_percent)
        .map(|(target, projected)| projected >= target);
    state_class(level.projected_percent, met)
}

fn percent_text(percent: Option<f64>) -> String {
    percent.map_or_else(|| "n/a".to_owned(), |p| format!("{p:.1}%"))
}

fn local(t: Timestamp, zone: &Zone, format: &str) -> String {
    t.to_zoned(zone.tz().clone()).strftime(format).to_string()
}

/// "data 12 s old", "data 3 min old": how old figures observed at `as_of` are at `now`.
fn age_text(as_of: Timestamp, now: Timestamp) -> String {
    let seconds = (now.as_millisecond() - as_of.as_millisecond()).max(0) / 1000;
    if seconds < 60 {
        format!("data {seconds} s old")
    } else if seconds < 3600 {
        format!("data {} min old", seconds / 60)
    } else {
        format!("data {} h old", seconds / 3600)
    }
}

/// The longest wait, or a dash when nobody waits.
fn longest_text(row: &LiveRow) -> String {
    if row.live.waiting == 0 {
        "–".to_owned()
    } else {
        wait_text(Some(row.live.longest_waiting_ms))
    }
}

/// The shortest threshold of a row's objectives: the longest wait is coloured past it.
fn shortest_threshold(levels: &[LiveServiceLevel]) -> Option<u64> {
    levels.iter().filter_map(|l| l.level.threshold_ms).min()
}

/// What an objective's target is, under its name.
fn target_text(level: &ServiceLevel) -> String {
    let within = level
        .threshold_ms
        .map(|ms| Threshold::from_millis(ms).to_string());
    match (level.target_percent, within) {
        (Some(t), Some(w)) => format!("{t}% in {w}"),
        (Some(t), None) => format!("target {t}%"),
        (None, Some(w)) => format!("within {w}"),
        (None, None) => String::new(),
    }
}

/// A row's key on the page: its queue and media type.
fn row_key(queue_id: &str, media: Option<MediaType>) -> String {
    format!("{queue_id}|{}", media.map_or("", MediaType::as_str))
}

/// One card of the board: a live row, or before the first live figures a row of today's report.
struct Card<'a> {
    queue_id: &'a str,
    name: &'a str,
    media: Option<MediaType>,
    live: Option<&'a LiveRow>,
    today: Option<&'a QueueRow>,
}

impl<'a> Card<'a> {
    /// The card of a queue (and media type) without figures; the board's template is one.
    fn new(queue_id: &'a str, name: &'a str, media: Option<MediaType>) -> Self {
        Card {
            queue_id,
            name,
            media,
            live: None,
            today: None,
        }
    }
}

/// Today's row of a queue (and media type): from the report as the flags ask, else from the
/// split by media type.
fn today_row<'a>(
    watch: &'a WatchStatus,
    queue_id: &str,
    media: Option<MediaType>,
) -> Option<&'a QueueRow> {
    let find = |report: &'a SlaReport| {
        report
            .queues
            .iter()
            .find(|r| r.queue_id == queue_id && r.media_type == media)
    };
    watch
        .report
        .as_deref()
        .and_then(find)
        .or_else(|| watch.by_media.as_deref().and_then(find))
}

fn cards<'a>(live: Option<&'a LiveReport>, watch: &'a WatchStatus) -> Vec<Card<'a>> {
    if let Some(live) = live {
        return live
            .queues
            .iter()
            .map(|row| Card {
                live: Some(row),
                today: today_row(watch, &row.queue_id, row.media_type),
                ..Card::new(&row.queue_id, &row.queue_name, row.media_type)
            })
            .collect();
    }
    watch
        .report
        .as_deref()
        .map(|report| {
            report
                .queues
                .iter()
                .map(|row| Card {
                    today: Some(row),
                    ..Card::new(&row.queue_id, &row.queue_name, row.media_type)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The objectives in board order: the live document's, else today's.
fn objectives(live: Option<&LiveReport>, watch: &WatchStatus) -> Vec<String> {
    if let Some(live) = live {
        return live
            .total
            .service_levels
            .iter()
            .map(|l| l.level.objective.clone())
            .collect();
    }
    watch
        .report
        .as_deref()
        .map(|r| {
            r.total
                .service_levels
                .iter()
                .map(|l| l.objective.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// One bar of today's chart, as the server renders it and the script applies it.
#[derive(Debug, Serialize)]
pub(crate) struct Bar {
    /// Height in percent of the chart.
    h: f64,
    /// CSS class: met, missed, untargeted, na or future.
    c: &'static str,
    /// Tooltip: the interval and its level.
    t: String,
    /// The label on the bar: the level rounded to a whole percent, or nothing.
    v: String,
}

/// One objective of today's row, as the script applies it.
#[derive(Debug, Serialize)]
pub(crate) struct TodayLevel {
    /// The level as shown.
    text: String,
    /// The exact level, for readers of the page.
    exact: String,
    /// CSS class against the target.
    class: &'static str,
    /// The target line's height in percent, when there is a target.
    goal: Option<f64>,
    bars: Vec<Bar>,
}

/// A time label under the bars, at `left` percent of the width.
#[derive(Debug, Serialize)]
pub(crate) struct Tick {
    left: usize,
    text: String,
}

/// What `/dashboard.json` answers: today's figures of the rows on the board, the time labels
/// of the bars, and how the last refreshes went.
#[derive(Debug, Serialize)]
pub(crate) struct BoardData {
    /// The server's clock, in ms since the epoch: the page measures ages against it, so a
    /// wallboard whose own clock is off still tells the right age.
    server_now_ms: i64,
    /// When today's figures were computed, as a clock time in the service's zone.
    updated: Option<String>,
    /// Why the last refresh of today's figures failed.
    today_error: Option<String>,
    /// Why the last refresh of the live figures failed.
    live_error: Option<String>,
    /// Today's levels per row key and objective.
    rows: std::collections::BTreeMap<String, std::collections::BTreeMap<String, TodayLevel>>,
    ticks: Vec<Tick>,
}

fn bar(interval: &IntervalRow, objective: &str, context: &PageContext<'_>) -> Bar {
    let level = interval
        .service_levels
        .iter()
        .find(|l| l.objective == objective);
    let percent = level.and_then(|l| l.percent);
    let label = bar_label(interval, context.zone);
    let (c, h) = match (level, percent) {
        _ if interval.start > context.now => ("future", 0.0),
        (Some(l), Some(p)) => (state_class(Some(p), l.met_target), p.max(3.0)),
        _ => ("na", 3.0),
    };
    Bar {
        h,
        c,
        t: format!("{label} {}", percent_text(percent)),
        v: if c == "future" {
            String::new()
        } else {
            percent.map(|p| format!("{p:.0}")).unwrap_or_default()
        },
    }
}

fn today_level(row: &QueueRow, objective: &str, context: &PageContext<'_>) -> Option<TodayLevel> {
    let level = row
        .service_levels
        .iter()
        .find(|l| l.objective == objective)?;
    Some(TodayLevel {
        text: percent_text(level.percent),
        exact: level.percent.map(|p| p.to_string()).unwrap_or_default(),
        class: state_class(level.percent, level.met_target),
        goal: level.target_percent,
        bars: row
            .intervals
            .iter()
            .map(|i| bar(i, objective, context))
            .collect(),
    })
}

/// Time labels under the bars: four, evenly spaced, at interval starts.
fn ticks(watch: &WatchStatus, zone: &Zone) -> Vec<Tick> {
    let Some(intervals) = watch
        .report
        .as_deref()
        .and_then(|r| r.queues.first())
        .map(|r| r.intervals.as_slice())
        .filter(|i| i.len() >= 2)
    else {
        return Vec::new();
    };
    let format = if is_daily(&intervals[0]) {
        "%a %-d"
    } else {
        "%H:%M"
    };
    let step = intervals.len().div_ceil(4);
    intervals
        .iter()
        .enumerate()
        .step_by(step)
        .map(|(i, interval)| Tick {
            // Bars are equally wide, so interval `i` starts this far along.
            left: i * 100 / intervals.len(),
            text: local(interval.start, zone, format),
        })
        .collect()
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

/// The data the script reads every few seconds.
pub(crate) fn data(live: &LiveStatus, watch: &WatchStatus, context: &PageContext<'_>) -> BoardData {
    let report = live.last.as_ref().map(|e| e.report.as_ref());
    let objectives = objectives(report, watch);
    let rows = cards(report, watch)
        .iter()
        .filter_map(|card| {
            let today = card.today?;
            let levels = objectives
                .iter()
                .filter_map(|o| Some((o.clone(), today_level(today, o, context)?)))
                .collect();
            Some((row_key(card.queue_id, card.media), levels))
        })
        .collect();
    BoardData {
        server_now_ms: context.now.as_millisecond(),
        updated: watch
            .refreshed_at
            .map(|t| local(t, context.zone, "%H:%M:%S")),
        today_error: watch.last_error.clone(),
        live_error: live.last_error.clone(),
        rows,
        ticks: ticks(watch, context.zone),
    }
}

/// The whole page.
pub(crate) fn page(live: &LiveStatus, watch: &WatchStatus, context: &PageContext<'_>) -> String {
    let report = live.last.as_ref().map(|e| e.report.as_ref());
    let objectives = objectives(report, watch);
    let cards = cards(report, watch);
    // As `x-sla-stale` says it, and as the script goes on saying it.
    let stale = live.is_stale(
        context.now,
        std::time::Duration::from_secs(context.live_interval_secs),
    );
    let age = report.map_or_else(
        || "waiting for the first live figures".to_owned(),
        |r| age_text(r.as_of, context.now),
    );
    let ticks = ticks(watch, context.zone);
    let page = html! {
        (PreEscaped("<!doctype html>"))
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Service levels, live" }
                style { (PreEscaped(STYLE)) }
            }
            body class=[stale.then_some("stale")]
                data-server-now=(context.now.as_millisecond())
                data-as-of=[report.map(|r| r.as_of.as_millisecond())]
                data-live-interval=(context.live_interval_secs)
                data-stale-after=(context.stale_after_secs())
                data-data-every=(context.data_every_secs) {
                header.top {
                    h1 {
                        "Service levels"
                        span.window {
                            "live · last " (context.live_window) " · " (period_text(context.period))
                            " (" (context.zone.name()) ")"
                        }
                    }
                    div.totals {
                        @if let Some(report) = report {
                            div.total.waiting {
                                div.name { "waiting" }
                                div.percent data-t="waiting" { (report.total.live.waiting) }
                            }
                            @for level in &report.total.service_levels {
                                div class={ "total " (state_class(level.level.percent, level.level.met_target)) }
                                    data-objective=(level.level.objective) {
                                    div.name { "all · " (level.level.objective) }
                                    div.percent data-t="rolling" { (percent_text(level.level.percent)) }
                                }
                            }
                        }
                    }
                    div.status {
                        div #age { (age) }
                        div #link { @if report.is_some() { "live" } @else { "connecting" } }
                        div #page {}
                    }
                }
                div #alert .alert hidden[live.last_error.is_none() && watch.last_error.is_none()] {
                    @if let Some(error) = &live.last_error {
                        "The last live refresh failed; showing the last good figures: " (error)
                    } @else if let Some(error) = &watch.last_error {
                        "The last refresh of today's figures failed: " (error)
                    }
                }
                @if !context.watching {
                    p.empty {
                        "No queue is watched. "
                        "Start sla-http with --queue NAME, --queue-name PATTERN or --all-queues."
                    }
                } @else if cards.is_empty() {
                    p.empty #waiting { "Waiting for the first refresh of the watched queues." }
                }
                main.grid #board {
                    @for card in &cards {
                        (card_markup(card, &objectives, &ticks, context))
                    }
                }
                template #card {
                    (card_markup(&Card::new("", "", None), &objectives, &ticks, context))
                }
                footer.legend {
                    span { i style="background:var(--met)" {} "target met" }
                    span { i style="background:var(--missed)" {} "target missed" }
                    span { i style="background:var(--plain-bar)" {} "no target" }
                    span { i style="background:var(--na)" {} "nothing measured" }
                    span { i style="background:#fbbf24" {} "target line" }
                    span { "last " (context.live_window) ": rolling window · projected: if everyone waiting past the threshold now is a miss" }
                }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    let mut html = page.into_string();
    html.push('\n');
    html
}

/// "Today", "This week": the watched period's name.
fn period_text(period: Option<Period>) -> String {
    period.map_or_else(String::new, |p| p.to_string().replace('-', " "))
}

fn card_markup(
    card: &Card<'_>,
    objectives: &[String],
    ticks: &[Tick],
    context: &PageContext<'_>,
) -> Markup {
    let live = card.live;
    let over = live.is_some_and(|row| {
        row.live.waiting > 0
            && shortest_threshold(&row.service_levels)
                .is_some_and(|t| row.live.longest_waiting_ms > t)
    });
    html! {
        section.queue data-key=(row_key(card.queue_id, card.media)) data-queue-id=(card.queue_id) {
            div.head {
                h2 title=(card.name) { (card.name) }
                span.media hidden[card.media.is_none()] {
                    (card.media.map_or("", MediaType::as_str))
                }
                span.agents {
                    b data-f="agents" { (live.map_or_else(|| "–".to_owned(), |r| r.live.on_queue_agents.to_string())) }
                    " agents · "
                    b data-f="interacting" { (live.map_or_else(|| "–".to_owned(), |r| r.live.interacting.to_string())) }
                    " in hand"
                }
            }
            div.now {
                div.stat {
                    span.label { "waiting" }
                    b data-f="waiting" { (live.map_or_else(|| "–".to_owned(), |r| r.live.waiting.to_string())) }
                }
                div class={ "stat longest" @if over { " over" } } {
                    span.label { "longest wait" }
                    b data-f="longest" { (live.map_or_else(|| "–".to_owned(), longest_text)) }
                }
                div.kpis {
                    span { "ASA " b data-f="asa" { (wait_text(live.and_then(|r| r.kpis.asa_ms))) } }
                    span { "abandoned " b data-f="abandon" { (percent_text(live.and_then(|r| r.kpis.abandon_percent))) } }
                    span { "offered " b data-f="offered" { (live.map_or_else(|| "–".to_owned(), |r| r.counts.offered.to_string())) } }
                }
            }
            div.levels {
                div.lhead { span {} span { "last " (context.live_window) } span { "projected" } span { "today" } }
                @for objective in objectives {
                    (level_markup(card, objective, context))
                }
                div.axis {
                    span {}
                    div.ticks {
                        @for tick in ticks {
                            span style={ "left:" (tick.left) "%" } { (tick.text) }
                        }
                    }
                }
            }
        }
    }
}

fn level_markup(card: &Card<'_>, objective: &str, context: &PageContext<'_>) -> Markup {
    let live = card.live.and_then(|r| {
        r.service_levels
            .iter()
            .find(|l| l.level.objective == objective)
    });
    let today = card.today.and_then(|r| today_level(r, objective, context));
    let absent = card.live.is_some() && live.is_none()
        || card.live.is_none() && card.today.is_some() && today.is_none();
    let target = live
        .map(|l| target_text(&l.level))
        .or_else(|| {
            card.today
                .and_then(|r| r.service_levels.iter().find(|l| l.objective == objective))
                .map(target_text)
        })
        .unwrap_or_default();
    html! {
        div.level data-objective=(objective) hidden[absent] {
            div.name { span.oname { (objective) } span.target data-f="target" { (target) } }
            div class={ "rolling " (live.map_or("na", |l| state_class(l.level.percent, l.level.met_target))) } data-f="rolling" {
                (percent_text(live.and_then(|l| l.level.percent)))
            }
            div class={ "projected " (live.map_or("na", projected_class)) } {
                span data-f="projected" { (percent_text(live.and_then(|l| l.projected_percent))) }
                @let over = live.map_or(0, |l| l.waiting_over_threshold);
                span.over data-f="over" hidden[over == 0] { (over) " over" }
            }
            div class={ "today " (today.as_ref().map_or("na", |t| t.class)) } data-f="today"
                data-percent=(today.as_ref().map(|t| t.exact.as_str()).unwrap_or_default()) {
                (today.as_ref().map_or_else(|| "n/a".to_owned(), |t| t.text.clone()))
            }
            div.chart {
                div.scale { span { "100" } span { "50" } span { "0" } }
                div.bars {
                    div.goal hidden[today.as_ref().and_then(|t| t.goal).is_none()]
                        style={ "bottom:" (today.as_ref().and_then(|t| t.goal).unwrap_or(0.0)) "%" } {}
                    @for b in today.as_ref().map(|t| t.bars.as_slice()).unwrap_or_default() {
                        div class={ "bar " (b.c) } style={ "height:" (b.h) "%" } title=(b.t) {
                            span { (b.v) }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_seconds_minutes_and_hours() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let as_of = t("2024-05-15T10:00:00Z");
        assert_eq!(
            age_text(as_of, t("2024-05-15T10:00:07.900Z")),
            "data 7 s old"
        );
        assert_eq!(age_text(as_of, t("2024-05-15T10:02:05Z")), "data 2 min old");
        assert_eq!(age_text(as_of, t("2024-05-15T13:10:00Z")), "data 3 h old");
        assert_eq!(age_text(as_of, t("2024-05-15T09:59:00Z")), "data 0 s old");
    }

    #[test]
    fn targets_read_as_percent_within_a_threshold() {
        let level = |threshold_ms, target_percent| ServiceLevel {
            objective: "configured".to_owned(),
            threshold_ms,
            target_percent,
            answered_within: 0,
            abandoned_within: 0,
            numerator: 0,
            denominator: 0,
            percent: None,
            met_target: None,
        };
        assert_eq!(target_text(&level(Some(20_000), Some(80.0))), "80% in 20s");
        assert_eq!(target_text(&level(None, Some(80.0))), "target 80%");
        assert_eq!(target_text(&level(Some(30_000), None)), "within 30s");
        assert_eq!(target_text(&level(None, None)), "");
    }
}
