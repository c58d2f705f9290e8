//! Details ingestion benchmark: Genesys conversation-details pages read into visits and folded
//! into a tally by the adapter's own page reader, at two sizes, against the official Python SDK
//! deserializing the same pages.
//!
//! Run with `cargo bench -p genesys-adapter --bench details` (or `cargo xtask bench`); results
//! are recorded in `docs/PERFORMANCE.md`.
//!
//! - Pages of 100 conversations, shaped like genesys-sim's (and Genesys's) details answers, are
//!   generated once under `target/bench-details/<size>/` and reused while their manifest matches.
//! - Each size is read in a child process of its own, so that its peak resident memory
//!   (`VmHWM`) is that size's alone: the point is that it stays flat as conversations grow.
//! - The Python SDK (`purecloudplatformclientv2`, from `tests/python/requirements.txt`) runs
//!   `ApiClient().deserialize(.., 'AnalyticsConversationQueryResponse')` over the smaller
//!   set's pages, in a venv found at `target/debug/python-sdk-venv` (made by the end-to-end
//!   tests) or made at `target/python-sdk-venv`. Without Python it is skipped with a note.
//!
//! `--sizes 20000,200000` picks the sizes; `--sdk-pages N` bounds the pages the SDK reads.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use genesys_adapter::DetailsReader;
use jiff::Timestamp;
use serde_json::json;
use sla_core::ports::{Visit, VisitQuery, VisitSink};
use sla_core::{BucketPlan, Granularity, QueueId, Tallier, Threshold, TimeWindow, Zone};

/// Bumped whenever the generated pages change, so stale ones are regenerated.
const GENERATOR: &str = "details-pages v1";
const PER_PAGE: usize = 100;
const QUEUES: usize = 10;
const DAYS: i64 = 20;
const START: &str = "2026-03-02T00:00:00Z";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(Path::new(&args[i + 1]));
        return;
    }
    let option = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let sizes: Vec<usize> = option("--sizes").map_or_else(
        || vec![20_000, 200_000],
        |s| {
            s.split(',')
                .map(|n| n.trim().parse().expect("a size"))
                .collect()
        },
    );
    let root = target_dir().join("bench-details");
    let mut rows = Vec::new();
    for &size in &sizes {
        let dir = root.join(size.to_string());
        ensure_pages(&dir, size);
        rows.push(run_child(&dir));
    }
    let smallest = root.join(sizes[0].to_string());
    let sdk_pages = option("--sdk-pages").map_or(usize::MAX, |n| n.parse().expect("a count"));
    let sdk = python_sdk(&root, &smallest, sdk_pages);
    summary(&sizes, &rows, sdk.as_ref());
}

/// `target/`, found from this executable (`target/release/deps/details-…`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the bench knows where it runs");
    exe.ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "target"))
        .map_or_else(
            || {
                exe.parent()
                    .and_then(Path::parent)
                    .and_then(Path::parent)
                    .expect("the executable sits in target/<profile>/deps")
                    .to_path_buf()
            },
            Path::to_path_buf,
        )
}

fn queue_id(q: usize) -> String {
    format!("{:08x}-5e4f-4a3b-8c2d-{q:012x}", (q + 1) * 7919)
}

fn query() -> VisitQuery {
    let start: Timestamp = START.parse().expect("an instant");
    VisitQuery {
        queues: (0..QUEUES).map(|q| QueueId::new(queue_id(q))).collect(),
        media: Vec::new(),
        window: TimeWindow::new(start, start + jiff::SignedDuration::from_hours(24 * DAYS))
            .expect("a window"),
    }
}

// --- Generating pages ----------------------------------------------------------------------

fn ms(t: i64) -> String {
    let t = Timestamp::from_millisecond(t).expect("an instant");
    format!("{t:.3}")
}

