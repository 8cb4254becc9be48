//! The `cacher` executable's file commands against the real server: every command and exit
//! code, config precedence, credentials, secrets never printed, atomic downloads.

use std::io::Write;
use std::net::TcpListener;
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::{data, unique, Cacher, Server, TempDir};

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// A one-shot HTTP file server on loopback for `--url` tests: serves `body` at any path except
/// `/404`, answering 404 there. Returns the base URL.
fn serve(body: Vec<u8>, times: usize) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in l.incoming().take(times) {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 4096];
            let n = std::io::Read::read(&mut conn, &mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            if req.starts_with("GET /404") {
                let _ = conn.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            } else if req.starts_with("GET /redirect") {
                let _ = write!(conn, "HTTP/1.1 302 Found\r\nLocation: http://{addr}/file\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            } else {
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(&body);
            }
        }
    });
    format!("http://{addr}")
}

#[test]
fn upload_exists_download_list_delete() {
    let srv = Server::get();
    let p = unique("cmds");
    let t = TempDir::new("cmds");
    let src = t.join("src.bin");
    let body = data(300_000, 10);
    std::fs::write(&src, &body).unwrap();

    Cacher::new(&srv, &p).run(["exists", "a/file.bin"]).code(1);
    assert!(Cacher::new(&srv, &p)
        .run(["exists", "a/file.bin"])
        .stdout
        .is_empty());
    Cacher::new(&srv, &p)
        .run(["upload", "a/file.bin", src.to_str().unwrap()])
        .code(0)
        .err_has("stored");
    Cacher::new(&srv, &p).run(["exists", "a/file.bin"]).code(0);
    // skip when present
    Cacher::new(&srv, &p)
        .run(["upload", "a/file.bin", src.to_str().unwrap()])
        .code(0)
        .err_has("skipped");

    // the object carries the sha256 metadata
    let meta = srv
        .client()
        .head_object(&format!("{p}/a/file.bin"))
        .unwrap()
        .unwrap();
    assert_eq!(meta.sha256.as_deref(), Some(sha(&body).as_str()));

    let dest = t.join("deep/er/dest.bin");
    Cacher::new(&srv, &p)
        .run(["download", "a/file.bin", dest.to_str().unwrap()])
        .code(0)
        .err_has("hit");
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    // no temp file remains beside DEST
    let names: Vec<_> = std::fs::read_dir(t.join("deep/er"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");

    // stdout
    let r = Cacher::new(&srv, &p).run(["download", "a/file.bin", "-"]);
    r.code(0);
    assert!(r.stdout == body);

    // list
    let r = Cacher::new(&srv, &p).run(["list"]);
    r.code(0);
    assert_eq!(r.out().trim_end(), format!("{:>30} a/", "PRE"));
    let r = Cacher::new(&srv, &p).run(["list", "a/"]);
    r.code(0);
    let line = r.out();
    assert!(line.trim_end().ends_with("    300000 file.bin"), "{line}");
    let r = Cacher::new(&srv, &p).run(["list", "--recursive"]);
    assert!(r.out().trim_end().ends_with(" a/file.bin"), "{}", r.out());
    let r = Cacher::new(&srv, &p).run(["list", "--recursive", "--human"]);
    assert!(r.out().contains("293.0 KiB a/file.bin"), "{}", r.out());
    let r = Cacher::new(&srv, &p).run(["list", "--recursive", "--json"]);
    let out = r.out();
    assert!(
        out.starts_with("{\"key\":\"a/file.bin\",\"size\":300000,\"last_modified\":\""),
        "{out}"
    );
    let r = Cacher::new(&srv, &p).run(["list", "--root", "--recursive", &format!("{p}/")]);
    assert!(r.out().contains(&format!(" {p}/a/file.bin")), "{}", r.out());

    // delete, then a miss
    Cacher::new(&srv, &p).run(["delete", "a/file.bin"]).code(0);
    Cacher::new(&srv, &p).run(["exists", "a/file.bin"]).code(1);
    Cacher::new(&srv, &p).run(["delete", "a/file.bin"]).code(0);
    let miss = t.join("miss.bin");
    Cacher::new(&srv, &p)
        .run(["download", "a/file.bin", miss.to_str().unwrap()])
        .code(3);
    assert!(!miss.exists());
}

#[test]
fn download_url_miss_then_hit_and_checksums() {
    let srv = Server::get();
    let p = unique("url");
    let t = TempDir::new("url");
    let body = data(200_000, 11);
    let base = serve(body.clone(), 10);
    let dest = t.join("go.tar.gz");
    let d = dest.to_str().unwrap();

    // wrong --sha256 on a miss: nothing written, nothing stored
    let bad = "0".repeat(64);
    Cacher::new(&srv, &p)
        .run([
            "download",
            "k.tar.gz",
            d,
            "--url",
            &format!("{base}/file"),
            "--sha256",
            &bad,
        ])
        .code(2)
        .err_has("sha256")
        .one_error_line();
    assert!(!dest.exists());
    Cacher::new(&srv, &p).run(["exists", "k.tar.gz"]).code(1);

    // miss with the right sha → fetched, written, stored
    let good = sha(&body);
    Cacher::new(&srv, &p)
        .run([
            "download",
            "k.tar.gz",
            d,
            "--url",
            &format!("{base}/redirect"),
            "--sha256",
            &good,
        ])
        .code(0)
        .err_has("miss");
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    Cacher::new(&srv, &p).run(["exists", "k.tar.gz"]).code(0);

    // hit
    std::fs::remove_file(&dest).unwrap();
    Cacher::new(&srv, &p)
        .run([
            "download",
            "k.tar.gz",
            d,
            "--url",
            "http://127.0.0.1:1/never",
            "--sha256",
            &good,
        ])
        .code(0)
        .err_has("hit");
    assert_eq!(std::fs::read(&dest).unwrap(), body);

    // a hit whose content does not match --sha256 is not written (no --url: exit 2)
    let other = t.join("other");
    Cacher::new(&srv, &p)
        .run([
            "download",
            "k.tar.gz",
            other.to_str().unwrap(),
            "--sha256",
            &bad,
        ])
        .code(2)
        .err_has("sha256");
    assert!(!other.exists());

    // a URL that 404s is exit 2
    Cacher::new(&srv, &p)
        .run(["download", "k404", d, "--url", &format!("{base}/404")])
        .code(2)
        .err_has("404");
    // --url with --restore-key is a usage error
    Cacher::new(&srv, &p)
        .run(["download", "k", d, "--url", "u", "--restore-key", "x"])
        .code(2);
}

#[test]
fn corrupted_cache_entry_is_refetched_with_url_and_refused_without() {
    let srv = Server::get();
    let p = unique("corrupt");
    let t = TempDir::new("corrupt");
    let body = data(50_000, 12);
    // an entry whose stored sha256 metadata does not match its bytes
    let c = srv.client();
    c.put_object(&format!("{p}/k"), b"garbage", None, Some(&sha(&body)))
        .unwrap();
    let dest = t.join("f");
    Cacher::new(&srv, &p)
        .run(["download", "k", dest.to_str().unwrap()])
        .code(2)
        .err_has("sha256");
    assert!(!dest.exists());
    let base = serve(body.clone(), 2);
    Cacher::new(&srv, &p)
        .run([
            "download",
            "k",
            dest.to_str().unwrap(),
            "--url",
            &format!("{base}/f"),
        ])
        .code(0);
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    // the entry was replaced
    std::fs::remove_file(&dest).unwrap();
    Cacher::new(&srv, &p)
        .run(["download", "k", dest.to_str().unwrap()])
        .code(0);
    assert_eq!(std::fs::read(&dest).unwrap(), body);
}

#[test]
fn stdin_upload_multipart_and_force() {
    let srv = Server::get();
    let p = unique("stdin");
    let body = data((12 << 20) + 5, 13);
    Cacher::new(&srv, &p)
        .env("CACHER_PART_SIZE", "5MiB")
        .run_stdin(["upload", "s", "-"], &body)
        .code(0);
    // downloaded in 5 MiB ranges, concurrently, reassembled in order
    let r = Cacher::new(&srv, &p)
        .env("CACHER_PART_SIZE", "5MiB")
        .run(["download", "s", "-"]);
    r.code(0);
    assert!(r.stdout == body, "multipart stdin upload round-trips");
    Cacher::new(&srv, &p)
        .run_stdin(["upload", "s", "-"], b"new")
        .code(0)
        .err_has("skipped");
    Cacher::new(&srv, &p)
        .run_stdin(["upload", "s", "-", "--force"], b"new")
        .code(0);
    assert_eq!(
        Cacher::new(&srv, &p).run(["download", "s", "-"]).stdout,
        b"new"
    );
}

#[test]
fn upload_of_a_directory_points_at_dir_upload() {
    let srv = Server::get();
    let t = TempDir::new("updir");
    Cacher::new(&srv, &unique("updir"))
        .run(["upload", "k", t.path().to_str().unwrap()])
        .code(2)
        .err_has("cacher dir upload")
        .one_error_line();
}

#[test]
fn restore_keys_pick_the_newest() {
    let srv = Server::get();
    let p = unique("restore");
    let t = TempDir::new("restore");
    let c = srv.client();
    c.put_object(&format!("{p}/deps-aaa"), b"old", None, None)
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    c.put_object(&format!("{p}/deps-bbb"), b"new", None, None)
        .unwrap();
    let dest = t.join("d");
    Cacher::new(&srv, &p)
        .run([
            "download",
            "deps-zzz",
            dest.to_str().unwrap(),
            "--restore-key",
            "nothing-",
            "--restore-key",
            "deps-",
        ])
        .code(0)
        .err_has("deps-bbb");
    assert_eq!(std::fs::read(&dest).unwrap(), b"new");
    Cacher::new(&srv, &p)
        .run([
            "download",
            "deps-zzz",
            dest.to_str().unwrap(),
            "--restore-key",
            "nothing-",
        ])
        .code(3);
}

#[test]
fn delete_recursive_and_dry_run() {
    let srv = Server::get();
    let p = unique("delrec");
    let c = srv.client();
    for k in ["d/1", "d/2", "d/sub/3", "keep"] {
        c.put_object(&format!("{p}/{k}"), b"x", None, None).unwrap();
    }
    let r = Cacher::new(&srv, &p).run(["delete", "--recursive", "d/", "--dry-run"]);
    r.code(0);
    let mut lines: Vec<_> = r.out().lines().map(str::to_string).collect();
    lines.sort();
    assert_eq!(lines, ["d/1", "d/2", "d/sub/3"]);
    Cacher::new(&srv, &p).run(["exists", "d/1"]).code(0);
    Cacher::new(&srv, &p)
        .run(["delete", "--recursive", "d/"])
        .code(0);
    for k in ["d/1", "d/2", "d/sub/3"] {
        Cacher::new(&srv, &p).run(["exists", k]).code(1);
    }
    Cacher::new(&srv, &p).run(["exists", "keep"]).code(0);
}

#[test]
fn awkward_keys_through_the_cli() {
    let srv = Server::get();
    let p = unique("clikeys");
    for k in ["a key with spaces", "ü/日本/😀", "x+y=z&w~v%41"] {
        Cacher::new(&srv, &p)
            .run_stdin(["upload", k, "-"], k.as_bytes())
            .code(0);
        Cacher::new(&srv, &p).run(["exists", k]).code(0);
        assert_eq!(
            Cacher::new(&srv, &p).run(["download", k, "-"]).stdout,
            k.as_bytes()
        );
    }
    let r = Cacher::new(&srv, &p).run(["list", "--recursive"]);
    for k in ["a key with spaces", "ü/日本/😀", "x+y=z&w~v%41"] {
        assert!(
            r.out().lines().any(|l| l.ends_with(&format!(" {k}"))),
            "{k} in\n{}",
            r.out()
        );
    }
}

#[test]
fn listing_1100_keys_via_cli() {
    let srv = Server::get();
    let p = unique("list1100");
    let c = srv.client();
    std::thread::scope(|s| {
        for t in 0..8 {
            let (c, p) = (&c, &p);
            s.spawn(move || {
                for i in (t..1100).step_by(8) {
                    c.put_object(&format!("{p}/k{i:04}"), b"", None, None)
                        .unwrap();
                }
            });
        }
    });
    let r = Cacher::new(&srv, &p).run(["list", "--recursive"]);
    r.code(0);
    assert_eq!(r.out().lines().count(), 1100);
    assert!(r.out().lines().next().unwrap().ends_with(" k0000"));
}

#[test]
fn precedence_flag_env_file() {
    let srv = Server::get();
    let p = unique("prec");
    let c = srv.client();
    for who in ["flag", "env", "file"] {
        c.put_object(&format!("{p}-{who}/k"), who.as_bytes(), None, None)
            .unwrap();
    }
    let t = TempDir::new("prec");
    let cfg = t.join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "prefix = \"{p}-file\"\n# comment\nbucket = \"{}\"\n",
            srv.bucket
        ),
    )
    .unwrap();
    let run = |flag: bool, env: bool| {
        let mut c = Cacher::new(&srv, "")
            .env_remove("CACHER_PREFIX")
            .env_remove("CACHER_BUCKET")
            .env("CACHER_CONFIG", &cfg);
        if env {
            c = c.env("CACHER_PREFIX", format!("{p}-env"));
        }
        let mut args = vec!["download".to_string(), "k".into(), "-".into()];
        if flag {
            args.push("--prefix".into());
            args.push(format!("{p}-flag"));
        }
        let r = c.run(&args);
        r.code(0);
        r.out()
    };
    assert_eq!(run(true, true), "flag");
    assert_eq!(run(false, true), "env");
    assert_eq!(run(false, false), "file");
}

