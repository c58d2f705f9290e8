//! The report as GitHub-flavoured Markdown: a heading, then one table of every column, with
//! the totals in bold.

use std::fmt::Write as _;

use crate::render::layout::{self, Part};
use crate::report::SlaReport;

pub(super) fn render(report: &SlaReport) -> String {
    let mut out = String::from("## Service levels\n\n");
    for line in layout::heading(report).lines() {
        // Two trailing spaces break the line without starting a paragraph.
        let _ = writeln!(out, "{line}  ");
    }
    out.push('\n');
    out.push_str(&layout::table(report, Part::All).markdown());
    if let Some(note) = layout::partial_note(report) {
        out.push('\n');
        out.push_str(&note.replace('*', "\\*"));
        out.push('\n');
    }
    out
}
