//! The response cache: identical concurrent requests share one upstream fetch (single flight),
//! and results stay for a while, bounded in number of entries.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::error::ApiError;

/// What a fetch yields: a rendered body, or the error every waiter answers with.
pub(crate) type Fetched = Result<Bytes, ApiError>;

enum Slot {
    /// A stored result, valid until `expires`.
    Ready { body: Bytes, expires: Instant },
    /// A fetch in flight; its result arrives on the channel.
    Pending(watch::Receiver<Option<Fetched>>),
}

/// Rendered responses by canonical request key.
///
/// A fetch runs in its own task, so a client that gives up (or times out) does not cancel it
/// for the others waiting on it, and its result still lands in the cache. Errors are shared
/// with the requests already waiting but never stored.
pub(crate) struct ReportCache {
    slots: Mutex<HashMap<String, Slot>>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for ReportCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportCache")
            .field("capacity", &self.capacity)
            .field("hits", &self.hits())
            .field("misses", &self.misses())
            .finish_non_exhaustive()
    }
}

impl ReportCache {
    /// A cache keeping at most `capacity` results.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            slots: Mutex::default(),
            capacity: capacity.max(1),
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

    /// The result stored or in flight for `key`, or else the result of `fetch`, stored for
    /// `ttl` when it succeeds.
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
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            match slots.get(&key) {
                Some(Slot::Ready { body, expires }) if *expires > Instant::now() => {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    return Ok(body.clone());
                }
                Some(Slot::Pending(receiver)) => {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    receiver.clone()
                }
                _ => {
                    self.misses.fetch_add(1, Ordering::Relaxed);
                    let (sender, receiver) = watch::channel(None);
                    Self::make_room(&mut slots, self.capacity);
                    slots.insert(key.clone(), Slot::Pending(receiver.clone()));
                    let work = tokio::spawn(fetch());
                    let cache = Arc::clone(self);
                    tokio::spawn(async move {
                        let result = match work.await {
                            Ok(result) => result,
                            Err(e) => Err(ApiError::internal(&e)),
                        };
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

    /// Replaces the pending slot of `key` with the result, or drops it after a failure.
    fn settle(&self, key: String, result: &Fetched, ttl: Duration) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        match result {
            Ok(body) => {
                let expires = Instant::now() + ttl;
                slots.insert(
                    key,
                    Slot::Ready {
                        body: body.clone(),
                        expires,
                    },
                );
            }
            Err(_) => {
                slots.remove(&key);
            }
        }
    }

    /// Frees a slot when the cache is full: expired results first, then the one expiring
    /// soonest. Fetches in flight are never evicted, so the cache may briefly hold more.
    fn make_room(slots: &mut HashMap<String, Slot>, capacity: usize) {
        if slots.len() < capacity {
            return;
        }
        let now = Instant::now();
        slots.retain(|_, slot| !matches!(slot, Slot::Ready { expires, .. } if *expires <= now));
        if slots.len() < capacity {
            return;
        }
        let soonest = slots
            .iter()
            .filter_map(|(key, slot)| match slot {
                Slot::Ready { expires, .. } => Some((*expires, key.clone())),
                Slot::Pending(_) => None,
            })
            .min();
        if let Some((_, key)) = soonest {
            slots.remove(&key);
        }
    }

    /// How many results are stored or in flight.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
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

    #[tokio::test(start_paused = true)]
    async fn concurrent_requests_share_one_fetch_and_the_result_expires() {
        let cache = Arc::new(ReportCache::new(8));
        let calls = Arc::new(AtomicUsize::new(0));
        let fetch = || {
            let calls = Arc::clone(&calls);
            move || async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(1)).await;
                body("report")
            }
        };
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
        let cache = Arc::new(ReportCache::new(8));
        let calls = Arc::new(AtomicUsize::new(0));
        let failing = || {
            let calls = Arc::clone(&calls);
            move || async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(1)).await;
                Err(ApiError::internal_message("boom"))
            }
        };
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
        let cache = Arc::new(ReportCache::new(2));
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
}
