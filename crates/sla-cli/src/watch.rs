//! `sla now --watch`: the live document refreshed on a tokio interval, redrawn in place on a
//! terminal or written once per refresh elsewhere, keeping the last good figures with their age
//! when a refresh fails.
//!
//! The loop reads time only through tokio's interval and a [`Clock`], and stops when a given
//! future completes, so a test drives it under `tokio::time::pause` with mocked ports.

use std::future::Future;
use std::path::PathBuf;
use std::pin::{Pin, pin};
use std::time::Duration;

use anyhow::Context as _;
use jiff::{SignedDuration, Timestamp};
use sla_core::{Format, LiveReport, ServiceError, Threshold, Zone, render_live};
use tokio::time::MissedTickBehavior;

use crate::out::Out;
use crate::run::{Io, Outcome, print, service_error};

// Refreshes read the time through the clock port, so tests run them on a paused clock.
pub(crate) use sla_connect::{Clock, SystemClock};

/// Where refreshed documents go.
#[derive(Debug)]
pub(crate) enum Display {
    /// A terminal: each document is drawn over the last one on the alternate screen, which
    /// gives the terminal back as it was when the watch ends. `width` reads how many columns
    /// it has now, which a failure line is cut to.
    Terminal { width: fn() -> usize },
    /// A pipe or a file as standard output: one document per refresh, JSON lines for JSON and
    /// a blank line after each document otherwise; failures go to stderr.
    Stream,
    /// `--out FILE`: the file is replaced at each refresh; failures go to stderr.
    File(PathBuf),
}

/// How to watch.
#[derive(Debug)]
pub(crate) struct Watch {
    /// The time between two refreshes.
    pub(crate) every: Duration,
    /// The format of each document.
    pub(crate) format: Format,
    /// Where documents go.
    pub(crate) display: Display,
    /// The zone of the time in failure lines.
    pub(crate) zone: Zone,
}

/// The longest one refresh may take before it counts as failed: the client's retries under
/// throttling or an unreachable host could otherwise keep old figures on screen for minutes
/// without a word.
fn deadline(every: Duration) -> Duration {
    every.saturating_mul(2).max(Duration::from_secs(10))
}

/// Refreshes with `refresh` every `watch.every` until `stop` completes. The first refresh must
/// succeed, since there is nothing to keep on screen yet and a first failure is most often a
/// setting to fix; later failures keep the last good figures, say how old they are, and are
/// retried at the next tick.
pub(crate) async fn watch(
    watch: &Watch,
    clock: &dyn Clock,
    mut refresh: impl AsyncFnMut(Timestamp) -> Result<LiveReport, ServiceError>,
    io: &mut Io<'_>,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<Outcome> {
    let mut stop = pin!(stop);
    let mut ticks = Ticks::new(watch.every, clock);
    let Some((_, first)) = ticks.next(stop.as_mut(), &mut refresh).await else {
        return Ok(Outcome::Done);
    };
    let mut last = first.map_err(|failure| match failure {
        Failure::Source(e) => service_error("cannot fetch the live figures")(e),
        late @ Failure::Late(_) => {
            anyhow::anyhow!("cannot fetch the live figures: {}", late.reason())
        }
    })?;
    let mut screen = Screen::open(watch, io)?;
    let mut reading = screen.show(&last)?;
    while reading {
        let Some((ended, result)) = ticks.next(stop.as_mut(), &mut refresh).await else {
            break;
        };
        reading = match result {
            Ok(report) => {
                last = report;
                screen.show(&last)?
            }
            Err(failure) => {
                let width = match watch.display {
                    Display::Terminal { width } => Some(width()),
                    Display::Stream | Display::File(_) => None,
                };
                let line = failure_line(ended, &failure, last.as_of, &watch.zone, width);
                screen.failed(&last, &line)?
            }
        };
    }
    screen.close()?;
    Ok(Outcome::Done)
}

/// The schedule of refreshes.
struct Ticks<'c> {
    interval: tokio::time::Interval,
    deadline: Duration,
    clock: &'c dyn Clock,
}

