//! Renderers: the report, the queue listing and the breach list as text. They return strings
//! and write nothing.
//!
//! One module per format renders the report: `table` (aligned text for terminals), `json`
//! (`sla-report/v1`), `csv` (tidy rows) and `markdown`. `layout` holds what the table and
//! Markdown both show of a report: the heading, the labels, and the rows per queue, interval
//! and objective. `grid` is the one table helper (alignment by display width, padding,
//! separators, Markdown tables) that the report, the queue listing (`crate::listing`) and the
//! breach list (`crate::breaches`) all use; `csv::write` and `json::pretty` are shared the
//! same way.

use crate::model::Format;
use crate::report::SlaReport;

pub(crate) mod csv;
pub(crate) mod grid;
pub(crate) mod json;
pub(crate) mod layout;
mod live;

pub use crate::render::layout::wait_text;
pub use crate::render::live::render_live;
mod markdown;
mod table;

/// Renders `report` in `format`. Every format ends with a newline.
#[must_use]
pub fn render(report: &SlaReport, format: Format) -> String {
    match format {
        Format::Table => table::render(report),
        Format::Json => json::pretty(report),
        Format::Csv => csv::render(report),
        Format::Markdown => markdown::render(report),
    }
}
