//! The docker CLI (`docker save`, `docker load`, `docker pull`, `docker image inspect`) as child
//! processes. This is the only module of cacher that starts processes.
//!
//! The executable is `Config::docker` (`docker` on PATH, or `$CACHER_DOCKER`, e.g. `podman`);
//! children inherit the environment (`DOCKER_HOST`…). Every child is waited for, or killed and
//! waited for, on every path (the [`Proc`] guard), so no zombie outlives a call. The child's
//! stderr is passed through line by line as `cacher: docker: …`, except its last line, which
//! is held back: a child that succeeds gets it printed, a child that fails gets it in the one
//! error line (exit 2) instead, so a failure reads as one line. (When the last line is a
//! detail under an earlier `Error…` line, as podman writes them, the error line carries that
//! `Error…` line and the detail is printed.)
//!
//! [`Docker::load`] never lets `docker load` act on a stream that was not verified to the end.
//! The zstd frame checksum is only checked at the very end of the stream, and a tar stream cut
//! at an entry boundary and then closed cleanly *is* loaded (seen with docker 20.10: it loads
//! whatever complete entries it got). So a source that fails gets the child killed, never its
//! stdin closed: the engine sees an aborted request, not an end-of-file. And the last
//! [`HOLD_BACK`] bytes (the tar's end marker among them) are written only after the source
//! ended cleanly, so an engine that acted on the end marker before end-of-file (docker 20.10
//! waits for end-of-file, but nothing promises it) would still have nothing to act on.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::error::{Error, Result};
use crate::output;

/// Bytes of a stream `docker load` only gets once the source ended cleanly: more than a tar's
/// end marker (two 512-byte blocks) and the last entries before it.
pub const HOLD_BACK: usize = 64 << 10;

/// The docker (or podman) executable.
pub struct Docker {
    exe: String,
}

impl Docker {
    pub fn new(exe: &str) -> Docker {
        Docker {
            exe: exe.to_string(),
        }
    }

    /// The name shown in messages: `docker`, `podman`, or the path given.
    fn shown(&self) -> &str {
        self.exe.rsplit('/').next().unwrap_or(&self.exe)
    }

