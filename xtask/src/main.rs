//! Project automation: `cargo xtask ci` runs every check CI runs; `cargo xtask bench` runs the
//! benchmarks whose figures `docs/PERFORMANCE.md` records.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::env;
use std::process::ExitCode;

use anyhow::{Context, bail};
use xshell::{Shell, cmd};

mod promtool;
mod provision;
mod purity;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    let args: Vec<String> = env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(&sh),
        Some("bench") => bench(&sh, &args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <ci|bench>");
            eprintln!(
                "  ci     system packages, fmt, promtool, purity gate, cargo-deny, clippy, build, tests, docs"
            );
            eprintln!(
                "  bench  run the benchmarks recorded in docs/PERFORMANCE.md (`bench http` or \
                 `bench live` for one of sla-http's alone)"
            );
            bail!("unknown or missing command")
        }
    }
}

fn project_root() -> std::path::PathBuf {
    let manifest = env!("CARGO_MANIFEST_DIR");
    std::path::Path::new(manifest)
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// The program `name` as the shell would find it on `PATH`.
fn find_on_path(name: &str) -> Option<std::path::PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn cargo() -> String {
    env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn step(name: &str) {
    println!("\n==> {name}");
}

fn ci(sh: &Shell) -> anyhow::Result<()> {
    let cargo = cargo();
    // First, so that a machine without what the tests need fails in seconds, before any build.
    step("system packages the tests need");
    provision::ensure(sh)?;

    step("cargo fmt --all --check");
    cmd!(sh, "{cargo} fmt --all --check")
        .run()
        .context("formatting differs: run cargo fmt --all")?;

    step("promtool: the Prometheus configuration, alerting rules and their unit tests");
    promtool::check(sh)?;

    step("purity gate: sla-core depends on no runtime or HTTP crate");
    purity::gate(sh, &cargo)?;

    step("cargo deny check licenses bans sources");
    cargo_deny(sh, &cargo)?;

    step("cargo clippy (warnings denied)");
    cmd!(
        sh,
        "{cargo} clippy --workspace --all-targets --all-features --locked -- -D warnings"
    )
    .run()
    .context("clippy found problems")?;

    step("cargo build --workspace --bins (the end-to-end tests run them)");
    cmd!(sh, "{cargo} build --workspace --bins --locked").run()?;

    step("cargo test (CI=true: a changed or missing snapshot fails)");
    cmd!(sh, "{cargo} test --workspace --all-features --locked")
        .env("CI", "true")
        .run()
        .context("tests failed")?;

    step("cargo doc (warnings denied)");
    cmd!(sh, "{cargo} doc --workspace --no-deps --locked")
        .env("RUSTDOCFLAGS", "-D warnings")
        .run()
        .context("documentation has warnings")?;

    println!("\nxtask ci: all checks passed");
    Ok(())
}

/// Licences, duplicate versions and sources of every dependency, as `deny.toml` sets them.
/// Advisories are left out: the advisory database is a git repository on GitHub, which CI cannot
/// reach. Installs cargo-deny from crates.io when it is missing.
fn cargo_deny(sh: &Shell, cargo: &str) -> anyhow::Result<()> {
    let installed = cmd!(sh, "{cargo} deny --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok();
    if !installed {
        println!("cargo-deny is not installed: installing it from crates.io");
        cmd!(
            sh,
            "{cargo} install --locked --no-default-features cargo-deny"
        )
        .run()
        .context("cannot install cargo-deny")?;
    }
    cmd!(sh, "{cargo} deny --locked check licenses bans sources")
        .run()
        .context("cargo deny found problems (see deny.toml)")?;
    Ok(())
}

fn bench(sh: &Shell, args: &[String]) -> anyhow::Result<()> {
    let cargo = cargo();
    // `cargo xtask bench http` runs the HTTP benchmark alone, `cargo xtask bench live` the live
    // API budget alone.
    let only = args.first().map(String::as_str);
    if only.is_none_or(|o| !matches!(o, "http" | "live")) {
        step("sla-core: tallying visits and building reports");
        cmd!(sh, "{cargo} bench -p sla-core --bench tally -- {args...}").run()?;
        step("genesys-adapter: conversation details pages into visits, against the Python SDK");
        cmd!(sh, "{cargo} bench -p genesys-adapter --bench details").run()?;
    }
    if only != Some("live") {
        step("sla-http: cached /api/v1/report against /healthz, wrk on loopback");
        http_bench::run(sh, &cargo)?;
    }
    if only != Some("http") {
        // It counts minutes of the built service's requests to the simulator
        // (LIVE_BUDGET_SECONDS, 300 by default, for 8 and for 100 queues), so it is a
        // benchmark, never part of `ci`.
        step("sla-http: requests a minute to Genesys Cloud in live mode (the live API budget)");
        cmd!(sh, "{cargo} bench -p sla-http --bench live_budget").run()?;
    }
    println!("\nRecord the figures in docs/PERFORMANCE.md.");
    Ok(())
}

/// Throughput and tail latency of `sla-http` on loopback, measured with wrk against the demo
/// org, as ratios to `/healthz` measured in the same run (absolute figures depend on the
/// machine; the ratios say what the report path costs over the bare server).
mod http_bench {
    use std::env;
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    use std::net::TcpStream;
    use std::process::{Child, Command, Stdio};
    use std::time::Instant;

    use anyhow::{Context as _, bail};
    use xshell::{Shell, cmd};

    /// The query measured: every demo queue, a week by day, two objectives.
    const REPORT: &str = "/api/v1/report?all_queues=true&period=last-7-days&tz=UTC\
                          &granularity=day&threshold=20s&threshold=configured";
    const THREADS: &str = "2";
    const CONNECTIONS: &str = "32";
    const DURATION: &str = "10s";

    /// Stops the server however the benchmark ends.
    struct Server(Child);

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    pub(crate) fn run(sh: &Shell, cargo: &str) -> anyhow::Result<()> {
        let Some(wrk) = super::find_on_path("wrk") else {
            bail!(
                "the HTTP benchmark needs wrk, which is not installed: \
                 install it with `apt-get install -y wrk` (Debian, Ubuntu) and run cargo xtask bench again"
            );
        };
        cmd!(sh, "{cargo} build --release --locked -p sla-http").run()?;
        let (server, base) = start(&super::project_root().join("target/release"))?;
        let addr = base.trim_start_matches("http://").to_owned();

        // The first request fetches from the simulator and fills the cache; later ones hit it.
        let cold = Instant::now();
        let (status, size) = get(&addr, REPORT)?;
        let cold_ms = cold.elapsed().as_secs_f64() * 1000.0;
        if status != 200 {
            bail!("GET {REPORT} answered {status}");
        }
        let mut rows = Vec::new();
        for (name, path) in [("/healthz", "/healthz"), ("cached /api/v1/report", REPORT)] {
            let (rps, p99) = measure(&wrk, &format!("{base}{path}"))?;
            rows.push((name, rps, p99));
        }
        drop(server);

        let (_, base_rps, base_p99) = rows[0];
        println!(
            "\nsla-http on loopback, wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION} --latency, release build, demo org:\n"
        );
        println!(
            "| endpoint | requests/s | p99 latency | throughput vs /healthz | p99 vs /healthz |"
        );
        println!("| --- | ---: | ---: | ---: | ---: |");
        for (name, rps, p99) in &rows {
            println!(
                "| {name} | {rps:.0} | {p99:.2} ms | {:.2} | {:.2} |",
                rps / base_rps,
                p99 / base_p99
            );
        }
        println!("\nThe report is {size} bytes of JSON.");
        println!("Cold {REPORT}: {cold_ms:.1} ms (fetched from the simulator, then cached)");
        Ok(())
    }

    /// Starts the release `sla-http --demo` on a free port; returns it and its base URL.
    fn start(dir: &std::path::Path) -> anyhow::Result<(Server, String)> {
        let binary = dir.join(format!("sla-http{}", env::consts::EXE_SUFFIX));
        let mut child = Command::new(&binary)
            .args(["--demo", "--bind", "127.0.0.1:0", "--tz", "UTC"])
            .env("SLA_LOG", "warn")
            .env_remove("SLA_HTTP_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let server = Server(child);
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let base = line
            .trim()
            .strip_prefix("sla-http listening on ")
            .with_context(|| format!("sla-http did not announce its address: {line:?}"))?
            .to_owned();
        Ok((server, base))
    }

    /// Runs wrk against `url`: requests per second and the 99th percentile in milliseconds.
    fn measure(wrk: &std::path::Path, url: &str) -> anyhow::Result<(f64, f64)> {
        println!("wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION} --latency {url}");
        let output = Command::new(wrk)
            .args([
                "-t", THREADS, "-c", CONNECTIONS, "-d", DURATION, "--latency", url,
            ])
            .output()
            .context("wrk failed to run")?;
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() || text.contains("Non-2xx") || text.contains("Socket errors") {
            bail!("wrk reported failures:\n{text}");
        }
        parse_wrk(&text)
    }

    /// One `GET` over HTTP/1.1; the status code and the size of the body.
    fn get(addr: &str, path: &str) -> anyhow::Result<(u16, usize)> {
        let mut stream = TcpStream::connect(addr).with_context(|| format!("connect {addr}"))?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let status = response
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("no status line")?;
        let body = response.split_once("\r\n\r\n").map_or(0, |(_, b)| b.len());
        Ok((status, body))
    }

    /// Throughput (requests/s) and 99th-percentile latency (ms) from `wrk --latency` output.
    fn parse_wrk(output: &str) -> anyhow::Result<(f64, f64)> {
        let rps: f64 = output
            .lines()
            .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
            .context("wrk printed no Requests/sec")?
            .trim()
            .parse()?;
        let p99 = output
            .lines()
            .find_map(|l| l.trim().strip_prefix("99%"))
            .context("wrk printed no 99% latency (is --latency set?)")?
            .trim();
        let (number, scale) = if let Some(n) = p99.strip_suffix("us") {
            (n, 0.001)
        } else if let Some(n) = p99.strip_suffix("ms") {
            (n, 1.0)
        } else if let Some(n) = p99.strip_suffix('s') {
            (n, 1000.0)
        } else {
            bail!("unexpected latency {p99:?}")
        };
        Ok((rps, number.parse::<f64>()? * scale))
    }

    #[test]
    fn wrk_output_is_read() {
        let output = "  Latency Distribution\n     50%  180.00us\n     99%    2.50ms\n\
                      Requests/sec:  41234.56\nTransfer/sec:      5.00MB\n";
        let (rps, p99) = parse_wrk(output).unwrap();
        assert!((rps - 41_234.56).abs() < 1e-6 && (p99 - 2.5).abs() < 1e-9);
        assert!(parse_wrk("Requests/sec: 1\n").is_err());
    }
}

#[cfg(test)]
mod tests {
    //! Tidy checks over the source tree.

    use std::fs;
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    rust_files(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The Rust sources of the workspace: its crates, this task runner and the e2e tests.
    fn workspace_sources(root: &Path) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for dir in ["crates", "xtask", "tests"] {
            rust_files(&root.join(dir), &mut files);
        }
        files
    }

    #[test]
    fn every_rust_file_starts_with_a_module_doc_line() {
        let root = super::project_root();
        let files = workspace_sources(&root);
        assert!(files.len() > 10, "expected to find the workspace's sources");
        let missing: Vec<String> = files
            .iter()
            .filter(|f| !fs::read_to_string(f).unwrap().starts_with("//!"))
            .map(|f| f.strip_prefix(&root).unwrap().display().to_string())
            .collect();
        assert!(
            missing.is_empty(),
            "files without a leading `//!` line: {missing:?}"
        );
    }

    #[test]
    fn no_source_reads_the_shared_folder() {
        let root = super::project_root();
        let files = workspace_sources(&root);
        let needle = ["..", "/shared/"].concat();
        let offenders: Vec<String> = files
            .iter()
            .filter(|f| fs::read_to_string(f).unwrap().contains(&needle))
            .map(|f| f.display().to_string())
            .collect();
        assert!(
            offenders.is_empty(),
            "sources must not read outside the repository: {offenders:?}"
        );
    }
}