fn uuid(rng: &mut fastrand::Rng) -> String {
    let (a, b) = (rng.u64(..), rng.u64(..));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

/// One conversation as genesys-sim renders it: a customer, an `acd` participant per queue
/// visit (a tenth are transferred to a second queue), and an agent after each answer.
fn conversation(rng: &mut fastrand::Rng, out: &mut String) {
    let start_ms: i64 = START
        .parse::<Timestamp>()
        .expect("an instant")
        .as_millisecond();
    let start = start_ms + rng.i64(0..DAYS * 86_400_000);
    let media = [
        "voice", "voice", "voice", "chat", "email", "message", "callback",
    ][rng.usize(..7)];
    let id = uuid(rng);
    let ivr = if media == "voice" {
        rng.i64(2_000..20_000)
    } else {
        0
    };
    let hops = if rng.u8(..10) == 0 { 2 } else { 1 };
    let mut entered = start + ivr;
    let mut participants = Vec::new();
    let mut divisions = Vec::new();
    let mut end = entered;
    for hop in 0..hops {
        let queue = rng.usize(..QUEUES);
        let wait = rng.i64(1_000..180_000);
        let at = entered + wait;
        let outcome = if hop + 1 < hops {
            "tFlowOut"
        } else {
            [
                "tAnswered", "tAnswered", "tAnswered", "tAbandon", "tFlowOut",
            ][rng.usize(..5)]
        };
        let mut metrics = vec![
            json!({"name": "nOffered", "value": 1, "emitDate": ms(entered)}),
            json!({"name": "tAcd", "value": wait, "emitDate": ms(at)}),
            json!({"name": outcome, "value": wait, "emitDate": ms(at)}),
        ];
        if outcome == "tAbandon" && wait < 10_000 {
            metrics.push(json!({"name": "tShortAbandon", "value": wait, "emitDate": ms(at)}));
        }
        if outcome == "tAnswered" && wait > 20_000 {
            metrics.push(json!({"name": "nOverSla", "value": 1, "emitDate": ms(at)}));
        }
        let agent = (outcome == "tAnswered").then(|| uuid(rng));
        let mut session = json!({
            "sessionId": uuid(rng), "mediaType": media, "direction": "inbound",
            "metrics": metrics,
            "segments": [{"segmentStart": ms(entered), "segmentEnd": ms(at), "segmentType": "interact",
                "queueId": queue_id(queue),
                "disconnectType": if outcome == "tAbandon" { "peer" } else { "transfer" }}],
        });
        if let Some(agent) = &agent {
            session["selectedAgentId"] = json!(agent);
        }
        participants.push(json!({
            "participantId": uuid(rng), "participantName": format!("Queue {queue:02}"), "purpose": "acd",
            "sessions": [session],
        }));
        let division = format!("d1d1d1d1-0000-4000-8000-00000000000{}", queue % 2);
        if !divisions.contains(&division) {
            divisions.push(division);
        }
        end = at;
        if let Some(agent) = agent {
            let talk = rng.i64(30_000..900_000);
            participants.push(json!({
                "participantId": uuid(rng), "participantName": format!("Agent {:02}", rng.u8(1..41)),
                "purpose": "agent", "userId": agent,
                "sessions": [{"sessionId": uuid(rng), "mediaType": media, "direction": "inbound",
                    "segments": [{"segmentStart": ms(at), "segmentEnd": ms(at + talk),
                        "segmentType": "interact", "queueId": queue_id(queue), "disconnectType": "client"}]}],
            }));
            end = at + talk;
        }
        entered = at + rng.i64(0..2_000);
    }
    participants.insert(
        0,
        json!({
            "participantId": uuid(rng), "participantName": "Customer", "purpose": "customer",
            "sessions": [{"sessionId": uuid(rng), "mediaType": media, "direction": "inbound",
                "segments": [{"segmentStart": ms(start), "segmentEnd": ms(end),
                    "segmentType": "interact", "disconnectType": "endpoint"}]}],
        }),
    );
    let conversation = json!({
        "conversationId": id, "conversationStart": ms(start), "conversationEnd": ms(end),
        "originatingDirection": "inbound", "divisionIds": divisions, "participants": participants,
    });
    write!(out, "{conversation}").expect("writing to a string");
}

/// Writes `size` conversations in pages of 100 under `dir`, unless its manifest says they are
/// there already.
fn ensure_pages(dir: &Path, size: usize) {
    let pages = size.div_ceil(PER_PAGE);
    let manifest = dir.join("manifest");
    let expected = format!("{GENERATOR} conversations={size} pages={pages}");
    if fs::read_to_string(&manifest).is_ok_and(|m| m.trim() == expected) {
        return;
    }
    eprintln!(
        "generating {size} conversations in {pages} pages under {}",
        dir.display()
    );
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).expect("the page directory can be made");
    // The same seed for every size: the smaller set is the start of the larger one's stream.
    let mut rng = fastrand::Rng::with_seed(0x5e4f_4a3b);
    let mut written = 0;
    for page in 0..pages {
        let n = PER_PAGE.min(size - written);
        let mut text = format!("{{\"totalHits\":{size},\"conversations\":[");
        for i in 0..n {
            if i > 0 {
                text.push(',');
            }
            conversation(&mut rng, &mut text);
        }
        text.push_str("]}");
        fs::write(dir.join(format!("page-{page:05}.json")), text).expect("a page is written");
        written += n;
    }
    fs::write(&manifest, expected).expect("the manifest is written");
}

