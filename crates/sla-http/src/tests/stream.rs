//! `GET /api/v1/live/stream`: Server-Sent Events, one document per refresh to every
//! subscriber, a retry hint, keep-alive comments, a bound on subscribers, and an end at
//! shutdown.

use futures_util::StreamExt as _;

use super::*;

use crate::live::Poller;

/// One event as sent: its fields in order, comments as `("", text)`.
#[derive(Debug)]
struct SseEvent {
    fields: Vec<(String, String)>,
}

impl SseEvent {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn id(&self) -> u64 {
        self.get("id").and_then(|id| id.parse().ok()).unwrap_or(0)
    }

    fn json(&self) -> Value {
        serde_json::from_str(self.get("data").expect("a data line")).unwrap()
    }
}

/// A client reading a stream's body event by event.
struct Subscriber {
    body: axum::body::BodyDataStream,
    buffer: String,
}

impl Subscriber {
    /// The next event (a block ending with a blank line); `None` when the stream ends.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let fields = block
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(|line| {
                        let (name, value) = line.split_once(':').unwrap_or((line, ""));
                        (
                            name.to_owned(),
                            value.strip_prefix(' ').unwrap_or(value).to_owned(),
                        )
                    })
                    .collect();
                return Some(SseEvent { fields });
            }
            let chunk = self.body.next().await?.expect("a readable body");
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8 events"));
        }
    }

    /// The next event carrying a document, skipping comments.
    async fn document(&mut self) -> SseEvent {
        loop {
            let event = self.next().await.expect("the stream goes on");
            if event.get("data").is_some() {
                return event;
            }
        }
    }
}

async fn subscribe(app: &Router, authorization: Option<&str>) -> Result<Subscriber, Reply> {
    let mut request = Request::get("/api/v1/live/stream");
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    if response.status() != StatusCode::OK {
        return Err(reply_of(response).await);
    }
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
    Ok(Subscriber {
        body: response.into_body().into_data_stream(),
        buffer: String::new(),
    })
}

#[tokio::test(start_paused = true)]
async fn the_stream_sends_one_event_per_refresh_to_every_subscriber() {
    let live = Arc::new(FixtureLive::default());
    let h = with_live(&live, watching());
    let mut subscribers = Vec::new();
    for _ in 0..3 {
        subscribers.push(subscribe(&h.app, None).await.unwrap());
    }
    for subscriber in &mut subscribers {
        // First the reconnection hint, before any document.
        let hello = subscriber.next().await.unwrap();
        assert_eq!(hello.get("retry"), Some("3000"));
        assert_eq!(hello.get(""), Some("sla-live/v1"));
        assert_eq!(hello.get("data"), None);
    }
    assert_eq!(h.state.live.subscribers(), 3);

    let mut poller = Poller::default();
    for n in 1..=3_u64 {
        live.add_waiting(now() - jiff::SignedDuration::from_secs(30));
        poller.refresh(&h.state).await;
        let published = h.state.live.status().last.unwrap();
        for subscriber in &mut subscribers {
            let event = subscriber.document().await;
            assert_eq!(event.id(), n);
            assert_eq!(event.get("data"), Some(published.compact.as_str()));
            let doc = event.json();
            assert_eq!(doc["schema"], "sla-live/v1");
            assert_eq!(doc["total"]["live"]["waiting"], 4 + n);
        }
    }
    // One observation per refresh, whoever listens.
    assert_eq!(live.calls(), 3);

    // A late subscriber gets the current document first, then the next ones.
    let mut late = subscribe(&h.app, None).await.unwrap();
    assert_eq!(late.document().await.id(), 3);
    poller.refresh(&h.state).await;
    assert_eq!(late.document().await.id(), 4);
    for subscriber in &mut subscribers {
        assert_eq!(subscriber.document().await.id(), 4);
    }

    // A subscriber that goes away gives its place back.
    drop(late);
    drop(subscribers.pop());
    assert_eq!(h.state.live.subscribers(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_quiet_stream_sends_keep_alive_comments_and_ends_at_shutdown() {
    let h = with_live(&Arc::default(), watching());
    let mut subscriber = subscribe(&h.app, None).await.unwrap();
    subscriber.next().await.unwrap();
    let start = tokio::time::Instant::now();
    let comment = subscriber.next().await.unwrap();
    assert_eq!(comment.get(""), Some("keep-alive"));
    assert_eq!(start.elapsed(), crate::stream::KEEP_ALIVE);
    // The request timeout bounds how long a response takes to start, not how long a stream
    // lasts: it goes on past it.
    let timeout = h.state.settings.request_timeout;
    while start.elapsed() <= timeout + crate::stream::KEEP_ALIVE {
        let comment = subscriber
            .next()
            .await
            .expect("the stream outlives the request timeout");
        assert_eq!(comment.get(""), Some("keep-alive"));
    }
    h.state.live.close();
    assert!(subscriber.next().await.is_none(), "the stream ends");
}

#[tokio::test]
async fn more_subscribers_than_the_bound_are_answered_503() {
    let h = with_live(
        &Arc::default(),
        Settings {
            max_live_subscribers: 2,
            ..watching()
        },
    );
    let first = subscribe(&h.app, None).await.unwrap();
    let _second = subscribe(&h.app, None).await.unwrap();
    let Err(refused) = subscribe(&h.app, None).await else {
        panic!("a third subscriber was let in");
    };
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.header(header::RETRY_AFTER), "30");
    insta::assert_json_snapshot!("too_many_subscribers", refused.json());
    let samples = parse_exposition(&get(&h.app, "/metrics").await.body);
    assert_eq!(value(&samples, "sla_live_subscribers", &[]), Some("2"));

    drop(first);
    assert!(
        subscribe(&h.app, None).await.is_ok(),
        "a place was given back"
    );
}

#[tokio::test]
async fn the_stream_of_a_service_watching_nothing_is_refused() {
    let h = idle();
    let Err(refused) = subscribe(&h.app, None).await else {
        panic!("a stream of nothing");
    };
    refused.assert_error(StatusCode::BAD_REQUEST, "no_queues");
}

#[tokio::test]
async fn with_a_token_the_stream_takes_the_bearer_token_or_the_wallboards_login() {
    let h = with_token();
    let missing = subscribe(&h.app, None).await.err().unwrap();
    // Basic is offered too, in the dashboard's realm, so that a browser answers with its login.
    missing.assert_challenge("Bearer realm=\"sla\", Basic realm=\"sla\", charset=\"UTF-8\"");
    let wrong = subscribe(&h.app, Some("Bearer guess")).await.err().unwrap();
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let wrong_login = subscribe(&h.app, Some(&basic("wallboard", "guess")))
        .await
        .err()
        .unwrap();
    assert_eq!(wrong_login.status, StatusCode::UNAUTHORIZED);
    assert!(subscribe(&h.app, Some("Bearer s3cret-token")).await.is_ok());
    // A browser cannot add a header to an EventSource, but it sends the page's login.
    assert!(
        subscribe(&h.app, Some(&basic("wallboard", "s3cret-token")))
            .await
            .is_ok()
    );
    // Elsewhere in the API, the login is not a bearer token.
    let report = get_with(&h.app, "/api/v1/live", &basic("wallboard", "s3cret-token")).await;
    assert_eq!(report.status, StatusCode::UNAUTHORIZED);
}
