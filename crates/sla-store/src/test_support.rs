//! Test support (the `test-support` feature): a PostgreSQL server of the test run's own, for
//! this crate's tests and benchmark and for the end-to-end tests of the binaries.
//!
//! One cluster per process, in a temporary directory, listening on a free port on 127.0.0.1
//! only (and on a unix socket in that directory), with a fresh database for each caller of
//! [`database`].
//!
//! PostgreSQL refuses to run as root, so a root run starts it as the `postgres` user that
//! Debian's `postgresql` package creates; any other user starts it as itself. The cluster is
//! stopped and its directory removed when the process ends, however it ends: a watchdog shell
//! waits for the end of its standard input, which closes only when this process exits (after
//! the last test, on a panic that aborts, or when killed).
//!
//! A missing PostgreSQL is a failure naming the package to install, never a skipped test.

use std::fs::{self, File};
use std::io::Read as _;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// Where Debian puts each PostgreSQL version's server binaries.
const DEBIAN_BINARIES: &str = "/usr/lib/postgresql";
/// Installs them.
const PACKAGE_HINT: &str =
    "install Debian's `postgresql` package (apt-get install postgresql) to run the store tests";

#[derive(Debug)]
struct Cluster {
    port: u16,
    dir: PathBuf,
    bin: PathBuf,
    /// The user the server runs as when this process is root.
    owner: Option<String>,
    /// Stops the server when this process exits; kept only so its standard input stays open.
    _watchdog: Mutex<Child>,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// The URL of a new, empty database on the process's cluster, started on first use:
/// `postgres://postgres@127.0.0.1:PORT/tN`, with trust authentication on loopback.
///
/// # Panics
///
/// When PostgreSQL's server binaries are missing (the message names the Debian package), or
/// the cluster does not start (the message holds its log), or the database cannot be created:
/// a test cannot go on without it.
pub async fn database() -> String {
    let cluster = tokio::task::spawn_blocking(|| CLUSTER.get_or_init(Cluster::start))
        .await
        .expect("the cluster starts");
    let name = format!("t{}", DATABASES.fetch_add(1, Ordering::Relaxed));
    let admin = format!(
        "host=127.0.0.1 port={} user=postgres dbname=postgres",
        cluster.port
    );
    let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .expect("the test cluster accepts connections");
    let task = tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("a test database is created");
    drop(client);
    let _ = task.await;
    format!("postgres://postgres@127.0.0.1:{}/{name}", cluster.port)
}

impl Cluster {
    fn start() -> Cluster {
        let bin = binaries();
        let dir = tempfile::Builder::new()
            .prefix("sla-store-pg-")
            .tempdir()
            .expect("a temporary directory")
            .keep();
        let is_root = fs::metadata(&dir).expect("the directory").uid() == 0;
        let owner = is_root.then(|| {
            let (uid, gid) = user_ids("postgres").unwrap_or_else(|| {
                panic!("running as root, the tests start PostgreSQL as the `postgres` user, which does not exist: {PACKAGE_HINT}")
            });
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .expect("the cluster directory is handed to postgres");
            "postgres".to_owned()
        });
        // Set up first, so that the directory goes away even if the cluster never starts.
        let mut guard = Some(watchdog(&bin, &dir, owner.as_deref()));
        let data = dir.join("data");
        let log = dir.join("server.log");
        run(
            &bin.join("initdb"),
            owner.as_deref(),
            &[
                "-D",
                &data.display().to_string(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            &dir.join("initdb.log"),
        );
        // A free port can be taken by someone else before the server binds it: try a few.
        for _ in 0..5 {
            let port = free_port();
            let options = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off \
                 -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                dir.display()
            );
            let started = status(
                &bin.join("pg_ctl"),
                owner.as_deref(),
                &[
                    "-D",
                    &data.display().to_string(),
                    "-l",
                    &log.display().to_string(),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    &options,
                    "start",
                ],
                &dir.join("pg_ctl.log"),
            );
            if started {
                return Cluster {
                    port,
                    dir,
                    bin,
                    owner,
                    _watchdog: Mutex::new(guard.take().expect("the watchdog")),
                };
            }
        }
        panic!(
            "PostgreSQL did not start in {}:\n{}",
            dir.display(),
            read(&log)
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data").display().to_string();
        status(
            &self.bin.join("pg_ctl"),
            self.owner.as_deref(),
            &["-D", &data, "-m", "immediate", "stop"],
            Path::new("/dev/null"),
        );
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The newest version's server binaries under [`DEBIAN_BINARIES`], else those on `PATH`.
fn binaries() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir(DEBIAN_BINARIES)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
        .unwrap_or_else(|| {
            panic!(
                "PostgreSQL's server binaries (initdb, pg_ctl) are neither in {DEBIAN_BINARIES}/*/bin nor on PATH: {PACKAGE_HINT}"
            )
        })
}

/// The uid and gid of `user`, from `/etc/passwd`.
fn user_ids(user: &str) -> Option<(u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&user) && fields.len() > 3)
            .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
            .flatten()
    })
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// `program args`, as `owner` when given, with its output in `log`.
fn command(program: &Path, owner: Option<&str>, args: &[&str], log: &Path) -> Command {
    let mut command = match owner {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    };
    let output = File::create(log).expect("a log file");
    let errors = output.try_clone().expect("a log file");
    // Never a pipe: the server would hold it open after the command returns.
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(errors);
    command
}

fn status(program: &Path, owner: Option<&str>, args: &[&str], log: &Path) -> bool {
    command(program, owner, args, log)
        .status()
        .is_ok_and(|s| s.success())
}

fn run(program: &Path, owner: Option<&str>, args: &[&str], log: &Path) {
    assert!(
        status(program, owner, args, log),
        "{} failed:\n{}",
        program.display(),
        read(log)
    );
}

fn read(path: &Path) -> String {
    let mut text = String::new();
    let _ = File::open(path).and_then(|mut f| f.read_to_string(&mut text));
    text
}

/// A shell that waits for its standard input to close, then stops the server and removes
/// its directory.
fn watchdog(bin: &Path, dir: &Path, owner: Option<&str>) -> Child {
    let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', r"'\''"));
    let as_owner = owner.map_or(String::new(), |user| format!("runuser -u {user} -- "));
    let script = format!(
        "cat >/dev/null; {as_owner}{} -D {} -m immediate stop >/dev/null 2>&1; rm -rf {}",
        quote(&bin.join("pg_ctl")),
        quote(&dir.join("data")),
        quote(dir)
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the cluster's watchdog starts")
}
