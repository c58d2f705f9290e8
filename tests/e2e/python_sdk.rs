//! The official Genesys Cloud Python SDK against the simulator: it authenticates, lists queues
//! and runs aggregates and details queries, deserializing every response into its models.
//!
//! The SDK comes from `PyPI` into a virtual environment under the target directory. When it cannot
//! be installed, the test fails and says why: it never passes without having run.

use std::path::Path;
use std::process::Command;

use e2e::{TestSim, bin_dir};

fn python_ok(mut command: Command, what: &str) -> String {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "\n{}\n{what} FAILED:\n{text}\n{}",
        "!".repeat(72),
        "!".repeat(72)
    );
    text
}

#[test]
fn the_official_python_sdk_reads_the_simulator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let requirements = root.join("python/requirements.txt");
    let venv = bin_dir().join("python-sdk-venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("installed.txt");
    let wanted = std::fs::read_to_string(&requirements).unwrap();
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        let mut create = Command::new("python3");
        create.args(["-m", "venv", "--clear"]).arg(&venv);
        python_ok(
            create,
            "creating a Python venv (is python3-venv installed?)",
        );
        let mut install = Command::new(&python);
        install
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements);
        python_ok(
            install,
            "installing purecloudplatformclientv2 from PyPI (is the registry reachable?)",
        );
        std::fs::write(&stamp, &wanted).unwrap();
    }
    let sim = TestSim::shared();
    let mut check = Command::new(&python);
    check
        .arg(root.join("python/sdk_check.py"))
        .args([
            "--base",
            sim.base_url(),
            "--interval",
            "2026-03-23T00:00:00Z/2026-03-30T00:00:00Z",
        ])
        .env(
            "GENESYSCLOUD_OAUTHCLIENT_ID",
            &sim.server().config().client_id,
        )
        .env(
            "GENESYSCLOUD_OAUTHCLIENT_SECRET",
            &sim.server().config().client_secret,
        );
    let text = python_ok(check, "the Python SDK check");
    assert!(text.contains("SDK CHECK PASSED"), "{text}");
}
