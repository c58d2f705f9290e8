//! Live operations end to end: `sla-http` pointed at a simulated org it reaches over loopback
//! like Genesys Cloud. The wallboard, in headless Chromium, follows the simulated queues without
//! reloading, fits 12 queues on a 1920 × 1080 screen and a phone's width, and says when its
//! figures are stale; and 200 subscribers of the stream share one observations query per live
//! interval, each receiving every update.

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use e2e::devtools::{Browser, Page};
use e2e::http::SlaHttp;
use e2e::{TestSim, live_schema, scratch_dir, screenshot_dir};
use genesys_sim::{LiveOrg, MediaType, SimConfig};
use serde_json::Value;

use crate::assert_valid;

/// Waits, in the page, until `condition` (a script expression) is truthy, for at most
/// `seconds`; gives what `result` (another expression) then says.
fn until(page: &mut Page, condition: &str, result: &str, seconds: u32) -> Value {
    page.eval_async(&format!(
        "new Promise((resolve, reject) => {{
            const start = Date.now();
            const step = () => {{
                if ({condition}) {{ resolve({result}); return; }}
                if (Date.now() - start > {seconds} * 1000) {{
                    reject(new Error('timed out waiting for: ' + {condition:?}
                        + ' at ' + document.body.innerText.slice(0, 2000)));
                    return;
                }}
                setTimeout(step, 100);
            }};
            step();
        }})"
    ))
}

/// A script expression: the text of `field` in the card of `key`.
fn card_text(key: &str, field: &str) -> String {
    format!("document.querySelector('[data-key=\"{key}\"] [data-f=\"{field}\"]').textContent")
}

/// Saves the viewport as `target/screenshots/NAME.png`; gives the file's size.
fn screenshot(page: &mut Page, name: &str) -> usize {
    let png = base64::engine::general_purpose::STANDARD
        .decode(page.screenshot_base64())
        .expect("base64 image data");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG image");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), &png)
        .expect("the screenshot is saved");
    png.len()
}

/// Resizes the viewport, then lets the page lay itself out again (it does so a moment after a
/// resize).
fn resize(page: &mut Page, width: u32, height: u32) {
    page.resize(width, height);
    page.eval_async("new Promise((resolve) => setTimeout(() => resolve(true), 600))");
}

#[test]
fn the_wallboard_follows_the_queues_in_place_fits_the_screen_and_says_when_it_is_stale() {
    let mut sim = TestSim::start(SimConfig {
        queues: 12,
        days: 2,
        visits_per_day: 400,
        ..SimConfig::default()
    });
    let args = [
        "--all-queues", "--threshold", "20s", "--threshold", "configured", "--media", "voice",
        "--tz", "UTC", "--live-interval", "1s", "--bind", "127.0.0.1:0",
    ];
    let server = sim.sla_http("live-wallboard", &args);
    // The first live document: every queue, valid against the schema.
    let first = server.get("/api/v1/live");
    assert_eq!(first.status, 200, "{}", first.body);
    let doc = first.json();
    assert_valid(&live_schema(), &doc);
    let rows = doc["queues"].as_array().expect("rows");
    assert_eq!(rows.len(), 12, "a row per queue, voice only");

    // A quiet queue to watch: no new arrivals anywhere, and no agent there to answer, so what
    // waits in it is what the test puts there.
    let live = sim.server().live().expect("a live org").clone();
    live.pause_autopilot();
    let snapshot = live.snapshot();
    let quiet = rows
        .iter()
        .map(|r| r["queue_id"].as_str().expect("an id").to_owned())
        .find(|id| {
            snapshot
                .queue(id)
                .is_some_and(|q| q.media(MediaType::Voice).waiting.is_empty())
        })
        .expect("a queue with nobody waiting");
    live.set_agents(&quiet, 0).expect("a known queue");
    let key = format!("{quiet}|");

    let browser = Browser::launch(&scratch_dir("live-chromium"));
    let mut page = browser.open(&format!("{}/", server.base_url()));
    resize(&mut page, 1920, 1080);
    follows_the_queue_in_place(&mut page, &live, &quiet, &server);
    fits_a_wallboard_and_a_phone(&mut page);

    // The service restarts: the page says it lost the stream, then reconnects by itself.
    let mut server = server;
    let port = server
        .base_url()
        .rsplit(':')
        .next()
        .expect("a port")
        .to_owned();
    assert!(server.terminate().success());
    let lost = until(
        &mut page,
        "document.getElementById('link').textContent === 'reconnecting…'",
        "window.sameDocument",
        30,
    );
    assert_eq!(lost, "yes");
    let bind = format!("127.0.0.1:{port}");
    let _restarted = sim.sla_http(
        "live-wallboard-again",
        &[&args[..args.len() - 1], &[bind.as_str()]].concat(),
    );
    let back = until(
        &mut page,
        &format!(
            "document.getElementById('link').textContent === 'live' && {} === '2'",
            card_text(&key, "waiting")
        ),
        "window.sameDocument",
        60,
    );
    assert_eq!(back, "yes", "reconnected in the same document");

    says_when_it_is_stale(&mut sim, &mut page, &key);
}

