//! The Prometheus files in `deploy/prometheus`: `promtool check config` (which checks the rule
//! files it names), `promtool check rules`, and the rules' unit tests with `promtool test rules`.

use anyhow::Context as _;
use xshell::{Shell, cmd};

/// Where the Prometheus configuration, rules and rule tests live, from the workspace root.
const DIR: &str = "deploy/prometheus";

/// Runs every promtool check; promtool comes with Debian's `prometheus` package, which
/// `provision` installs.
pub(crate) fn check(sh: &Shell) -> anyhow::Result<()> {
    let config = format!("{DIR}/prometheus.yml");
    let rules = format!("{DIR}/alerts.yml");
    let tests = format!("{DIR}/alerts_test.yml");
    cmd!(sh, "promtool check config {config}")
        .run()
        .with_context(|| format!("promtool found problems in {config}"))?;
    cmd!(sh, "promtool check rules {rules}")
        .run()
        .with_context(|| format!("promtool found problems in {rules}"))?;
    cmd!(sh, "promtool test rules {tests}")
        .run()
        .with_context(|| format!("the alerting rules failed their unit tests in {tests}"))?;
    Ok(())
}