#[test]
fn malformed_config_names_file_and_line() {
    let t = TempDir::new("badcfg");
    let cfg = t.join("bad.toml");
    std::fs::write(&cfg, "bucket = \"b\"\nregion = unquoted\n").unwrap();
    Cacher::bare()
        .run(["exists", "k", "--config", cfg.to_str().unwrap()])
        .code(2)
        .err_has("bad.toml:2")
        .one_error_line();
    Cacher::bare()
        .run(["exists", "k", "--config", "/nonexistent/c.toml"])
        .code(2)
        .err_has("/nonexistent/c.toml");
}

#[test]
fn no_credentials_and_half_credentials() {
    let srv = Server::get();
    let r = Cacher::new(&srv, "x")
        .env_remove("CACHER_S3_KEY_ID")
        .env_remove("CACHER_S3_SECRET")
        .run(["exists", "k"]);
    r.code(2)
        .err_has("no credentials")
        .err_has("AWS_ACCESS_KEY_ID")
        .one_error_line();
    let r = Cacher::new(&srv, "x")
        .env_remove("CACHER_S3_SECRET")
        .run(["exists", "k"]);
    r.code(2).err_has("CACHER_S3_SECRET");
}

#[test]
fn credentials_from_files_and_aws_shared_files() {
    let srv = Server::get();
    let p = unique("credfiles");
    srv.client()
        .put_object(&format!("{p}/k"), b"v", None, None)
        .unwrap();
    let t = TempDir::new("credfiles");
    std::fs::write(t.join("id"), format!("{}\n", srv.key_id)).unwrap();
    std::fs::write(t.join("secret"), format!("  {}\n\n", srv.secret)).unwrap();
    Cacher::new(&srv, &p)
        .env_remove("CACHER_S3_KEY_ID")
        .env_remove("CACHER_S3_SECRET")
        .run([
            "exists",
            "k",
            "--key-file",
            t.join("id").to_str().unwrap(),
            "--secret-file",
            t.join("secret").to_str().unwrap(),
        ])
        .code(0);
    // ~/.aws as the seeds/000 guide sets it up
    let c = Cacher::new(&srv, &p)
        .env_remove("CACHER_S3_KEY_ID")
        .env_remove("CACHER_S3_SECRET")
        .env_remove("CACHER_REGION");
    let aws = c.home.join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("config"),
        format!("[default]\nregion = {}\noutput = json\n", srv.region),
    )
    .unwrap();
    std::fs::write(
        aws.join("credentials"),
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            srv.key_id, srv.secret
        ),
    )
    .unwrap();
    c.run(["exists", "k"]).code(0);
}

