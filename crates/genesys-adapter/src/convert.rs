//! Wire → sla-core types, one module per thing converted: queue listings into queues with their
//! service levels ([`queues`]), aggregates answers into tallies ([`tallies`]), conversation
//! details into visits ([`visits`]), observations answers into the live state ([`live`]), and
//! Genesys's instants ([`instant`]). These modules are the
//! only place where both vocabularies meet.

mod instant;
mod live;
mod queues;
mod tallies;
mod visits;

pub(crate) use crate::convert::instant::instant;
pub(crate) use crate::convert::live::add_observations;
pub(crate) use crate::convert::queues::queue_info;
pub(crate) use crate::convert::tallies::tallies;
pub(crate) use crate::convert::visits::{VisitFilter, visits};

/// A JSON number as a whole, non-negative count: Genesys writes counts and waits as integers,
/// but a number written as `12.0` still reads.
fn whole(number: &serde_json::Number) -> Option<u64> {
    if let Some(n) = number.as_u64() {
        return Some(n);
    }
    match number.as_f64() {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "checked to be a whole, non-negative number that fits"
        )]
        Some(f) if f >= 0.0 && f.fract() == 0.0 && f < 1.8e19 => Some(f as u64),
        _ => None,
    }
}
