//! The report as aligned text for a terminal: the heading, then the counts with the companion
//! KPIs and the service levels as separate grids, so that a report of several objectives per
//! day still fits 100 columns.

use crate::render::grid::display_width;
use crate::render::layout::{self, Part};
use crate::report::SlaReport;

/// Queue names longer than this are cut in the table so that a typical report fits 100 columns.
const MAX_NAME: usize = 28;

/// The width a terminal table should keep within.
const WIDTH: usize = 100;

pub(super) fn render(report: &SlaReport) -> String {
    let mut out = layout::heading(report);
    out.push('\n');
    let grid = |part| {
        let mut table = layout::table(report, part);
        table.clip_column(0, MAX_NAME);
        table.text()
    };
    let counts = grid(Part::CountsAndKpis);
    let grids = if width(&counts) <= WIDTH {
        vec![counts, grid(Part::Levels)]
    } else {
        vec![grid(Part::Counts), grid(Part::Kpis), grid(Part::Levels)]
    };
    for text in grids {
        out.push('\n');
        out.push_str(&text);
    }
    if let Some(note) = layout::partial_note(report) {
        out.push('\n');
        out.push_str(&note);
        out.push('\n');
    }
    out
}

fn width(text: &str) -> usize {
    text.lines().map(display_width).max().unwrap_or(0)
}
