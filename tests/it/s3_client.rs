//! The S3 client against the real server: every call of SPEC §5, multipart, paging, awkward
//! keys, authentication failures, and retries through the fault-injecting proxy.

use std::io::Read;

use cacher::error::Error;
use cacher::output::Progress;
use cacher::s3::Client;
use cacher::transfer::{self, UploadOpts};
use sha2::{Digest, Sha256};

use crate::faultproxy::{Fault, FaultProxy};
use crate::{data, unique, Server};

fn get_all(c: &Client, name: &str) -> Vec<u8> {
    let mut r = c.get_object(name, None).unwrap().expect("object exists");
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

#[test]
fn put_head_get_range_delete() {
    let srv = Server::get();
    let c = srv.client();
    let name = format!("{}/obj.bin", unique("basic"));
    let body = data(100_000, 1);
    let sha = hex::encode(Sha256::digest(&body));
    c.put_object(&name, &body, None, Some(&sha)).unwrap();

    let meta = c.head_object(&name).unwrap().expect("head finds it");
    assert_eq!(meta.size, 100_000);
    assert_eq!(
        meta.sha256.as_deref(),
        Some(sha.as_str()),
        "x-amz-meta-sha256 round-trips"
    );
    assert!(meta.etag.is_some());

    assert_eq!(get_all(&c, &name), body);

    let mut r = c.get_object(&name, Some((10, 19))).unwrap().unwrap();
    let mut part = Vec::new();
    r.read_to_end(&mut part).unwrap();
    assert_eq!(part, &body[10..20]);
    assert_eq!(
        r.meta.size, 100_000,
        "size comes from Content-Range on a ranged GET"
    );

    c.delete_object(&name).unwrap();
    assert!(c.head_object(&name).unwrap().is_none());
    assert!(c.get_object(&name, None).unwrap().is_none());
    // deleting a missing key is not an error
    c.delete_object(&name).unwrap();
}

#[test]
fn head_bucket_and_missing_bucket() {
    let srv = Server::get();
    srv.client().head_bucket().unwrap();
    let mut s = srv.settings();
    s.bucket = srv.no_bucket.clone();
    let c = Client::new(s).unwrap();
    let e = c.head_bucket().unwrap_err();
    assert_eq!(e.status(), Some(404), "{e}");
    let e = c.list_page("", None, None, None).unwrap_err();
    assert_eq!(e.s3_code(), Some("NoSuchBucket"), "{e}");
    assert!(!e.is_retryable());
}

#[test]
fn wrong_secret_is_403_and_not_retried() {
    let srv = Server::get();
    let mut s = srv.settings();
    s.credentials.secret_access_key = "wrong-secret-wrong-secret-wrong-secret-00".into();
    let c = Client::new(s).unwrap();
    let started = std::time::Instant::now();
    let e = c
        .put_object(&format!("{}/x", unique("badsecret")), b"x", None, None)
        .unwrap_err();
    assert_eq!(e.status(), Some(403), "{e}");
    assert!(!e.is_retryable());
    assert!(started.elapsed().as_secs() < 5, "a 403 must not be retried");
    let msg = e.to_string();
    assert!(
        !msg.contains("wrong-secret") && !msg.contains(&srv.secret),
        "secret leaked: {msg}"
    );
}

#[test]
fn multipart_with_5mib_parts_round_trips() {
    let srv = Server::get();
    let c = srv.client();
    let name = format!("{}/big.bin", unique("multipart"));
    let body = data((11 << 20) + 123, 2); // 5 MiB + 5 MiB + a bit
    let sha = hex::encode(Sha256::digest(&body));
    let opts = UploadOpts {
        part_size: 5 << 20,
        concurrency: 3,
        meta_sha256: Some(sha.clone()),
        known_size: Some(body.len() as u64),
    };
    let up = transfer::upload(
        &c,
        &name,
        &mut &body[..],
        "test data",
        &opts,
        &Progress::new("t", None),
    )
    .unwrap();
    assert_eq!(up.bytes, body.len() as u64);
    assert_eq!(up.sha256, sha);
    let meta = c.head_object(&name).unwrap().unwrap();
    assert_eq!(meta.size, body.len() as u64);
    assert_eq!(meta.sha256.as_deref(), Some(sha.as_str()));
    assert_eq!(get_all(&c, &name), body);
}

#[test]
fn multipart_of_unknown_size_stream() {
    let srv = Server::get();
    let c = srv.client();
    let name = format!("{}/stream.bin", unique("stream"));
    let body = data((10 << 20) + 1, 3);
    // A reader that hides its size, as stdin does.
    struct Opaque<'a>(&'a [u8]);
    impl Read for Opaque<'_> {
        fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
            let n = b.len().min(self.0.len()).min(7777);
            b[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let opts = UploadOpts {
        part_size: 5 << 20,
        concurrency: 2,
        meta_sha256: None,
        known_size: None,
    };
    transfer::upload(
        &c,
        &name,
        &mut Opaque(&body),
        "stream",
        &opts,
        &Progress::new("t", None),
    )
    .unwrap();
    assert_eq!(get_all(&c, &name), body);
}

#[test]
fn aborted_multipart_leaves_nothing_visible() {
    let srv = Server::get();
    let c = srv.client();
    let name = format!("{}/aborted", unique("abort"));
    let id = c.create_multipart(&name, None).unwrap();
    c.upload_part(&name, &id, 1, &data(5 << 20, 4), None)
        .unwrap();
    c.abort_multipart(&name, &id).unwrap();
    assert!(c.head_object(&name).unwrap().is_none());
}

#[test]
fn awkward_keys_round_trip_exactly() {
    let srv = Server::get();
    let c = srv.client();
    let base = unique("keys");
    let keys = [
        "with space.txt",
        "plus+sign",
        "percent%20literal",
        "percent%",
        "eq=and&amp",
        "tilde~x",
        "brackets[1](2){3}",
        "unicode-ü-日本-😀",
        "dots/v1.2.3/file..tar.gz",
        "semi;colon,comma'quote\"dq",
        "hash#x!at@dollar$star*",
    ];
    for (i, k) in keys.iter().enumerate() {
        let name = format!("{base}/{k}");
        let body = format!("body {i}");
        c.put_object(&name, body.as_bytes(), None, None)
            .unwrap_or_else(|e| panic!("put {k:?}: {e}"));
        assert!(c.head_object(&name).unwrap().is_some(), "head {k:?}");
        assert_eq!(get_all(&c, &name), body.as_bytes(), "get {k:?}");
    }
    let mut listed = Vec::new();
    c.list_each(&format!("{base}/"), None, |p| {
        listed.extend(p.objects.into_iter().map(|o| o.key));
        Ok(())
    })
    .unwrap();
    let mut want: Vec<String> = keys.iter().map(|k| format!("{base}/{k}")).collect();
    want.sort();
    listed.sort();
    assert_eq!(listed, want);
    for k in keys {
        c.delete_object(&format!("{base}/{k}")).unwrap();
    }
}

#[test]
fn listing_pages_and_delimiters() {
    let srv = Server::get();
    let c = srv.client();
    let base = unique("paging");
    let n = 1100;
    std::thread::scope(|s| {
        for t in 0..8 {
            let c = &c;
            let base = &base;
            s.spawn(move || {
                for i in (t..n).step_by(8) {
                    c.put_object(&format!("{base}/many/k{i:05}"), b"", None, None)
                        .unwrap();
                }
            });
        }
    });
    for k in ["a/1", "a/2", "b", "c/d/e"] {
        c.put_object(&format!("{base}/tree/{k}"), b"x", None, None)
            .unwrap();
    }
    let mut pages = 0;
    let mut seen = Vec::new();
    c.list_each(&format!("{base}/many/"), None, |p| {
        pages += 1;
        seen.extend(p.objects.into_iter().map(|o| o.key));
        Ok(())
    })
    .unwrap();
    assert_eq!(seen.len(), n, "all keys listed once");
    assert!(
        pages >= 2,
        "1100 keys need more than one page (got {pages})"
    );
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), n, "no key listed twice");

    let page = c
        .list_page(&format!("{base}/tree/"), Some("/"), None, None)
        .unwrap();
    let objs: Vec<_> = page.objects.iter().map(|o| o.key.clone()).collect();
    assert_eq!(objs, vec![format!("{base}/tree/b")]);
    assert_eq!(
        page.common_prefixes,
        vec![format!("{base}/tree/a/"), format!("{base}/tree/c/")]
    );
}

