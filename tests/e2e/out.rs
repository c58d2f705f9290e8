//! `--out`: a regular file or a symlink to one is replaced atomically with its permissions kept;
//! a FIFO or a device is written in place, never replaced; a read-only file is refused before
//! any request. Devices are made in a scratch folder (`mknod`), never touched under `/dev`.

use std::fs;
use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
use std::path::Path;
use std::process::{Command, Output};

use e2e::{TestSim, fixed_config, scratch_dir, stderr, stdout};

/// A small CSV report of the fixed dataset into `target`.
fn report_into(sim: &TestSim, target: &Path) -> Output {
    sim.sla(&[
        "report",
        "--queue",
        "Support",
        "--from",
        "2026-03-23",
        "--to",
        "2026-03-23",
        "--tz",
        "UTC",
        "--format",
        "csv",
        "--out",
        target.to_str().expect("a UTF-8 path"),
    ])
}

#[track_caller]
fn succeeded(output: &Output) {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    assert!(stdout(output).is_empty(), "the report went to --out only");
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("a folder")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn a_regular_file_is_replaced_keeping_its_permissions_and_nothing_else() {
    let dir = scratch_dir("out-regular");
    let path = dir.join("report.csv");
    fs::write(&path, "old").expect("a file");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
    succeeded(&report_into(TestSim::shared(), &path));
    let text = fs::read_to_string(&path).expect("the report");
    assert!(text.starts_with("queue_id,queue_name,"), "{text}");
    let mode = fs::metadata(&path).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    assert_eq!(names_in(&dir), ["report.csv"], "no temporary file is left");

    // A new file gets the usual permissions.
    let fresh = dir.join("fresh.csv");
    succeeded(&report_into(TestSim::shared(), &fresh));
    let mode = fs::metadata(&fresh).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
}

#[test]
fn a_symlink_keeps_pointing_at_its_target_which_gets_the_report() {
    let dir = scratch_dir("out-symlink");
    fs::create_dir(dir.join("real")).expect("a folder");
    let target = dir.join("real").join("report.csv");
    fs::write(&target, "old").expect("a file");
    let link = dir.join("link.csv");
    std::os::unix::fs::symlink(&target, &link).expect("a symlink");
    succeeded(&report_into(TestSim::shared(), &link));
    assert!(
        fs::symlink_metadata(&link)
            .expect("metadata")
            .file_type()
            .is_symlink(),
        "the symlink is kept"
    );
    let text = fs::read_to_string(&target).expect("the target");
    assert!(text.starts_with("queue_id,queue_name,"), "{text}");
    assert_eq!(names_in(&dir.join("real")), ["report.csv"]);
}

#[test]
fn a_fifo_is_written_into_and_stays_a_fifo() {
    let dir = scratch_dir("out-fifo");
    let fifo = dir.join("pipe");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo failed");
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || fs::read_to_string(fifo).expect("the FIFO is read"))
    };
    succeeded(&report_into(TestSim::shared(), &fifo));
    let text = reader.join().expect("the reader");
    assert!(text.starts_with("queue_id,queue_name,"), "{text}");
    assert!(
        fs::symlink_metadata(&fifo)
            .expect("metadata")
            .file_type()
            .is_fifo()
    );
}

#[test]
fn a_read_only_file_is_refused_before_any_request() {
    let sim = TestSim::start(fixed_config());
    let dir = scratch_dir("out-read-only");
    let path = dir.join("locked.csv");
    fs::write(&path, "keep me").expect("a file");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).expect("chmod");
    let output = report_into(&sim, &path);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is read-only"),
        "{}",
        stderr(&output)
    );
    assert_eq!(fs::read_to_string(&path).expect("the file"), "keep me");
    let mode = fs::metadata(&path).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode, 0o444);
    assert_eq!(sim.server().token_requests(), 0);
    assert_eq!(sim.server().api_requests(), 0);
}

/// A character device of the test's own: `mknod NAME c MAJOR MINOR` in the scratch folder.
fn device(dir: &Path, name: &str, major: u32, minor: u32) -> std::path::PathBuf {
    let path = dir.join(name);
    let made = Command::new("mknod")
        .arg(&path)
        .args(["c", &major.to_string(), &minor.to_string()])
        .output()
        .expect("mknod runs");
    assert!(
        made.status.success(),
        "mknod {} c {major} {minor} failed (making a device needs root, as CI runs): {}",
        path.display(),
        String::from_utf8_lossy(&made.stderr)
    );
    path
}

#[test]
fn a_character_device_is_written_in_place_and_a_full_one_fails() {
    let dir = scratch_dir("out-device");
    let null = device(&dir, "null", 1, 3);
    succeeded(&report_into(TestSim::shared(), &null));
    let kind = |p: &Path| fs::symlink_metadata(p).expect("metadata").file_type();
    assert!(kind(&null).is_char_device(), "still a device");

    let full = device(&dir, "full", 1, 7);
    let output = report_into(TestSim::shared(), &full);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("No space left on device"),
        "{}",
        stderr(&output)
    );
    assert!(kind(&full).is_char_device(), "still a device");
    assert_eq!(names_in(&dir), ["full", "null"]);
}