#[test]
fn wrong_secret_never_leaks_even_verbose() {
    let srv = Server::get();
    let wrong = "WRONGsecretWRONGsecretWRONGsecret1234567";
    for args in [
        vec!["exists", "k", "-v"],
        vec!["download", "k", "-", "-v"],
        vec!["doctor", "-v"],
    ] {
        let r = Cacher::new(&srv, &unique("leak"))
            .env("CACHER_S3_SECRET", wrong)
            .run(&args);
        r.code(2);
        let all = format!("{}{}", r.out(), r.stderr);
        assert!(r.stderr.contains("403"), "{args:?}: {}", r.stderr);
        assert!(!all.contains(wrong), "wrong secret leaked by {args:?}");
        assert!(
            !all.contains(&srv.secret),
            "right secret leaked by {args:?}"
        );
        assert!(!all.contains("Signature="), "signature leaked by {args:?}");
    }
    // and a successful verbose run logs requests without the secret or signature
    let p = unique("leakok");
    let r = Cacher::new(&srv, &p).run_stdin(["upload", "k", "-", "-v"], b"x");
    r.code(0).err_has("PUT");
    assert!(
        !r.stderr.contains(&srv.secret) && !r.stderr.contains("Signature="),
        "{}",
        r.stderr
    );
}

