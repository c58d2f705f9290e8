//! Formulas: the worked example of the product brief, short abandons, flow-outs, rounding and
//! zero denominators, straight through `evaluate` and `percent`.

use crate::tests::fixtures::{counts, ms, within};
use crate::{AbandonPolicy, Figures, FlowOutPolicy, Formula, Tally, Threshold, evaluate, percent};

const T: Threshold = Threshold::from_millis(20_000);

/// Counts as a source would report them, with within counts at [`T`].
struct Counts {
    answered: u64,
    answered_within: u64,
    abandoned: u64,
    abandoned_within: u64,
    short: u64,
    flow_outs: u64,
}

/// The worked example of the product brief.
const WORKED: Counts = Counts {
    answered: 1000,
    answered_within: 860,
    abandoned: 60,
    abandoned_within: 20,
    short: 0,
    flow_outs: 0,
};

fn tally(c: &Counts) -> Tally {
    let mut tally = counts(
        c.answered + c.abandoned + c.flow_outs,
        c.answered,
        c.abandoned,
        c.flow_outs,
        c.short,
    );
    tally.add_within(T, within(c.answered_within, c.abandoned_within));
    tally
}

fn formula(abandons: &str, short_abandon: Option<u64>, flowouts: &str) -> Formula {
    Formula {
        abandons: abandons.parse().unwrap(),
        short_abandon: short_abandon.map(ms),
        flowouts: flowouts.parse().unwrap(),
    }
}

/// Numerator, denominator and percent.
type Expected = (u64, u64, Option<f64>);

/// Evaluates `counts` at [`T`] and compares numerator, denominator and percent.
#[track_caller]
fn check(counts: &Counts, formula: &Formula, expect: Expected) {
    let figures = evaluate(&tally(counts), T, formula);
    let got = (figures.numerator, figures.denominator, figures.percent());
    assert_eq!(got, expect, "{formula:?}");
    // The reported within counts stay raw whatever the formula.
    assert_eq!(figures.answered_within, counts.answered_within);
    assert_eq!(figures.abandoned_within, counts.abandoned_within);
}

/// [`check`] under each abandon policy of `expect`, with the same short-abandon bound and
/// flow-out policy.
#[track_caller]
fn check_policies(
    counts: &Counts,
    short_abandon: Option<u64>,
    flowouts: &str,
    expect: &[(&str, Expected)],
) {
    for (abandons, expect) in expect {
        check(counts, &formula(abandons, short_abandon, flowouts), *expect);
    }
}

#[test]
fn worked_example_under_every_abandon_policy() {
    check_policies(
        &WORKED,
        None,
        "ignore",
        &[
            ("ignore", (860, 1000, Some(86.0))),
            ("against", (860, 1060, Some(81.13))),
            ("after-threshold", (860, 1040, Some(82.69))),
            ("for", (880, 1060, Some(83.02))),
        ],
    );
}

#[test]
fn the_default_formula_is_ignore_without_short_abandons_or_flow_outs() {
    let default = Formula::default();
    assert_eq!(default.abandons, AbandonPolicy::Ignore);
    assert_eq!(default.flowouts, FlowOutPolicy::Ignore);
    assert_eq!(default.short_abandon, None);
    check(&WORKED, &default, (860, 1000, Some(86.0)));
}

#[test]
fn flow_outs_join_the_denominator_as_misses_only_when_against() {
    let counts = Counts {
        flow_outs: 40,
        ..WORKED
    };
    check(
        &counts,
        &formula("ignore", None, "ignore"),
        (860, 1000, Some(86.0)),
    );
    check_policies(
        &counts,
        None,
        "against",
        &[
            ("ignore", (860, 1040, Some(82.69))),
            ("against", (860, 1100, Some(78.18))),
            ("after-threshold", (860, 1080, Some(79.63))),
            ("for", (880, 1100, Some(80.0))),
        ],
    );
}

#[test]
fn short_abandons_at_most_the_threshold_leave_both_sides() {
    // S = 5 s ≤ T: the 8 short abandons are all among the 20 abandoned within T.
    let counts = Counts { short: 8, ..WORKED };
    let s = Some(5_000);
    check_policies(
        &counts,
        s,
        "ignore",
        &[
            ("ignore", (860, 1000, Some(86.0))),
            ("against", (860, 1052, Some(81.75))),
            ("after-threshold", (860, 1040, Some(82.69))),
            ("for", (872, 1052, Some(82.89))),
        ],
    );
}

