//! What each subcommand does, over the ports, writing to a given output.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context as _;
use jiff::Timestamp;
use sla_core::ports::{LiveSource, QueueDirectory, TallySource, VisitSource, VisitStore};
use sla_core::{
    FailScope, Limits, LiveReport, QueryContext, QueryInput, ReportRequest, ReportStore,
    ServiceError, SlaError, Sources, StoreSources, SyncProgress, SyncRequest, SyncSummary, Zone,
    fetch_live, fetch_report, fetch_stored_report, find_breaches, find_stored_breaches,
    list_queues, render, render_breaches, render_live, render_queues, resolve, sync_visits,
};

use sla_connect::process::{UsageError, read_objectives};

use crate::cli::{BreachesArgs, NowArgs, QueuesArgs, ReportArgs, SyncArgs};
use crate::out::Out;
use crate::watch::{Clock, Display, Watch, watch};

/// How a successful run ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Done.
    Done,
    /// Done, and some service level is below `--fail-below`.
    BelowThreshold,
}

/// The ports a run reads from.
#[derive(Clone)]
pub(crate) struct Ports {
    pub(crate) directory: Arc<dyn QueueDirectory>,
    pub(crate) tallies: Arc<dyn TallySource>,
    pub(crate) visits: Option<Arc<dyn VisitSource>>,
    pub(crate) live: Arc<dyn LiveSource>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

/// A history store, as a sync fills it and `--source store` reads it.
#[derive(Clone)]
pub(crate) struct StorePorts {
    /// The store's URL, password hidden, for messages.
    pub(crate) url: String,
    /// The queues as last synced.
    pub(crate) directory: Arc<dyn QueueDirectory>,
    /// The stored visits.
    pub(crate) visits: Arc<dyn VisitSource>,
    /// What a sync writes, and how far the store is complete.
    pub(crate) store: Arc<dyn VisitStore>,
}

impl std::fmt::Debug for StorePorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorePorts")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl StorePorts {
    fn sources(&self) -> StoreSources<'_> {
        StoreSources {
            directory: self.directory.as_ref(),
            visits: self.visits.as_ref(),
            store: self.store.as_ref(),
        }
    }
}

/// Where a report or a breach list is read from: Genesys (aggregates or conversation
/// details), or a history store with no Genesys connection at all.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Origin<'a> {
    Genesys(&'a Ports),
    Store(&'a StorePorts),
}

/// Where a run writes: the report to `out` (unless `--out` names a file), messages for the
/// person running it to `err`.
pub(crate) struct Io<'a> {
    pub(crate) out: &'a mut dyn Write,
    pub(crate) err: &'a mut dyn Write,
}

impl std::fmt::Debug for Io<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Io").finish_non_exhaustive()
    }
}

impl Io<'_> {
    /// Tells the person running `sla` something they should know; a closed stderr is no reason
    /// to fail the run.
    fn note(&mut self, message: &str) {
        let _ = writeln!(self.err, "{message}");
    }
}

/// The world as a run sees it: the current instant and the default time zone.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    pub(crate) now: Timestamp,
    pub(crate) zone: Zone,
}

impl Ports {
    fn sources(&self) -> Sources<'_> {
        Sources {
            directory: self.directory.as_ref(),
            tallies: self.tallies.as_ref(),
            visits: self.visits.as_deref(),
        }
    }
}

impl Context {
    /// How queries are read: at this instant in this zone, within the CLI's limits, and with
    /// every queue of the demo org when none is named.
    fn query(&self, demo: bool) -> QueryContext {
        self.query_at(self.now, demo)
    }

    /// The request `input` asks for at the run's start, after a word if its window lies wholly
    /// ahead (see [`warn_if_future`]).
    fn request(
        &self,
        input: &QueryInput,
        demo: bool,
        io: &mut Io<'_>,
    ) -> anyhow::Result<ReportRequest> {
        let request = input.parse(&self.query(demo)).map_err(|e| usage(&e))?;
        warn_if_future(&request, self, io);
        Ok(request)
    }

    /// How queries are read at another instant than the run's start.
    fn query_at(&self, now: Timestamp, demo: bool) -> QueryContext {
        QueryContext {
            now,
            zone: self.zone.clone(),
            limits: Limits::CLI,
            all_queues_by_default: demo,
        }
    }
}