#[test]
fn unreachable_endpoint_is_exit_2_quickly() {
    let srv = Server::get();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let started = std::time::Instant::now();
    Cacher::new(&srv, "x")
        .env("CACHER_ENDPOINT", format!("http://127.0.0.1:{port}"))
        .run(["exists", "k"])
        .code(2)
        .one_error_line();
    assert!(started.elapsed().as_secs() < 30);
}

#[test]
fn missing_bucket_is_exit_2() {
    let srv = Server::get();
    Cacher::new(&srv, "x")
        .env("CACHER_BUCKET", &srv.no_bucket)
        .run(["download", "k", "-"])
        .code(2)
        .err_has("NoSuchBucket");
}

#[test]
fn doctor_and_init() {
    let srv = Server::get();
    let p = unique("doctor");
    let r = Cacher::new(&srv, &p).run(["doctor"]);
    r.code(0)
        .err_has("PUT canary")
        .err_has("(env CACHER_BUCKET)");
    assert!(!r.stderr.contains(&srv.secret));

    // init writes a 0600 file with paths, never the secret, then runs doctor
    let t = TempDir::new("init");
    std::fs::write(t.join("id"), &srv.key_id).unwrap();
    std::fs::write(t.join("secret"), &srv.secret).unwrap();
    let r = Cacher::bare().run([
        "init",
        "--endpoint",
        &srv.endpoint,
        "--region",
        &srv.region,
        "--bucket",
        &srv.bucket,
        "--prefix",
        &p,
        "--key-file",
        t.join("id").to_str().unwrap(),
        "--secret-file",
        t.join("secret").to_str().unwrap(),
    ]);
    r.code(0);
    let cfg = r.home.as_ref().unwrap().join(".config/cacher/config.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        text.contains(&format!("bucket = \"{}\"", srv.bucket)),
        "{text}"
    );
    assert!(!text.contains(&srv.secret));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&cfg).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // init with a wrong secret: file written, doctor fails → exit 2
    std::fs::write(t.join("secret"), "nope-nope-nope").unwrap();
    let r = Cacher::bare().run([
        "init",
        "--endpoint",
        &srv.endpoint,
        "--region",
        &srv.region,
        "--bucket",
        &srv.bucket,
        "--key-file",
        t.join("id").to_str().unwrap(),
        "--secret-file",
        t.join("secret").to_str().unwrap(),
    ]);
    r.code(2).err_has("FAIL");
}