#[test]
fn short_abandons_above_the_threshold_remove_every_abandon_within_it() {
    // S = 30 s > T: the 20 abandoned within T are short, and 5 more between T and S.
    let counts = Counts {
        short: 25,
        ..WORKED
    };
    let s = Some(30_000);
    check_policies(
        &counts,
        s,
        "ignore",
        &[
            ("ignore", (860, 1000, Some(86.0))),
            ("against", (860, 1035, Some(83.09))),
            ("after-threshold", (860, 1035, Some(83.09))),
            ("for", (860, 1035, Some(83.09))),
        ],
    );
}

#[test]
fn short_abandon_counts_are_ignored_without_a_bound() {
    // A tally may carry short abandons counted for another query; without a bound they stay.
    let counts = Counts { short: 8, ..WORKED };
    check(
        &counts,
        &formula("against", None, "ignore"),
        (860, 1060, Some(81.13)),
    );
}

#[test]
fn zero_denominators_have_no_percent() {
    let idle = Counts {
        answered: 0,
        answered_within: 0,
        abandoned: 0,
        abandoned_within: 0,
        short: 0,
        flow_outs: 0,
    };
    for abandons in ["ignore", "against", "after-threshold", "for"] {
        check(
            &idle,
            &formula(abandons, Some(5_000), "against"),
            (0, 0, None),
        );
    }
    // Only abandons, and every one of them short: nothing is left to measure.
    let only_short = Counts {
        abandoned: 3,
        abandoned_within: 3,
        short: 3,
        ..idle
    };
    check(
        &only_short,
        &formula("for", Some(5_000), "ignore"),
        (0, 0, None),
    );
    // Only abandons, with `ignore`: the denominator is the answered visits, none.
    let only_abandons = Counts {
        abandoned: 3,
        ..idle
    };
    check_policies(
        &only_abandons,
        None,
        "ignore",
        &[("ignore", (0, 0, None)), ("against", (0, 3, Some(0.0)))],
    );
}

#[test]
fn a_threshold_never_counted_has_nothing_within() {
    let figures = evaluate(&tally(&WORKED), ms(60_000), &Formula::default());
    assert_eq!(
        figures,
        Figures {
            answered_within: 0,
            abandoned_within: 0,
            numerator: 0,
            denominator: 1000,
        }
    );
}

#[test]
fn inconsistent_counts_do_not_panic() {
    // More abandoned within T than abandoned, and more short than abandoned: a faulty source.
    let counts = Counts {
        answered: 10,
        answered_within: 5,
        abandoned: 2,
        abandoned_within: 4,
        short: 9,
        flow_outs: 0,
    };
    for abandons in ["ignore", "against", "after-threshold", "for"] {
        let figures = evaluate(
            &tally(&counts),
            T,
            &formula(abandons, Some(5_000), "against"),
        );
        assert!(figures.denominator >= 10, "{abandons}: {figures:?}");
    }
}

#[test]
fn percent_rounds_half_away_from_zero_to_two_decimals() {
    #[track_caller]
    fn check(numerator: u64, denominator: u64, expect: Option<f64>) {
        assert_eq!(
            percent(numerator, denominator),
            expect,
            "{numerator}/{denominator}"
        );
    }
    check(0, 0, None);
    check(7, 0, None);
    check(0, 7, Some(0.0));
    check(7, 7, Some(100.0));
    check(1, 3, Some(33.33));
    check(2, 3, Some(66.67));
    check(1, 8, Some(12.5));
    // 12.345 exactly: half away from zero, where binary floating point would give 12.34.
    check(2469, 20_000, Some(12.35));
    check(2467, 20_000, Some(12.34));
    // Just below one hundredth of a percent.
    check(1, 20_001, Some(0.0));
    check(1, 20_000, Some(0.01));
    // 99.995 rounds up to 100, never above.
    check(19_999, 20_000, Some(100.0));
    check(u64::MAX - 1, u64::MAX, Some(100.0));
}