/// `sla report`.
pub(crate) async fn report(
    args: &ReportArgs,
    origin: Origin<'_>,
    context: &Context,
    io: &mut Io<'_>,
) -> anyhow::Result<Outcome> {
    let objectives = read_objectives(args.objectives.config.as_deref())?;
    let request = context.request(&args.query_input(objectives), args.connection.demo, io)?;
    let target = args.output.out.as_deref().map(Out::prepare).transpose()?;
    let report = match origin {
        Origin::Genesys(ports) => fetch_report(&request, ports.sources())
            .await
            .map_err(service_error("cannot fetch the counts"))?,
        Origin::Store(store) => {
            let report = fetch_stored_report(&request, store.sources())
                .await
                .map_err(service_error("cannot read the store"))?;
            if let Some(claim) = report.store {
                warn_if_incomplete(claim, &request, store, io);
            }
            report
        }
    };
    emit(&render(&report, args.output.format), target, io.out)?;
    let Some(bar) = args.fail.fail_below else {
        return Ok(Outcome::Done);
    };
    let scope = FailScope {
        intervals: args.fail.fail_intervals,
    };
    let shortfalls = report.shortfalls(bar, scope);
    if shortfalls.is_empty() {
        return Ok(Outcome::Done);
    }
    for shortfall in shortfalls.iter().take(MAX_SHORTFALLS_SHOWN) {
        io.note(&format!("below --fail-below: {shortfall}"));
    }
    if let Some(more) = shortfalls
        .len()
        .checked_sub(MAX_SHORTFALLS_SHOWN)
        .filter(|&n| n > 0)
    {
        io.note(&format!("below --fail-below: and {more} more"));
    }
    Ok(Outcome::BelowThreshold)
}

/// A window wholly after now is allowed (a scheduled run may ask for today before it starts),
/// but its counts can only be zero, which deserves a word.
fn warn_if_future(request: &ReportRequest, context: &Context, io: &mut Io<'_>) {
    if request.window.start() >= context.now {
        io.note(&format!(
            "warning: the window starts at {}, after now: every count will be zero",
            request.window.start()
        ));
    }
}

/// A store that does not hold the whole window gives counts that are short of the truth, which
/// deserves a word naming up to when it is complete.
fn warn_if_incomplete(
    claim: ReportStore,
    request: &ReportRequest,
    store: &StorePorts,
    io: &mut Io<'_>,
) {
    let window = &request.window;
    if claim.covers(window) {
        return;
    }
    let held = match claim.complete_until {
        Some(until) => format!(
            "holds these queues' visits only up to {until}, not up to the window's end {}",
            window.end()
        ),
        None => format!(
            "does not hold every one of these queues' visits from the window's start {}",
            window.start()
        ),
    };
    io.note(&format!(
        "warning: the store {} {held}: the counts may be short (run `sla sync` over the window to complete it)",
        store.url
    ));
}

/// How many shortfalls `--fail-below` lists before it only counts the rest: enough to act on,
/// few enough to read.
const MAX_SHORTFALLS_SHOWN: usize = 20;

fn usage(e: &SlaError) -> UsageError {
    UsageError(e.to_string())
}

/// `sla breaches`: streams visits from conversation details (or a history store) and lists
/// those that missed.
pub(crate) async fn breaches(
    args: &BreachesArgs,
    origin: Origin<'_>,
    context: &Context,
    io: &mut Io<'_>,
) -> anyhow::Result<Outcome> {
    let request = context.request(&args.query_input(), args.connection.demo, io)?;
    let target = args.output.out.as_deref().map(Out::prepare).transpose()?;
    let breaches = match origin {
        Origin::Genesys(ports) => find_breaches(&request, ports.sources())
            .await
            .map_err(service_error("cannot fetch the conversation details"))?,
        Origin::Store(store) => {
            let (breaches, claim) = find_stored_breaches(&request, store.sources())
                .await
                .map_err(service_error("cannot read the store"))?;
            warn_if_incomplete(claim, &request, store, io);
            breaches
        }
    };
    emit(
        &render_breaches(&breaches, args.output.format, &request.zone),
        target,
        io.out,
    )?;
    Ok(Outcome::Done)
}

/// Input errors exit with status 2; a failing source is a runtime error, said with `what` could
/// not be done.
pub(crate) fn service_error(what: &'static str) -> impl Fn(ServiceError) -> anyhow::Error {
    move |e| match e {
        ServiceError::Input(e) => anyhow::Error::new(usage(&e)),
        ServiceError::Source(e) => anyhow::Error::new(e).context(what),
    }
}

/// What `sla now` needs besides the ports: a clock, and when standard output is a terminal, how
/// to read its width.
pub(crate) struct Live<'a> {
    pub(crate) clock: &'a dyn Clock,
    pub(crate) terminal: Option<fn() -> usize>,
}

