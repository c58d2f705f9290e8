//! `GET /` and `/dashboard.json`: the live wallboard of the watched queues, painted first from
//! the last documents, escaped, honest about stale figures and about nothing being watched.

use super::*;

/// The markup of the card with `key`.
fn card<'a>(html: &'a str, key: &str) -> &'a str {
    let start = html
        .find(&format!("data-key=\"{key}\""))
        .unwrap_or_else(|| panic!("no card {key}"));
    let card = &html[start..];
    &card[..card.find("</section>").expect("the card ends")]
}

/// The text inside the element with `data-f="{field}"` of the card with `key`.
fn field<'a>(html: &'a str, key: &str, field: &str) -> &'a str {
    text_of(card(html, key), key, field)
}

/// The text inside the element with `data-f="{field}"` of `objective` in the card with `key`.
fn level_field<'a>(html: &'a str, key: &str, objective: &str, field: &str) -> &'a str {
    let card = card(html, key);
    let level = &card[card
        .find(&format!("data-objective=\"{objective}\""))
        .unwrap_or_else(|| panic!("no {objective} in {key}"))..];
    text_of(level, key, field)
}

fn text_of<'a>(card: &'a str, key: &str, field: &str) -> &'a str {
    let at = card
        .find(&format!("data-f=\"{field}\""))
        .unwrap_or_else(|| panic!("no {field} in {key}"));
    let text = &card[at..];
    let text = &text[text.find('>').unwrap() + 1..];
    &text[..text.find('<').unwrap()]
}