// --- Reading pages (in a child process) ----------------------------------------------------

struct Fold(Tallier);

impl VisitSink for Fold {
    fn visit(&mut self, visit: Visit) {
        self.0.add(&visit);
    }
}

/// Reads every page under `dir` through the adapter's reader into a tally of 10 queues × 960
/// half hours, and prints one `RESULT {json}` line: sizes, times, and the peak resident memory
/// while reading and once the tally set is built.
fn child(dir: &Path) {
    let query = query();
    let zone = Zone::get("Europe/London").expect("a zone");
    let plan = BucketPlan::new(&query.window, Granularity::HalfHour, &zone);
    let thresholds = [20_000, 60_000].map(Threshold::from_millis);
    let mut sink = Fold(Tallier::new(
        plan,
        &thresholds,
        Some(Threshold::from_millis(5_000)),
    ));
    let mut reader = DetailsReader::new(&query);
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .expect("the pages are there")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut buffer = Vec::new();
    let (mut bytes, mut conversations, mut visits) = (0usize, 0usize, 0usize);
    let mut parse = Duration::ZERO;
    let wall = Instant::now();
    for file in &files {
        buffer.clear();
        fs::File::open(file)
            .and_then(|mut f| f.read_to_end(&mut buffer))
            .expect("a page is readable");
        bytes += buffer.len();
        let started = Instant::now();
        let page = reader.read_page(&buffer, &mut sink).expect("a valid page");
        parse += started.elapsed();
        conversations += page.conversations;
        visits += page.visits;
    }
    let wall = wall.elapsed();
    // The peak while pages stream in, before the tally set is built from the counters.
    let reading_kib = status_kib("VmHWM:");
    let tallies = sink.0.finish();
    let offered: u64 = tallies.iter().map(|(_, t)| t.offered).sum();
    let result = json!({
        "pages": files.len(), "bytes": bytes, "conversations": conversations, "visits": visits,
        "offered": offered, "tallies": tallies.len(),
        "parse_s": parse.as_secs_f64(), "wall_s": wall.as_secs_f64(),
        "reading_kib": reading_kib, "peak_kib": status_kib("VmHWM:"),
        "seen": reader.conversations_seen(),
    });
    println!("RESULT {result}");
}

/// A `kB` line of `/proc/self/status`.
fn status_kib(key: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn run_child(dir: &Path) -> serde_json::Value {
    let exe = std::env::current_exe().expect("the bench knows where it runs");
    let output = Command::new(exe)
        .arg("--child")
        .arg(dir)
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .expect("the child prints its result");
    serde_json::from_str(line).expect("a JSON result")
}

// --- The Python SDK ------------------------------------------------------------------------

const SDK_SCRIPT: &str = r#"
import glob, json, os, resource, sys, time
import PureCloudPlatformClientV2  # noqa: F401  (the configuration singleton)
from PureCloudPlatformClientV2.api_client import ApiClient

class Response:
    """What ApiClient.deserialize reads from an HTTP response: its data and Content-Type."""
    def __init__(self, data):
        self.data = data
    def getheader(self, name, default=None):
        return "application/json" if name.lower() == "content-type" else default

files = sorted(glob.glob(os.path.join(sys.argv[1], "page-*.json")))[: int(sys.argv[2])]
client = ApiClient()
pages = nbytes = conversations = 0
elapsed = 0.0
for path in files:
    with open(path, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8")
    started = time.perf_counter()
    model = client.deserialize(Response(text), "AnalyticsConversationQueryResponse")
    elapsed += time.perf_counter() - started
    pages += 1
    nbytes += len(raw)
    conversations += len(model.conversations or [])
print("RESULT " + json.dumps({
    "pages": pages, "bytes": nbytes, "conversations": conversations, "parse_s": elapsed,
    "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "python": sys.version.split()[0],
}))
"#;

/// A Python with the SDK: the end-to-end tests' venv, else one made under `root`'s parent.
fn python_with_sdk(target: &Path) -> Result<PathBuf, String> {
    for venv in [
        target.join("debug/python-sdk-venv"),
        target.join("python-sdk-venv"),
    ] {
        let python = venv.join("bin/python");
        let ok = Command::new(&python)
            .args(["-c", "import PureCloudPlatformClientV2"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Ok(python);
        }
    }
    let venv = target.join("python-sdk-venv");
    let requirements =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/requirements.txt");
    eprintln!("creating {} for the Python SDK", venv.display());
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        return Err("python3 -m venv failed".to_owned());
    }
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "-r"])
        .arg(&requirements)
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        return Err(format!("pip install -r {} failed", requirements.display()));
    }
    Ok(venv.join("bin/python"))
}

