//! The "curl it into a minimal image" promise (issue 6): the static release binary, alone in a
//! `FROM scratch` image (no shell, no libc, no CA bundle, no /tmp), run with `docker run
//! --network host` against the loopback S3 server: `exists`, `upload` (a file and stdin),
//! `download`, and HTTPS through stunnel with a private CA given by `--ca-file`.
//!
//! The binary is `CACHER_TEST_STATIC_BIN` (tests/run.sh builds it with scripts/static.sh);
//! without it, or without a docker engine, the test fails with one line saying so.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::docker::{docker, docker_ok, engine};
use crate::tls::{Pki, Stunnel};
use crate::{data, unique, Server, TempDir};

fn static_bin() -> String {
    let Some(bin) = std::env::var("CACHER_TEST_STATIC_BIN")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        panic!("CACHER_TEST_STATIC_BIN is not set: `make test` builds the static binary (bash scripts/static.sh amd64) and sets it");
    };
    bin
}

/// `docker run --rm --network host` of IMAGE with the server's settings (at `endpoint`), a
/// bind mount of `dir` at /data, and `args`.
fn run_in(
    image: &str,
    (srv, endpoint): (&Server, &str),
    prefix: &str,
    dir: &TempDir,
    args: &[&str],
) -> Command {
    let mut c = Command::new(&engine().exe);
    c.args(["run", "--rm", "-i", "--network", "host"]);
    for (k, v) in [
        ("CACHER_ENDPOINT", endpoint),
        ("CACHER_REGION", &srv.region),
        ("CACHER_BUCKET", &srv.bucket),
        ("CACHER_PREFIX", prefix),
        ("AWS_ACCESS_KEY_ID", &srv.key_id),
        ("AWS_SECRET_ACCESS_KEY", &srv.secret),
    ] {
        c.arg("-e").arg(format!("{k}={v}"));
    }
    c.arg("-v")
        .arg(format!("{}:/data", dir.path().display()))
        .arg(image)
        .args(args)
        .stdin(Stdio::null());
    c
}

fn code_of(c: &mut Command) -> (i32, String) {
    let o = c.output().expect("docker run");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn the_static_binary_works_alone_in_an_empty_container() {
    let bin = static_bin();
    let srv = Server::get();
    let ctx = TempDir::new("scratch-image");
    std::fs::copy(&bin, ctx.join("cacher")).expect("copy the static binary");
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM scratch\nCOPY cacher /cacher\nENTRYPOINT [\"/cacher\"]\n",
    )
    .unwrap();
    let image = format!("cacher-scratch-test:{}", std::process::id());
    docker_ok(&["build", "-q", "-t", &image, ctx.path().to_str().unwrap()]);
    struct Rmi(String);
    impl Drop for Rmi {
        fn drop(&mut self) {
            let _ = docker(&["rmi", "-f", &self.0]);
        }
    }
    let _rmi = Rmi(image.clone());
    // Nothing but the binary: the image's only file is /cacher.
    let hist = docker_ok(&["image", "inspect", "-f", "{{len .RootFS.Layers}}", &image]);
    assert_eq!(hist.trim(), "1", "the scratch image should have one layer");

    let prefix = unique("scratch");
    let dir = TempDir::new("scratch-data");
    let body = data(6 << 20, 71);
    std::fs::write(dir.join("in.bin"), &body).unwrap();
    let at = (&srv, srv.endpoint.as_str());
    let go = |args: &[&str]| code_of(&mut run_in(&image, at, &prefix, &dir, args));

    assert_eq!(go(&["version"]).0, 0);
    let (c, e) = go(&["exists", "k"]);
    assert_eq!(c, 1, "exists on a miss: {e}");
    let (c, e) = go(&["upload", "k", "/data/in.bin"]);
    assert_eq!(c, 0, "upload: {e}");
    let (c, e) = go(&["exists", "k"]);
    assert_eq!(c, 0, "exists on a hit: {e}");
    let (c, e) = go(&["download", "k", "/data/sub/out.bin"]);
    assert_eq!(c, 0, "download: {e}");
    assert!(
        std::fs::read(dir.join("sub/out.bin")).unwrap() == body,
        "the bytes downloaded in the container differ"
    );

    // stdin → upload, download → stdout, through the container's pipes.
    let mut up = run_in(&image, at, &prefix, &dir, &["upload", "s", "-"]);
    let mut child = up
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&body[..100_000])
        .unwrap();
    assert!(child.wait().unwrap().success(), "upload from stdin failed");
    let o = run_in(&image, at, &prefix, &dir, &["download", "s", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout == body[..100_000], "stdout bytes differ");

    // HTTPS with a private CA, in an image with no CA bundle at all.
    let pki = Pki::new();
    let tls = Stunnel::start(&pki, "good", srv.addr());
    std::fs::copy(pki.ca(), dir.join("ca.pem")).unwrap();
    let ep = tls.endpoint("localhost");
    let https = |args: &[&str]| code_of(&mut run_in(&image, (&srv, &ep), &prefix, &dir, args));
    let (c, e) = https(&["exists", "k"]);
    assert_eq!(c, 2, "HTTPS without the CA must be refused: {e}");
    assert!(e.contains("certificate"), "{e}");
    let (c, e) = https(&[
        "--ca-file",
        "/data/ca.pem",
        "download",
        "k",
        "/data/tls.bin",
    ]);
    assert_eq!(c, 0, "HTTPS download with --ca-file: {e}");
    assert!(std::fs::read(dir.join("tls.bin")).unwrap() == body);
    let (c, e) = https(&["--ca-file", "/data/ca.pem", "delete", "k", "s"]);
    assert_eq!(c, 0, "{e}");
}