    fn spawn(&self, args: &[&str], stdin: Stdio, stdout: Stdio) -> Result<Proc> {
        let cmdline = format!("{} {}", self.shown(), args.join(" "));
        let mut child = Command::new(&self.exe)
            .args(args)
            .stdin(stdin)
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                if e.kind() == io::ErrorKind::NotFound {
                    Error::Other(format!(
                        "cannot run `{cmdline}`: '{}' was not found (install docker, or set CACHER_DOCKER to the docker or podman executable)",
                        self.exe
                    ))
                } else {
                    Error::Other(format!("cannot run `{cmdline}`: {e}"))
                }
            })?;
        let tap = child.stderr.take().map(|err| {
            let prefix = self.shown().to_string();
            std::thread::spawn(move || pass_through(err, &prefix))
        });
        Ok(Proc {
            child: Arc::new(Mutex::new(child)),
            cmdline,
            tap,
            prefix: self.shown().to_string(),
            reaped: false,
        })
    }

    /// `docker save IMAGE`: the archive as a stream. Read it to the end, then call
    /// [`Saving::finish`], which says whether docker succeeded; dropping it early kills docker.
    pub fn save(&self, image: &str) -> Result<Saving> {
        let mut proc = self.spawn(&["save", image], Stdio::null(), Stdio::piped())?;
        let out = proc.lock().stdout.take();
        let out = out.ok_or_else(|| Error::Other("docker save: no stdout".into()))?;
        Ok(Saving { proc, out })
    }

    /// `docker load`, fed from `src`. Returns what docker printed on stdout (`Loaded image: …`).
    ///
    /// The last [`HOLD_BACK`] bytes are held until `src` ends cleanly; if reading `src` fails,
    /// `docker load` is killed before it could see the end of the stream, so nothing is loaded,
    /// and the source's error is returned. A `docker load` that fails (or stops reading) is
    /// reported with its last stderr line.
    pub fn load(&self, src: &mut dyn Read) -> Result<String> {
        let mut proc = self.spawn(&["load"], Stdio::piped(), Stdio::piped())?;
        let (stdin, stdout) = {
            let mut c = proc.lock();
            (c.stdin.take(), c.stdout.take())
        };
        let (Some(mut stdin), Some(stdout)) = (stdin, stdout) else {
            return Err(Error::Other("docker load: no stdin/stdout".into()));
        };
        let collect = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = BufReader::new(stdout).read_to_string(&mut s);
            s
        });
        // Ctrl-C/SIGTERM mid-stream: our exit would close docker's stdin cleanly, which is what
        // must not happen to a partial stream. Kill it first.
        let _undo = {
            let child = proc.child.clone();
            crate::interrupt::on_interrupt(move || {
                if let Ok(mut c) = child.lock() {
                    let _ = c.kill();
                }
            })
        };
        let fed = feed(src, &mut stdin);
        let outcome = match fed {
            Ok(()) => {
                drop(stdin); // the one clean end-of-file
                proc.wait().map(|()| collect.join().unwrap_or_default())
            }
            Err(Feed::Source(e)) => {
                proc.kill();
                drop(stdin);
                let _ = collect.join();
                let e = crate::s3::unwrap_io("reading", "the cached image", e);
                Err(Error::Other(format!(
                    "nothing was loaded (`{}` was stopped before the end of the stream): {e}",
                    proc.cmdline
                )))
            }
            Err(Feed::Sink(e)) => {
                // docker stopped reading: its exit status and last words say why.
                drop(stdin);
                let waited = proc.wait();
                let _ = collect.join();
                match waited {
                    Err(failed) => Err(failed),
                    Ok(()) => Err(Error::Other(format!(
                        "`{}` stopped reading the image stream: {e}",
                        proc.cmdline
                    ))),
                }
            }
        };
        outcome
    }

    /// `docker pull IMAGE`; its progress (stdout) goes to stderr, as lines.
    pub fn pull(&self, image: &str) -> Result<()> {
        let mut proc = self.spawn(&["pull", image], Stdio::null(), Stdio::piped())?;
        let out = proc.lock().stdout.take();
        let relay = out.map(|out| {
            let prefix = self.shown().to_string();
            std::thread::spawn(move || {
                for line in lines(out) {
                    output::info(&format!("{prefix}: {line}"));
                }
            })
        });
        let r = proc.wait();
        if let Some(t) = relay {
            let _ = t.join();
        }
        r
    }

    /// Whether IMAGE is in the local image store (`docker image inspect`). An engine that
    /// cannot be reached is an error, not `false`.
    pub fn image_exists(&self, image: &str) -> Result<bool> {
        let cmdline = format!("{} image inspect {image}", self.shown());
        let out = Command::new(&self.exe)
            .args(["image", "inspect", "--format", "{{.Id}}", image])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::Other(format!("cannot run `{cmdline}`: {e}")))?;
        if out.status.success() {
            return Ok(true);
        }
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let l = last.to_ascii_lowercase();
        // docker: "No such image: x"; podman: "x: image not known".
        if l.contains("no such image") || l.contains("image not known") {
            return Ok(false);
        }
        Err(failure(&cmdline, out.status, last))
    }
}

/// `docker save`'s output; see [`Docker::save`].
pub struct Saving {
    proc: Proc,
    out: ChildStdout,
}

impl Read for Saving {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.out.read(buf)
    }
}

impl Saving {
    /// Waits for docker: `Ok` only if it exited with success (the stream was complete).
    pub fn finish(mut self) -> Result<()> {
        self.proc.wait()
    }
}

/// A running child that is always reaped: waited for by [`Proc::wait`], or killed and waited
/// for by [`Proc::kill`] or on drop.
struct Proc {
    child: Arc<Mutex<Child>>,
    cmdline: String,
    tap: Option<JoinHandle<Tail>>,
    prefix: String,
    reaped: bool,
}

