//! The response cache: identical concurrent requests share one upstream fetch (single flight),
//! at most a few distinct fetches run at once, and results stay for a while, bounded in number
//! of entries and in bytes.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

use crate::error::ApiError;

/// What a fetch yields: a rendered body, or the error every waiter answers with.
pub(crate) type Fetched = Result<Bytes, ApiError>;

/// Bounds on what the cache holds and on the upstream work it starts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CacheLimits {
    /// The most entries, stored results and fetches in flight together. A fetch in flight
    /// takes a place, so when every place is taken by one, a new request is answered `busy`.
    pub(crate) entries: usize,
    /// The most bytes of stored bodies.
    pub(crate) bytes: usize,
    /// A body larger than this is served to the requests waiting for it but not stored, so one
    /// huge report cannot push out everything else.
    pub(crate) entry_bytes: usize,
    /// The most distinct upstream fetches running at once. A fetch holds its slot until it
    /// ends, even when every client waiting for it has gone, so this also bounds the work
    /// abandoned requests leave behind.
    pub(crate) fetches: usize,
    /// How long a fetch waits for a slot before its requests are answered 503 `busy`.
    pub(crate) slot_wait: Duration,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            entries: 256,
            bytes: 256 * 1024 * 1024,
            entry_bytes: 32 * 1024 * 1024,
            // A large report costs tens of megabytes while it is built, and the adapter bounds
            // its own requests in flight anyway; a few fetches at once keep memory in check.
            fetches: 4,
            slot_wait: Duration::from_secs(10),
        }
    }
}

enum Slot {
    /// A stored result, valid until `expires`.
    Ready { body: Bytes, expires: Instant },
    /// A fetch in flight or waiting for a slot; its result arrives on the channel.
    Pending(watch::Receiver<Option<Fetched>>),
}

/// The slots and the bytes their stored bodies take.
#[derive(Default)]
struct Slots {
    map: HashMap<String, Slot>,
    bytes: usize,
}

impl Slots {
    fn remove(&mut self, key: &str) {
        if let Some(Slot::Ready { body, .. }) = self.map.remove(key) {
            self.bytes -= body.len();
        }
    }

    fn insert(&mut self, key: String, slot: Slot) {
        self.remove(&key);
        if let Slot::Ready { body, .. } = &slot {
            self.bytes += body.len();
        }
        self.map.insert(key, slot);
    }

    fn drop_expired(&mut self, now: Instant) {
        let mut freed = 0;
        self.map.retain(|_, slot| match slot {
            Slot::Ready { body, expires } if *expires <= now => {
                freed += body.len();
                false
            }
            _ => true,
        });
        self.bytes -= freed;
    }

    /// Evicts the stored result expiring soonest; false when there is none.
    fn evict_soonest(&mut self) -> bool {
        let soonest = self
            .map
            .iter()
            .filter_map(|(key, slot)| match slot {
                Slot::Ready { expires, .. } => Some((*expires, key.clone())),
                Slot::Pending(_) => None,
            })
            .min();
        match soonest {
            Some((_, key)) => {
                self.remove(&key);
                true
            }
            None => false,
        }
    }

    /// Frees places until one more entry fits: expired results first, then the ones expiring
    /// soonest. Fetches in flight are never evicted; false when they alone fill the cache.
    fn make_room(&mut self, entries: usize) -> bool {
        if self.map.len() < entries {
            return true;
        }
        self.drop_expired(Instant::now());
        while self.map.len() >= entries {
            if !self.evict_soonest() {
                return false;
            }
        }
        true
    }

    /// Frees bytes, in the same order, until `more` fit within `limit`.
    fn make_bytes(&mut self, more: usize, limit: usize) {
        if self.bytes + more <= limit {
            return;
        }
        self.drop_expired(Instant::now());
        while self.bytes + more > limit && self.evict_soonest() {}
    }
}

/// Rendered responses by canonical request key.
///
/// A fetch runs in its own task, so a client that gives up (or times out) does not cancel it
/// for the others waiting on it, and its result still lands in the cache. A semaphore bounds
/// how many such tasks fetch at once. Errors are shared with the requests already waiting but
/// never stored.
pub(crate) struct ReportCache {
    slots: Mutex<Slots>,
    limits: CacheLimits,
    fetches: Arc<Semaphore>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for ReportCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportCache")
            .field("limits", &self.limits)
            .field("hits", &self.hits())
            .field("misses", &self.misses())
            .finish_non_exhaustive()
    }
}

