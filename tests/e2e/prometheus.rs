//! A real Prometheus (Debian's `prometheus`) scraping `sla-http --demo` on loopback with the
//! shipped alerting rules loaded: today's and the live series arrive with every demo queue, the
//! rolling level meets its row's target label for label as the rules compare them, the rules
//! load and evaluate, and every metric name the rules and the Grafana dashboard use is one the
//! service exposes, so that renaming a metric fails here.

use std::collections::BTreeSet;
use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use e2e::http::{HttpReply, SlaHttp, http_get};
use e2e::{poll, scratch_dir};
use serde_json::Value;

/// The Prometheus files the repository ships.
fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(path)
}

/// The live gauges of every watched row, which must reach Prometheus with their queue labels.
const LIVE_SERIES: &[&str] = &[
    "sla_waiting",
    "sla_longest_waiting_seconds",
    "sla_interacting",
    "sla_on_queue_agents",
    "sla_waiting_over_threshold",
    "sla_rolling_offered",
    "sla_rolling_service_level_percent",
    "sla_rolling_target_percent",
];

/// The service's config file in this test: with `--demo`, no objective of its own keeps the
/// demo's defaults (20s and configured), which the rules read; they make `sla_alerts` exist.
const CONFIG: &str = r#"
[[alert]]
name = "below-target"
service_level_below = "target"
objective = "configured"
for = "2m"

[[alert]]
name = "stale"
stale_after = "1m"
"#;

/// Every `sla_…` metric name in `text`.
fn metric_names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("sla_") {
        // A name starts where no identifier character precedes it.
        let preceded = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        if !preceded {
            names.insert(tail[..end].to_owned());
        }
        rest = &tail[end..];
    }
    names
}

/// The metric names of a Prometheus text exposition.
fn exposed_names(exposition: &str) -> BTreeSet<String> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

/// The `PromQL` expressions of the Grafana dashboard, from every `expr` in its JSON.
fn dashboard_exprs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("expr" | "definition", Value::String(expr)) => out.push(expr.clone()),
                    _ => dashboard_exprs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| dashboard_exprs(v, out)),
        _ => {}
    }
}

#[test]
fn metric_names_are_read_from_text() {
    assert_eq!(
        metric_names_in("time() - sla_live_x > 60 and sla_a{q=\"sla_not\"} # my_sla_b"),
        ["sla_a", "sla_live_x", "sla_not"]
            .into_iter()
            .map(str::to_owned)
            .collect()
    );
    assert_eq!(
        exposed_names("# HELP sla_a x\n# TYPE sla_a gauge\nsla_a{q=\"1\"} 2\nsla_b 3\n"),
        ["sla_a", "sla_b"].into_iter().map(str::to_owned).collect()
    );
}

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free port on 127.0.0.1 for a server that cannot be told to take port 0 and say which.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn prometheus_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("prometheus"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "prometheus is not installed: the scrape test needs it \
                 (apt-get install -y prometheus; cargo xtask ci installs it)"
            )
        })
}

/// `GET url`, or `None` while nothing listens there yet.
fn try_get(url: &str) -> Option<HttpReply> {
    let host = url.strip_prefix("http://")?.split('/').next()?;
    TcpStream::connect(host).ok()?;
    Some(http_get(url, &[]))
}

/// The `queue` labels of `name`'s samples in an exposition.
fn queues_of(exposition: &str, name: &str) -> BTreeSet<String> {
    exposition
        .lines()
        .filter_map(|l| l.strip_prefix(name)?.strip_prefix('{'))
        .filter_map(|labels| {
            let at = labels.find(",queue=\"")? + ",queue=\"".len();
            let value = &labels[at..];
            Some(value[..value.find('"')?].to_owned())
        })
        .collect()
}

/// Percent-encodes a `PromQL` query for a URL.
fn encode(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'.' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The result vector of an instant query, when it has any series.
fn query(base: &str, promql: &str) -> Option<Vec<Value>> {
    let reply = try_get(&format!("{base}/api/v1/query?query={}", encode(promql)))?;
    let body: Value = serde_json::from_str(&reply.body).ok()?;
    let result = body["data"]["result"].as_array()?;
    (!result.is_empty()).then(|| result.clone())
}

/// Every name the rules and the dashboard use is exposed.
fn check_names_are_exposed(exposed: &BTreeSet<String>) {
    let rules = std::fs::read_to_string(deploy("prometheus/alerts.yml")).expect("alerts.yml");
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(deploy("grafana/sla.json")).expect("sla.json"),
    )
    .expect("the dashboard is JSON");
    let mut exprs = Vec::new();
    dashboard_exprs(&dashboard, &mut exprs);
    assert!(exprs.len() > 10, "the dashboard's queries: {exprs:?}");
    let mut used = metric_names_in(&rules);
    used.extend(exprs.iter().flat_map(|e| metric_names_in(e)));
    let unknown: Vec<&String> = used.iter().filter(|n| !exposed.contains(*n)).collect();
    assert!(
        unknown.is_empty(),
        "alerts.yml or sla.json use metrics sla-http does not expose: {unknown:?}\nexposed: {exposed:?}"
    );
    for name in [
        "sla_service_level_percent",
        "sla_target_percent",
        "sla_asa_seconds",
        "sla_abandon_percent",
        "sla_last_refresh_success",
        "sla_rolling_service_level_percent",
        "sla_rolling_target_percent",
        "sla_waiting",
        "sla_longest_waiting_seconds",
        "sla_rolling_asa_seconds",
        "sla_rolling_abandon_percent",
        "sla_alerts",
        "sla_alert_notifications_total",
    ] {
        assert!(
            used.contains(name),
            "{name} is neither alerted on nor shown"
        );
    }
}