impl Proc {
    fn lock(&mut self) -> std::sync::MutexGuard<'_, Child> {
        self.child.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits; a failure becomes one error carrying the child's last stderr line.
    fn wait(&mut self) -> Result<()> {
        // stderr closes when the child exits: join the tap first, so the lock below is only
        // held for a wait that returns at once (the interrupt handler may want it).
        let tail = self.tap.take().map(|t| t.join().unwrap_or_default());
        let status = self.lock().wait();
        self.reaped = true;
        let tail = tail.unwrap_or_default();
        let status = status.map_err(|e| Error::Other(format!("`{}`: {e}", self.cmdline)))?;
        let print_last = || {
            if !tail.last.is_empty() {
                output::info(&format!("{}: {}", self.prefix, tail.last));
            }
        };
        if status.success() {
            print_last();
            return Ok(());
        }
        match &tail.error {
            Some(e) if *e != tail.last => {
                print_last();
                Err(failure(&self.cmdline, status, e))
            }
            _ => Err(failure(&self.cmdline, status, &tail.last)),
        }
    }

    fn kill(&mut self) {
        if self.reaped {
            return;
        }
        {
            let mut c = self.lock();
            let _ = c.kill();
            let _ = c.wait();
        }
        self.reaped = true;
        if let Some(t) = self.tap.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn failure(cmdline: &str, status: ExitStatus, last: &str) -> Error {
    let status = match status.code() {
        Some(c) => format!("exit status {c}"),
        None => status.to_string(),
    };
    if last.is_empty() {
        Error::Other(format!("`{cmdline}` failed ({status})"))
    } else {
        Error::Other(format!("`{cmdline}` failed ({status}): {last}"))
    }
}

/// Lines of a child's output, lossily decoded, without trailing `\r` or blank lines.
fn lines(r: impl Read) -> impl Iterator<Item = String> {
    BufReader::new(r)
        .split(b'\n')
        .map_while(|l| l.ok())
        .filter_map(|l| {
            let s = String::from_utf8_lossy(&l).trim_end().to_string();
            (!s.is_empty()).then_some(s)
        })
}

/// The end of a child's stderr: its last line, and the last line that began with `Error`.
#[derive(Default)]
struct Tail {
    last: String,
    error: Option<String>,
}

/// Prints every stderr line but the last (see the module docs).
fn pass_through(err: impl Read, prefix: &str) -> Tail {
    let mut held: Option<String> = None;
    let mut error = None;
    for line in lines(err) {
        if line.trim_start().to_ascii_lowercase().starts_with("error") {
            error = Some(line.clone());
        }
        if let Some(prev) = held.replace(line) {
            output::info(&format!("{prefix}: {prev}"));
        }
    }
    Tail {
        last: held.unwrap_or_default(),
        error,
    }
}

enum Feed {
    /// Reading the source failed (corrupted or broken cache stream).
    Source(io::Error),
    /// Writing to the child failed (it exited or closed its stdin).
    Sink(io::Error),
}

/// Copies `src` to `dst`, always keeping the last [`HOLD_BACK`] bytes back until `src` ended
/// without an error.
fn feed(src: &mut dyn Read, dst: &mut dyn Write) -> std::result::Result<(), Feed> {
    const STEP: usize = 256 << 10;
    let mut pending: Vec<u8> = Vec::with_capacity(HOLD_BACK + 2 * STEP);
    let mut buf = vec![0u8; STEP];
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Feed::Source(e)),
        };
        pending.extend_from_slice(&buf[..n]);
        if pending.len() >= HOLD_BACK + STEP {
            let release = pending.len() - HOLD_BACK;
            dst.write_all(&pending[..release]).map_err(Feed::Sink)?;
            pending.drain(..release);
        }
    }
    dst.write_all(&pending).map_err(Feed::Sink)?;
    dst.flush().map_err(Feed::Sink)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that yields `data` in small reads, then fails or ends.
    struct Src {
        data: Vec<u8>,
        pos: usize,
        fail_at_end: bool,
    }

    impl Read for Src {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.pos == self.data.len() {
                return if self.fail_at_end {
                    Err(io::Error::other("checksum mismatch"))
                } else {
                    Ok(0)
                };
            }
            let n = buf.len().min(7919).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn feed_copies_everything_on_a_clean_end() {
        for n in [0, 10, HOLD_BACK, HOLD_BACK + 1, 3 << 20] {
            let d = data(n);
            let mut out = Vec::new();
            let mut src = Src {
                data: d.clone(),
                pos: 0,
                fail_at_end: false,
            };
            assert!(feed(&mut src, &mut out).is_ok());
            assert_eq!(out, d, "n={n}");
        }
    }

    #[test]
    fn feed_holds_back_the_tail_when_the_source_fails() {
        for n in [10, HOLD_BACK, 3 << 20] {
            let mut out = Vec::new();
            let mut src = Src {
                data: data(n),
                pos: 0,
                fail_at_end: true,
            };
            assert!(matches!(feed(&mut src, &mut out), Err(Feed::Source(_))));
            assert!(n.saturating_sub(out.len()) >= HOLD_BACK.min(n), "n={n}");
        }
    }

    #[test]
    fn stderr_pass_through_keeps_the_last_line() {
        let t = pass_through(&b"one\r\n\ntwo\nError: it broke\n"[..], "docker");
        assert_eq!(t.last, "Error: it broke");
        assert_eq!(t.error.as_deref(), Some("Error: it broke"));
        let t = pass_through(
            &b"Error: bad payload:\n * oci: x\n * dir: y\n"[..],
            "podman",
        );
        assert_eq!(t.last, " * dir: y");
        assert_eq!(t.error.as_deref(), Some("Error: bad payload:"));
        assert_eq!(pass_through(&b""[..], "docker").last, "");
    }

    #[test]
    fn a_missing_executable_is_one_clear_error() {
        let d = Docker::new("/nonexistent/cacher-no-docker");
        let e = d.save("img:1").err().unwrap().to_string();
        assert!(
            e.contains("CACHER_DOCKER") && e.contains("not found"),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }

    #[test]
    fn a_failing_child_reports_its_last_stderr_line() {
        // `sh` stands in for docker: the failure path does not care what the child is.
        let d = Docker::new("sh");
        let mut s = d
            .spawn(
                &[
                    "-c",
                    "echo first >&2; echo 'Error: no such image' >&2; exit 3",
                ],
                Stdio::null(),
                Stdio::piped(),
            )
            .unwrap();
        let e = s.wait().unwrap_err().to_string();
        assert!(
            e.contains("exit status 3") && e.ends_with("Error: no such image"),
            "{e}"
        );
    }

    #[test]
    fn load_kills_the_child_when_the_source_fails() {
        // `cat > FILE` stands in for docker load: killed, it got at most everything but the
        // held-back tail.
        let dir = std::env::temp_dir().join(format!("cacher-docker-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sink = dir.join("got");
        let script = dir.join("fake-docker");
        std::fs::write(
            &script,
            format!("#!/bin/sh\nexec cat > '{}'\n", sink.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let d = Docker::new(script.to_str().unwrap());
        let mut src = Src {
            data: data(1 << 20),
            pos: 0,
            fail_at_end: true,
        };
        let e = d.load(&mut src).unwrap_err().to_string();
        assert!(
            e.contains("checksum mismatch") && e.contains("nothing was loaded"),
            "{e}"
        );
        let got = std::fs::read(&sink).unwrap_or_default();
        assert!(got.len() <= (1 << 20) - HOLD_BACK, "{}", got.len());
        let mut ok = Src {
            data: data(1 << 20),
            pos: 0,
            fail_at_end: false,
        };
        d.load(&mut ok).unwrap();
        let got = std::fs::read(&sink).unwrap();
        assert_eq!(got, data(1 << 20));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
