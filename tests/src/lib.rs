//! Shared harness of the end-to-end tests: a simulated org on loopback, and the built `sla` and
//! `sla-http` binaries run against it.
#![allow(
    clippy::missing_panics_doc,
    reason = "a test harness reports failure by panicking, like the tests it serves"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use genesys_sim::{SimConfig, SimServer};

/// The last day of the fixed dataset the tests query: its 30 days cover the Europe/London
/// change to summer time on 29 March 2026.
pub const END_DATE: &str = "2026-04-05";

/// A simulator running on its own runtime, so that blocking test code can drive the binaries.
#[derive(Debug)]
pub struct TestSim {
    server: Option<SimServer>,
    runtime: tokio::runtime::Runtime,
    base_url: String,
}

impl TestSim {
    /// Starts a simulator with `config` on 127.0.0.1 and a free port.
    pub fn start(config: SimConfig) -> TestSim {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let server = runtime
            .block_on(SimServer::start(config))
            .expect("the simulator starts");
        let base_url = server.base_url();
        TestSim {
            server: Some(server),
            runtime,
            base_url,
        }
    }

    /// The fixed dataset most tests share: seed 42, 8 queues, 30 days ending [`END_DATE`].
    pub fn shared() -> &'static TestSim {
        static SIM: OnceLock<TestSim> = OnceLock::new();
        SIM.get_or_init(|| TestSim::start(fixed_config()))
    }

    /// The base URL, such as `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The running server.
    pub fn server(&self) -> &SimServer {
        self.server.as_ref().expect("the simulator runs")
    }

    /// Stops the simulator now, as a crash would look to a client.
    pub fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.stop());
        }
    }

    /// `sla ARGS` against this simulator, with its credentials in the environment.
    pub fn sla(&self, args: &[&str]) -> Output {
        self.sla_command(args).output().expect("sla runs")
    }

    /// `sla ARGS` against this simulator, not started yet: for tests that read its output while
    /// it runs.
    pub fn sla_command(&self, args: &[&str]) -> Command {
        let config = self.server().config();
        let mut command = sla_command(args);
        command
            .env("GENESYSCLOUD_API_BASE", &self.base_url)
            .env("GENESYSCLOUD_OAUTHCLIENT_ID", &config.client_id)
            .env("GENESYSCLOUD_OAUTHCLIENT_SECRET", &config.client_secret);
        command
    }
}

/// The configuration of the fixed dataset, for tests that add faults to it.
pub fn fixed_config() -> SimConfig {
    SimConfig {
        seed: 42,
        queues: 8,
        days: 30,
        visits_per_day: 150,
        end_date: Some(END_DATE.parse().expect("a date")),
        ..SimConfig::default()
    }
}

/// The directory holding the built binaries (`target/debug` for `cargo test`).
pub fn bin_dir() -> PathBuf {
    // The test binary lives in target/<profile>/deps; the binaries one level up.
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .to_path_buf()
}

/// The path of a built binary of the workspace, failing clearly when it has not been built.
pub fn bin(name: &str) -> PathBuf {
    let path = bin_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: build the binaries first (cargo build --workspace --bins, as cargo xtask ci does)",
        path.display()
    );
    path
}

/// A scratch directory under the target directory, emptied first.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = bin_dir().join("e2e-scratch").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// `NAME ARGS` with a clean environment: no Genesys, `sla` or `sla-http` settings from the
/// caller's environment, UTC as the system zone, and `cwd` as the working directory (an empty
/// one, so that no `.env` file is read).
pub fn command(name: &str, args: &[&str], cwd: &Path) -> Command {
    let mut command = Command::new(bin(name));
    command.args(args).current_dir(cwd).env("TZ", "UTC");
    for (key, _) in std::env::vars() {
        if key.starts_with("GENESYSCLOUD_") || key.starts_with("SLA_") || key == "RUST_LOG" {
            command.env_remove(key);
        }
    }
    command
}

