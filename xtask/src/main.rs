//! Project automation: `cargo xtask ci` runs every check CI runs; `cargo xtask bench` runs the
//! benchmarks whose figures `docs/PERFORMANCE.md` records.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::env;
use std::process::ExitCode;

use anyhow::{Context, bail};
use xshell::{Shell, cmd};

/// Crates that would let the pure core reach an async runtime or the network.
const FORBIDDEN_IN_CORE: &[&str] = &["tokio", "mio", "hyper", "reqwest", "axum"];

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    let args: Vec<String> = env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(&sh),
        Some("bench") => bench(&sh, &args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <ci|bench>");
            eprintln!(
                "  ci     fmt, purity gate, clippy, build, tests, docs (and cargo-deny when installed)"
            );
            eprintln!("  bench  run the benchmarks recorded in docs/PERFORMANCE.md");
            bail!("unknown or missing command")
        }
    }
}

fn project_root() -> std::path::PathBuf {
    let manifest = env!("CARGO_MANIFEST_DIR");
    std::path::Path::new(manifest)
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

fn cargo() -> String {
    env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn step(name: &str) {
    println!("\n==> {name}");
}

fn ci(sh: &Shell) -> anyhow::Result<()> {
    let cargo = cargo();
    step("cargo fmt --all --check");
    cmd!(sh, "{cargo} fmt --all --check")
        .run()
        .context("formatting differs: run cargo fmt --all")?;

    step("purity gate: sla-core depends on no runtime or HTTP crate");
    purity_gate(sh, &cargo)?;

    step("cargo clippy (warnings denied)");
    cmd!(
        sh,
        "{cargo} clippy --workspace --all-targets --all-features --locked -- -D warnings"
    )
    .run()
    .context("clippy found problems")?;

    step("cargo build --workspace --bins (the end-to-end tests run them)");
    cmd!(sh, "{cargo} build --workspace --bins --locked").run()?;

    step("cargo test (CI=true: a changed or missing snapshot fails)");
    cmd!(sh, "{cargo} test --workspace --all-features --locked")
        .env("CI", "true")
        .run()
        .context("tests failed")?;

    step("cargo doc (warnings denied)");
    cmd!(sh, "{cargo} doc --workspace --no-deps --locked")
        .env("RUSTDOCFLAGS", "-D warnings")
        .run()
        .context("documentation has warnings")?;

    if cmd!(sh, "{cargo} deny --version")
        .quiet()
        .ignore_stderr()
        .read()
        .is_ok()
    {
        step("cargo deny check");
        cmd!(sh, "{cargo} deny check").run()?;
    } else {
        println!("\n(cargo-deny is not installed: licence and advisory checks skipped)");
    }
    println!("\nxtask ci: all checks passed");
    Ok(())
}

/// Fails when `cargo tree` shows a path from sla-core to a forbidden crate. Judged by output:
/// "did not match any packages" (absent) and an empty tree (a dev-dependency only) both pass.
fn purity_gate(sh: &Shell, cargo: &str) -> anyhow::Result<()> {
    for krate in FORBIDDEN_IN_CORE {
        let output = cmd!(sh, "{cargo} tree -p sla-core -e normal -i {krate}")
            .quiet()
            .ignore_status()
            .ignore_stderr()
            .output()?;
        let tree = String::from_utf8_lossy(&output.stdout);
        if output.status.success() && !tree.trim().is_empty() {
            bail!("sla-core must not depend on {krate}, but it does:\n{tree}");
        }
    }
    println!("sla-core reaches none of {}", FORBIDDEN_IN_CORE.join(", "));
    Ok(())
}

fn bench(sh: &Shell, args: &[String]) -> anyhow::Result<()> {
    let cargo = cargo();
    step("sla-core: tallying visits and building reports");
    cmd!(sh, "{cargo} bench -p sla-core --bench tally -- {args...}").run()?;
    println!("\nRecord the figures in docs/PERFORMANCE.md.");
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Tidy checks over the source tree.

    use std::fs;
    use std::path::Path;

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    rust_files(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_rust_file_starts_with_a_module_doc_line() {
        let root = super::project_root();
        let mut files = Vec::new();
        for dir in ["crates", "xtask", "tests"] {
            rust_files(&root.join(dir), &mut files);
        }
        assert!(files.len() > 10, "expected to find the workspace's sources");
        let missing: Vec<String> = files
            .iter()
            .filter(|f| !fs::read_to_string(f).unwrap().starts_with("//!"))
            .map(|f| f.strip_prefix(&root).unwrap().display().to_string())
            .collect();
        assert!(
            missing.is_empty(),
            "files without a leading `//!` line: {missing:?}"
        );
    }

    #[test]
    fn no_source_reads_the_shared_folder() {
        let root = super::project_root();
        let mut files = Vec::new();
        for dir in ["crates", "xtask", "tests"] {
            rust_files(&root.join(dir), &mut files);
        }
        let needle = ["..", "/shared/"].concat();
        let offenders: Vec<String> = files
            .iter()
            .filter(|f| fs::read_to_string(f).unwrap().contains(&needle))
            .map(|f| f.display().to_string())
            .collect();
        assert!(
            offenders.is_empty(),
            "sources must not read outside the repository: {offenders:?}"
        );
    }
}
