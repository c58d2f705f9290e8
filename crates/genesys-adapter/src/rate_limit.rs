//! The client-side request budget (at most N requests in any rolling minute) and the bound on
//! requests in flight, driven by the Clock and Sleep seams.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::seams::{Clock, Sleep};

/// Admits a request at `now` when fewer than `limit` were admitted in the `window` before it,
/// recording it; otherwise says how long to wait before asking again.
///
/// A rolling log rather than a token bucket: it never lets more than `limit` requests into any
/// window, which is how Genesys counts, yet lets a short report's few requests go at once.
pub(crate) fn admit(
    log: &mut VecDeque<Instant>,
    now: Instant,
    limit: usize,
    window: Duration,
) -> Option<Duration> {
    while log
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= window)
    {
        log.pop_front();
    }
    if log.len() < limit {
        log.push_back(now);
        return None;
    }
    let oldest = *log.front()?;
    Some(window.saturating_sub(now.saturating_duration_since(oldest)))
}

/// Paces API requests: a slot in the rolling-minute budget, then one of `concurrency` permits.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: usize,
    window: Duration,
    log: Mutex<VecDeque<Instant>>,
    permits: Arc<Semaphore>,
    clock: Arc<dyn Clock>,
    sleep: Arc<dyn Sleep>,
    /// Until when a request is waiting for the budget, for a progress display.
    waiting_until: Mutex<Option<Instant>>,
    /// Whether a wait has been announced in the log yet: once per client is enough.
    announced: AtomicBool,
}

/// A wait for the budget this long is worth telling a person about.
const NOTABLE_WAIT: Duration = Duration::from_secs(3);

impl RateLimiter {
    pub(crate) fn new(
        per_minute: u32,
        concurrency: usize,
        clock: Arc<dyn Clock>,
        sleep: Arc<dyn Sleep>,
    ) -> Self {
        Self {
            limit: per_minute as usize,
            window: Duration::from_mins(1),
            log: Mutex::new(VecDeque::new()),
            permits: Arc::new(Semaphore::new(concurrency)),
            clock,
            sleep,
            waiting_until: Mutex::new(None),
            announced: AtomicBool::new(false),
        }
    }

    fn set_waiting(&self, update: impl FnOnce(Option<Instant>) -> Option<Instant>) {
        let mut waiting = self
            .waiting_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *waiting = update(*waiting);
    }