#[test]
fn key_hash_matches_sha256sum() {
    let t = TempDir::new("keyhash");
    std::fs::write(t.join("go.sum"), "some deps\n").unwrap();
    std::fs::create_dir_all(t.join("tree/sub")).unwrap();
    std::fs::write(t.join("tree/a"), "a").unwrap();
    std::fs::write(t.join("tree/sub/b"), "b").unwrap();
    let file = t.join("go.sum");
    let r = Cacher::bare().run([
        "key",
        "gomod/{hash}.tar.zst",
        "--hash-from",
        file.to_str().unwrap(),
    ]);
    r.code(0);
    let out = Command::new("sha256sum").arg(&file).output().unwrap();
    let want = String::from_utf8_lossy(&out.stdout)[..16].to_string();
    assert_eq!(r.out(), format!("gomod/{want}.tar.zst\n"));
    let sh = format!(
        "cd {} && find tree -type f | LC_ALL=C sort | xargs sha256sum | sha256sum",
        t.path().display()
    );
    let out = Command::new("sh").arg("-c").arg(sh).output().unwrap();
    let want = String::from_utf8_lossy(&out.stdout)[..16].to_string();
    let r = Cacher::bare().current_dir(t.path()).run([
        "key",
        "img/build.tar.zst",
        "--hash-from",
        "tree/",
    ]);
    r.code(0);
    assert_eq!(r.out(), format!("img/build-{want}.tar.zst\n"));
    Cacher::bare().run(["key", "x/{hash}"]).code(2);
    Cacher::bare().run(["key", "x/{nope}"]).code(2);
}

#[test]
fn version_and_bad_usage() {
    let r = Cacher::bare().run(["version"]);
    r.code(0);
    let v = r.out();
    assert!(
        v.starts_with("cacher ") && v.contains("(linux-") && v.contains("commit "),
        "{v}"
    );
    assert_eq!(Cacher::bare().run(["--version"]).out(), v);
    Cacher::bare().run(["upload"]).code(2).one_error_line();
    Cacher::bare().run(["frobnicate"]).code(2).one_error_line();
    Cacher::bare()
        .run(["exists", "k", "--no-such-flag"])
        .code(2)
        .err_has("--no-such-flag");
}

impl Cacher {
    pub fn current_dir(mut self, d: &std::path::Path) -> Cacher {
        self.cmd.current_dir(d);
        self
    }
}
