//! What the tests need from the machine, and how a fresh machine gets it.
//!
//! [`plan`] decides; [`ensure`] probes the machine, asks [`plan`], and runs apt-get when the plan
//! says to. The list of requirements lives here and nowhere else: `.ci/run` relies on it too.

use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use xshell::{Shell, cmd};

/// Something the tests need from the machine, and the Debian package that provides it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Requirement {
    /// What is needed and which tests need it, as the messages name it.
    pub(crate) need: &'static str,
    /// The Debian package that provides it.
    pub(crate) package: &'static str,
    probe: Probe,
}

/// How to tell whether a requirement is met.
#[derive(Debug, PartialEq, Eq)]
enum Probe {
    /// At least one of these programs is on `PATH`.
    AnyOnPath(&'static [&'static str]),
    /// Every one of these programs is on `PATH`.
    AllOnPath(&'static [&'static str]),
    /// `python3` imports every one of these modules.
    PythonImports(&'static [&'static str]),
    /// One `/usr/lib/postgresql/<version>/bin` directory holds every one of these programs.
    PostgresBin(&'static [&'static str]),
}

/// Everything the tests need beyond a Rust toolchain.
pub(crate) const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        need: "chromium on PATH, for the dashboard's browser test",
        package: "chromium",
        // The test harness accepts either name, as Ubuntu calls it `chromium-browser`.
        probe: Probe::AnyOnPath(&["chromium", "chromium-browser"]),
    },
    Requirement {
        need: "Python's venv and ensurepip, for the official Genesys Python SDK check",
        package: "python3-venv",
        probe: Probe::PythonImports(&["venv", "ensurepip"]),
    },
    Requirement {
        need: "initdb and pg_ctl under /usr/lib/postgresql/*/bin, for the PostgreSQL store tests",
        package: "postgresql",
        probe: Probe::PostgresBin(&["initdb", "pg_ctl"]),
    },
    Requirement {
        need: "promtool and prometheus on PATH, for the Prometheus rule and scrape tests",
        package: "prometheus",
        probe: Probe::AllOnPath(&["promtool", "prometheus"]),
    },
];

/// What the machine allows us to do about a missing requirement.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Machine {
    /// We run as root, so apt-get can install packages.
    pub(crate) root: bool,
    /// `apt-get` is on `PATH`.
    pub(crate) apt_get: bool,
}

/// What to do before the tests run.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Everything the tests need is there.
    Ready,
    /// Install these Debian packages with apt-get, then look again.
    Install(Vec<&'static str>),
    /// Stop at once with this message, which names the packages and the command to run.
    Stop(String),
}

/// Decides what to do about the `missing` requirements on `machine`.
pub(crate) fn plan(missing: &[&Requirement], machine: Machine) -> Plan {
    if missing.is_empty() {
        return Plan::Ready;
    }
    let mut packages: Vec<&'static str> = Vec::new();
    for requirement in missing {
        if !packages.contains(&requirement.package) {
            packages.push(requirement.package);
        }
    }
    if machine.root && machine.apt_get {
        return Plan::Install(packages);
    }
    let needs = missing
        .iter()
        .map(|r| format!("  {} (Debian package {})", r.need, r.package))
        .collect::<Vec<_>>()
        .join("\n");
    let list = packages.join(" ");
    let command = format!("sudo apt-get update && sudo apt-get install -y {list}");
    let advice = if machine.apt_get {
        format!("install with:\n  {command}")
    } else {
        format!(
            "apt-get is not available here: install the equivalent of the Debian packages {list} \
             with this system's package manager (on Debian or Ubuntu: {command})"
        )
    };
    Plan::Stop(format!(
        "the tests need what this machine lacks:\n{needs}\n{advice}\n\
         then run cargo xtask ci again (as root with apt-get, it installs them itself)"
    ))
}

/// Makes sure the machine has everything in [`REQUIREMENTS`]: installs what is missing when it
/// can, and otherwise fails with the packages to install and the command that installs them.
pub(crate) fn ensure(sh: &Shell) -> anyhow::Result<()> {
    let missing = unmet();
    let machine = Machine {
        root: is_root(),
        apt_get: on_path("apt-get"),
    };
    match plan(&missing, machine) {
        Plan::Ready => {
            let found: Vec<&str> = REQUIREMENTS.iter().map(|r| r.package).collect();
            println!(
                "found what the tests need (Debian packages {})",
                found.join(", ")
            );
            Ok(())
        }
        Plan::Stop(message) => bail!(message),
        Plan::Install(packages) => {
            let list = packages.join(" ");
            println!("installing {list}");
            cmd!(sh, "apt-get update")
                .run()
                .context("apt-get update failed")?;
            cmd!(sh, "apt-get install -y {packages...}")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .run()
                .with_context(|| format!("apt-get could not install {list}"))?;
            let still = unmet();
            if !still.is_empty() {
                let needs: Vec<&str> = still.iter().map(|r| r.need).collect();
                bail!(
                    "installed {list} but the tests still lack: {}",
                    needs.join("; ")
                );
            }
            Ok(())
        }
    }
}