/// The `expr` of the alerting rule `name` in the shipped `alerts.yml`.
fn rule_expr(name: &str) -> String {
    let rules = std::fs::read_to_string(deploy("prometheus/alerts.yml")).expect("alerts.yml");
    let at = rules
        .find(&format!("- alert: {name}\n"))
        .unwrap_or_else(|| panic!("no rule {name}"));
    rules[at..]
        .lines()
        .find_map(|l| l.trim().strip_prefix("expr: "))
        .expect("the rule's expr")
        .to_owned()
}

/// Starts Prometheus on a free loopback port with its data in `dir`, scraping `target` every
/// second with the shipped rules; gives the process and its base URL.
fn start_prometheus(dir: &Path, target: &str) -> (Running, String) {
    let port = free_port();
    // The shipped rules with every group evaluated each second: Prometheus spreads a group's
    // first evaluation over its interval, and a minute's wait would only slow the test down.
    let shipped = std::fs::read_to_string(deploy("prometheus/alerts.yml")).expect("alerts.yml");
    let rules = dir.join("alerts.yml");
    let fast: String = shipped
        .lines()
        .map(|line| match line.trim_start().strip_prefix("interval:") {
            Some(_) => format!(
                "{}interval: 1s\n",
                &line[..line.len() - line.trim_start().len()]
            ),
            None => format!("{line}\n"),
        })
        .collect();
    assert_ne!(
        fast, shipped,
        "the shipped rules set their groups' intervals"
    );
    std::fs::write(&rules, fast).expect("a rules file");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {rules}\n\
             scrape_configs:\n  - job_name: sla-http\n    static_configs:\n      - targets: [\"{target}\"]\n",
            rules = rules.display(),
        ),
    )
    .expect("a Prometheus config");
    let log = File::create(dir.join("prometheus.log")).expect("a log file");
    let prometheus = Running(
        Command::new(prometheus_binary())
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus starts"),
    );
    (prometheus, format!("http://127.0.0.1:{port}"))
}

/// The live series of every watched row reach Prometheus with their queue labels, those of
/// `sla_waiting` for each of the `demo_queues`.
fn live_series_arrive(base: &str, exposition: &str, demo_queues: usize) {
    for name in LIVE_SERIES {
        assert!(
            exposition.contains(&format!("{name}{{queue_id")),
            "{name} is not in /metrics"
        );
        let series = poll(name, Duration::from_secs(30), || {
            query(base, &format!("{name}{{job=\"sla-http\"}}"))
        });
        assert!(
            series.iter().all(|s| s["metric"]["queue"].is_string()),
            "{name}"
        );
    }
    let waiting = poll(
        "sla_waiting of every queue",
        Duration::from_secs(30),
        || {
            query(base, "sla_waiting{job=\"sla-http\"}").filter(|series| {
                let queues: BTreeSet<&str> = series
                    .iter()
                    .filter_map(|s| s["metric"]["queue"].as_str())
                    .collect();
                queues.len() == demo_queues
            })
        },
    );
    assert!(!waiting.is_empty());
}

/// The rule's comparison pairs every rolling level of the configured objective with a target.
fn levels_meet_their_targets_label_for_label(base: &str) {
    // SlaServiceLevelBelowTarget compares each rolling level with its row's target one to one:
    // its expression, made to give 0 or 1 for every pair it compares rather than keep only the
    // breaches, pairs every rolling level of the configured objective, split rows included.
    let expr = rule_expr("SlaServiceLevelBelowTarget");
    assert_eq!(expr.matches(" < ").count(), 1, "{expr}");
    let compare_all = expr.replace(" < ", " < bool ");
    let levels = poll(
        "the configured rolling levels",
        Duration::from_secs(30),
        || {
            query(
                base,
                "sla_rolling_service_level_percent{job=\"sla-http\",objective=\"configured\"}",
            )
        },
    );
    let compared =
        query(base, &compare_all).unwrap_or_else(|| panic!("{compare_all} matches no series"));
    let label_sets = |series: &[Value]| -> BTreeSet<String> {
        series
            .iter()
            .map(|s| {
                let mut labels = s["metric"].clone();
                labels.as_object_mut().expect("labels").remove("__name__");
                labels.to_string()
            })
            .collect()
    };
    assert_eq!(label_sets(&compared), label_sets(&levels));
}