#[tokio::test]
async fn the_wallboard_paints_the_last_documents_at_once() {
    let h = refreshed().await;
    let reply = get(&h.app, "/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header(header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    let html = &reply.body;
    // No reload: the page follows the stream instead.
    assert!(!html.contains("http-equiv=\"refresh\""));
    assert!(html.contains("new EventSource('api/v1/live/stream')"));
    assert!(html.contains("data-as-of=\"1715769000000\""));
    assert!(html.contains("data-server-now=\"1715769000000\""));
    assert!(
        html.contains("<div id=\"age\">data 0 s old</div>"),
        "{html}"
    );
    assert!(!html.contains("<body class=\"stale\""));

    let support = format!("{SUPPORT}|");
    assert_eq!(field(html, &support, "waiting"), "2");
    assert_eq!(field(html, &support, "longest"), "45.0s");
    assert_eq!(field(html, &support, "agents"), "5");
    assert_eq!(field(html, &support, "interacting"), "3");
    assert!(
        html.contains("<div class=\"stat longest over\">"),
        "45 s is past 20 s"
    );
    // Sales is split by media type: its media types have different configured targets.
    let chat = format!("{SALES}|chat");
    assert_eq!(field(html, &chat, "waiting"), "1");
    assert_eq!(field(html, &chat, "longest"), "1m30s");
    assert_eq!(
        level_field(html, &chat, "configured", "target"),
        "70% in 1m"
    );
    assert_eq!(level_field(html, &chat, "configured", "over"), "1 over");
    assert_eq!(level_field(html, &support, "20s", "over"), "1 over");
    assert_eq!(
        level_field(html, &support, "configured", "target"),
        "80% in 20s"
    );
    assert!(html.contains(&format!("data-key=\"{SALES}|voice\"")));
    assert!(!html.contains(&format!("data-key=\"{SALES}|\"")));

    // Each card's today figures are those of today's report for its row, split or not.
    let today = h.state.watch_status();
    let check = |report: &sla_core::SlaReport, id: &str, media: Option<MediaType>| {
        let row = report
            .queues
            .iter()
            .find(|r| r.queue_id == id && r.media_type == media)
            .unwrap();
        let key = format!("{id}|{}", media.map_or("", MediaType::as_str));
        let card = card(html, &key);
        for level in &row.service_levels {
            let at = card
                .find(&format!("data-objective=\"{}\"", level.objective))
                .unwrap();
            let shown = match level.percent {
                Some(p) => format!("data-percent=\"{p}\">{p:.1}%</div>"),
                None => "data-percent=\"\">n/a</div>".to_owned(),
            };
            assert!(
                card[at..].contains(&shown),
                "{key} {}: {shown}",
                level.objective
            );
        }
        // A bar per hour of today for each objective; the hours after 10:30 are to come.
        let levels = row.service_levels.len();
        assert_eq!(card.matches("<div class=\"bar ").count(), levels * 24);
        assert_eq!(
            card.matches("<div class=\"bar future\"").count(),
            levels * 13
        );
    };
    check(today.report.as_deref().unwrap(), SUPPORT, None);
    check(
        today.by_media.as_deref().unwrap(),
        SALES,
        Some(MediaType::Chat),
    );
    check(
        today.by_media.as_deref().unwrap(),
        SALES,
        Some(MediaType::Voice),
    );
    // Bars carry their value and a tooltip, and the charts a scale.
    assert!(html.contains("title=\"09:00–10:00 "), "{html}");
    assert!(
        html.contains("<div class=\"scale\"><span>100</span><span>50</span><span>0</span></div>")
    );
    assert!(html.contains("class=\"rolling met\"") || html.contains("class=\"rolling missed\""));
}

#[tokio::test]
async fn names_are_escaped_in_the_cards_and_the_script_writes_only_text() {
    let h = refreshed().await;
    let html = get(&h.app, "/").await.body;
    let escaped = "R&amp;D &lt;&quot;Lab&quot;&gt;";
    assert!(
        html.contains(&format!("<h2 title=\"{escaped}\">{escaped}</h2>")),
        "{html}"
    );
    assert!(!html.contains("<\"Lab\">"), "a raw queue name in the page");
    assert!(!html.contains("innerHTML"));
    assert!(!html.contains("insertAdjacentHTML"));
    assert!(html.contains("textContent"));
}

#[tokio::test]
async fn the_wallboard_data_carries_todays_figures_per_card() {
    let h = refreshed().await;
    let data = get(&h.app, "/dashboard.json").await;
    assert_eq!(data.status, StatusCode::OK);
    assert_eq!(data.header(header::CACHE_CONTROL), "no-store");
    let data = data.json();
    assert_eq!(data["server_now_ms"], 1_715_769_000_000_i64);
    assert_eq!(data["updated"], "10:30:00");
    assert_eq!(data["live_error"], Value::Null);
    let ticks = texts(&data["ticks"], "text");
    assert_eq!(ticks, ["00:00", "06:00", "12:00", "18:00"]);
    let rows = data["rows"].as_object().unwrap();
    let keys: Vec<&str> = rows.keys().map(String::as_str).collect();
    let mut expect = vec![
        format!("{LAB}|"),
        format!("{SUPPORT}|"),
        format!("{SALES}|chat"),
        format!("{SALES}|voice"),
    ];
    expect.sort();
    assert_eq!(keys, expect);
    let support = &rows[&format!("{SUPPORT}|")]["configured"];
    let today = h.state.watch_status().report.unwrap();
    let level = &today
        .queues
        .iter()
        .find(|r| r.queue_id == SUPPORT)
        .unwrap()
        .service_levels[1];
    let p = level.percent.unwrap();
    assert_eq!(support["text"], format!("{p:.1}%"));
    assert_eq!(support["exact"], p.to_string());
    assert_eq!(support["goal"], 80.0);
    let bars = support["bars"].as_array().unwrap();
    assert_eq!(bars.len(), 24);
    assert_eq!(bars[23]["c"], "future");
    assert_eq!(bars[23]["v"], "");
    assert!(bars[9]["t"].as_str().unwrap().starts_with("09:00–10:00 "));
}

#[tokio::test]
async fn the_wallboard_says_when_nothing_is_watched_or_refreshed() {
    let idle = idle();
    let reply = get(&idle.app, "/").await;
    assert!(reply.body.contains("No queue is watched"), "{}", reply.body);

    let failing = with_tallies(failing_tallies());
    refresh_all(&failing.state).await;
    let reply = get(&failing.app, "/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.body.contains("The last live refresh failed"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("[contextId 7c1f6a0e-context]"));
    assert!(
        reply
            .body
            .contains("Waiting for the first refresh of the watched queues")
    );
}

#[tokio::test(start_paused = true)]
async fn the_first_page_waits_for_the_first_refresh() {
    let (_, h) = counting(Duration::from_secs(2));
    let watch_task = watch::spawn(h.state.clone());
    let live_task = crate::live::spawn(h.state.clone());
    let reply = get(&h.app, "/").await;
    assert!(reply.body.contains(">Support</h2>"), "{}", reply.body);
    assert!(reply.body.contains("data-as-of="), "{}", reply.body);
    watch_task.abort();
    live_task.abort();

    // Not forever: with nothing arriving, the page says it is waiting.
    let (_, slow) = counting(Duration::from_hours(1));
    let task = watch::spawn(slow.state.clone());
    let reply = get(&slow.app, "/").await;
    assert!(
        reply.body.contains("Waiting for the first refresh"),
        "{}",
        reply.body
    );
    assert!(reply.body.contains("waiting for the first live figures"));
    task.abort();
}

#[tokio::test]
async fn daily_bars_on_the_wallboard_are_labelled_with_their_day() {
    let h = Built {
        settings: Settings {
            watch: QueryInput {
                period: Some(p("this-week")),
                granularity: p("day"),
                ..watch_all()
            },
            ..Settings::default()
        },
        ..Built::default()
    }
    .build();
    refresh_all(&h.state).await;
    let html = get(&h.app, "/").await.body;
    assert!(html.contains("title=\"Mon 13 May "), "{html}");
    assert!(html.contains("title=\"Sun 19 May "), "{html}");
    assert!(!html.contains("00:00–00:00"), "{html}");
}