/// Genesys goes away: the page keeps the last figures and says plainly how old they are.
fn says_when_it_is_stale(sim: &mut TestSim, page: &mut Page, key: &str) {
    resize(page, 1920, 1080);
    sim.stop();
    let stale = until(
        page,
        "document.body.classList.contains('stale') && !document.getElementById('alert').hidden",
        "[document.getElementById('age').textContent, document.getElementById('alert').textContent,
          window.sameDocument]",
        60,
    );
    let age = stale[0].as_str().expect("an age");
    assert!(age.starts_with("data ") && age.ends_with(" old"), "{age}");
    assert!(
        stale[1].as_str().is_some_and(
            |a| a.starts_with("The last live refresh failed; showing the last good figures")
        ),
        "{stale}"
    );
    assert_eq!(stale[2], "yes");
    assert_eq!(
        page.eval(&card_text(key, "waiting")),
        "2",
        "the last good figures stay"
    );
    screenshot(page, "wallboard-stale");
}

/// Conversations put in the quiet queue show on the page, and leave it, without a reload.
fn follows_the_queue_in_place(page: &mut Page, live: &LiveOrg, quiet: &str, server: &SlaHttp) {
    let key = format!("{quiet}|");
    let before = until(
        page,
        &format!(
            "{} === '0' && document.getElementById('link').textContent === 'live'",
            card_text(&key, "waiting")
        ),
        &card_text(&key, "longest"),
        30,
    );
    assert_eq!(before, "–");
    // A mark on this document: it is still there after the figures change only if the page
    // was not reloaded.
    page.eval("window.sameDocument = 'yes'; performance.getEntriesByType('navigation').length");

    let now = live.now();
    let ago = |secs: i64| now - jiff::SignedDuration::from_secs(secs);
    let mut waiting = Vec::new();
    for since in [ago(150), ago(40), ago(5)] {
        waiting.push(
            live.inject(quiet, MediaType::Voice, since)
                .expect("an injected wait"),
        );
    }
    let after = until(
        page,
        &format!("{} === '3'", card_text(&key, "waiting")),
        &format!(
            "[{}, document.querySelector('[data-key=\"{key}\"] .stat.longest').className,
              window.sameDocument, performance.getEntriesByType('navigation').length,
              document.querySelector('[data-key=\"{key}\"] .level[data-objective=\"20s\"] [data-f=\"over\"]').textContent]",
            card_text(&key, "longest")
        ),
        30,
    );
    let longest = after[0].as_str().expect("a wait");
    assert!(
        longest.starts_with("2m3"),
        "the longest wait is 2m3xs: {longest}"
    );
    assert_eq!(after[1], "stat longest over", "coloured past 20 s");
    assert_eq!(after[2], "yes", "the same document: no reload");
    assert_eq!(after[3], 1, "one navigation");
    assert_eq!(after[4], "2 over", "two have waited past 20 s");
    // The API says the same.
    let doc = server.get("/api/v1/live").json();
    let row = doc["queues"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["queue_id"] == quiet)
        .expect("the quiet queue");
    assert_eq!(row["live"]["waiting"], 3);

    // The longest-waiting caller is answered: the page follows down too.
    live.answer(&waiting[0]).expect("an answer");
    let after = until(
        page,
        &format!("{} === '2'", card_text(&key, "waiting")),
        "window.sameDocument",
        30,
    );
    assert_eq!(after, "yes");
}

/// 12 queues fit a 1920 × 1080 wallboard (every card shown, none below the fold, no paging),
/// and a phone's width takes one column with nothing wider than the screen.
fn fits_a_wallboard_and_a_phone(page: &mut Page) {
    let fit = page.eval(
        "(() => { const cards = [...document.querySelectorAll('#board .queue')];
           return [cards.length, cards.every((c) => !c.hidden
               && c.getBoundingClientRect().bottom <= window.innerHeight),
             document.getElementById('page').textContent,
             document.documentElement.scrollWidth <= window.innerWidth]; })()",
    );
    assert_eq!(fit, serde_json::json!([12, true, "", true]), "{fit}");
    assert!(screenshot(page, "wallboard-1920x1080") > 50_000);

    resize(page, 420, 1400);
    let narrow = page.eval(
        "[document.documentElement.scrollWidth, document.body.scrollWidth,
          Math.max(...[...document.querySelectorAll('#board .queue')]
              .map((c) => Math.ceil(c.getBoundingClientRect().right)))]",
    );
    for width in narrow.as_array().expect("widths") {
        assert!(width.as_u64() <= Some(420), "wider than 420 px: {narrow}");
    }
    assert!(screenshot(page, "wallboard-420") > 20_000);
}