#[test]
fn slowdown_and_503_are_retried() {
    let srv = Server::get();
    let proxy = FaultProxy::start(srv.addr());
    proxy.add(Some("PUT"), None, Fault::Status(503, "SlowDown"), 2);
    proxy.add(Some("GET"), None, Fault::Status(500, "InternalError"), 1);
    let mut s = srv.settings();
    s.endpoint = cacher::s3::Endpoint::parse(&proxy.endpoint()).unwrap();
    let c = Client::new(s).unwrap();
    let name = format!("{}/retried", unique("retry"));
    c.put_object(&name, b"hello", None, None).unwrap();
    assert_eq!(get_all(&c, &name), b"hello");
    assert!(
        proxy.unfired().is_empty(),
        "every fault fired: {:?}",
        proxy.unfired()
    );
    let puts = proxy.log().iter().filter(|l| l.starts_with("PUT")).count();
    assert_eq!(puts, 3, "two refused PUTs, then one that went through");
}

#[test]
fn errors_that_persist_give_up_after_the_attempt_budget() {
    let srv = Server::get();
    let proxy = FaultProxy::start(srv.addr());
    proxy.add(Some("HEAD"), None, Fault::Status(503, "SlowDown"), 100);
    let mut s = srv.settings();
    s.endpoint = cacher::s3::Endpoint::parse(&proxy.endpoint()).unwrap();
    let c = Client::new(s).unwrap();
    let e = c.head_object("x").unwrap_err();
    assert_eq!(e.status(), Some(503));
    assert_eq!(proxy.log().len(), 5, "SPEC §5: 5 attempts by default");
}

