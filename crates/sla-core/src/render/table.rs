//! The report as aligned text for a terminal: the heading, then the counts and the service
//! levels as two grids, so that a report of several objectives per day still fits 100 columns.

use crate::render::layout::{self, Part};
use crate::report::SlaReport;

/// Queue names longer than this are cut in the table so that a typical report fits 100 columns.
const MAX_NAME: usize = 28;

pub(super) fn render(report: &SlaReport) -> String {
    let mut out = layout::heading(report);
    out.push('\n');
    for part in [Part::Counts, Part::Levels] {
        let mut table = layout::table(report, part);
        table.clip_column(0, MAX_NAME);
        out.push('\n');
        out.push_str(&table.text());
    }
    if let Some(note) = layout::partial_note(report) {
        out.push('\n');
        out.push_str(&note);
        out.push('\n');
    }
    out
}
