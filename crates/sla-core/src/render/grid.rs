//! The one table helper every renderer shares: rows of cells, aligned by display width for a
//! terminal (column alignment, padding and separators), or written as a Markdown table.

use unicode_width::{UnicodeWidthChar as _, UnicodeWidthStr as _};

/// How a column's cells line up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    /// Text, flush left.
    Left,
    /// Numbers, flush right.
    Right,
}

#[derive(Debug)]
enum Line {
    /// One cell per column; strong rows (totals) are bold in Markdown.
    Row { cells: Vec<String>, strong: bool },
    /// A dashed line across the table, between groups of rows; Markdown has none.
    Rule,
    /// A line of text of its own above the rows that follow it, such as their date.
    Heading(String),
}

/// A table: a header, then rows, rules and headings in order.
#[derive(Debug)]
pub(crate) struct Table {
    header: Vec<String>,
    align: Vec<Align>,
    lines: Vec<Line>,
}

/// Columns are this many spaces apart.
const GAP: usize = 2;

impl Table {
    /// A table of `columns`, each a header and an alignment.
    pub(crate) fn new<'a>(columns: impl IntoIterator<Item = (&'a str, Align)>) -> Self {
        let (header, align) = columns
            .into_iter()
            .map(|(header, align)| (header.to_owned(), align))
            .unzip();
        Self {
            header,
            align,
            lines: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty and extra ones are dropped.
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.push_row(cells, false);
    }

    /// Adds a row that Markdown shows in bold.
    pub(crate) fn strong_row(&mut self, cells: Vec<String>) {
        self.push_row(cells, true);
    }

    fn push_row(&mut self, mut cells: Vec<String>, strong: bool) {
        cells.resize(self.header.len(), String::new());
        self.lines.push(Line::Row { cells, strong });
    }

    /// Adds a dashed line across the table.
    pub(crate) fn rule(&mut self) {
        self.lines.push(Line::Rule);
    }

    /// Adds a line of text above the rows that follow.
    pub(crate) fn heading(&mut self, text: String) {
        self.lines.push(Line::Heading(text));
    }

    /// Cuts the cells of `column` to at most `max` columns of display width.
    pub(crate) fn clip_column(&mut self, column: usize, max: usize) {
        for line in &mut self.lines {
            if let Line::Row { cells, .. } = line
                && let Some(cell) = cells.get_mut(column)
            {
                *cell = clip(cell, max);
            }
        }
    }

    /// The table as aligned text: the header, a rule, then the lines. Each column is as wide
    /// as its widest cell on a terminal, where CJK characters and most emoji take two columns;
    /// text is flush left and numbers flush right, and no line ends in spaces.
    pub(crate) fn text(&self) -> String {
        let cells = |line: &Line| match line {
            Line::Row { cells, .. } => Some(cells.iter().map(|c| one_line(c)).collect()),
            Line::Rule | Line::Heading(_) => None,
        };
        let rows: Vec<Option<Vec<String>>> = self.lines.iter().map(cells).collect();
        let header: Vec<String> = self.header.iter().map(|h| one_line(h)).collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
        for row in rows.iter().flatten() {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.width());
            }
        }
        let rule = "-".repeat(widths.iter().sum::<usize>() + GAP * widths.len().saturating_sub(1));
        let mut out = String::new();
        let push_row = |out: &mut String, row: &[String]| {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.extend(std::iter::repeat_n(' ', GAP));
                }
                let pad = widths[i].saturating_sub(cell.width());
                match self.align[i] {
                    Align::Left => {
                        line.push_str(cell);
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                    Align::Right => {
                        line.extend(std::iter::repeat_n(' ', pad));
                        line.push_str(cell);
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        };
        push_row(&mut out, &header);
        out.push_str(&rule);
        out.push('\n');
        for (line, row) in self.lines.iter().zip(&rows) {
            match (line, row) {
                (_, Some(row)) => push_row(&mut out, row),
                (Line::Heading(text), None) => {
                    out.push_str(one_line(text).trim_end());
                    out.push('\n');
                }
                (Line::Rule | Line::Row { .. }, None) => {
                    out.push_str(&rule);
                    out.push('\n');
                }
            }
        }
        out
    }

    /// The table in GitHub-flavoured Markdown: numbers right-aligned, pipes and stars escaped,
    /// strong rows in bold, and each heading as a row of its own with the text in its first cell.
    pub(crate) fn markdown(&self) -> String {
        let mut out = String::new();
        let mut push_row = |cells: &mut dyn Iterator<Item = String>| {
            out.push('|');
            for cell in cells {
                out.push(' ');
                out.push_str(&cell);
                out.push_str(" |");
            }
            out.push('\n');
        };
        push_row(&mut self.header.iter().map(|h| markdown_cell(h, false)));
        push_row(&mut self.align.iter().map(|a| {
            match a {
                Align::Left => "---",
                Align::Right => "---:",
            }
            .to_owned()
        }));
        for line in &self.lines {
            match line {
                Line::Row { cells, strong } => {
                    push_row(&mut cells.iter().map(|c| markdown_cell(c, *strong)));
                }
                Line::Heading(text) => {
                    let rest = std::iter::repeat_n(String::new(), self.header.len() - 1);
                    push_row(&mut std::iter::once(markdown_cell(text, true)).chain(rest));
                }
                Line::Rule => {}
            }
        }
        out
    }
}

/// `text` with every control character (a line break in a queue name, say) as a space, so
/// that a cell stays on its line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn markdown_cell(text: &str, strong: bool) -> String {
    // A pipe would end the cell, and a star could start emphasis (a partial interval's mark).
    let text = one_line(text).replace('|', "\\|").replace('*', "\\*");
    let text = text.trim();
    if strong && !text.is_empty() {
        format!("**{text}**")
    } else {
        text.to_owned()
    }
}

/// `text` cut to at most `max` columns of display width, ending in `…` when cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    if text.width() <= max {
        return text.to_owned();
    }
    let mut cut = String::new();
    let mut width = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if width + w + 1 > max {
            break;
        }
        width += w;
        cut.push(c);
    }
    cut.push('…');
    cut
}

/// How many terminal columns `text` takes.
pub(crate) fn display_width(text: &str) -> usize {
    text.width()
}
