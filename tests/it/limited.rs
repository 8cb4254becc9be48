//! Every command under the least-privilege policy of Semaphore's self-hosted guide
//! (`s3:PutObject`, `s3:GetObject`, `s3:ListBucket`, `s3:DeleteObject` only), on a server that
//! enforces IAM policies (moto). Includes a failed multipart upload whose abort is denied: a
//! warning, not a crash, and no visible object.

use crate::faultproxy::{Fault, FaultProxy};
use crate::{data, unique, Cacher, Server, TempDir};

/// The server's limited user, or `None` where the server has no IAM (said on stdout, and only
/// allowed off moto: on moto the bed always creates the user).
fn limited(srv: &Server) -> Option<(String, String)> {
    if srv.limited.is_none() {
        assert!(
            !srv.is("moto"),
            "moto must come with CACHER_TEST_LIMITED_KEY_ID (tests/bed)"
        );
        println!(
            "{}: no limited IAM user on this server; the least-privilege tests run on moto",
            srv.name
        );
    }
    srv.limited.clone()
}

fn as_limited(srv: &Server, prefix: &str, id: &str, secret: &str) -> Cacher {
    Cacher::new(srv, prefix)
        .env("CACHER_S3_KEY_ID", id)
        .env("CACHER_S3_SECRET", secret)
}

#[test]
fn every_command_works_with_four_permissions() {
    let srv = Server::get();
    let Some((id, secret)) = limited(&srv) else {
        return;
    };
    let p = unique("limited");
    let t = TempDir::new("limited");
    let run = || as_limited(&srv, &p, &id, &secret);

    let small = data(10_000, 21);
    std::fs::write(t.join("small"), &small).unwrap();
    run()
        .run(["upload", "small", t.join("small").to_str().unwrap()])
        .code(0);
    run()
        .run(["upload", "small", t.join("small").to_str().unwrap()])
        .code(0)
        .err_has("skipped");
    let big = data((11 << 20) + 7, 22);
    run()
        .env("CACHER_PART_SIZE", "5MiB")
        .run_stdin(["upload", "big", "-"], &big)
        .code(0);
    run().run(["exists", "small"]).code(0);
    run().run(["exists", "nope"]).code(1);
    let r = run().run(["download", "big", "-"]);
    r.code(0);
    assert!(r.stdout == big);
    run()
        .run(["download", "nope", t.join("x").to_str().unwrap()])
        .code(3);
    let r = run().run(["list", "--recursive"]);
    r.code(0);
    assert_eq!(r.out().lines().count(), 2, "{}", r.out());
    run().run(["list"]).code(0);
    // doctor: HEAD bucket is denied on moto (s3:HeadBucket); the 1-key listing stands in
    let r = run().run(["doctor"]);
    r.code(0).err_has("PUT canary").err_has("DELETE canary");
    run().run(["delete", "small"]).code(0);
    let r = run().run(["delete", "--recursive", "bi", "--dry-run"]);
    r.code(0);
    assert_eq!(r.out(), "big\n");
    run().run(["delete", "--recursive", "bi"]).code(0);
    run().run(["exists", "big"]).code(1);
}

#[test]
fn failed_multipart_with_denied_abort_warns_and_leaves_nothing() {
    let srv = Server::get();
    let Some((id, secret)) = limited(&srv) else {
        return;
    };
    let proxy = FaultProxy::start(srv.addr());
    // Part 2 fails with a non-retryable error: the upload must be abandoned.
    proxy.add(
        Some("PUT"),
        Some("partNumber=2"),
        Fault::Status(400, "InvalidArgument"),
        1,
    );
    let p = unique("denied-abort");
    let body = data((11 << 20) + 1, 23);
    let r = as_limited(&srv, &p, &id, &secret)
        .env("CACHER_ENDPOINT", proxy.endpoint())
        .env("CACHER_PART_SIZE", "5MiB")
        .env("CACHER_CONCURRENCY", "1")
        .run_stdin(["upload", "k", "-"], &body);
    r.code(2)
        .err_has("InvalidArgument")
        .err_has("could not abort")
        .err_has("lifecycle");
    assert!(
        proxy
            .log()
            .iter()
            .any(|l| l.starts_with("DELETE") && l.contains("uploadId=")),
        "an abort was attempted: {:?}",
        proxy.log()
    );
    as_limited(&srv, &p, &id, &secret)
        .run(["exists", "k"])
        .code(1);
}
