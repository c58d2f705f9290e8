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
        let config = self.server().config();
        sla_command(args)
            .env("GENESYSCLOUD_API_BASE", &self.base_url)
            .env("GENESYSCLOUD_OAUTHCLIENT_ID", &config.client_id)
            .env("GENESYSCLOUD_OAUTHCLIENT_SECRET", &config.client_secret)
            .output()
            .expect("sla runs")
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

/// `sla ARGS` with a clean environment: no Genesys settings or credentials, UTC as the system
/// zone, and an empty working directory (so no `.env` file is read).
pub fn sla_command(args: &[&str]) -> Command {
    let mut command = Command::new(bin("sla"));
    command.args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("GENESYSCLOUD_") || key == "SLA_LOG" || key == "RUST_LOG" {
            command.env_remove(key);
        }
    }
    let cwd = bin_dir().join("e2e-scratch").join("cwd");
    std::fs::create_dir_all(&cwd).expect("a working directory");
    command.current_dir(cwd).env("TZ", "UTC");
    command
}

/// The text a process wrote to stdout.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The text a process wrote to stderr.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A JSON Schema validator for the `sla-report/v1` contract shipped in `schemas/`.
pub fn report_schema() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schemas/sla-report-v1.schema.json"
    );
    let text = std::fs::read_to_string(path).expect("the sla-report/v1 schema");
    serde_json::from_str(&text).expect("the schema is JSON")
}