impl std::fmt::Debug for Live<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("terminal", &self.terminal.is_some())
            .finish_non_exhaustive()
    }
}

/// `sla now`: the live document once, or with `--watch` at every tick until `stop` completes.
pub(crate) async fn now(
    args: &NowArgs,
    ports: &Ports,
    context: &Context,
    live: &Live<'_>,
    io: &mut Io<'_>,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<Outcome> {
    let demo = args.connection.demo;
    let objectives = read_objectives(args.objectives.config.as_deref())?;
    let input = args.query_input(objectives);
    // Input errors come out before any request, and before a terminal is taken over.
    input.parse(&context.query(demo)).map_err(|e| usage(&e))?;
    let refresh = async |now: Timestamp| -> Result<LiveReport, ServiceError> {
        let request = input.parse(&context.query_at(now, demo))?;
        fetch_live(&request, ports.sources(), ports.live.as_ref(), now).await
    };
    if !args.watch {
        let target = args.output.out.as_deref().map(Out::prepare).transpose()?;
        let report = refresh(live.clock.now())
            .await
            .map_err(service_error("cannot fetch the live figures"))?;
        emit(&render_live(&report, args.output.format), target, io.out)?;
        return Ok(Outcome::Done);
    }
    let display = match &args.output.out {
        Some(path) => {
            // Checked before the first request, as without --watch.
            drop(Out::prepare(path)?);
            Display::File(path.clone())
        }
        None => match live.terminal {
            Some(width) => Display::Terminal { width },
            None => Display::Stream,
        },
    };
    let settings = Watch {
        every: args.every,
        format: args.output.format,
        display,
        zone: args.tz.clone().unwrap_or_else(|| context.zone.clone()),
    };
    watch(&settings, live.clock, refresh, io, stop).await
}

/// What `sla sync` reads from and writes to.
pub(crate) struct SyncPorts<'a> {
    /// Lists and resolves the queues to sync (Genesys's directory).
    pub(crate) directory: &'a dyn QueueDirectory,
    /// Conversation details.
    pub(crate) visits: &'a dyn VisitSource,
    /// The store filled.
    pub(crate) store: &'a StorePorts,
    /// Told of each piece.
    pub(crate) progress: &'a (dyn Fn(&SyncProgress) + Send + Sync),
}

impl std::fmt::Debug for SyncPorts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncPorts")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// `sla sync`: resolves the queues as `sla report` does, copies their visits over the window
/// into the store, and writes what it did. A sync that stops midway is a runtime error whose
/// message says what was stored.
pub(crate) async fn sync(
    args: &SyncArgs,
    sync: &SyncPorts<'_>,
    context: &Context,
    io: &mut Io<'_>,
) -> anyhow::Result<Outcome> {
    if !args.queues.media.is_empty() {
        return Err(UsageError(
            "sla sync stores every media type of its queues: drop --media (reports take it)"
                .to_owned(),
        )
        .into());
    }
    let request = context.request(&args.query_input(), args.connection.demo, io)?;
    let queues = resolve(&request, sync.directory)
        .await
        .map_err(service_error("cannot resolve the queues"))?;
    let count = queues.len();
    let mut plan = SyncRequest::new(queues, request.window, context.now);
    plan.restate = args.restate;
    let summary = sync_visits(&plan, sync.visits, sync.store.store.as_ref(), sync.progress)
        .await
        .with_context(|| format!("cannot complete the sync into {}", sync.store.url))?;
    let text = sync_summary(&summary, count, &sync.store.url);
    print(io.out, &text).context("cannot write the summary")?;
    Ok(Outcome::Done)
}

/// What a finished sync did, one fact a line.
fn sync_summary(summary: &SyncSummary, queues: usize, url: &str) -> String {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let Some(window) = summary.window else {
        return format!("Nothing to sync into {url}: the window lies wholly after now.\n");
    };
    let written = summary.written;
    let complete = summary.complete_until.map_or_else(
        || "no instant: the store does not reach back to the window's start".to_owned(),
        |t| t.to_string(),
    );
    format!(
        "Synced {} into {url}\n\
         window:          {} to {}\n\
         pieces:          {} of {}\n\
         visits read:     {}\n\
         new:             {}\n\
         updated:         {}\n\
         unchanged:       {}\n\
         removed:         {}\n\
         complete up to:  {complete}\n",
        plural(queues, "queue"),
        window.start(),
        window.end(),
        summary.pieces_done,
        summary.pieces_total,
        summary.visits_read,
        written.new,
        written.updated,
        written.unchanged,
        written.removed,
    )
}