#[test]
fn with_a_token_the_wallboards_login_opens_its_stream_too() {
    let token = "e2e-Wallboard-Token-42";
    let sim = TestSim::start(SimConfig {
        queues: 2,
        days: 1,
        visits_per_day: 100,
        ..SimConfig::default()
    });
    let server = sim.sla_http_with(
        "live-token",
        &[
            "--all-queues", "--tz", "UTC", "--live-interval", "1s", "--bind", "127.0.0.1:0",
        ],
        &[("SLA_HTTP_TOKEN", token)],
    );
    assert_eq!(server.get("/api/v1/live/stream").status, 401);
    let browser = Browser::launch(&scratch_dir("live-token-chromium"));
    let mut page = browser.open_with_login(&format!("{}/", server.base_url()), "wallboard", token);
    // The page's script follows the stream with the page's login: documents keep arriving.
    let first = page.eval("document.body.dataset.asOf || ''");
    let later = until(
        &mut page,
        &format!("window.lastAsOf && Date.parse(window.lastAsOf) > Number({first})"),
        "window.lastAsOf",
        30,
    );
    assert!(later.as_str().is_some_and(|t| t.ends_with('Z')), "{later}");
    let metrics = server.get("/metrics").body;
    assert!(metrics.contains("\nsla_live_subscribers 1\n"), "{metrics}");
    assert!(
        !server.log().contains(token),
        "the token leaked into the log"
    );
}

/// One subscriber of the stream on its own connection: the ids of the documents it received
/// between `start` and `deadline`.
fn subscriber(
    addr: &str,
    ready: &mpsc::Sender<()>,
    start: &mpsc::Receiver<(Instant, Instant)>,
) -> Vec<u64> {
    let mut stream = TcpStream::connect(addr).expect("the service accepts");
    stream
        .write_all(
            format!("GET /api/v1/live/stream HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n")
                .as_bytes(),
        )
        .expect("the request is sent");
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("a read timeout");
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    reader.read_line(&mut status).expect("a status line");
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    ready.send(()).expect("the test waits");
    let (from, until) = start.recv().expect("the start");
    let mut ids = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => panic!("the stream ended"),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if Instant::now() >= until {
                    return ids;
                }
                continue;
            }
            Err(e) => panic!("reading the stream: {e}"),
        }
        let at = Instant::now();
        if at >= until {
            return ids;
        }
        // Chunked framing and the event's own lines both pass through here; only `id:` lines
        // matter (chunk sizes are hexadecimal and never start with "id: ").
        if let Some(id) = line.trim_end().strip_prefix("id: ")
            && at >= from
        {
            ids.push(id.parse().expect("a numeric id"));
        }
    }
}

#[test]
fn two_hundred_subscribers_share_one_observations_query_per_live_interval() {
    const SUBSCRIBERS: usize = 200;
    const SPAN: Duration = Duration::from_secs(30);
    let sim = TestSim::start(SimConfig {
        days: 2,
        visits_per_day: 300,
        ..SimConfig::default()
    });
    // The default live interval (5 s) and re-count interval (15 s).
    let server = sim.sla_http(
        "live-load",
        &[
            "--all-queues", "--threshold", "20s", "--tz", "UTC", "--bind", "127.0.0.1:0",
        ],
    );
    assert_eq!(server.get("/api/v1/live").status, 200);
    let addr = server.base_url().trim_start_matches("http://").to_owned();

    let (ready_tx, ready_rx) = mpsc::channel();
    let mut starts = Vec::new();
    let mut threads = Vec::new();
    for _ in 0..SUBSCRIBERS {
        let (start_tx, start_rx) = mpsc::channel();
        starts.push(start_tx);
        let (addr, ready) = (addr.clone(), ready_tx.clone());
        threads.push(std::thread::spawn(move || {
            subscriber(&addr, &ready, &start_rx)
        }));
    }
    for _ in 0..SUBSCRIBERS {
        ready_rx.recv().expect("a subscriber connects");
    }
    let metrics = server.get("/metrics").body;
    assert!(
        metrics.contains(&format!("\nsla_live_subscribers {SUBSCRIBERS}\n")),
        "{metrics}"
    );

    let before = sim.server().observation_requests();
    let from = Instant::now();
    for start in &starts {
        start.send((from, from + SPAN)).expect("a subscriber waits");
    }
    let received: Vec<Vec<u64>> = threads
        .into_iter()
        .map(|t| t.join().expect("a subscriber"))
        .collect();
    let after = sim.server().observation_requests();

    // Every subscriber received every update, the same ones, in order.
    let reference = &received[0];
    assert!(
        (5..=7).contains(&reference.len()),
        "a document every 5 s for 30 s: {reference:?}"
    );
    for (i, ids) in received.iter().enumerate() {
        assert_eq!(ids, reference, "subscriber {i}");
    }
    let expect: Vec<u64> = (reference[0]..reference[0] + reference.len() as u64).collect();
    assert_eq!(reference, &expect, "no update skipped");
    // One observations query per update, whoever listens: the span's requests match its
    // updates but for a poll in flight at either end, and since start every request made one
    // update (the last id), but for one in flight now.
    let span = after - before;
    assert!(
        span.abs_diff(reference.len() as u64) <= 1,
        "{span} observations requests for {} updates",
        reference.len()
    );
    let last = *reference.last().expect("an update");
    assert!(
        after == last || after == last + 1,
        "{after} observations requests for {last} updates since start"
    );
    let distinct: BTreeSet<u64> = received.iter().flatten().copied().collect();
    assert_eq!(distinct.len(), reference.len());
}
