//! From a query to a report, for the API and the watched queues: sla-core's one orchestration
//! over the service's ports, with the service's zone, limits and demo default.

use jiff::{SignedDuration, Timestamp};
use sla_core::{Limits, QueryContext, QueryInput, ReportRequest, SlaError, Sources};

use crate::state::AppState;

impl AppState {
    /// The ports as sla-core's orchestration takes them.
    pub(crate) fn sources(&self) -> Sources<'_> {
        Sources {
            directory: self.ports.directory.as_ref(),
            tallies: self.ports.tallies.as_ref(),
            visits: self.ports.visits.as_deref(),
        }
    }

    /// Validates `input` as `sla report` would at `now`, within `limits`: the service's zone is
    /// the default, and the demo org covers every queue when none is named.
    pub(crate) fn request(
        &self,
        input: &QueryInput,
        now: Timestamp,
        limits: Limits,
    ) -> Result<ReportRequest, SlaError> {
        input.parse(&QueryContext {
            now,
            zone: self.settings.zone.clone(),
            limits,
            all_queues_by_default: self.settings.demo,
        })
    }
}

/// How long after its end a window still counts as touching the present.
///
/// An open window (`from` without `to`, or a period including today) ends at `now`, or at
/// `now` rounded down to a whole second, so its end may fall just before the instant the
/// request was read; and Genesys may still be adding the last moments' conversations. Such a
/// result is cached briefly, never for the hour a closed window gets.
const SETTLING: SignedDuration = SignedDuration::from_mins(1);

/// Whether a window ending at `end` touches the present at `now`, for the cache's lifetime.
pub(crate) fn touches_present(end: Timestamp, now: Timestamp) -> bool {
    end.checked_add(SETTLING)
        .map_or(true, |settled| settled > now)
}