impl<'c> Ticks<'c> {
    fn new(every: Duration, clock: &'c dyn Clock) -> Self {
        let mut interval = tokio::time::interval(every);
        // A refresh that overran its tick is followed by the next tick on the schedule, not by
        // a burst of catch-up refreshes.
        interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
        Ticks {
            interval,
            deadline: deadline(every),
            clock,
        }
    }

    /// Waits for the next tick (the first one is at once) and refreshes: the instant the
    /// refresh ended and its outcome, or `None` when `stop` completes first. A failure is told
    /// at the instant it is known, which for one that ran into the deadline is well after the
    /// tick.
    async fn next(
        &mut self,
        mut stop: Pin<&mut impl Future<Output = ()>>,
        refresh: &mut impl AsyncFnMut(Timestamp) -> Result<LiveReport, ServiceError>,
    ) -> Option<(Timestamp, Result<LiveReport, Failure>)> {
        tokio::select! {
            biased;
            () = &mut stop => return None,
            _ = self.interval.tick() => {}
        }
        let now = self.clock.now();
        let result = tokio::select! {
            biased;
            () = &mut stop => return None,
            result = tokio::time::timeout(self.deadline, refresh(now)) => result,
        };
        let result = match result {
            Ok(result) => result.map_err(Failure::Source),
            Err(_) => Err(Failure::Late(self.deadline)),
        };
        Some((self.clock.now(), result))
    }
}

/// Why a refresh failed.
#[derive(Debug)]
enum Failure {
    /// The query or a source failed.
    Source(ServiceError),
    /// No answer came within the deadline.
    Late(Duration),
}