/// Asks `get` every 100 ms until it gives a value, for at most `limit`: for what another
/// process does in its own time, such as a scrape or a webhook delivery.
#[track_caller]
pub fn poll<T>(what: &str, limit: std::time::Duration, mut get: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(found) = get() {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// `sla ARGS` with a clean environment (see [`command`]).
pub fn sla_command(args: &[&str]) -> Command {
    let cwd = bin_dir().join("e2e-scratch").join("cwd");
    std::fs::create_dir_all(&cwd).expect("a working directory");
    command("sla", args, &cwd)
}

/// The text a process wrote to stdout.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The text a process wrote to stderr.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The flags every headless Chromium of the tests runs with: no sandbox, GPU or QUIC, and
/// nothing of its own on the network (first-run pages, updates, sync).
const HEADLESS_CHROMIUM: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
];

/// The stdout of a process that must have succeeded; `what` names it when it did not.
#[track_caller]
pub fn succeeded(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed with {:?}:\n{}",
        output.status.code(),
        stderr(output)
    );
    stdout(output)
}

/// Checks that a process exited with `code` and said `needle` on stderr.
#[track_caller]
pub fn assert_exit_saying(output: &Output, code: i32, needle: &str) {
    let said = stderr(output);
    assert_eq!(output.status.code(), Some(code), "{said}");
    assert!(said.contains(needle), "{said}");
}

/// A JSON Schema validator for the `sla-report/v1` contract shipped in `schemas/`.
pub fn report_schema() -> serde_json::Value {
    shipped_schema("sla-report-v1")
}

/// The `sla-live/v1` schema shipped in `schemas/`.
pub fn live_schema() -> serde_json::Value {
    shipped_schema("sla-live-v1")
}

/// The `sla-alerts/v1` schema shipped in `schemas/`, whose `$defs/event` is the generic webhook
/// body.
pub fn alerts_schema() -> serde_json::Value {
    shipped_schema("sla-alerts-v1")
}

