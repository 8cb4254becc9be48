//! HTTPS with a private CA, and HTTPS through a CONNECT proxy (issue 6), with real parts: the
//! test makes its own CA and server certificates with `openssl`, and Debian's `stunnel4`
//! terminates TLS on loopback in front of the real S3 server of the run. The CONNECT proxy is
//! a few lines of std::net below, so the test can see which tunnels it was asked for.
//!
//! `make test` installs stunnel4 (tests/run.sh); without it these tests fail with one line
//! saying so, they never skip.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{data, unique, Cacher, Server, TempDir};

/// A private CA and two server certificates signed by it: one for `localhost`/127.0.0.1 and
/// one for a host name cacher does not connect to.
pub struct Pki {
    pub dir: TempDir,
}

impl Pki {
    pub fn new() -> Pki {
        let dir = TempDir::new("pki");
        let d = dir.path();
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=cacher test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
            ],
        );
        Pki::leaf(d, "good", "DNS:localhost,IP:127.0.0.1");
        Pki::leaf(d, "wrong", "DNS:wrong.example");
        Pki { dir }
    }

    fn leaf(d: &Path, name: &str, san: &str) {
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=cacher test server",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
            ],
        );
        std::fs::write(
            d.join(format!("{name}.ext")),
            format!("subjectAltName={san}\nextendedKeyUsage=serverAuth\n"),
        )
        .unwrap();
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl (the TLS tests need it): {e}"));
    assert!(
        o.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// stunnel4 in the foreground, terminating TLS with CERT for the S3 server; killed on drop.
pub struct Stunnel {
    child: Child,
    pub port: u16,
    _dir: TempDir,
}

impl Stunnel {
    pub fn start(pki: &Pki, cert: &str, upstream: SocketAddr) -> Stunnel {
        let dir = TempDir::new("stunnel");
        let port = free_port();
        let conf = dir.join("stunnel.conf");
        std::fs::write(
            &conf,
            format!(
                "foreground = yes\npid =\nsyslog = no\ndebug = 3\n[s3]\naccept = 127.0.0.1:{port}\nconnect = {upstream}\ncert = {}\nkey = {}\n",
                pki.dir.join(&format!("{cert}.pem")).display(),
                pki.dir.join(&format!("{cert}.key")).display(),
            ),
        )
        .unwrap();
        let exe = ["stunnel4", "stunnel"]
            .into_iter()
            .find(|e| Command::new(e).arg("-version").stderr(Stdio::null()).output().is_ok())
            .unwrap_or_else(|| panic!("stunnel4 is not installed: the HTTPS tests need Debian's stunnel4 (`make test` installs it as root; apt-get install stunnel4)"));
        let child = Command::new(exe)
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stunnel.log")).unwrap())
            .spawn()
            .expect("start stunnel");
        let s = Stunnel {
            child,
            port,
            _dir: dir,
        };
        wait_listening(port, &s._dir.join("stunnel.log"));
        s
    }

    pub fn endpoint(&self, host: &str) -> String {
        format!("https://{host}:{}", self.port)
    }
}

impl Drop for Stunnel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_listening(port: u16, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "stunnel did not listen on {port} within 10 s: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An HTTP CONNECT proxy on loopback that records the targets it was asked to tunnel to.
pub struct ConnectProxy {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    pub fn start() -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || tunnel(conn, &log));
            }
        });
        ConnectProxy { port, seen }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn tunnel(client: TcpStream, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    log.lock().unwrap().push(format!("{method} {target}"));
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" || h == "\n" {
            break;
        }
    }
    let mut client = client;
    let upstream = match (method, TcpStream::connect(target)) {
        ("CONNECT", Ok(u)) => u,
        _ => {
            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
            return;
        }
    };
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .unwrap();
    // Bytes the reader buffered past the header belong to the tunnel.
    let early = reader.buffer().to_vec();
    let mut up_w = upstream.try_clone().unwrap();
    let mut up_r = upstream;
    let mut cl_w = client.try_clone().unwrap();
    let t = std::thread::spawn(move || {
        let _ = std::io::copy(&mut up_r, &mut cl_w);
        let _ = cl_w.shutdown(Shutdown::Write);
    });
    let _ = up_w.write_all(&early);
    let mut rest = reader.into_inner();
    let _ = std::io::copy(&mut rest, &mut up_w);
    let _ = up_w.shutdown(Shutdown::Write);
    let _ = t.join();
}

/// A cacher whose endpoint is `endpoint` (HTTPS through stunnel) on the run's server.
fn over(srv: &Server, endpoint: &str, prefix: &str) -> Cacher {
    Cacher::new(srv, prefix).env("CACHER_ENDPOINT", endpoint)
}