impl Failure {
    /// The reason on one line: the error and its causes, as `{:#}` writes an `anyhow` chain.
    fn reason(&self) -> String {
        let text = match self {
            Failure::Source(e) => {
                let mut text = e.to_string();
                let mut source = std::error::Error::source(e);
                while let Some(cause) = source {
                    text.push_str(": ");
                    text.push_str(&cause.to_string());
                    source = cause.source();
                }
                text
            }
            Failure::Late(deadline) => format!(
                "no answer within {}",
                Threshold::from_millis(millis(*deadline))
            ),
        };
        text.replace(['\n', '\r'], " ")
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Enters the alternate screen and hides the cursor. These few control sequences are common to
/// every terminal `sla` runs in, which a terminal crate would add a dependency tree to write.
const ENTER: &str = "\x1b[?1049h\x1b[?25l";
/// Shows the cursor and leaves the alternate screen, giving back what the terminal showed.
const LEAVE: &str = "\x1b[?25h\x1b[?1049l";
/// Moves the cursor to the top left.
const HOME: &str = "\x1b[H";
/// Clears the rest of the line, where a longer line of the previous frame may have been.
const CLEAR_LINE: &str = "\x1b[K";
/// Clears everything below the cursor, where the previous frame may have been longer.
const CLEAR_BELOW: &str = "\x1b[J";

/// The place documents are shown, open while the watch runs.
struct Screen<'w, 'io> {
    watch: &'w Watch,
    io: &'w mut Io<'io>,
    /// Whether the alternate screen is entered and must be left.
    entered: bool,
}

impl<'w, 'io> Screen<'w, 'io> {
    fn open(watch: &'w Watch, io: &'w mut Io<'io>) -> anyhow::Result<Self> {
        let mut screen = Screen {
            watch,
            io,
            entered: false,
        };
        if matches!(watch.display, Display::Terminal { .. }) {
            screen.write_out(ENTER)?;
            screen.entered = true;
        }
        Ok(screen)
    }

    /// The document as its display shows it.
    fn text(&self, report: &LiveReport) -> anyhow::Result<String> {
        Ok(match (&self.watch.display, self.watch.format) {
            (Display::Stream, Format::Json) => {
                let mut line =
                    serde_json::to_string(report).context("cannot write the live document")?;
                line.push('\n');
                line
            }
            (Display::Stream, _) => render_live(report, self.watch.format) + "\n",
            _ => render_live(report, self.watch.format),
        })
    }

    /// Shows a fresh document; `false` when nobody reads any more.
    fn show(&mut self, report: &LiveReport) -> anyhow::Result<bool> {
        let text = self.text(report)?;
        match &self.watch.display {
            Display::Terminal { .. } => {
                let status = format!(
                    "Refreshing every {}; Ctrl-C stops",
                    Threshold::from_millis(millis(self.watch.every))
                );
                self.frame(&text, &status)
            }
            Display::Stream => self.write_out(&text),
            Display::File(path) => {
                Out::prepare(path)?.write(&text)?;
                Ok(true)
            }
        }
    }

    /// Shows the last good document again with what went wrong; `false` when nobody reads any
    /// more.
    fn failed(&mut self, last: &LiveReport, line: &str) -> anyhow::Result<bool> {
        if matches!(self.watch.display, Display::Terminal { .. }) {
            let text = self.text(last)?;
            return self.frame(&text, line);
        }
        // Off a terminal the last document stays where it was written.
        let _ = writeln!(self.io.err, "{line}");
        Ok(true)
    }

    /// Draws `text` and `status` over the previous frame, line by line, so that the screen
    /// never goes blank between two frames.
    fn frame(&mut self, text: &str, status: &str) -> anyhow::Result<bool> {
        let mut frame = String::with_capacity(text.len() + status.len() + 64);
        frame.push_str(HOME);
        for line in text.lines().chain(["", status]) {
            frame.push_str(line);
            frame.push_str(CLEAR_LINE);
            frame.push('\n');
        }
        frame.push_str(CLEAR_BELOW);
        self.write_out(&frame)
    }

    /// Writes to standard output; `false` when its reader went away (`sla now --watch | head`),
    /// which ends the watch quietly.
    fn write_out(&mut self, text: &str) -> anyhow::Result<bool> {
        print(self.io.out, text).context("cannot write the live document")
    }

    /// Leaves the terminal as it was.
    fn close(mut self) -> anyhow::Result<()> {
        if self.entered {
            self.entered = false;
            self.write_out(LEAVE)?;
        }
        Ok(())
    }
}

impl Drop for Screen<'_, '_> {
    /// An error ending the watch leaves the terminal as it was too.
    fn drop(&mut self) {
        if self.entered {
            let _ = self.io.out.write_all(LEAVE.as_bytes());
            let _ = self.io.out.flush();
        }
    }
}

/// The width the live tables fit in: the width of a terminal whose own cannot be read.
const TABLE_WIDTH: usize = 100;

/// The number of columns of the terminal on standard output.
pub(crate) fn stdout_width() -> usize {
    terminal_size::terminal_size_of(std::io::stdout())
        .map_or(TABLE_WIDTH, |(width, _)| usize::from(width.0))
}

/// One line saying that the refresh at `now` failed and why, and how old the figures shown
/// are. With a `width`, the reason is cut short in its middle so that the line fits (a wrapped
/// line would push the figures up the screen), keeping what failed and the root cause.
fn failure_line(
    now: Timestamp,
    failure: &Failure,
    as_of: Timestamp,
    zone: &Zone,
    width: Option<usize>,
) -> String {
    let at = now.to_zoned(zone.tz().clone()).strftime("%H:%M:%S");
    let head = format!("refresh failed {at}: ");
    let tail = format!(
        "; showing figures from {} ago",
        age_text(now.duration_since(as_of))
    );
    let mut reason = failure.reason();
    if let Some(width) = width {
        let room = width.saturating_sub(head.chars().count() + tail.chars().count());
        reason = elide_middle(&reason, room);
    }
    format!("{head}{reason}{tail}")
}

/// `text` within `room` characters: its start and its end around an ellipsis when too long.
fn elide_middle(text: &str, room: usize) -> String {
    let count = text.chars().count();
    if count <= room {
        return text.to_owned();
    }
    let kept = room.saturating_sub(1);
    let start = kept / 2;
    let end = kept - start;
    let mut short: String = text.chars().take(start).collect();
    short.push('…');
    short.extend(text.chars().skip(count - end));
    short
}

/// An age to the nearest second, in seconds, minutes and hours as people say it.
fn age_text(age: SignedDuration) -> String {
    let seconds = ((age.as_millis() + 500) / 1000).max(0);
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min {} s", seconds / 60, seconds % 60),
        _ => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests;
