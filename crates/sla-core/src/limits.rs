//! Bounds on what one report may ask for, checked in one place for both binaries.

use jiff::SignedDuration;

use crate::error::SlaError;
use crate::query::ReportRequest;

/// Bounds on one report: its window, its queues, its objectives and its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// The longest window, in whole days (rounded up).
    pub max_window_days: i64,
    /// The most queues a report may name or resolve to.
    pub max_queues: usize,
    /// The most objectives a report may measure.
    pub max_objectives: usize,
    /// The most report cells: rows (queues, or queues × media types with `by_media`) ×
    /// intervals × objectives. Each cell is a few hundred bytes of JSON, so this bounds the
    /// work and the memory one report costs.
    pub max_cells: usize,
}

impl Limits {
    /// What `sla` allows: three years, far beyond any service-level question and short enough
    /// that a mistyped year fails at once instead of planning thousands of requests; and about
    /// a gigabyte of JSON at the most, which a year of half hours for a hundred queues at one
    /// objective stays below.
    pub const CLI: Limits = Limits {
        max_window_days: 3 * 366,
        max_queues: usize::MAX,
        max_objectives: usize::MAX,
        max_cells: 2_000_000,
    };

    /// What one request to `sla-http` may ask for: many clients share the service's memory and
    /// its upstream budget.
    pub const SERVICE: Limits = Limits {
        max_window_days: 400,
        max_queues: 200,
        max_objectives: 20,
        max_cells: 250_000,
    };

    /// Checks what is known before any request: the window, the objectives and the queues named.
    pub(crate) fn check_request(&self, request: &ReportRequest) -> Result<(), SlaError> {
        let length = request.window.end().duration_since(request.window.start());
        let day = SignedDuration::from_hours(24).as_secs();
        // Whole days, rounded up: a window of 400 days and a second is too long.
        let days = (length.as_secs() + day - 1) / day;
        if days > self.max_window_days {
            return Err(SlaError::WindowTooLong {
                days,
                max_days: self.max_window_days,
            });
        }
        if request.objectives.len() > self.max_objectives {
            return Err(SlaError::TooMany {
                what: "objectives",
                count: request.objectives.len(),
                max: self.max_objectives,
            });
        }
        let named =
            request.queues.ids.len() + request.queues.names.len() + request.queues.patterns.len();
        self.check_queue_count(named)
    }

    /// Checks what is known once the queues are resolved: how many, and the report's size.
    pub(crate) fn check_resolved(
        &self,
        request: &ReportRequest,
        queues: usize,
    ) -> Result<(), SlaError> {
        self.check_queue_count(queues)?;
        let cells = crate::report_cells(request, queues);
        if cells > self.max_cells {
            return Err(SlaError::ReportTooLarge {
                cells,
                max: self.max_cells,
            });
        }
        Ok(())
    }

    fn check_queue_count(&self, count: usize) -> Result<(), SlaError> {
        if count > self.max_queues {
            return Err(SlaError::TooMany {
                what: "queues",
                count,
                max: self.max_queues,
            });
        }
        Ok(())
    }
}