/// The service's alert gauges arrive, and both rule groups load and evaluate without error.
fn alerts_and_rules_evaluate(base: &str) {
    // The service's alert gauges, a pair per rule.
    let alerts = poll("sla_alerts", Duration::from_secs(30), || {
        query(base, "sla_alerts{job=\"sla-http\"}").filter(|s| s.len() == 4)
    });
    let rules: BTreeSet<&str> = alerts
        .iter()
        .filter_map(|s| s["metric"]["rule"].as_str())
        .collect();
    assert_eq!(rules, BTreeSet::from(["below-target", "stale"]));

    // Both rule groups loaded and evaluate without error.
    let groups = poll("the rules evaluated", Duration::from_secs(30), || {
        let reply = try_get(&format!("{base}/api/v1/rules"))?;
        let body: Value = serde_json::from_str(&reply.body).ok()?;
        let groups = body["data"]["groups"].as_array()?.clone();
        let evaluated = groups.len() == 2
            && groups.iter().all(|g| {
                g["rules"]
                    .as_array()
                    .is_some_and(|r| r.iter().all(|r| r["health"] == "ok"))
            });
        evaluated.then_some(groups)
    });
    let names: Vec<&str> = groups.iter().filter_map(|g| g["name"].as_str()).collect();
    assert_eq!(names, ["sla-live", "sla-today"]);
    let count: usize = groups
        .iter()
        .map(|g| g["rules"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(count, 8);
}

#[test]
fn prometheus_scrapes_the_demo_service_and_loads_the_shipped_rules() {
    let dir = scratch_dir("prometheus");
    let config = dir.join("sla.toml");
    std::fs::write(&config, CONFIG).expect("a config file");
    let config = config.display().to_string();
    let server = SlaHttp::start(
        "prometheus-sla",
        &["--demo", "--config", &config, "--bind", "127.0.0.1:0"],
        &[],
    );
    let target = server.base_url().trim_start_matches("http://").to_owned();

    // The service's own names, once its first refreshes, today's and the live one, are in.
    let exposition = poll(
        "the first refreshes in /metrics",
        Duration::from_mins(1),
        || {
            let body = server.get("/metrics").body;
            (body.contains("sla_offered{") && body.contains("sla_waiting{")).then_some(body)
        },
    );
    let exposed = exposed_names(&exposition);

    check_names_are_exposed(&exposed);

    // A Prometheus of its own, scraping every second, with the shipped rules.
    let (_prometheus, base) = start_prometheus(&dir, &target);
    let log = || std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default();

    // The demo's queues, as the service names them: every one has counts, and those with a
    // visit measured today have a service level.
    let listing = server.get("/api/v1/queues").json();
    let demo: BTreeSet<String> = listing["queues"]
        .as_array()
        .expect("a queue list")
        .iter()
        .map(|q| q["queue_name"].as_str().expect("a name").to_owned())
        .collect();
    assert!(demo.len() > 1, "{demo:?}");
    assert_eq!(queues_of(&exposition, "sla_offered"), demo);
    let measured = queues_of(&exposition, "sla_service_level_percent");

    for (name, expect) in [
        ("sla_offered", &demo),
        ("sla_service_level_percent", &measured),
    ] {
        // Just after midnight no visit of today may be measured yet: then there is no level.
        if expect.is_empty() {
            continue;
        }
        let series = poll(
            &format!("{name} in Prometheus"),
            Duration::from_mins(1),
            || {
                query(&base, &format!("{name}{{job=\"sla-http\"}}")).filter(|series| {
                    let queues: BTreeSet<&str> = series
                        .iter()
                        .filter_map(|s| s["metric"]["queue"].as_str())
                        .collect();
                    queues.len() == expect.len()
                })
            },
        );
        let queues: BTreeSet<String> = series
            .iter()
            .map(|s| {
                s["metric"]["queue"]
                    .as_str()
                    .expect("a queue label")
                    .to_owned()
            })
            .collect();
        assert_eq!(&queues, expect, "{name}; prometheus log:\n{}", log());
        for one in &series {
            assert!(one["metric"]["queue_id"].is_string(), "{one}");
            let value: f64 = one["value"][1]
                .as_str()
                .and_then(|v| v.parse().ok())
                .expect("a number");
            assert!(value >= 0.0, "{one}");
        }
    }
    let up = query(&base, "up{job=\"sla-http\"}").expect("the scrape's up series");
    assert_eq!(up[0]["value"][1], "1");

    live_series_arrive(&base, &exposition, demo.len());
    levels_meet_their_targets_label_for_label(&base);

    alerts_and_rules_evaluate(&base);
}
