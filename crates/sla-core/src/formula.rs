//! The service level of a tally for a threshold under a formula.

use std::ops::AddAssign;

use crate::model::{AbandonPolicy, FlowOutPolicy, Formula, Threshold};
use crate::tally::Tally;

/// What a service level is computed from: the raw within-threshold counts, and the numerator
/// and denominator the formula makes of them. Figures add up, so totals are sums of figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Figures {
    /// Answered with a wait ≤ the threshold.
    pub answered_within: u64,
    /// Abandoned with a wait ≤ the threshold, short abandons included.
    pub abandoned_within: u64,
    /// Visits that met the threshold, as the formula counts them.
    pub numerator: u64,
    /// Visits measured, as the formula counts them.
    pub denominator: u64,
}

impl Figures {
    /// 100 × numerator / denominator, rounded half away from zero to 2 decimals; `None` when
    /// the denominator is 0, since an idle queue did not miss its service level.
    #[must_use]
    pub fn percent(&self) -> Option<f64> {
        percent(self.numerator, self.denominator)
    }
}

impl AddAssign for Figures {
    fn add_assign(&mut self, rhs: Self) {
        self.answered_within = self.answered_within.saturating_add(rhs.answered_within);
        self.abandoned_within = self.abandoned_within.saturating_add(rhs.abandoned_within);
        self.numerator = self.numerator.saturating_add(rhs.numerator);
        self.denominator = self.denominator.saturating_add(rhs.denominator);
    }
}

/// Applies `formula` to `tally` at `threshold`.
///
/// With a short-abandon bound S, short abandons (wait < S) leave both numerator and denominator.
/// Those among the abandons within the threshold T number `min(abandoned_within, short)`: when
/// S ≤ T + 1 every short abandon is within T, and when S > T every abandon within T is short.
#[must_use]
pub fn evaluate(tally: &Tally, threshold: Threshold, formula: &Formula) -> Figures {
    let within = tally.within(threshold);
    let answered = tally.answered;
    let answered_within = within.answered;
    let (short, short_within) = if formula.short_abandon.is_some() {
        let short = tally.short_abandoned.min(tally.abandoned);
        (short, within.abandoned.min(short))
    } else {
        (0, 0)
    };
    // Saturating arithmetic keeps inconsistent or absurd upstream counts from panicking; they can only
    // arise from a faulty source, and then the figures stay visible for the user to question.
    let abandoned = tally.abandoned.saturating_sub(short);
    let abandoned_within = within.abandoned.saturating_sub(short_within);
    let (numerator, mut denominator) = match formula.abandons {
        AbandonPolicy::Ignore => (answered_within, answered),
        AbandonPolicy::Against => (answered_within, answered.saturating_add(abandoned)),
        AbandonPolicy::AfterThreshold => (
            answered_within,
            answered.saturating_add(abandoned.saturating_sub(abandoned_within)),
        ),
        AbandonPolicy::For => (
            answered_within.saturating_add(abandoned_within),
            answered.saturating_add(abandoned),
        ),
    };
    if formula.flowouts == FlowOutPolicy::Against {
        denominator = denominator.saturating_add(tally.flow_outs);
    }
    Figures {
        answered_within,
        abandoned_within: within.abandoned,
        numerator,
        denominator,
    }
}

/// 100 × `numerator` / `denominator` rounded half away from zero to 2 decimals, computed in
/// integers so that the rounding is exact; `None` when `denominator` is 0.
#[must_use]
#[expect(
    clippy::cast_precision_loss,
    reason = "hundredths of a percent of realistic counts are far below 2^52"
)]
pub fn percent(numerator: u64, denominator: u64) -> Option<f64> {
    if denominator == 0 {
        return None;
    }
    let (n, d) = (u128::from(numerator), u128::from(denominator));
    let hundredths = (n * 20_000 + d) / (2 * d);
    Some(hundredths as f64 / 100.0)
}
