//! The purity gate: sla-core's normal dependency tree holds no async runtime or HTTP crate.
//!
//! The gate asks `cargo tree -i` who pulls each forbidden crate into sla-core, and fails closed:
//! only the two answers that mean "sla-core does not reach it" let it pass.

use anyhow::bail;
use xshell::{Shell, cmd};

/// Crates that would let the pure core reach an async runtime or the network.
const FORBIDDEN_IN_CORE: &[&str] = &["tokio", "mio", "hyper", "reqwest", "axum"];

/// What one `cargo tree -p sla-core -e normal -i <crate>` said.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The crate is nowhere in sla-core's graph: cargo says the spec matched no package.
    Absent,
    /// The crate is in the graph but not on a normal edge (a dev-dependency): an empty tree.
    DevOnly,
    /// sla-core reaches the crate; this is the path cargo printed.
    Reached(String),
    /// `cargo tree` failed for another reason, so the gate cannot tell; this is its error.
    Unknown(String),
}

impl Verdict {
    /// Why the gate fails for `krate`, or `None` when sla-core does not reach it.
    pub(crate) fn failure(&self, krate: &str) -> Option<String> {
        match self {
            Verdict::Absent | Verdict::DevOnly => None,
            Verdict::Reached(tree) => Some(format!(
                "sla-core must not depend on {krate}, but it does:\n{tree}"
            )),
            Verdict::Unknown(error) => Some(format!(
                "cannot tell whether sla-core depends on {krate}: {error}"
            )),
        }
    }
}

/// Reads the exit `status` (`None` when killed by a signal), `stdout` and `stderr` of
/// `cargo tree -p sla-core -e normal -i <krate>`.
pub(crate) fn judge(krate: &str, status: Option<i32>, stdout: &str, stderr: &str) -> Verdict {
    let tree = stdout.trim();
    // Cargo exits with 101 on every error, so the message must name the crate we asked about:
    // "`sla-core` did not match any packages" would mean the gate is looking at the wrong thing.
    let no_match = format!("package ID specification `{krate}` did not match any packages");
    match status {
        Some(0) if tree.is_empty() => Verdict::DevOnly,
        Some(0) => Verdict::Reached(tree.to_owned()),
        Some(101) if tree.is_empty() && stderr.contains(&no_match) => Verdict::Absent,
        Some(code) => {
            Verdict::Unknown(format!("cargo tree exited with {code}:\n{}", stderr.trim()))
        }
        None => Verdict::Unknown(format!(
            "cargo tree was killed by a signal:\n{}",
            stderr.trim()
        )),
    }
}

/// Fails when `cargo tree` shows a path from sla-core to a forbidden crate, or cannot tell.
pub(crate) fn gate(sh: &Shell, cargo: &str) -> anyhow::Result<()> {
    for krate in FORBIDDEN_IN_CORE {
        // All features, so that no optional feature of sla-core may bring one in either.
        let output = cmd!(
            sh,
            "{cargo} tree -p sla-core -e normal --all-features --locked -i {krate}"
        )
        .quiet()
        .ignore_status()
        .output()?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if let Some(failure) = judge(krate, output.status.code(), &stdout, &stderr).failure(krate) {
            bail!(failure);
        }
    }
    println!("sla-core reaches none of {}", FORBIDDEN_IN_CORE.join(", "));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Verdict, judge};

    #[track_caller]
    fn check(status: Option<i32>, stdout: &str, stderr: &str, expect: &Verdict) {
        let verdict = judge("tokio", status, stdout, stderr);
        assert_eq!(&verdict, expect);
        if matches!(verdict, Verdict::Absent | Verdict::DevOnly) {
            assert_eq!(verdict.failure("tokio"), None);
        }
    }

    const NO_MATCH: &str = "error: package ID specification `tokio` did not match any packages\n\n\
                            help: a package with a similar name exists: `toml`\n";

    #[test]
    fn a_crate_cargo_cannot_find_is_absent() {
        check(Some(101), "", NO_MATCH, &Verdict::Absent);
    }

    #[test]
    fn an_empty_tree_is_a_dev_dependency_only() {
        let stderr = "warning: nothing to print.\n\nTo find dependencies that require specific \
                      target platforms, try to use option `--target all` first";
        check(Some(0), "", stderr, &Verdict::DevOnly);
        check(Some(0), "\n", "", &Verdict::DevOnly);
    }

    #[test]
    fn a_printed_tree_fails_the_gate() {
        let tree = "tokio v1.54.1\n└── sla-core v0.1.0 (/src/crates/sla-core)\n";
        let verdict = Verdict::Reached(tree.trim().to_owned());
        check(Some(0), tree, "", &verdict);
        let failure = verdict.failure("tokio").unwrap();
        assert!(
            failure.starts_with("sla-core must not depend on tokio"),
            "{failure}"
        );
        assert!(failure.contains("└── sla-core v0.1.0"), "{failure}");
    }

    #[test]
    fn any_other_failure_fails_the_gate_and_shows_the_error() {
        let bad_manifest = "error: failed to parse manifest at `/src/crates/sla-core/Cargo.toml`";
        let verdict = judge("tokio", Some(101), "", bad_manifest);
        assert!(matches!(verdict, Verdict::Unknown(_)), "{verdict:?}");
        let failure = verdict.failure("tokio").unwrap();
        assert!(
            failure.starts_with("cannot tell whether sla-core depends on tokio"),
            "{failure}"
        );
        assert!(failure.contains(bad_manifest), "{failure}");
        assert!(failure.contains("exited with 101"), "{failure}");

        // cargo tree itself missing or unusable exits with other codes.
        assert!(matches!(
            judge("tokio", Some(1), "", "error: no such command: `tree`"),
            Verdict::Unknown(_)
        ));
        assert!(matches!(judge("tokio", None, "", ""), Verdict::Unknown(_)));
    }

    #[test]
    fn no_match_counts_only_for_the_crate_asked_about() {
        // The package spec that failed is sla-core itself, so the gate looked at nothing.
        let wrong = "error: package ID specification `sla-core` did not match any packages\n";
        assert!(matches!(
            judge("tokio", Some(101), "", wrong),
            Verdict::Unknown(_)
        ));
        // A crate whose name merely contains the forbidden one does not stand for it.
        let longer = "error: package ID specification `tokio-util` did not match any packages\n";
        assert!(matches!(
            judge("tokio", Some(101), "", longer),
            Verdict::Unknown(_)
        ));
        // Exit 101 with a tree printed is not a clean "absent" either.
        assert!(matches!(
            judge("tokio", Some(101), "tokio v1.0.0\n", NO_MATCH),
            Verdict::Unknown(_)
        ));
    }
}
