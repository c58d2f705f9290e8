//! A strict parser of the Prometheus text exposition format (0.0.4), so tests prove `/metrics`
//! parses rather than only that it contains some lines.

use std::collections::{BTreeMap, BTreeSet};

/// One sample.
#[derive(Debug, PartialEq)]
pub(super) struct Sample {
    pub(super) name: String,
    pub(super) labels: BTreeMap<String, String>,
    /// The value as written.
    pub(super) value: String,
}

/// The state of a parse: what has been declared and seen so far.
#[derive(Default)]
struct Parser {
    helps: BTreeSet<String>,
    types: BTreeMap<String, String>,
    finished: BTreeSet<String>,
    current: Option<String>,
    series: BTreeSet<String>,
}

fn is_name(s: &str, colons: bool) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colons && c == ':'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colons && c == ':'))
}

/// Parses strictly: every family has at most one `# HELP` and exactly one `# TYPE` before its
/// samples, the samples of a family are contiguous, names and label names are well formed,
/// label values use only the three escapes, values are numbers, and no series appears twice.
/// Panics, naming the line, at the first violation.
pub(super) fn parse_exposition(text: &str) -> Vec<Sample> {
    assert!(text.ends_with('\n'), "the exposition ends with a line feed");
    let mut parser = Parser::default();
    let mut samples = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if let Some(rest) = line.strip_prefix("# ") {
            parser.comment(n, rest);
        } else {
            samples.push(parser.sample(n, line));
        }
    }
    samples
}

impl Parser {
    fn comment(&mut self, n: usize, rest: &str) {
        let mut parts = rest.splitn(3, ' ');
        let (kind, name) = (parts.next().unwrap(), parts.next().unwrap_or(""));
        let tail = parts.next().unwrap_or("");
        assert!(is_name(name, true), "line {n}: bad metric name {name:?}");
        match kind {
            "HELP" => {
                assert!(
                    self.helps.insert(name.to_owned()),
                    "line {n}: second HELP for {name}"
                );
                assert!(!self.types.contains_key(name), "line {n}: HELP after TYPE");
                assert!(!tail.is_empty(), "line {n}: empty HELP");
            }
            "TYPE" => {
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&tail),
                    "line {n}: unknown type {tail:?}"
                );
                assert!(
                    self.types
                        .insert(name.to_owned(), tail.to_owned())
                        .is_none(),
                    "line {n}: second TYPE for {name}"
                );
                if let Some(previous) = self.current.replace(name.to_owned()) {
                    self.finished.insert(previous);
                }
            }
            _ => panic!("line {n}: unknown comment {kind:?}"),
        }
    }

    fn family_of<'a>(&self, name: &'a str) -> &'a str {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(base) = name.strip_suffix(suffix)
                && self
                    .types
                    .get(base)
                    .is_some_and(|t| t == "histogram" || t == "summary")
            {
                return base;
            }
        }
        name
    }

    fn sample(&mut self, n: usize, line: &str) -> Sample {
        assert!(!line.trim().is_empty(), "line {n}: blank line");
        let name_end = line
            .find(['{', ' '])
            .unwrap_or_else(|| panic!("line {n}: no value in {line:?}"));
        let name = &line[..name_end];
        assert!(is_name(name, true), "line {n}: bad metric name {name:?}");
        let family = self.family_of(name);
        assert!(
            self.types.contains_key(family),
            "line {n}: {name} has no TYPE"
        );
        assert_eq!(
            self.current.as_deref(),
            Some(family),
            "line {n}: {name} outside its family"
        );
        assert!(
            !self.finished.contains(family),
            "line {n}: {family} is split"
        );
        let mut rest = &line[name_end..];
        let mut labels = BTreeMap::new();
        if let Some(after) = rest.strip_prefix('{') {
            rest = parse_labels(n, after, &mut labels);
        }
        let rest = rest
            .strip_prefix(' ')
            .unwrap_or_else(|| panic!("line {n}: no space before the value"));
        let mut fields = rest.split(' ');
        let value = fields.next().unwrap();
        if !["+Inf", "-Inf", "NaN"].contains(&value) {
            value
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("line {n}: bad value {value:?}"));
        }
        if let Some(timestamp) = fields.next() {
            timestamp
                .parse::<i64>()
                .unwrap_or_else(|_| panic!("line {n}: bad timestamp {timestamp:?}"));
        }
        assert!(fields.next().is_none(), "line {n}: trailing fields");
        assert!(
            self.series.insert(format!("{name}{labels:?}")),
            "line {n}: duplicate series"
        );
        Sample {
            name: name.to_owned(),
            labels,
            value: value.to_owned(),
        }
    }
}

/// Reads `name="value",...}` into `labels`; returns what follows the closing brace.
fn parse_labels<'a>(n: usize, after: &'a str, labels: &mut BTreeMap<String, String>) -> &'a str {
    let mut chars = after.chars();
    let mut label = String::new();
    loop {
        let c = chars
            .next()
            .unwrap_or_else(|| panic!("line {n}: open labels"));
        if c == '}' && label.is_empty() {
            break;
        }
        if c != '=' {
            label.push(c);
            continue;
        }
        assert!(is_name(&label, false), "line {n}: bad label name {label:?}");
        assert_eq!(chars.next(), Some('"'), "line {n}: unquoted label value");
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('"') => break,
                Some('\\') => match chars.next() {
                    Some('\\') => value.push('\\'),
                    Some('"') => value.push('"'),
                    Some('n') => value.push('\n'),
                    other => panic!("line {n}: bad escape {other:?}"),
                },
                Some('\n') | None => panic!("line {n}: unterminated label value"),
                Some(c) => value.push(c),
            }
        }
        assert!(
            labels.insert(std::mem::take(&mut label), value).is_none(),
            "line {n}: a label twice"
        );
        match chars.next() {
            Some(',') => {}
            Some('}') => break,
            other => panic!("line {n}: expected ',' or '}}', got {other:?}"),
        }
    }
    chars.as_str()
}

/// The value of the series `name{labels}`, as written.
pub(super) fn value<'a>(
    samples: &'a [Sample],
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'a str> {
    let wanted: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    samples
        .iter()
        .find(|s| s.name == name && s.labels == wanted)
        .map(|s| s.value.as_str())
}

#[test]
fn the_parser_is_strict() {
    let ok = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"q\\\"\\\\\\n\",y=\"\"} 3\n";
    let samples = parse_exposition(ok);
    assert_eq!(samples[0].labels["x"], "q\"\\\n");
    assert_eq!(
        value(&samples, "a_total", &[("x", "q\"\\\n"), ("y", "")]),
        Some("3")
    );
    for bad in [
        "a 1\n",
        "# TYPE a gauge\na{x=\"1\"} one\n",
        "# TYPE a gauge\na{x=\"\\t\"} 1\n",
        "# TYPE a gauge\na 1\na 2\n",
        "# TYPE a gauge\n# TYPE b gauge\nb 1\na 1\n",
        "# TYPE a gauge\na{1x=\"1\"} 1\n",
        "# TYPE a gauge\na{x=\"1\" 1\n",
        "# TYPE a gauge\na 1",
        "# TYPE a gauge\n# HELP a late\na 1\n",
        "# TYPE a meter\na 1\n",
    ] {
        assert!(
            std::panic::catch_unwind(|| parse_exposition(bad)).is_err(),
            "accepted {bad:?}"
        );
    }
}
