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

use std::str::FromStr;

use crate::error::SlaError;
use crate::report::SlaReport;

pub(crate) mod csv;
pub(crate) mod grid;
pub(crate) mod json;
pub(crate) mod layout;
mod markdown;
mod table;

/// An output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// An aligned text table for terminals.
    #[default]
    Table,
    /// The `sla-report/v1` JSON document.
    Json,
    /// Tidy CSV: one row per queue × media type × interval × objective, then the totals, told
    /// apart by the column `scope`.
    Csv,
    /// A GitHub-flavoured Markdown table.
    Markdown,
}

impl FromStr for Format {
    type Err = SlaError;

    fn from_str(s: &str) -> Result<Self, SlaError> {
        match s.trim() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "markdown" | "md" => Ok(Format::Markdown),
            _ => Err(SlaError::InvalidFormat(s.to_owned())),
        }
    }
}

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
