//! `/healthz` and `/readyz`: alive, and ready when a token can be had and the last refresh succeeded, within a deadline.

use super::*;

// ---------------------------------------------------------------------------------------------
// Probes and the rest.

#[tokio::test]
async fn healthz_answers_while_the_process_runs() {
    let h = Built {
        tallies: Arc::new(failing_tallies()),
        token: Err("login refused".to_owned()),
        ..Built::default()
    }
    .build();
    let reply = get(&h.app, "/healthz").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({ "status": "ok" }));
}

#[tokio::test]
async fn readyz_wants_a_token_and_a_successful_refresh() {
    let h = harness();
    let reply = get(&h.app, "/readyz").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    insta::assert_json_snapshot!("not_ready_before_refresh", reply.json());
    watch::refresh(&h.state).await;
    let reply = get(&h.app, "/readyz").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({ "status": "ready" }));

    let h = Built {
        tallies: Arc::new(failing_tallies()),
        token: Err("authentication failed with status 401: invalid_client".to_owned()),
        ..Built::default()
    }
    .build();
    watch::refresh(&h.state).await;
    let reply = get(&h.app, "/readyz").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    insta::assert_json_snapshot!("not_ready_after_failures", reply.json());

    // With nothing watched, a token is enough.
    let idle = idle();
    assert_eq!(get(&idle.app, "/readyz").await.status, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// Readiness under an unreachable login host.

/// A login host that takes `first_delay` to fail the first time and fails at once afterwards.
#[derive(Debug)]
struct UnreachableLogin {
    calls: AtomicUsize,
    first_delay: Duration,
}

const UNREACHABLE: &str = "gave up after 8 attempts: request POST /oauth/token failed: error sending request for url \
     (https://login.internal.example/oauth/token): client error (Connect): tcp connect error: Connection refused";

#[async_trait]
impl Upstream for UnreachableLogin {
    fn stats(&self) -> UpstreamCounts {
        UpstreamCounts::default()
    }

    async fn check_token(&self) -> Result<(), String> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            tokio::time::sleep(self.first_delay).await;
        }
        Err(UNREACHABLE.to_owned())
    }
}

/// Everything logged while it is alive, on this thread (the tests' runtime runs every task
/// on one thread).
struct CapturedLog {
    text: Arc<std::sync::Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

struct LogWriter(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    fn start() -> Self {
        let text = Arc::new(std::sync::Mutex::new(Vec::new()));
        let writer = Arc::clone(&text);
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || LogWriter(Arc::clone(&writer)))
            .finish();
        Self {
            text,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    fn text(&self) -> String {
        String::from_utf8(self.text.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test(start_paused = true)]
async fn readyz_answers_within_its_deadline_and_probes_share_one_token_check() {
    let login = Arc::new(UnreachableLogin {
        calls: AtomicUsize::new(0),
        // The client's whole retry policy against an unreachable host.
        first_delay: Duration::from_secs(50),
    });
    let h = Built {
        upstream: Some(Arc::clone(&login) as Arc<dyn Upstream>),
        settings: Settings {
            request_timeout: Duration::from_secs(10),
            ..Settings::default()
        },
        ..Built::default()
    }
    .build();
    let log = CapturedLog::start();

    let started = tokio::time::Instant::now();
    let reply = get(&h.app, "/readyz").await;
    assert_eq!(started.elapsed(), crate::ready::DEADLINE);
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert_eq!(
        reply.json(),
        json!({
            "status": "not_ready",
            "reasons": ["no access token: the token check has not finished after 2 s"],
        })
    );
    // Probes every few seconds join the check in flight rather than starting their own.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            get(&h.app, "/readyz").await.status,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    assert_eq!(login.calls.load(Ordering::SeqCst), 1);

    // Once checks finish, a probe gets the reason, without the address; a probe soon after
    // reuses it.
    tokio::time::sleep(Duration::from_mins(1)).await;
    let reply = get(&h.app, "/readyz").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.json()["reasons"][0],
        "no access token: gave up after 8 attempts: request POST /oauth/token failed: \
         error sending request: client error (Connect): tcp connect error: Connection refused"
    );
    assert_eq!(login.calls.load(Ordering::SeqCst), 2);
    tokio::time::sleep(Duration::from_secs(1)).await;
    get(&h.app, "/readyz").await;
    assert_eq!(login.calls.load(Ordering::SeqCst), 2, "reused");

    // The log has the address, and not being ready is a warning, not an error.
    let text = log.text();
    assert!(text.contains("login.internal.example"), "{text}");
    assert!(text.contains(" WARN "), "{text}");
    assert!(!text.contains("ERROR"), "{text}");
}
