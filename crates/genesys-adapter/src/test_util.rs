//! Test doubles behind the `test-util` feature: a clock that only moves when told, a sleep that
//! returns at once while recording the wait and moving that clock, and a scripted transport.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::seams::{
    Clock, HttpRequest, HttpResponse, Seams, Sleep, Transport, TransportError, TransportErrorKind,
};

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A clock that stands still until advanced. Clones share the same time.
#[derive(Clone, Debug)]
pub struct ManualClock {
    start: Instant,
    elapsed: Arc<Mutex<Duration>>,
}

impl ManualClock {
    /// A clock at its own origin.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            elapsed: Arc::default(),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        *lock(&self.elapsed) += by;
    }

    /// How far the clock has moved since it was made.
    pub fn elapsed(&self) -> Duration {
        *lock(&self.elapsed)
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }
}

/// A sleep that returns at once, recording each requested wait and advancing its clock by it.
#[derive(Clone, Debug)]
pub struct InstantSleep {
    clock: ManualClock,
    waits: Arc<Mutex<Vec<Duration>>>,
}

impl InstantSleep {
    /// A sleep that advances `clock`.
    pub fn new(clock: ManualClock) -> Self {
        Self {
            clock,
            waits: Arc::default(),
        }
    }

    /// Every wait requested so far, in order.
    pub fn waits(&self) -> Vec<Duration> {
        lock(&self.waits).clone()
    }

    /// The sum of the waits.
    pub fn total(&self) -> Duration {
        lock(&self.waits).iter().sum()
    }
}

#[async_trait]
impl Sleep for InstantSleep {
    async fn sleep(&self, duration: Duration) {
        lock(&self.waits).push(duration);
        self.clock.advance(duration);
    }
}

impl Seams {
    /// A scripted transport with instant time: `(seams, clock, sleep)`, jitter pinned to zero.
    pub fn scripted(transport: &ScriptedTransport) -> (Seams, ManualClock, InstantSleep) {
        let clock = ManualClock::new();
        let sleep = InstantSleep::new(clock.clone());
        let seams = Seams {
            transport: Some(Arc::new(transport.clone())),
            sleep: Arc::new(sleep.clone()),
            clock: Arc::new(clock.clone()),
            jitter: Some(0.0),
        };
        (seams, clock, sleep)
    }
}

/// One scripted answer: a response or a transport failure.
#[derive(Clone, Debug)]
pub struct Reply(Result<HttpResponse, TransportError>);

impl Reply {
    /// A response with a status and an empty body.
    pub fn status(status: u16) -> Self {
        Self(Ok(HttpResponse {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }))
    }

    /// A JSON response.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self::status(status)
            .with_header("content-type", "application/json")
            .with_body(body.to_string().into_bytes())
    }

    /// A plain-text response.
    pub fn text(status: u16, body: &str) -> Self {
        Self::status(status)
            .with_header("content-type", "text/plain")
            .with_body(body.as_bytes().to_vec())
    }

    /// Genesys's error body.
    pub fn genesys_error(status: u16, code: &str, message: &str, context_id: &str) -> Self {
        Self::json(
            status,
            &serde_json::json!({
                "message": message, "code": code, "status": status,
                "contextId": context_id, "details": [], "errors": [],
            }),
        )
    }

    /// A client-credentials token response.
    pub fn token(access_token: &str, expires_in: u64) -> Self {
        Self::json(
            200,
            &serde_json::json!({
                "access_token": access_token, "token_type": "bearer", "expires_in": expires_in,
            }),
        )
    }

    /// A request that got no response.
    pub fn error(kind: TransportErrorKind) -> Self {
        Self(Err(TransportError {
            kind,
            message: format!("scripted {kind:?} failure").to_lowercase(),
        }))
    }

    /// Adds a header to a response.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let Ok(response) = &mut self.0 {
            response
                .headers
                .push((name.to_ascii_lowercase(), value.to_owned()));
        }
        self
    }

    fn with_body(mut self, body: Vec<u8>) -> Self {
        if let Ok(response) = &mut self.0 {
            response.body = body;
        }
        self
    }
}

type Responder = Arc<dyn Fn(&HttpRequest) -> Reply + Send + Sync>;

enum Route {
    /// Replies in order; the last one repeats.
    Script(VecDeque<Reply>),
    /// Computed from the request.
    Respond(Responder),
}

#[derive(Default)]
struct Script {
    routes: HashMap<String, Route>,
    log: Vec<HttpRequest>,
}

/// A future that is pending once, then ready.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A transport that answers by URL path from a script, and records every request.
///
/// Requests to a path with no script get Genesys's 404 error body naming them, so a test sees
/// what it forgot to script.
#[derive(Clone, Default)]
pub struct ScriptedTransport {
    script: Arc<Mutex<Script>>,
}

impl fmt::Debug for ScriptedTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let script = lock(&self.script);
        let mut paths: Vec<&String> = script.routes.keys().collect();
        paths.sort();
        f.debug_struct("ScriptedTransport")
            .field("paths", &paths)
            .field("requests", &script.log.len())
            .finish()
    }
}

impl ScriptedTransport {
    /// A transport with nothing scripted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers requests to `path` with `replies` in order, repeating the last one.
    pub fn script(&self, path: &str, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.script).routes.insert(
            path.to_owned(),
            Route::Script(replies.into_iter().collect()),
        );
    }

    /// Answers requests to `path` with whatever `respond` makes of them.
    pub fn respond(
        &self,
        path: &str,
        respond: impl Fn(&HttpRequest) -> Reply + Send + Sync + 'static,
    ) {
        lock(&self.script)
            .routes
            .insert(path.to_owned(), Route::Respond(Arc::new(respond)));
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        lock(&self.script).log.clone()
    }

    /// How many requests went to `path`.
    pub fn count(&self, path: &str) -> usize {
        lock(&self.script)
            .log
            .iter()
            .filter(|r| r.url.path() == path)
            .count()
    }
}

#[async_trait]
impl Transport for ScriptedTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        lock(&self.script).log.push(request.clone());
        // Like a real exchange, answering takes a turn of the executor, so concurrent requests
        // are all in flight before the first answer arrives.
        YieldOnce(false).await;
        let responder = {
            let mut script = lock(&self.script);
            match script.routes.get_mut(request.url.path()) {
                Some(Route::Script(replies)) => {
                    let reply = if replies.len() > 1 {
                        replies.pop_front()
                    } else {
                        replies.front().cloned()
                    };
                    return reply.map_or_else(|| Reply::status(404).0, |r| r.0);
                }
                Some(Route::Respond(respond)) => Arc::clone(respond),
                None => {
                    return Reply::genesys_error(
                        404,
                        "not.found",
                        &format!("nothing scripted for {}", request.describe()),
                        "scripted",
                    )
                    .0;
                }
            }
        };
        // The lock is released first, so a responder may inspect the transport itself.
        responder(&request).0
    }
}