#[test]
fn https_with_a_private_ca_needs_the_ca_file() {
    let srv = Server::get();
    let pki = Pki::new();
    let tls = Stunnel::start(&pki, "good", srv.addr());
    let ep = tls.endpoint("localhost");
    let prefix = unique("tls");

    // The bundled public roots do not know the test's CA: refused, one line, exit 2.
    let r = over(&srv, &ep, &prefix).run(["exists", "k"]);
    r.code(2)
        .one_error_line()
        .err_has("certificate")
        .err_has("--ca-file");
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);

    // With the CA, by flag, every file command works.
    let ca = pki.ca();
    let ca = ca.to_str().unwrap();
    let tmp = TempDir::new("tls-files");
    let body = data(7 << 20, 61); // multipart at a 5 MiB part size
    std::fs::write(tmp.join("in"), &body).unwrap();
    let run = |args: &[&str]| {
        over(&srv, &ep, &prefix)
            .env("CACHER_PART_SIZE", "5MiB")
            .run([&["--ca-file", ca][..], args].concat())
    };
    run(&["exists", "k"]).code(1);
    run(&["upload", "k", tmp.join("in").to_str().unwrap()]).code(0);
    run(&["exists", "k"]).code(0);
    run(&["download", "k", tmp.join("out").to_str().unwrap()]).code(0);
    assert!(
        std::fs::read(tmp.join("out")).unwrap() == body,
        "downloaded bytes differ"
    );
    let l = run(&["list"]);
    l.code(0);
    assert!(l.out().contains('k'), "list: {}", l.out());
    std::fs::create_dir(tmp.join("tree")).unwrap();
    std::fs::write(tmp.join("tree/a"), b"alpha").unwrap();
    run(&["dir", "upload", "d", tmp.join("tree").to_str().unwrap()]).code(0);
    run(&["dir", "download", "d", tmp.join("tree2").to_str().unwrap()]).code(0);
    assert_eq!(std::fs::read(tmp.join("tree2/a")).unwrap(), b"alpha");
    run(&["doctor"]).code(0);
    run(&["delete", "k", "d"]).code(0);
    run(&["exists", "k"]).code(1);

    // The same CA through CACHER_CA_FILE and through SSL_CERT_FILE.
    for var in ["CACHER_CA_FILE", "SSL_CERT_FILE"] {
        over(&srv, &ep, &prefix)
            .env(var, ca)
            .run(["exists", "k"])
            .code(1);
    }
}

#[test]
fn a_certificate_for_another_host_is_refused() {
    let srv = Server::get();
    let pki = Pki::new();
    let tls = Stunnel::start(&pki, "wrong", srv.addr());
    let r = over(&srv, &tls.endpoint("localhost"), &unique("tls-wrong"))
        .env("CACHER_CA_FILE", pki.ca())
        .run(["exists", "k"]);
    r.code(2)
        .one_error_line()
        .err_has("certificate")
        .err_has("not valid for name");
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    // The same endpoint by IP, which the certificate does not name either.
    over(&srv, &tls.endpoint("127.0.0.1"), &unique("tls-wrong"))
        .env("CACHER_CA_FILE", pki.ca())
        .run(["exists", "k"])
        .code(2);
}

#[test]
fn https_proxy_is_used_and_no_proxy_bypasses_it() {
    let srv = Server::get();
    let pki = Pki::new();
    let tls = Stunnel::start(&pki, "good", srv.addr());
    let ep = tls.endpoint("localhost");
    let prefix = unique("tls-proxy");
    let proxy = ConnectProxy::start();
    let tmp = TempDir::new("tls-proxy");
    let body = data(300_000, 62);
    std::fs::write(tmp.join("in"), &body).unwrap();

    let via = |no_proxy: Option<&str>| {
        let c = over(&srv, &ep, &prefix)
            .env("CACHER_CA_FILE", pki.ca())
            .env("HTTPS_PROXY", proxy.url());
        match no_proxy {
            Some(n) => c.env("NO_PROXY", n),
            None => c,
        }
    };
    via(None)
        .run(["upload", "k", tmp.join("in").to_str().unwrap()])
        .code(0);
    via(None)
        .run(["download", "k", tmp.join("out").to_str().unwrap()])
        .code(0);
    assert!(std::fs::read(tmp.join("out")).unwrap() == body);
    let seen = proxy.seen();
    let want = format!("CONNECT localhost:{}", tls.port);
    assert!(
        !seen.is_empty() && seen.iter().all(|s| *s == want),
        "the proxy saw {seen:?}, wanted only {want:?}"
    );

    // NO_PROXY naming the host: straight to the endpoint, the proxy sees nothing more.
    let before = proxy.seen().len();
    via(Some("example.com,localhost"))
        .run(["exists", "k"])
        .code(0);
    assert_eq!(
        proxy.seen().len(),
        before,
        "NO_PROXY=localhost still used the proxy"
    );

    // And the lower-case spelling, which curl and most tools also honour.
    let c = over(&srv, &ep, &prefix)
        .env("CACHER_CA_FILE", pki.ca())
        .env("https_proxy", proxy.url());
    c.run(["exists", "k"]).code(0);
    assert!(proxy.seen().len() > before, "https_proxy was not used");
    over(&srv, &ep, &prefix)
        .env("CACHER_CA_FILE", pki.ca())
        .run(["delete", "k"])
        .code(0);
}