#[test]
fn a_download_cut_mid_body_resumes_with_a_range() {
    let srv = Server::get();
    let c = srv.client();
    let name = format!("{}/resume.bin", unique("resume"));
    let body = data(3 << 20, 5);
    c.put_object(&name, &body, None, None).unwrap();

    let proxy = FaultProxy::start(srv.addr());
    proxy.add(Some("GET"), None, Fault::CutBody(1_000_000), 1);
    proxy.add(Some("GET"), Some("resume.bin"), Fault::CutBody(500_000), 1);
    let mut s = srv.settings();
    s.endpoint = cacher::s3::Endpoint::parse(&proxy.endpoint()).unwrap();
    let pc = Client::new(s).unwrap();
    let got = get_all(&pc, &name);
    assert_eq!(got.len(), body.len());
    assert!(got == body, "resumed bytes differ from the object");
    let log = proxy.log();
    let ranges: Vec<_> = log
        .iter()
        .filter(|l| l.contains("[range: bytes="))
        .collect();
    assert!(
        ranges.iter().any(|l| l.contains("bytes=1000000-")),
        "first resume from byte 1000000: {log:?}"
    );
    assert!(
        ranges.iter().any(|l| l.contains("bytes=1500000-")),
        "second resume from byte 1500000: {log:?}"
    );
    assert!(proxy.unfired().is_empty());
}

#[test]
fn unreachable_endpoint_fails_fast_and_retryable() {
    let srv = Server::get();
    // A port nobody listens on.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let mut s = srv.settings();
    s.endpoint = cacher::s3::Endpoint::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    let c = Client::new(s).unwrap();
    let started = std::time::Instant::now();
    let e = c.head_object("x").unwrap_err();
    assert!(matches!(e, Error::Network { .. }), "{e:?}");
    assert!(started.elapsed().as_secs() < 30);
}

