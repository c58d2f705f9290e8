//! The `genesys-sim` binary: its first line names the base URL, and it serves there.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use crate::support::request_token;

#[tokio::test]
async fn prints_the_base_url_and_serves_it() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_genesys-sim"))
        .args([
            "--port",
            "0",
            "--days",
            "2",
            "--queues",
            "2",
            "--end-date",
            "2026-03-31",
        ])
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