fn python_sdk(root: &Path, pages: &Path, limit: usize) -> Option<serde_json::Value> {
    let target = root.parent().expect("bench-details sits in target");
    let python = match python_with_sdk(target) {
        Ok(python) => python,
        Err(why) => {
            eprintln!("the Python SDK is skipped: {why}");
            return None;
        }
    };
    let script = root.join("sdk_bench.py");
    fs::write(&script, SDK_SCRIPT).expect("the script is written");
    let output = Command::new(python)
        .arg(&script)
        .arg(pages)
        .arg(limit.min(1_000_000).to_string())
        .output()
        .expect("python runs");
    if !output.status.success() {
        eprintln!(
            "the Python SDK run failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().find_map(|l| l.strip_prefix("RESULT "))?;
    serde_json::from_str(line).ok()
}

// --- The summary ---------------------------------------------------------------------------

fn f(value: &serde_json::Value, key: &str) -> f64 {
    value[key].as_f64().unwrap_or(f64::NAN)
}

fn summary(sizes: &[usize], rows: &[serde_json::Value], sdk: Option<&serde_json::Value>) {
    println!();
    println!("Details pages (100 conversations each) read into visits and a 30-minute tally");
    println!(
        "{:<28} {:>13} {:>7} {:>8} {:>7} {:>15} {:>13} {:>13}",
        "reader",
        "conversations",
        "MB",
        "parse s",
        "MB/s",
        "conversations/s",
        "peak reading",
        "peak overall"
    );
    let mib = |row: &serde_json::Value, key: &str| match row[key].as_f64() {
        Some(kib) => format!("{:.1} MiB", kib / 1024.0),
        None => "-".to_owned(),
    };
    let line = |name: &str, row: &serde_json::Value| {
        let mb = f(row, "bytes") / 1e6;
        let secs = f(row, "parse_s");
        println!(
            "{:<28} {:>13} {:>7.1} {:>8.3} {:>7.1} {:>15.0} {:>13} {:>13}",
            name,
            row["conversations"].as_u64().unwrap_or(0),
            mb,
            secs,
            mb / secs,
            f(row, "conversations") / secs,
            mib(row, "reading_kib"),
            mib(row, "peak_kib"),
        );
    };
    for (size, row) in sizes.iter().zip(rows) {
        line(&format!("genesys-adapter, {size}"), row);
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last())
        && rows.len() > 1
    {
        println!(
            "\npeak while reading, {} to {} conversations: {} to {} \
             (the id set grows by 16 bytes a conversation; the rest is flat)",
            first["conversations"],
            last["conversations"],
            mib(first, "reading_kib"),
            mib(last, "reading_kib"),
        );
        println!(
            "overall peak adds the tally set built at the end: {} and {} non-empty tallies",
            first["tallies"], last["tallies"]
        );
    }
    let Some(sdk) = sdk else {
        println!("\nPython SDK: skipped (see above)");
        return;
    };
    println!();
    line(
        &format!(
            "Python SDK ({}), {}",
            sdk["python"].as_str().unwrap_or("?"),
            sdk["conversations"]
        ),
        sdk,
    );
    // Like for like: the Rust run over the same pages, conversations per second.
    let rust = &rows[0];
    let rust_rate = f(rust, "conversations") / f(rust, "parse_s");
    let sdk_rate = f(sdk, "conversations") / f(sdk, "parse_s");
    println!(
        "\nspeed-up over the Python SDK, conversations per second on pages of the {} set: {:.0}x",
        sizes[0],
        rust_rate / sdk_rate
    );
}