    /// How much longer a request waits for the budget; `None` when none is waiting.
    pub(crate) fn budget_wait(&self) -> Option<Duration> {
        let until = (*self
            .waiting_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner))?;
        Some(until.saturating_duration_since(self.clock.now()))
    }

    /// Waits for a permit and a slot; the request may be sent while the permit is held.
    pub(crate) async fn acquire(&self) -> Option<OwnedSemaphorePermit> {
        // The permit comes first so that waiting for a slot also holds back the others: there is
        // no point in more requests queueing at the budget than may be in flight.
        let permit = Arc::clone(&self.permits).acquire_owned().await.ok();
        loop {
            let wait = {
                let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
                admit(&mut log, self.clock.now(), self.limit, self.window)
            };
            match wait {
                None => return permit,
                Some(wait) => {
                    tracing::debug!(
                        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        "client-side rate limit reached, waiting"
                    );
                    if wait >= NOTABLE_WAIT && !self.announced.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            "waiting for the request budget of {} a minute (--max-requests-per-minute); this run will take longer",
                            self.limit
                        );
                    }
                    let until = self.clock.now() + wait;
                    self.set_waiting(|current| Some(current.map_or(until, |c| c.max(until))));
                    self.sleep.sleep(wait).await;
                    // Another request may be waiting longer: only the longest wait clears it.
                    self.set_waiting(|current| current.filter(|c| *c > until));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt as _;

    use super::*;
    use crate::test_util::{InstantSleep, ManualClock};

    #[test]
    fn admit_allows_a_burst_then_waits_for_the_oldest_to_leave_the_window() {
        let t0 = Instant::now();
        let window = Duration::from_mins(1);
        let mut log = VecDeque::new();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert_eq!(admit(&mut log, at(0), 3, window), None);
        assert_eq!(admit(&mut log, at(10), 3, window), None);
        assert_eq!(admit(&mut log, at(20), 3, window), None);
        assert_eq!(
            admit(&mut log, at(30), 3, window),
            Some(Duration::from_secs(30))
        );
        // The refused request left no trace.
        assert_eq!(log.len(), 3);
        assert_eq!(
            admit(&mut log, at(59), 3, window),
            Some(Duration::from_secs(1))
        );
        // The first one is exactly a window old: out.
        assert_eq!(admit(&mut log, at(60), 3, window), None);
        assert_eq!(
            admit(&mut log, at(61), 3, window),
            Some(Duration::from_secs(9))
        );
        assert_eq!(admit(&mut log, at(200), 3, window), None);
        assert_eq!(log.len(), 1);
    }

    #[tokio::test]
    async fn limiter_keeps_every_minute_within_budget() {
        let clock = ManualClock::new();
        let sleep = InstantSleep::new(clock.clone());
        let limiter = RateLimiter::new(5, 2, Arc::new(clock.clone()), Arc::new(sleep.clone()));
        let mut admitted = Vec::new();
        for _ in 0..12 {
            let permit = limiter.acquire().await;
            assert!(permit.is_some());
            admitted.push(clock.elapsed());
        }
        let secs: Vec<u64> = admitted.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [0, 0, 0, 0, 0, 60, 60, 60, 60, 60, 120, 120]);
        assert_eq!(
            sleep.waits(),
            [Duration::from_mins(1), Duration::from_mins(1)]
        );
        // No rolling 60-second window holds more than the limit.
        for (i, start) in admitted.iter().enumerate() {
            let inside = admitted[i..]
                .iter()
                .filter(|t| t.saturating_sub(*start) < Duration::from_mins(1))
                .count();
            assert!(inside <= 5);
        }
    }

    /// A sleep that lasts until the test opens it, so a test can look at a waiting limiter.
    #[derive(Debug, Default)]
    struct Gate(tokio::sync::Notify);

    #[async_trait::async_trait]
    impl Sleep for Gate {
        async fn sleep(&self, _duration: Duration) {
            self.0.notified().await;
        }
    }

    #[tokio::test]
    async fn a_request_waiting_for_the_budget_says_for_how_long() {
        let clock = ManualClock::new();
        let gate = Arc::new(Gate::default());
        let limiter = Arc::new(RateLimiter::new(
            1,
            2,
            Arc::new(clock.clone()),
            Arc::clone(&gate) as Arc<dyn Sleep>,
        ));
        assert!(limiter.acquire().await.is_some());
        assert_eq!(limiter.budget_wait(), None);
        let waiting = tokio::spawn({
            let limiter = Arc::clone(&limiter);
            async move { limiter.acquire().await.is_some() }
        });
        // Let the second request reach its wait.
        while limiter.budget_wait().is_none() {
            tokio::task::yield_now().await;
        }
        assert_eq!(limiter.budget_wait(), Some(Duration::from_mins(1)));
        clock.advance(Duration::from_secs(45));
        assert_eq!(limiter.budget_wait(), Some(Duration::from_secs(15)));
        clock.advance(Duration::from_secs(15));
        gate.0.notify_one();
        assert!(waiting.await.unwrap());
        assert_eq!(limiter.budget_wait(), None);
    }

    #[tokio::test]
    async fn limiter_bounds_requests_in_flight() {
        let clock = ManualClock::new();
        let sleep = InstantSleep::new(clock.clone());
        let limiter = RateLimiter::new(100, 2, Arc::new(clock), Arc::new(sleep));
        let a = limiter.acquire().await;
        let b = limiter.acquire().await;
        assert_eq!(limiter.permits.available_permits(), 0);
        // With two permits held a third caller must wait.
        assert!(limiter.acquire().now_or_never().is_none());
        drop(a);
        assert!(limiter.acquire().await.is_some());
        drop(b);
    }
}