#[test]
fn ranged_concurrent_read_is_in_order_and_survives_cuts() {
    let srv = Server::get();
    let c = srv.client();
    let name = format!("{}/ranged.bin", unique("ranged"));
    let body = data((5 << 20) + 12345, 6);
    c.put_object(&name, &body, None, None).unwrap();
    let read = |client: &Client| {
        transfer::read_object(client, &name, 1 << 20, 3, |found| {
            let (r, meta) = found.expect("object exists");
            assert_eq!(meta.size, body.len() as u64);
            let mut v = Vec::new();
            r.read_to_end(&mut v).unwrap();
            Ok(v)
        })
        .unwrap()
    };
    assert!(read(&c) == body, "ranged read differs");

    // Cut two of the range responses mid-body: each resumes from where it stopped.
    let proxy = FaultProxy::start(srv.addr());
    proxy.add(Some("GET"), None, Fault::CutBody(300_000), 2);
    let mut s = srv.settings();
    s.endpoint = cacher::s3::Endpoint::parse(&proxy.endpoint()).unwrap();
    let pc = Client::new(s).unwrap();
    assert!(read(&pc) == body, "ranged read through cuts differs");
    assert!(proxy.unfired().is_empty());
    let ranged = proxy
        .log()
        .iter()
        .filter(|l| l.contains("[range: bytes="))
        .count();
    assert!(
        ranged >= 6 + 2,
        "6 chunks plus 2 resumes: {:?}",
        proxy.log()
    );

    // a missing key and an empty object
    assert!(
        transfer::read_object(&c, &format!("{name}.missing"), 1 << 20, 3, |f| Ok(
            f.is_none()
        ))
        .unwrap()
    );
    let empty = format!("{name}.empty");
    c.put_object(&empty, b"", None, None).unwrap();
    let n = transfer::read_object(&c, &empty, 1 << 20, 3, |f| {
        let (r, _) = f.unwrap();
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
        Ok(v.len())
    })
    .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn clock_skew_is_retried_once_with_the_servers_time() {
    let srv = Server::get();
    let proxy = FaultProxy::start(srv.addr());
    let mut s = srv.settings();
    s.endpoint = cacher::s3::Endpoint::parse(&proxy.endpoint()).unwrap();

    // The server says our clock is off but its Date agrees with ours: one retry, which works.
    proxy.add(Some("PUT"), None, Fault::Skewed(0), 1);
    let c = Client::new(s.clone()).unwrap();
    let name = format!("{}/skew", unique("skew"));
    c.put_object(&name, b"x", None, None).unwrap();
    assert_eq!(
        proxy.log().iter().filter(|l| l.starts_with("PUT")).count(),
        2
    );

    // The server's Date is 2 hours ahead: the retry is signed with the server's time (which a
    // real server then rejects, since it is not really ahead), and it is retried only once.
    let proxy = FaultProxy::start(srv.addr());
    proxy.add(Some("PUT"), None, Fault::Skewed(7200), 1);
    let mut s2 = srv.settings();
    s2.endpoint = cacher::s3::Endpoint::parse(&proxy.endpoint()).unwrap();
    let c = Client::new(s2).unwrap();
    let _ = c.put_object(&format!("{name}2"), b"x", None, None);
    let puts: Vec<String> = proxy
        .log()
        .into_iter()
        .filter(|l| l.starts_with("PUT"))
        .collect();
    assert!(puts.len() >= 2, "{puts:?}");
    let date_of = |l: &str| {
        l.split("[x-amz-date: ")
            .nth(1)
            .map(|d| d[..13].to_string())
            .unwrap()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let ahead = crate::faultproxy::httpdate(now + 7200);
    assert_ne!(
        date_of(&puts[0]),
        date_of(&puts[1]),
        "the retry used another clock: {puts:?}"
    );
    // the retry's x-amz-date hour is two hours ahead of the first one's
    let hour = |l: &str| date_of(l)[9..11].parse::<i64>().unwrap();
    assert_eq!(
        (hour(&puts[1]) - hour(&puts[0])).rem_euclid(24),
        2,
        "{puts:?} (server date {ahead})"
    );
}

#[test]
fn sigint_during_a_multipart_upload_aborts_it() {
    use std::io::Write;
    let srv = Server::get();
    let proxy = FaultProxy::start(srv.addr());
    let p = unique("sigint");
    let mut c = crate::Cacher::new(&srv, &p)
        .env("CACHER_ENDPOINT", proxy.endpoint())
        .env("CACHER_PART_SIZE", "5MiB");
    c.cmd
        .args(["upload", "k", "-"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&data((11 << 20) + 1, 7)).unwrap();
    // stdin stays open: cacher is now blocked reading part 3 while parts 1 and 2 go up.
    let started = std::time::Instant::now();
    while !proxy.log().iter().any(|l| l.contains("partNumber=2")) {
        assert!(
            started.elapsed().as_secs() < 20,
            "part 2 never went up: {:?}",
            proxy.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(
        proxy
            .log()
            .iter()
            .any(|l| l.starts_with("DELETE") && l.contains("uploadId=")),
        "no abort: {:?}",
        proxy.log()
    );
    assert!(srv
        .client()
        .head_object(&format!("{p}/k"))
        .unwrap()
        .is_none());
}