/// `sla queues`.
pub(crate) async fn queues(
    args: &QueuesArgs,
    directory: &dyn QueueDirectory,
    io: &mut Io<'_>,
) -> anyhow::Result<Outcome> {
    let target = args.output.out.as_deref().map(Out::prepare).transpose()?;
    let queues = list_queues(args.name.as_deref(), directory)
        .await
        .map_err(service_error("cannot list the queues"))?;
    emit(&render_queues(&queues, args.output.format), target, io.out)?;
    Ok(Outcome::Done)
}

/// Writes `text` to `out` when given, or to `stdout`.
fn emit(text: &str, out: Option<Out>, stdout: &mut dyn Write) -> anyhow::Result<()> {
    if let Some(out) = out {
        return out.write(text);
    }
    print(stdout, text).context("cannot write the report")?;
    Ok(())
}

/// Writes `text` to standard output; `false` when its reader went away (`sla ... | head`),
/// which is not a failure of the run.
pub(crate) fn print(stdout: &mut dyn Write, text: &str) -> std::io::Result<bool> {
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod store_tests;

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use clap::Parser;
    use sla_core::ports::{
        MockLiveSource, MockQueueDirectory, MockTallySource, QueueSelector, SourceError,
    };
    use sla_core::{
        MediaType, QueueId, QueueInfo, QueueRef, Tally, TallyKey, TallySet, Threshold, Within, Zone,
    };

    use sla_connect::process::UsageError;

    use super::{Context, Io, Outcome, Ports};
    use crate::cli::{Cli, Command, ReportArgs};

    /// The id of the one queue every test of `sla-cli` asks about.
    pub(crate) const SUPPORT: &str = "11111111-1111-1111-1111-111111111111";

    /// The queue every test of `sla-cli` asks about.
    pub(crate) fn support() -> QueueInfo {
        QueueInfo {
            queue: QueueRef {
                id: QueueId::new(SUPPORT),
                name: "Support".to_owned(),
            },
            division: None,
            service_levels: BTreeMap::new(),
        }
    }

    /// Support's voice tallies from `bucket`: `offered`, `answered` and `abandoned`, and
    /// `within` 20 s.
    pub(crate) fn support_tallies(
        bucket: jiff::Timestamp,
        (offered, answered, abandoned): (u64, u64, u64),
        within: Within,
    ) -> TallySet {
        let mut tally = Tally::default();
        (tally.offered, tally.answered, tally.abandoned) = (offered, answered, abandoned);
        tally.add_within(Threshold::from_millis(20_000), within);
        let key = TallyKey {
            queue: support().queue.id,
            media: MediaType::Voice,
            bucket,
        };
        std::iter::once((key, tally)).collect()
    }

    /// The worked example of the product brief: 1000 answered, 860 within 20 s, 60 abandoned,
    /// 20 of them within 20 s.
    fn worked_example(bucket: jiff::Timestamp) -> TallySet {
        let within = Within {
            answered: 860,
            abandoned: 20,
        };
        support_tallies(bucket, (1100, 1000, 60), within)
    }

    fn report_args(args: &[&str]) -> ReportArgs {
        let command_line = ["sla", "report"].iter().chain(args);
        match Cli::try_parse_from(command_line)
            .expect("valid arguments")
            .command
        {
            Command::Report(args) => *args,
            Command::Queues(_) | Command::Breaches(_) | Command::Now(_) | Command::Sync(_) => {
                unreachable!("a report was parsed")
            }
        }
    }

    fn ports(tallies: MockTallySource) -> Ports {
        let mut directory = MockQueueDirectory::new();
        directory.expect_queues().returning(|selector| {
            Ok(match selector {
                QueueSelector::Name(name) if !name.eq_ignore_ascii_case("support") => vec![],
                _ => vec![support()],
            })
        });
        Ports {
            directory: Arc::new(directory),
            tallies: Arc::new(tallies),
            visits: None,
            live: Arc::new(MockLiveSource::new()),
        }
    }

    /// Noon on 1 February 2024 in UTC: the moment every run of these tests, and the store's,
    /// happens at.
    pub(super) fn context() -> Context {
        Context {
            now: "2024-02-01T12:00:00Z".parse().unwrap(),
            zone: Zone::utc(),
        }
    }

    pub(super) fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    /// Runs `sla report ARGS` over `source`; gives the outcome, stdout and stderr.
    fn run(args: &[&str], source: MockTallySource) -> (anyhow::Result<Outcome>, String, String) {
        let args = report_args(args);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut io = Io {
            out: &mut out,
            err: &mut err,
        };
        let ports = ports(source);
        let result = block_on(super::report(
            &args,
            super::Origin::Genesys(&ports),
            &context(),
            &mut io,
        ));
        let text = |bytes| String::from_utf8(bytes).unwrap();
        (result, text(out), text(err))
    }

    #[track_caller]
    fn check(args: &[&str], expect: &[&str]) -> (anyhow::Result<Outcome>, String) {
        let mut source = MockTallySource::new();
        source
            .expect_tallies()
            .returning(|q| Ok(worked_example(q.window.start())));
        let (result, text, _) = run(args, source);
        for needle in expect {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        (result, text)
    }

    #[test]
    fn each_policy_reproduces_the_worked_example() {
        let base = [
            "--queue", "Support", "--period", "last-month", "--format", "csv",
        ];
        for (policy, percent) in [
            ("ignore", "86.00"),
            ("against", "81.13"),
            ("after-threshold", "82.69"),
            ("for", "83.02"),
        ] {
            let mut args = base.to_vec();
            args.extend(["--abandons", policy]);
            let (result, _) = check(&args, &[percent]);
            assert_eq!(result.unwrap(), Outcome::Done);
        }
    }

    #[test]
    fn fail_below_names_what_fell_short_on_stderr() {
        let mut source = MockTallySource::new();
        source
            .expect_tallies()
            .returning(|q| Ok(worked_example(q.window.start())));
        let (result, out, err) = run(&["--queue", "Support", "--fail-below", "90"], source);
        assert_eq!(result.unwrap(), Outcome::BelowThreshold);
        assert!(out.contains("86.00"), "{out}");
        assert_eq!(
            err,
            "below --fail-below: Support, objective 20s: 86.00 % is below 90.00 %\n"
        );
    }

    #[test]
    fn fail_below_reports_in_full_and_says_so() {
        let (result, text) = check(
            &[
                "--queue", "support", "--fail-below", "90", "--format", "json",
            ],
            &["\"percent\": 86.0"],
        );
        assert_eq!(result.unwrap(), Outcome::BelowThreshold);
        assert!(text.contains("\"schema\": \"sla-report/v1\""));
        let (result, _) = check(&["--queue", "Support", "--fail-below", "80"], &["86.00"]);
        assert_eq!(result.unwrap(), Outcome::Done);
    }

    #[test]
    fn an_unknown_queue_is_a_usage_error_naming_it() {
        let (result, text) = check(&["--queue", "Nope"], &[]);
        let err = result.unwrap_err();
        assert!(err.is::<UsageError>(), "{err:#}");
        assert!(format!("{err:#}").contains("'Nope'"));
        assert!(text.is_empty());
    }

    #[test]
    fn a_missing_config_file_is_a_usage_error_naming_it() {
        let (result, _) = check(
            &["--queue", "Support", "--config", "/no/such/sla.toml"],
            &[],
        );
        let err = result.unwrap_err();
        assert!(err.is::<UsageError>());
        assert!(format!("{err:#}").contains("/no/such/sla.toml"));
    }

    #[test]
    fn a_failing_source_is_a_runtime_error_with_its_cause() {
        let mut source = MockTallySource::new();
        source.expect_tallies().returning(|_| {
            Err(SourceError::Unavailable {
                attempts: 8,
                source: "HTTP 503: service unavailable".into(),
            })
        });
        let (result, out, _) = run(&["--queue", "Support"], source);
        let err = result.unwrap_err();
        assert!(!err.chain().any(<dyn std::error::Error>::is::<UsageError>));
        let message = format!("{err:#}");
        assert!(message.contains("after 8 attempts"), "{message}");
        assert!(message.contains("HTTP 503"), "{message}");
        assert!(out.is_empty());
    }

    #[test]
    fn out_writes_the_file_atomically_and_nothing_to_stdout() {
        let dir = std::env::temp_dir().join(format!("sla-cli-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("report.csv");
        let path_text = path.to_str().unwrap();
        let (result, text) = check(
            &["--queue", "Support", "--format", "csv", "--out", path_text],
            &[],
        );
        assert_eq!(result.unwrap(), Outcome::Done);
        assert!(text.is_empty());
        let written = std::fs::read_to_string(&path).unwrap();
        assert!(written.starts_with("queue_id,queue_name"), "{written}");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != "report.csv")
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
