//! The README's example outputs are what the binary prints: each block after a marker
//! `<!-- output of: sla ARGS -->` must equal the output of `sla ARGS` against the fixed
//! simulated dataset. `UPDATE_README=1 cargo test -p e2e readme` rewrites the blocks.

use std::path::Path;

use e2e::{TestSim, stderr};

const MARKER: &str = "<!-- output of: sla ";

/// The README's path.
fn readme() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
}

/// The words of a command line, with single-quoted words kept whole: `--queue-name 'Sales*'`.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('\'') {
            let end = quoted.find('\'').expect("a closing quote");
            words.push(quoted[..end].to_owned());
            rest = quoted[end + 1..].trim_start();
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            words.push(rest[..end].to_owned());
            rest = rest[end..].trim_start();
        }
    }
    words
}

/// One generated block: the command, and the byte range of the block's content.
struct Block {
    args: Vec<String>,
    content: std::ops::Range<usize>,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(MARKER) {
        let start = from + at + MARKER.len();
        let end = start + text[start..].find("-->").expect("a closed marker");
        let args = words(&text[start..end]);
        // The fence opens on the line after the marker and its content starts after it.
        let fence = end
            + text[end..]
                .find("```")
                .expect("a fenced block after the marker");
        let content_start = fence + text[fence..].find('\n').expect("a fence line") + 1;
        let content_end = content_start + text[content_start..].find("```").expect("a fence");
        found.push(Block {
            args,
            content: content_start..content_end,
        });
        from = content_end;
    }
    found
}

#[test]
fn the_readme_shows_what_the_binary_prints() {
    let text = std::fs::read_to_string(readme()).expect("the README");
    let blocks = blocks(&text);
    assert!(blocks.len() >= 4, "the README shows generated examples");
    let sim = TestSim::shared();
    let mut updated = text.clone();
    let mut stale = Vec::new();
    // From the last block back, so that earlier ranges stay valid while rewriting.
    for block in blocks.iter().rev() {
        let args: Vec<&str> = block.args.iter().map(String::as_str).collect();
        let output = sim.sla(&args);
        assert!(
            matches!(output.status.code(), Some(0 | 3)),
            "sla {args:?}: {}",
            stderr(&output)
        );
        let printed = String::from_utf8(output.stdout).expect("UTF-8 output");
        if text[block.content.clone()] != printed {
            stale.push(block.args.join(" "));
            updated.replace_range(block.content.clone(), &printed);
        }
    }
    if std::env::var_os("UPDATE_README").is_some() {
        std::fs::write(readme(), updated).expect("the README is written");
        return;
    }
    assert!(
        stale.is_empty(),
        "the README's examples differ from what sla prints for: {stale:#?}\n\
         run UPDATE_README=1 cargo test -p e2e readme, and read the diff"
    );
}

#[test]
fn commands_split_into_words_as_a_shell_would() {
    assert_eq!(
        words("report --queue-name 'Sales*'  --tz UTC"),
        ["report", "--queue-name", "Sales*", "--tz", "UTC"]
    );
    assert_eq!(words("queues"), ["queues"]);
}