impl ReportCache {
    /// An empty cache within `limits`.
    pub(crate) fn new(limits: CacheLimits) -> Self {
        let limits = CacheLimits {
            entries: limits.entries.max(1),
            fetches: limits.fetches.max(1),
            entry_bytes: limits.entry_bytes.min(limits.bytes),
            ..limits
        };
        Self {
            slots: Mutex::default(),
            limits,
            fetches: Arc::new(Semaphore::new(limits.fetches)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Requests answered without a fetch of their own: from a stored result, or by joining a
    /// fetch already in flight.
    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// Requests that started a fetch.
    pub(crate) fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The result stored or in flight for `key`, or else the result of `fetch`, stored for
    /// `ttl` when it succeeds and is not too large.
    pub(crate) async fn get_or_fetch<F, Fut>(
        self: &Arc<Self>,
        key: String,
        ttl: Duration,
        fetch: F,
    ) -> Fetched
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Fetched> + Send + 'static,
    {
        let mut receiver = {
            let mut slots = self.lock();
            match slots.map.get(&key) {
                Some(Slot::Ready { body, expires }) if *expires > Instant::now() => {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(body.clone());
                }
                Some(Slot::Pending(receiver)) => {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    receiver.clone()
                }
                _ => {
                    slots.remove(&key);
                    if !slots.make_room(self.limits.entries) {
                        tracing::warn!(
                            entries = self.limits.entries,
                            "every cache place is taken by a fetch in flight"
                        );
                        return Err(ApiError::busy());
                    }
                    self.misses.fetch_add(1, Ordering::Relaxed);
                    let (sender, receiver) = watch::channel(None);
                    slots.insert(key.clone(), Slot::Pending(receiver.clone()));
                    let work = fetch();
                    let cache = Arc::clone(self);
                    tokio::spawn(async move {
                        let result = cache.run(work).await;
                        cache.settle(key, &result, ttl);
                        // Nobody may be waiting any more; the result is stored regardless.
                        let _ = sender.send(Some(result));
                    });
                    receiver
                }
            }
        };
        match receiver.wait_for(Option::is_some).await {
            Ok(result) => result
                .clone()
                .unwrap_or_else(|| Err(ApiError::internal_message("fetch ended without a result"))),
            Err(e) => Err(ApiError::internal(&e)),
        }
    }

    /// Runs `work` once a fetch slot is free, or gives up as `busy` after the slot wait.
    async fn run<Fut>(&self, work: Fut) -> Fetched
    where
        Fut: Future<Output = Fetched> + Send + 'static,
    {
        let waited = tokio::time::timeout(
            self.limits.slot_wait,
            Arc::clone(&self.fetches).acquire_owned(),
        )
        .await;
        let Ok(Ok(permit)) = waited else {
            tracing::warn!(
                fetches = self.limits.fetches,
                waited_ms = self.limits.slot_wait.as_millis(),
                "no fetch slot came free"
            );
            return Err(ApiError::busy());
        };
        // In a task of its own, so that a panic becomes a 500 rather than a silent hang.
        let result = match tokio::spawn(work).await {
            Ok(result) => result,
            Err(e) => Err(ApiError::internal(&e)),
        };
        drop(permit);
        result
    }

    /// Replaces the pending slot of `key` with the result, or drops it after a failure or when
    /// the body is too large to keep.
    fn settle(&self, key: String, result: &Fetched, ttl: Duration) {
        let mut slots = self.lock();
        slots.remove(&key);
        let Ok(body) = result else {
            return;
        };
        if body.len() > self.limits.entry_bytes {
            tracing::debug!(
                bytes = body.len(),
                max = self.limits.entry_bytes,
                "a result too large to cache"
            );
            return;
        }
        slots.make_bytes(body.len(), self.limits.bytes);
        let expires = Instant::now() + ttl;
        slots.insert(
            key,
            Slot::Ready {
                body: body.clone(),
                expires,
            },
        );
    }

    /// How many results are stored or in flight.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// How many bytes the stored results take.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    #[expect(
        clippy::unnecessary_wraps,
        reason = "a fetch's result, as the cache takes it"
    )]
    fn body(text: &'static str) -> Fetched {
        Ok(Bytes::from_static(text.as_bytes()))
    }

    fn cache(entries: usize) -> Arc<ReportCache> {
        Arc::new(ReportCache::new(CacheLimits {
            entries,
            ..CacheLimits::default()
        }))
    }

    /// A fetch that counts itself in `calls`, takes a second, and gives what `result` gives.
    fn slow_fetch(
        calls: &Arc<AtomicUsize>,
        result: fn() -> Fetched,
    ) -> impl FnOnce() -> std::pin::Pin<Box<dyn Future<Output = Fetched> + Send>> + use<> {
        let calls = Arc::clone(calls);
        move || {
            Box::pin(async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(1)).await;
                result()
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_requests_share_one_fetch_and_the_result_expires() {
        let cache = Arc::new(cache(8));
        let calls = Arc::new(AtomicUsize::new(0));
        let fetch = || slow_fetch(&calls, || body("report"));
        let waiters: Vec<_> = (0..10)
            .map(|_| {
                let cache = Arc::clone(&cache);
                let fetch = fetch();
                tokio::spawn(async move {
                    cache
                        .get_or_fetch("k".to_owned(), Duration::from_secs(30), fetch)
                        .await
                })
            })
            .collect();
        for waiter in waiters {
            assert_eq!(waiter.await.unwrap().unwrap(), "report");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!((cache.hits(), cache.misses()), (9, 1));

        tokio::time::advance(Duration::from_secs(29)).await;
        let again = cache.get_or_fetch("k".to_owned(), Duration::from_secs(30), fetch());
        assert_eq!(again.await.unwrap(), "report");
        assert_eq!(calls.load(Ordering::SeqCst), 1, "still fresh");

        tokio::time::advance(Duration::from_secs(2)).await;
        let again = cache.get_or_fetch("k".to_owned(), Duration::from_secs(30), fetch());
        assert_eq!(again.await.unwrap(), "report");
        assert_eq!(calls.load(Ordering::SeqCst), 2, "expired, fetched again");
    }

    #[tokio::test(start_paused = true)]
    async fn errors_reach_every_waiter_but_are_not_stored() {
        let cache = Arc::new(cache(8));
        let calls = Arc::new(AtomicUsize::new(0));
        let failing = || slow_fetch(&calls, || Err(ApiError::internal_message("boom")));
        let (a, b) = tokio::join!(
            cache.get_or_fetch("k".to_owned(), Duration::from_secs(30), failing()),
            cache.get_or_fetch("k".to_owned(), Duration::from_secs(30), failing()),
        );
        assert!(a.is_err() && b.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(cache.len(), 0);
        let c = cache.get_or_fetch("k".to_owned(), Duration::from_secs(30), failing());
        assert!(c.await.is_err());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "a failure is fetched again"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_cache_evicts_the_entry_expiring_soonest() {
        let cache = Arc::new(cache(2));
        let ok = || || async { body("x") };
        let _ = cache
            .get_or_fetch("short".to_owned(), Duration::from_secs(10), ok())
            .await;
        let _ = cache
            .get_or_fetch("long".to_owned(), Duration::from_secs(100), ok())
            .await;
        let _ = cache
            .get_or_fetch("new".to_owned(), Duration::from_secs(100), ok())
            .await;
        assert_eq!(cache.len(), 2);
        let misses = cache.misses();
        let _ = cache
            .get_or_fetch("long".to_owned(), Duration::from_secs(100), ok())
            .await;
        assert_eq!(cache.misses(), misses, "the long-lived entry survived");
        let _ = cache
            .get_or_fetch("short".to_owned(), Duration::from_secs(10), ok())
            .await;
        assert_eq!(
            cache.misses(),
            misses + 1,
            "the short-lived entry was evicted"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stored_bodies_are_bounded_in_bytes_and_a_huge_one_is_not_kept() {
        let cache = Arc::new(ReportCache::new(CacheLimits {
            entries: 100,
            bytes: 10,
            entry_bytes: 6,
            ..CacheLimits::default()
        }));
        let ok = |text: &'static str| move || async move { body(text) };
        let get = |key: &str, ttl: u64, text: &'static str| {
            cache.get_or_fetch(key.to_owned(), Duration::from_secs(ttl), ok(text))
        };
        get("short", 10, "aaaa").await.unwrap();
        get("long", 100, "bbbb").await.unwrap();
        assert_eq!((cache.len(), cache.bytes()), (2, 8));
        // Twelve bytes would not fit in ten: the entry expiring soonest goes.
        get("new", 100, "cccc").await.unwrap();
        assert_eq!((cache.len(), cache.bytes()), (2, 8));
        let misses = cache.misses();
        get("long", 100, "bbbb").await.unwrap();
        assert_eq!(cache.misses(), misses, "the long-lived entry survived");
        get("short", 10, "aaaa").await.unwrap();
        assert_eq!(
            cache.misses(),
            misses + 1,
            "the short-lived entry was evicted"
        );

        // Larger than one entry may be: served, but not kept, and nothing else is evicted.
        let (len, bytes) = (cache.len(), cache.bytes());
        assert_eq!(get("huge", 100, "0123456").await.unwrap(), "0123456");
        assert_eq!((cache.len(), cache.bytes()), (len, bytes));
        let misses = cache.misses();
        get("huge", 100, "0123456").await.unwrap();
        assert_eq!(cache.misses(), misses + 1, "fetched again");

        // An expired entry replaced by a new result does not count twice.
        tokio::time::advance(Duration::from_secs(200)).await;
        get("long", 100, "bb").await.unwrap();
        assert!(cache.bytes() <= 10, "{} bytes", cache.bytes());
    }

    /// A source that counts the fetches running at once and never finishes on its own.
    #[derive(Default)]
    struct Gauge {
        running: AtomicUsize,
        most: AtomicUsize,
        started: AtomicUsize,
    }

    impl Gauge {
        fn fetch(
            self: &Arc<Self>,
            hold: Duration,
        ) -> impl FnOnce() -> std::pin::Pin<Box<dyn Future<Output = Fetched> + Send>> + use<>
        {
            let gauge = Arc::clone(self);
            move || {
                Box::pin(async move {
                    gauge.started.fetch_add(1, Ordering::SeqCst);
                    let now = gauge.running.fetch_add(1, Ordering::SeqCst) + 1;
                    gauge.most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(hold).await;
                    gauge.running.fetch_sub(1, Ordering::SeqCst);
                    body("done")
                })
            }
        }
    }

    /// Asks `cache` for `key`, kept for 30 s, with `gauge` fetching it for `hold`.
    async fn ask(
        cache: &Arc<ReportCache>,
        gauge: &Arc<Gauge>,
        key: &str,
        hold: Duration,
    ) -> Fetched {
        cache
            .get_or_fetch(key.to_owned(), Duration::from_secs(30), gauge.fetch(hold))
            .await
    }

    #[tokio::test(start_paused = true)]
    async fn distinct_fetches_are_capped_and_abandoned_ones_still_hold_their_slot() {
        let cache = Arc::new(ReportCache::new(CacheLimits {
            fetches: 2,
            slot_wait: Duration::from_secs(5),
            ..CacheLimits::default()
        }));
        let gauge = Arc::new(Gauge::default());
        // Ten clients ask for ten different reports and give up after a second, as a client
        // that disconnects or times out does.
        for i in 0..10 {
            let key = format!("k{i}");
            let request = ask(&cache, &gauge, &key, Duration::from_mins(1));
            assert!(
                tokio::time::timeout(Duration::from_secs(1), request)
                    .await
                    .is_err()
            );
        }
        assert_eq!(gauge.started.load(Ordering::SeqCst), 2, "two slots");
        // The queued ones give up after the slot wait, answered `busy`, and leave no entry.
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(gauge.started.load(Ordering::SeqCst), 2);
        assert_eq!(cache.len(), 2, "the two running fetches");
        let busy = ask(&cache, &gauge, "late", Duration::ZERO)
            .await
            .unwrap_err();
        assert_eq!(busy.code(), "busy");
        // The abandoned fetches finish and are kept; then slots are free again.
        tokio::time::sleep(Duration::from_mins(1)).await;
        assert_eq!(gauge.running.load(Ordering::SeqCst), 0);
        assert_eq!(gauge.most.load(Ordering::SeqCst), 2);
        assert_eq!(cache.len(), 2);
        let misses = cache.misses();
        let first = ask(&cache, &gauge, "k0", Duration::ZERO);
        assert_eq!(first.await.unwrap(), "done");
        assert_eq!(
            cache.misses(),
            misses,
            "the abandoned fetch's result was stored"
        );
        let late = ask(&cache, &gauge, "late", Duration::ZERO);
        assert_eq!(late.await.unwrap(), "done");
    }

    #[tokio::test(start_paused = true)]
    async fn fetches_in_flight_take_cache_places_so_their_number_is_bounded() {
        let cache = Arc::new(ReportCache::new(CacheLimits {
            entries: 3,
            fetches: 1,
            slot_wait: Duration::from_hours(1),
            ..CacheLimits::default()
        }));
        let gauge = Arc::new(Gauge::default());
        let _ = ask(&cache, &gauge, "stored", Duration::ZERO).await;
        let spawn = |key: &str| {
            let (cache, gauge, key) = (Arc::clone(&cache), Arc::clone(&gauge), key.to_owned());
            tokio::spawn(async move { ask(&cache, &gauge, &key, Duration::from_mins(5)).await })
        };
        let waiting = [spawn("k0"), spawn("k1")];
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(cache.len(), 3, "a stored result and two fetches");
        // A stored result gives way to a fetch in flight...
        let third = spawn("k2");
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(cache.len(), 3, "the stored result was evicted for it");
        // ...but fetches in flight never do.
        let refused = ask(&cache, &gauge, "k3", Duration::ZERO).await.unwrap_err();
        assert_eq!(refused.code(), "busy");
        assert_eq!(cache.len(), 3);
        for waiter in waiting.into_iter().chain([third]) {
            assert_eq!(waiter.await.unwrap().unwrap(), "done");
        }
        assert_eq!(gauge.most.load(Ordering::SeqCst), 1);
    }
}
