//! Everything cacher says on stderr (SPEC §7): the `cacher: ` prefix, `-q`/`-v`, the transfer
//! summary line, the periodic progress line, and redaction of request logs.
//!
//! stdout is data only and is never written here. The verbosity is process-wide state set once
//! by `main` before any work starts; reading it is a relaxed atomic load, cheap enough for the
//! request path.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Quiet = 0,
    Normal = 1,
    Verbose = 2,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Normal as u8);

pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

pub fn level() -> Level {
    match LEVEL.load(Ordering::Relaxed) {
        0 => Level::Quiet,
        1 => Level::Normal,
        _ => Level::Verbose,
    }
}

pub fn verbose() -> bool {
    level() >= Level::Verbose
}

/// Serialises stderr lines from several threads so they never interleave mid-line.
static STDERR: Mutex<()> = Mutex::new(());

fn line(msg: &str) {
    let _guard = STDERR.lock();
    let mut err = std::io::stderr().lock();
    // A closed stderr is not worth dying for.
    let _ = writeln!(err, "cacher: {msg}");
}

/// An error line: printed at every verbosity.
pub fn error(msg: &str) {
    line(msg);
}

/// A warning: printed unless `-q`.
pub fn warn(msg: &str) {
    if level() >= Level::Normal {
        line(&format!("warning: {msg}"));
    }
}

/// An informational line: printed unless `-q`.
pub fn info(msg: &str) {
    if level() >= Level::Normal {
        line(msg);
    }
}

/// A `-v` line. Takes a closure so the message is only built when it will be printed.
pub fn debug(msg: impl FnOnce() -> String) {
    if verbose() {
        line(&msg());
    }
}

/// `n` bytes from 1 KiB up as (value, power of 1024 minus one: 0 = K … 5 = E); `None` below.
pub fn scale_1024(n: u64) -> Option<(f64, usize)> {
    if n < 1024 {
        return None;
    }
    let mut v = n as f64 / 1024.0;
    let mut i = 0;
    while v >= 1024.0 && i < 5 {
        v /= 1024.0;
        i += 1;
    }
    Some((v, i))
}

/// `12.3 MiB` style sizes (binary units, one decimal above bytes).
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    match scale_1024(n) {
        None => format!("{n} B"),
        Some((v, i)) => format!("{v:.1} {}", UNITS[i]),
    }
}

/// The one summary line a transfer ends with: `hit 'key' 12.3 MiB in 0.41 s (30.0 MiB/s)`.
pub fn summary(what: &str, key: &str, bytes: u64, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        bytes as f64 / 1048576.0 / secs
    } else {
        0.0
    };
    info(&format!(
        "{what} '{key}' {} in {secs:.2} s ({rate:.1} MiB/s)",
        human_size(bytes)
    ));
}

/// Counts transferred bytes and reports progress: in place on a terminal (at most 4 times a
/// second), else one line every 10 s for transfers that take longer (CI logs stay short).
pub struct Progress {
    label: String,
    total: Option<u64>,
    done: AtomicU64,
    start: Instant,
    last: Mutex<Instant>,
    tty: bool,
    enabled: bool,
}

impl Progress {
    pub fn new(label: impl Into<String>, total: Option<u64>) -> Progress {
        let now = Instant::now();
        Progress {
            label: label.into(),
            total,
            done: AtomicU64::new(0),
            start: now,
            last: Mutex::new(now),
            tty: std::io::stderr().is_terminal(),
            enabled: level() >= Level::Normal,
        }
    }

    pub fn add(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if !self.enabled {
            return;
        }
        let every = if self.tty {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(10)
        };
        let Ok(mut last) = self.last.try_lock() else {
            return;
        };
        if last.elapsed() < every {
            return;
        }
        *last = Instant::now();
        let secs = self.start.elapsed().as_secs_f64().max(1e-9);
        let rate = done as f64 / 1048576.0 / secs;
        let of = match self.total {
            Some(t) if t > 0 => format!(" of {} ({}%)", human_size(t), done * 100 / t),
            _ => String::new(),
        };
        let msg = format!("{} {}{of} {rate:.1} MiB/s", self.label, human_size(done));
        let _guard = STDERR.lock();
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\rcacher: {msg}\x1b[K");
        } else {
            let _ = writeln!(err, "cacher: {msg}");
        }
    }

    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Clears an in-place progress line before the summary is printed.
    pub fn finish(&self) {
        if self.enabled && self.tty && self.start.elapsed() >= Duration::from_millis(250) {
            let _guard = STDERR.lock();
            let _ = write!(std::io::stderr().lock(), "\r\x1b[K");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        for (n, want) in [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (1536, "1.5 KiB"),
            (12_897_485, "12.3 MiB"),
            (1 << 30, "1.0 GiB"),
        ] {
            assert_eq!(human_size(n), want);
        }
    }
}