/// The requirements this machine does not meet.
fn unmet() -> Vec<&'static Requirement> {
    REQUIREMENTS.iter().filter(|r| !met(&r.probe)).collect()
}

fn met(probe: &Probe) -> bool {
    match probe {
        Probe::AnyOnPath(names) => names.iter().any(|n| on_path(n)),
        Probe::AllOnPath(names) => names.iter().all(|n| on_path(n)),
        Probe::PythonImports(modules) => succeeds(
            Command::new("python3")
                .arg("-c")
                .arg(format!("import {}", modules.join(", "))),
        ),
        Probe::PostgresBin(names) => std::fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .any(|version| {
                let bin = version.path().join("bin");
                names.iter().all(|n| bin.join(n).is_file())
            }),
    }
}

/// Whether the effective user is root; `id` is in POSIX, so no extra crate is needed.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success() && out.stdout.trim_ascii() == b"0")
}

fn on_path(name: &str) -> bool {
    crate::find_on_path(name).is_some()
}

fn succeeds(command: &mut Command) -> bool {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

#[cfg(test)]
mod tests {
    use super::{Machine, Plan, REQUIREMENTS, Requirement, plan};

    fn requirement(package: &str) -> &'static Requirement {
        REQUIREMENTS.iter().find(|r| r.package == package).unwrap()
    }

    const ROOT_WITH_APT: Machine = Machine {
        root: true,
        apt_get: true,
    };
    const USER_WITH_APT: Machine = Machine {
        root: false,
        apt_get: true,
    };

    #[test]
    fn nothing_missing_means_ready_whoever_runs_it() {
        for root in [true, false] {
            for apt_get in [true, false] {
                assert_eq!(plan(&[], Machine { root, apt_get }), Plan::Ready);
            }
        }
    }

    #[test]
    fn root_with_apt_installs_each_missing_package_once() {
        let missing = [requirement("chromium"), requirement("postgresql")];
        assert_eq!(
            plan(&missing, ROOT_WITH_APT),
            Plan::Install(vec!["chromium", "postgresql"])
        );
        let all: Vec<&Requirement> = REQUIREMENTS.iter().collect();
        assert_eq!(
            plan(&all, ROOT_WITH_APT),
            Plan::Install(vec!["chromium", "python3-venv", "postgresql", "prometheus"])
        );
        let twice = [requirement("prometheus"), requirement("prometheus")];
        assert_eq!(
            plan(&twice, ROOT_WITH_APT),
            Plan::Install(vec!["prometheus"])
        );
    }

    #[test]
    fn a_user_is_told_each_package_and_the_sudo_command() {
        let missing = [requirement("chromium"), requirement("python3-venv")];
        let Plan::Stop(message) = plan(&missing, USER_WITH_APT) else {
            panic!("a user without root cannot install packages");
        };
        assert!(message.contains(
            "chromium on PATH, for the dashboard's browser test (Debian package chromium)"
        ));
        assert!(message.contains("(Debian package python3-venv)"));
        assert!(
            message
                .contains("sudo apt-get update && sudo apt-get install -y chromium python3-venv"),
            "{message}"
        );
        assert!(!message.contains("postgresql"), "{message}");
        assert!(!message.contains("apt-get is not available"), "{message}");
    }

    #[test]
    fn without_apt_get_the_message_names_the_debian_packages_even_as_root() {
        let missing = [requirement("prometheus")];
        for root in [true, false] {
            let Plan::Stop(message) = plan(
                &missing,
                Machine {
                    root,
                    apt_get: false,
                },
            ) else {
                panic!("without apt-get nothing can be installed");
            };
            assert!(
                message.contains("apt-get is not available here"),
                "{message}"
            );
            assert!(message.contains("Debian packages prometheus"), "{message}");
            assert!(
                message.contains("promtool and prometheus on PATH"),
                "{message}"
            );
        }
    }

    #[test]
    fn every_requirement_names_its_own_package() {
        let mut packages: Vec<&str> = REQUIREMENTS.iter().map(|r| r.package).collect();
        packages.sort_unstable();
        packages.dedup();
        assert_eq!(packages.len(), REQUIREMENTS.len());
    }
}
