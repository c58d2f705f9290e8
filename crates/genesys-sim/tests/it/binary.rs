//! The `genesys-sim` binary: its first line names the base URL, and it serves there.

use std::{
    io::{BufRead, BufReader, Lines},
    process::{Child, ChildStdout, Command, Stdio},
};

use crate::support::request_token;

#[tokio::test]
async fn prints_the_base_url_and_serves_it() {
    let (mut child, mut lines, base) = launch(&[
        "--port", "0", "--days", "2", "--queues", "2", "--end-date", "2026-03-31",
    ]);
    assert!(base.starts_with("http://127.0.0.1:"));
    let rest: Vec<String> = lines.by_ref().take(3).map(Result::unwrap).collect();
    assert_eq!(
        rest,
        [
            format!("export GENESYSCLOUD_API_BASE={base}"),
            "export GENESYSCLOUD_OAUTHCLIENT_ID=sim-client".to_owned(),
            "export GENESYSCLOUD_OAUTHCLIENT_SECRET=sim-secret".to_owned(),
        ]
    );
    let client = reqwest::Client::new();
    let token = request_token(&client, &base, "sim-client", "sim-secret").await;
    token.expect(200, "OAuthTokenResponse");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// The lines the binary prints after its first.
type Rest = Lines<BufReader<ChildStdout>>;

/// Starts the binary with exactly `args`; returns it, the rest of what it prints, and the base
/// URL its first line names.
fn launch(args: &[&str]) -> (Child, Rest, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_genesys-sim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .strip_prefix("genesys-sim listening on ")
        .expect("the first line names the URL")
        .to_owned();
    (child, lines, base)
}

/// Starts a small simulator with `args` added, returns it and its base URL.
fn spawn(args: &[&str]) -> (Child, String) {
    let small = ["--port", "0", "--days", "1", "--queues", "2"];
    let (child, lines, base) = launch(&[&small[..], args].concat());
    // Read the rest of what it prints before closing the pipe, so that it never writes to a
    // closed one.
    assert_eq!(lines.take(3).count(), 3);
    (child, base)
}

/// The idle and interacting agents of the first queue, as the observations query reports them.
async fn agents(base: &str) -> (u64, u64) {
    let client = reqwest::Client::new();
    let token = request_token(&client, base, "sim-client", "sim-secret").await;
    let token = token.expect(200, "OAuthTokenResponse")["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let queues = client
        .get(format!("{base}/api/v2/routing/queues"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let queues = crate::support::Reply::from_response(queues).await;
    let queue = queues.expect(200, "QueueEntityListing")["entities"][0]["id"].clone();
    let reply = client
        .post(format!("{base}/api/v2/analytics/queues/observations/query"))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "filter": {"type": "or", "predicates": [{"dimension": "queueId", "value": queue}]},
            "metrics": ["oOnQueueUsers"],
        }))
        .send()
        .await
        .unwrap();
    let reply = crate::support::Reply::from_response(reply).await;
    let body = reply.expect(200, "QueueObservationQueryResponse");
    let data = body["results"][0]["data"].as_array().unwrap();
    let count = |status: &str| {
        data.iter()
            .find(|d| d["qualifier"] == status)
            .and_then(|d| d["stats"]["count"].as_u64())
            .unwrap()
    };
    (count("IDLE"), count("INTERACTING"))
}

#[tokio::test]
async fn live_flags_shape_the_live_org() {
    let (mut quiet, base) = spawn(&[
        "--no-autopilot", "--agents-per-queue", "3", "--speed-up", "2",
    ]);
    assert_eq!(agents(&base).await, (3, 0), "no traffic: every agent idle");
    quiet.kill().unwrap();
    quiet.wait().unwrap();

    let (mut off, base) = spawn(&["--no-live"]);
    assert_eq!(agents(&base).await, (0, 0), "no live org: nobody on queue");
    off.kill().unwrap();
    off.wait().unwrap();

    let refused = Command::new(env!("CARGO_BIN_EXE_genesys-sim"))
        .args(["--speed-up", "0"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("speed_up must be between 0.01 and 1000, got 0"),
        "{stderr}"
    );
}