/// `schemas/NAME.schema.json`, parsed.
fn shipped_schema(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schemas")
        .join(format!("{name}.schema.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("the {name} schema at {}: {e}", path.display()));
    serde_json::from_str(&text).expect("the schema is JSON")
}

/// The first value of header `name` (lower case) among `headers`, whose names are lower case:
/// replies and received requests look their headers up alike.
fn first_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// `body` as JSON, or a panic that shows the body.
fn body_json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

/// The directory that keeps screenshots for people to look at: `target/screenshots`.
pub fn screenshot_dir() -> PathBuf {
    let dir = bin_dir()
        .parent()
        .expect("the target directory")
        .join("screenshots");
    std::fs::create_dir_all(&dir).expect("a screenshot directory");
    dir
}

/// `sla-http` as a child process, spoken to over plain HTTP/1.1 on loopback, and the headless
/// Chromium that looks at its dashboard. Self-contained: std only.
pub mod http {
    #![allow(
        clippy::missing_panics_doc,
        reason = "a test harness reports failure by panicking, like the tests it serves"
    )]

    use std::fmt::Write as _;
    use std::fs::File;
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    use std::net::TcpStream;
    use std::path::{Path, PathBuf};
    use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
    use std::time::Duration;

    use crate::{command, scratch_dir};

    /// A running `sla-http`, stopped (killed) when dropped.
    #[derive(Debug)]
    pub struct SlaHttp {
        child: Child,
        /// Kept open: the server may print more after its first line.
        _stdout: BufReader<ChildStdout>,
        base_url: String,
        stderr_path: PathBuf,
    }

    impl SlaHttp {
        /// Starts `sla-http ARGS` with `env` added, and reads the address from its first line,
        /// `sla-http listening on http://127.0.0.1:PORT`.
        pub fn start(name: &str, args: &[&str], env: &[(&str, &str)]) -> SlaHttp {
            let dir = scratch_dir(name);
            let stderr_path = dir.join("stderr.log");
            let stderr = File::create(&stderr_path).expect("a log file");
            let mut command = command("sla-http", args, &dir);
            command
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(stderr);
            let mut child = command.spawn().expect("sla-http starts");
            let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
            let mut line = String::new();
            let read = stdout.read_line(&mut line).expect("sla-http's first line");
            let Some(base_url) = line
                .trim()
                .strip_prefix("sla-http listening on ")
                .filter(|_| read > 0)
            else {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "sla-http did not announce its address; stdout {line:?}, stderr:\n{}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                );
            };
            SlaHttp {
                base_url: base_url.to_owned(),
                child,
                _stdout: stdout,
                stderr_path,
            }
        }

        /// Runs `sla-http ARGS` expecting it to refuse to start: it must exit without announcing
        /// an address. Gives its exit status and what it wrote to stderr.
        pub fn refused(name: &str, args: &[&str]) -> (ExitStatus, String) {
            SlaHttp::refused_with(name, args, &[])
        }

        /// [`SlaHttp::refused`] with `env` added to the environment.
        pub fn refused_with(
            name: &str,
            args: &[&str],
            env: &[(&str, &str)],
        ) -> (ExitStatus, String) {
            let dir = scratch_dir(name);
            let mut child = command("sla-http", args, &dir)
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("sla-http starts");
            let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
            let mut line = String::new();
            // End of stdout without a line means the process exited: no waiting needed.
            let read = stdout.read_line(&mut line).expect("sla-http's stdout");
            if read > 0 {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "sla-http {args:?} started ({}) instead of refusing",
                    line.trim()
                );
            }
            let output = child.wait_with_output().expect("sla-http exits");
            (
                output.status,
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        }

        /// The base URL, such as `http://127.0.0.1:41234`.
        pub fn base_url(&self) -> &str {
            &self.base_url
        }

        /// `GET path` with no headers.
        pub fn get(&self, path: &str) -> HttpReply {
            http_get(&format!("{}{path}", self.base_url), &[])
        }

        /// `GET path` with the given headers.
        pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> HttpReply {
            http_get(&format!("{}{path}", self.base_url), headers)
        }

        /// `POST path` with `body`.
        pub fn post(&self, path: &str, body: &str) -> HttpReply {
            http_request("POST", &format!("{}{path}", self.base_url), &[], body)
        }

        /// What the server has logged so far.
        pub fn log(&self) -> String {
            std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
        }

        /// Sends SIGTERM and waits for the process to exit.
        pub fn terminate(&mut self) -> ExitStatus {
            let status = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status()
                .expect("kill runs");
            assert!(status.success(), "kill -TERM failed");
            self.child.wait().expect("sla-http exits")
        }
    }

    impl Drop for SlaHttp {
        fn drop(&mut self) {
            if matches!(self.child.try_wait(), Ok(None)) {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }

    /// A response: status, headers (names in lower case) and body.
    #[derive(Debug)]
    pub struct HttpReply {
        /// The status code.
        pub status: u16,
        /// The headers, names in lower case, in order.
        pub headers: Vec<(String, String)>,
        /// The body as text.
        pub body: String,
    }

    impl HttpReply {
        /// The first value of header `name` (lower case).
        pub fn header(&self, name: &str) -> Option<&str> {
            crate::first_header(&self.headers, name)
        }

        /// The body as JSON.
        pub fn json(&self) -> serde_json::Value {
            crate::body_json(self.body.as_bytes())
        }
    }

    /// `GET url` over HTTP/1.1 with `Connection: close`; `url` is `http://HOST:PORT/PATH`.
    pub fn http_get(url: &str, headers: &[(&str, &str)]) -> HttpReply {
        http_request("GET", url, headers, "")
    }

    /// `METHOD url` with `body`, over HTTP/1.1 with `Connection: close`.
    pub fn http_request(
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> HttpReply {
        let rest = url.strip_prefix("http://").expect("an http:// URL");
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        let mut stream = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect {host}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_mins(2)))
            .expect("a read timeout");
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        for (name, value) in headers {
            let _ = write!(request, "{name}: {value}\r\n");
        }
        if !body.is_empty() {
            let _ = write!(request, "Content-Length: {}\r\n", body.len());
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream
            .write_all(request.as_bytes())
            .expect("the request is sent");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("the response is read");
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a header block");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut body = raw[split + 4..].to_vec();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("a status line: {status_line:?}"));
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let chunked = headers
            .iter()
            .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
        if chunked {
            body = dechunk(&body);
        }
        HttpReply {
            status,
            headers,
            body: String::from_utf8(body).expect("a UTF-8 body"),
        }
    }

    fn dechunk(mut data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let line_end = data
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("a chunk size line");
            let size_text = String::from_utf8_lossy(&data[..line_end]);
            let size_text = size_text.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_text, 16).expect("a hexadecimal chunk size");
            data = &data[line_end + 2..];
            if size == 0 {
                return out;
            }
            out.extend_from_slice(&data[..size]);
            data = &data[size + 2..];
        }
    }

    /// Headless Chromium (Debian's `chromium`). Missing is a failure, not a skip: CI installs
    /// it, and a silently skipped browser test proves nothing.
    pub fn chromium() -> PathBuf {
        let path = std::env::var_os("PATH").unwrap_or_default();
        for dir in std::env::split_paths(&path) {
            for name in ["chromium", "chromium-browser"] {
                let candidate = dir.join(name);
                if candidate.is_file() {
                    return candidate;
                }
            }
        }
        panic!(
            "chromium is not installed: the dashboard's browser test needs it \
             (apt-get install -y chromium; .ci/run installs it)"
        );
    }

    /// Runs headless Chromium with a fresh profile and `args`, then `url`; returns stdout.
    pub fn run_chromium(profile: &Path, args: &[&str], url: &str) -> String {
        let output = Command::new(chromium())
            .args(crate::HEADLESS_CHROMIUM)
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(args)
            .arg(url)
            .stdin(Stdio::null())
            .output()
            .expect("chromium runs");
        assert!(
            output.status.success(),
            "chromium failed with {:?}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

/// A webhook receiver on 127.0.0.1 for `sla-http`'s alert notifications: it records every
/// request (path, headers, body and when it came) and answers each path as told: a status, or
/// never (the connection stays open, unanswered, until the receiver is dropped). Std only, a
/// thread per connection, so one hanging request never holds up another.
pub mod receiver {
    #![allow(
        clippy::missing_panics_doc,
        reason = "a test harness reports failure by panicking, like the tests it serves"
    )]

    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    use std::net::{TcpListener, TcpStream};
    use std::sync::{Arc, Condvar, Mutex, PoisonError};
    use std::time::{Duration, Instant};

    /// How a path answers.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Answer {
        /// This status, with an empty body.
        Status(u16),
        /// No answer at all: the request hangs until the client gives up.
        Hang,
    }

    /// One request received.
    #[derive(Clone, Debug)]
    pub struct Received {
        /// The request line's method.
        pub method: String,
        /// The request line's path.
        pub path: String,
        /// The headers, names in lower case, in order.
        pub headers: Vec<(String, String)>,
        /// The exact body bytes.
        pub body: Vec<u8>,
        /// When the request had been read whole.
        pub at: Instant,
    }

    impl Received {
        /// The first value of header `name` (lower case).
        pub fn header(&self, name: &str) -> Option<&str> {
            crate::first_header(&self.headers, name)
        }

        /// The body as JSON.
        pub fn json(&self) -> serde_json::Value {
            crate::body_json(&self.body)
        }
    }

    #[derive(Debug, Default)]
    struct Shared {
        seen: Mutex<Vec<Received>>,
        arrived: Condvar,
        /// Connections left unanswered, kept open until the receiver goes.
        held: Mutex<Vec<TcpStream>>,
    }

    /// The running receiver.
    #[derive(Debug)]
    pub struct Receiver {
        addr: String,
        shared: Arc<Shared>,
    }

    impl Receiver {
        /// Listens on 127.0.0.1 and a free port; `answers` says how each path answers, and any
        /// other path gets 404.
        pub fn start(answers: &[(&str, Answer)]) -> Receiver {
            let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
            let addr = listener
                .local_addr()
                .expect("the bound address")
                .to_string();
            let shared = Arc::new(Shared::default());
            let answers: Vec<(String, Answer)> = answers
                .iter()
                .map(|(path, answer)| ((*path).to_owned(), *answer))
                .collect();
            let accepting = Arc::clone(&shared);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    let (shared, answers) = (Arc::clone(&accepting), answers.clone());
                    std::thread::spawn(move || serve(stream, &shared, &answers));
                }
            });
            Receiver { addr, shared }
        }

        /// The URL of `path`, such as `http://127.0.0.1:41234/slack`.
        pub fn url(&self, path: &str) -> String {
            format!("http://{}{path}", self.addr)
        }

        /// Every request to `path` so far, in the order they came.
        pub fn requests(&self, path: &str) -> Vec<Received> {
            self.shared
                .seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .filter(|r| r.path == path)
                .cloned()
                .collect()
        }

        /// Waits until `path` has had `n` requests, for at most `limit`; gives them all.
        pub fn wait_for(&self, path: &str, n: usize, limit: Duration) -> Vec<Received> {
            let deadline = Instant::now() + limit;
            let mut seen = self
                .shared
                .seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            loop {
                let matching: Vec<Received> =
                    seen.iter().filter(|r| r.path == path).cloned().collect();
                if matching.len() >= n {
                    return matching;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                assert!(
                    !left.is_zero(),
                    "{path} had {} requests, not {n}, within {limit:?}",
                    matching.len()
                );
                seen = self
                    .shared
                    .arrived
                    .wait_timeout(seen, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
    }

    impl Drop for Receiver {
        fn drop(&mut self) {
            // Closing the unanswered connections ends the requests that hang on them.
            self.shared
                .held
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
        }
    }

    /// Reads one request from `stream`, records it and answers as its path is told to.
    fn serve(stream: TcpStream, shared: &Shared, answers: &[(String, Answer)]) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.is_empty() {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).is_err() {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0_u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let answer = answers
            .iter()
            .find(|(p, _)| *p == path)
            .map_or(Answer::Status(404), |(_, a)| *a);
        {
            let mut seen = shared.seen.lock().unwrap_or_else(PoisonError::into_inner);
            seen.push(Received {
                method,
                path,
                headers,
                body,
                at: Instant::now(),
            });
        }
        shared.arrived.notify_all();
        let mut stream = reader.into_inner();
        match answer {
            Answer::Status(code) => {
                let _ = write!(
                    stream,
                    "HTTP/1.1 {code} Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
            Answer::Hang => shared
                .held
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(stream),
        }
    }
}

impl TestSim {
    /// `sla-http ARGS` against this simulator, with its base URL and credentials in the
    /// environment, as an operator would point it at Genesys Cloud.
    pub fn sla_http(&self, name: &str, args: &[&str]) -> http::SlaHttp {
        self.sla_http_with(name, args, &[])
    }

    /// [`TestSim::sla_http`] with `env` added to the environment.
    pub fn sla_http_with(&self, name: &str, args: &[&str], env: &[(&str, &str)]) -> http::SlaHttp {
        let config = self.server().config();
        let mut all = vec![
            ("GENESYSCLOUD_API_BASE", self.base_url.as_str()),
            ("GENESYSCLOUD_OAUTHCLIENT_ID", config.client_id.as_str()),
            (
                "GENESYSCLOUD_OAUTHCLIENT_SECRET",
                config.client_secret.as_str(),
            ),
        ];
        all.extend_from_slice(env);
        http::SlaHttp::start(name, args, &all)
    }
}

/// Headless Chromium driven over the `DevTools` protocol: open a page, evaluate script in it,
/// resize the viewport and take screenshots, all in one document, so a test can watch a page
/// change without navigating. A minimal WebSocket client over std, since the protocol needs
/// little more than text frames.
pub mod devtools {
    #![allow(
        clippy::missing_panics_doc,
        reason = "a test harness reports failure by panicking, like the tests it serves"
    )]

    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    use std::net::TcpStream;
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::time::Duration;

    use serde_json::{Value, json};

    use crate::http::chromium;

    /// A headless Chromium with a `DevTools` port, killed when dropped.
    #[derive(Debug)]
    pub struct Browser {
        child: Child,
        /// The browser's `DevTools` WebSocket URL.
        url: String,
    }

    impl Browser {
        /// Starts Chromium with a fresh profile in `profile` and waits for its `DevTools` port.
        pub fn launch(profile: &Path) -> Browser {
            let mut child = Command::new(chromium())
                .args(crate::HEADLESS_CHROMIUM)
                .args([
                    "--remote-debugging-address=127.0.0.1",
                    "--remote-debugging-port=0",
                ])
                .arg(format!("--user-data-dir={}", profile.display()))
                .arg("about:blank")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("chromium runs");
            let stderr = child.stderr.take().expect("piped stderr");
            let mut lines = BufReader::new(stderr).lines();
            let url = loop {
                let Some(Ok(line)) = lines.next() else {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("chromium exited without a DevTools port");
                };
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    break url.trim().to_owned();
                }
            };
            // Chromium keeps writing to stderr; a full pipe would stall it.
            std::thread::spawn(move || lines.for_each(drop));
            Browser { child, url }
        }

        /// A new tab showing `url`, once it has loaded.
        pub fn open(&self, url: &str) -> Page {
            let mut browser = Page {
                socket: WebSocket::connect(&self.url),
                next_id: 0,
            };
            let target = browser.call("Target.createTarget", &json!({ "url": "about:blank" }));
            let id = target["targetId"].as_str().expect("a target id");
            let host = self
                .url
                .trim_start_matches("ws://")
                .split('/')
                .next()
                .expect("a host");
            let mut page = Page {
                socket: WebSocket::connect(&format!("ws://{host}/devtools/page/{id}")),
                next_id: 0,
            };
            page.call("Page.enable", &json!({}));
            page.call("Page.navigate", &json!({ "url": url }));
            page.wait_for_event("Page.loadEventFired");
            page
        }
    }

    impl Browser {
        /// A new tab showing `url`, answering its HTTP authentication challenge with `user`
        /// and `password` as a person would in the browser's login dialog, so the browser
        /// holds the login for later requests, as it then does.
        pub fn open_with_login(&self, url: &str, user: &str, password: &str) -> Page {
            let mut page = self.open("about:blank");
            page.call(
                "Fetch.enable",
                &json!({ "handleAuthRequests": true, "patterns": [{ "urlPattern": "*" }] }),
            );
            page.send("Page.navigate", &json!({ "url": url }));
            loop {
                let message: Value = serde_json::from_str(&page.socket.receive()).expect("JSON");
                let params = &message["params"];
                match message["method"].as_str() {
                    Some("Fetch.requestPaused") => page.send(
                        "Fetch.continueRequest",
                        &json!({ "requestId": params["requestId"] }),
                    ),
                    Some("Fetch.authRequired") => page.send(
                        "Fetch.continueWithAuth",
                        &json!({
                            "requestId": params["requestId"],
                            "authChallengeResponse": {
                                "response": "ProvideCredentials",
                                "username": user,
                                "password": password,
                            },
                        }),
                    ),
                    Some("Page.loadEventFired") => break,
                    _ => {}
                }
            }
            page.call("Fetch.disable", &json!({}));
            page
        }
    }

    impl Drop for Browser {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// One tab.
    #[derive(Debug)]
    pub struct Page {
        socket: WebSocket,
        next_id: u64,
    }

    impl Page {
        /// Sends `method` without waiting for its answer.
        fn send(&mut self, method: &str, params: &Value) {
            self.next_id += 1;
            let message = json!({ "id": self.next_id, "method": method, "params": params });
            self.socket.send(&message.to_string());
        }

        /// Calls `method`; returns its result, panicking on a protocol error.
        pub fn call(&mut self, method: &str, params: &Value) -> Value {
            self.next_id += 1;
            let id = self.next_id;
            let message = json!({ "id": id, "method": method, "params": params });
            self.socket.send(&message.to_string());
            loop {
                let reply: Value = serde_json::from_str(&self.socket.receive()).expect("JSON");
                if reply["id"] == id {
                    assert!(reply.get("error").is_none(), "{method}: {reply}");
                    return reply["result"].clone();
                }
            }
        }

        fn wait_for_event(&mut self, method: &str) {
            loop {
                let message: Value = serde_json::from_str(&self.socket.receive()).expect("JSON");
                if message["method"] == method {
                    return;
                }
            }
        }

        /// The value of a script expression (JSON-serialisable), evaluated in the page.
        pub fn eval(&mut self, expression: &str) -> Value {
            let result = self.call(
                "Runtime.evaluate",
                &json!({ "expression": expression, "returnByValue": true }),
            );
            assert!(
                result.get("exceptionDetails").is_none(),
                "{expression}: {result}"
            );
            result["result"]["value"].clone()
        }

        /// The value a promise-valued script expression resolves to: the page does the waiting,
        /// with its own timers, so a test can wait for the page to reach a state.
        pub fn eval_async(&mut self, expression: &str) -> Value {
            let result = self.call(
                "Runtime.evaluate",
                &json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
            );
            assert!(
                result.get("exceptionDetails").is_none(),
                "{expression}: {result}"
            );
            result["result"]["value"].clone()
        }

        /// Sets the viewport to `width` × `height` CSS pixels.
        pub fn resize(&mut self, width: u32, height: u32) {
            self.call(
                "Emulation.setDeviceMetricsOverride",
                &json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
            );
        }

        /// A PNG of the viewport, base64-encoded as the protocol sends it.
        pub fn screenshot_base64(&mut self) -> String {
            let result = self.call("Page.captureScreenshot", &json!({ "format": "png" }));
            result["data"].as_str().expect("image data").to_owned()
        }
    }

    /// A client WebSocket: text frames out (masked, as RFC 6455 wants of clients), whole
    /// messages in.
    #[derive(Debug)]
    struct WebSocket {
        stream: TcpStream,
    }

    impl WebSocket {
        fn connect(url: &str) -> WebSocket {
            let rest = url.strip_prefix("ws://").expect("a ws:// URL");
            let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let mut stream = TcpStream::connect(host).expect("the DevTools port answers");
            stream
                .set_read_timeout(Some(Duration::from_mins(2)))
                .expect("a read timeout");
            let request = format!(
                "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Key: c2xhLWUyZS1kZXZ0b29scw==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            );
            stream
                .write_all(request.as_bytes())
                .expect("the handshake is sent");
            let mut head = Vec::new();
            let mut byte = [0_u8];
            while !head.ends_with(b"\r\n\r\n") {
                stream.read_exact(&mut byte).expect("the handshake answer");
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head);
            assert!(head.starts_with("HTTP/1.1 101"), "{head}");
            WebSocket { stream }
        }

        fn send(&mut self, text: &str) {
            let payload = text.as_bytes();
            let mut frame = vec![0x81_u8];
            match payload.len() {
                n if n < 126 => frame.push(0x80 | u8::try_from(n).expect("small")),
                n if n <= 0xFFFF => {
                    frame.push(0x80 | 0x7e);
                    frame.extend_from_slice(&u16::try_from(n).expect("fits").to_be_bytes());
                }
                n => {
                    frame.push(0x80 | 0x7f);
                    frame.extend_from_slice(&(n as u64).to_be_bytes());
                }
            }
            let mask = [0x5a_u8, 0x17, 0xc3, 0x8e];
            frame.extend_from_slice(&mask);
            frame.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
            self.stream.write_all(&frame).expect("a frame is sent");
        }

        fn receive(&mut self) -> String {
            let mut message = Vec::new();
            loop {
                let mut head = [0_u8; 2];
                self.stream.read_exact(&mut head).expect("a frame");
                let (fin, opcode) = (head[0] & 0x80 != 0, head[0] & 0x0f);
                let mut length = u64::from(head[1] & 0x7f);
                if length == 126 {
                    let mut bytes = [0_u8; 2];
                    self.stream.read_exact(&mut bytes).expect("a length");
                    length = u64::from(u16::from_be_bytes(bytes));
                } else if length == 127 {
                    let mut bytes = [0_u8; 8];
                    self.stream.read_exact(&mut bytes).expect("a length");
                    length = u64::from_be_bytes(bytes);
                }
                let mut payload = vec![0_u8; usize::try_from(length).expect("fits")];
                self.stream.read_exact(&mut payload).expect("a payload");
                match opcode {
                    0x8 => panic!("the DevTools connection closed"),
                    // A ping wants a pong with the same payload; pongs need nothing.
                    0x9 => {
                        let mut pong =
                            vec![0x8a_u8, 0x80 | u8::try_from(payload.len()).unwrap_or(0)];
                        pong.extend_from_slice(&[0, 0, 0, 0]);
                        pong.extend_from_slice(&payload);
                        self.stream.write_all(&pong).expect("a pong is sent");
                        continue;
                    }
                    0xa => continue,
                    _ => message.extend_from_slice(&payload),
                }
                if fin {
                    return String::from_utf8(message).expect("a UTF-8 message");
                }
            }
        }
    }
}
