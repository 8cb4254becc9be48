//! Integration tests: the S3 client and the real `cacher` executable against a real S3 server
//! on loopback (s3s-fs, moto, Garage — whichever `tests/bed/bed.sh` started, or any endpoint
//! named by the `CACHER_TEST_*` variables).
//!
//! Every test works under its own fresh prefix, so tests run in parallel against one bucket.
//! Without `CACHER_TEST_ENDPOINT` the tests fail with a line saying how to run them (`make
//! test` sets everything up); they never skip silently.

mod cli_files;
mod container;
mod dir;
mod docker;
mod faultproxy;
mod housekeeping;
mod limited;
mod memory;
mod s3_client;
mod semaphore;
mod tls;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use cacher::s3::{Client, Endpoint, Settings};

/// The server under test, from the environment `make test` writes.
#[derive(Clone, Debug)]
pub struct Server {
    pub name: String,
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub key_id: String,
    pub secret: String,
    pub limited: Option<(String, String)>,
    pub no_bucket: String,
}

impl Server {
    pub fn get() -> Server {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        let Some(endpoint) = var("CACHER_TEST_ENDPOINT") else {
            panic!("CACHER_TEST_ENDPOINT is not set: run the integration tests with `make test` (it starts real S3 servers), or export the CACHER_TEST_* variables of tests/bed/README.md");
        };
        let need =
            |n: &str| var(n).unwrap_or_else(|| panic!("{n} is not set (see tests/bed/README.md)"));
        Server {
            name: var("CACHER_TEST_SERVER").unwrap_or_else(|| "unknown".into()),
            endpoint,
            region: var("CACHER_TEST_REGION").unwrap_or_else(|| "us-east-1".into()),
            bucket: need("CACHER_TEST_BUCKET"),
            key_id: need("CACHER_TEST_KEY_ID"),
            secret: need("CACHER_TEST_SECRET"),
            limited: var("CACHER_TEST_LIMITED_KEY_ID").zip(var("CACHER_TEST_LIMITED_SECRET")),
            no_bucket: var("CACHER_TEST_NO_BUCKET")
                .unwrap_or_else(|| "cacher-no-such-bucket".into()),
        }
    }

    pub fn is(&self, name: &str) -> bool {
        self.name == name
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        let hostport = self
            .endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/');
        std::net::ToSocketAddrs::to_socket_addrs(hostport)
            .unwrap()
            .next()
            .unwrap()
    }

    pub fn settings(&self) -> Settings {
        Settings {
            endpoint: Endpoint::parse(&self.endpoint).unwrap(),
            region: self.region.clone(),
            bucket: self.bucket.clone(),
            path_style: true,
            credentials: sigv4::Credentials {
                access_key_id: self.key_id.clone(),
                secret_access_key: self.secret.clone(),
                session_token: None,
            },
            ca_file: None,
            proxy: None,
            attempts: 5,
            unsigned_payload: true,
            concurrency: 4,
        }
    }

    pub fn client(&self) -> Client {
        Client::new(self.settings()).unwrap()
    }
}

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A prefix no other test (or earlier run) uses.
pub fn unique(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "t/{name}-{}-{nanos}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh temp directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("cacher-it-{}", unique(name).replace('/', "-")));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

/// A `cacher` invocation with a clean environment: HOME is a temp dir (no stray config or
/// ~/.aws), and the server's settings come as CACHER_* env vars unless the test says otherwise.
pub struct Cacher {
    pub cmd: Command,
    pub home: TempDir,
}

impl Cacher {
    /// Connected to the server with the admin credentials and `prefix`.
    pub fn new(srv: &Server, prefix: &str) -> Cacher {
        let mut c = Cacher::bare();
        c.cmd
            .env("CACHER_ENDPOINT", &srv.endpoint)
            .env("CACHER_REGION", &srv.region)
            .env("CACHER_BUCKET", &srv.bucket)
            .env("CACHER_PREFIX", prefix)
            .env("CACHER_S3_KEY_ID", &srv.key_id)
            .env("CACHER_S3_SECRET", &srv.secret);
        c
    }

    /// No settings at all.
    pub fn bare() -> Cacher {
        let home = TempDir::new("home");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cacher"));
        cmd.env_clear()
            .env("HOME", home.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .current_dir(home.path())
            .stdin(Stdio::null());
        Cacher { cmd, home }
    }

    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Cacher {
        self.cmd.env(k, v);
        self
    }

    pub fn env_remove(mut self, k: &str) -> Cacher {
        self.cmd.env_remove(k);
        self
    }

    pub fn run<I, S>(mut self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        let mut r = Run::from(self.cmd.output().expect("run cacher"));
        r.home = Some(self.home);
        r
    }

    pub fn run_stdin<I, S>(mut self, args: I, input: &[u8]) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        use std::io::Write;
        self.cmd
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("spawn cacher");
        let mut stdin = child.stdin.take().unwrap();
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        let mut r = Run::from(out);
        r.home = Some(self.home);
        r
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
    /// The run's HOME, kept alive so a test can look at what the run wrote there.
    pub home: Option<TempDir>,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: o.stdout,
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            home: None,
        }
    }
}

impl Run {
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Asserts the exit code, printing both streams when it differs.
    #[track_caller]
    pub fn code(&self, want: i32) -> &Run {
        assert_eq!(
            self.code,
            want,
            "exit code {} (wanted {want})\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.out(),
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn err_has(&self, s: &str) -> &Run {
        assert!(
            self.stderr.contains(s),
            "stderr lacks {s:?}:\n{}",
            self.stderr
        );
        self
    }

    /// SPEC §3: an error is one line on stderr that begins `cacher: `.
    #[track_caller]
    pub fn one_error_line(&self) -> &Run {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert!(!lines.is_empty(), "no error line on stderr");
        for l in &lines {
            assert!(
                l.starts_with("cacher: "),
                "stderr line without prefix: {l:?}"
            );
        }
        self
    }
}
