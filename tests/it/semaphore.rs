//! `cache` mode (issue 7) against the real server: the pipeline transcript of
//! tests/semaphore/pipeline.sh compared line by line with tests/semaphore/expected.txt, and
//! the seeds/000 setup end to end (`~/.aws/config` + `~/.aws/credentials` holding a user with
//! only the four permissions, `SEMAPHORE_CACHE_S3_BUCKET` in the environment).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::{unique, Server, TempDir};

/// A directory holding `cache` and `cacher`, both the binary under test.
fn bin_dir() -> TempDir {
    let d = TempDir::new("sem-bin");
    for name in ["cache", "cacher"] {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_cacher"), d.join(name)).unwrap();
    }
    d
}

/// A shell in `cwd` with only the given environment (plus PATH with `bin` first).
fn shell(bin: &Path, home: &Path, cwd: &Path, env: &[(&str, &str)]) -> Command {
    let mut c = Command::new("bash");
    c.env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("HOME", home)
        .current_dir(cwd)
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// What a Semaphore agent passes for the run's server: bucket, URL, keys, project.
fn agent_env<'a>(
    srv: &'a Server,
    secret: &'a str,
    project: &'a str,
) -> [(&'static str, &'a str); 5] {
    [
        ("SEMAPHORE_CACHE_S3_URL", &srv.endpoint),
        ("SEMAPHORE_CACHE_S3_BUCKET", &srv.bucket),
        ("SEMAPHORE_CACHE_S3_KEY", &srv.key_id),
        ("SEMAPHORE_CACHE_S3_SECRET", secret),
        ("SEMAPHORE_PROJECT_ID", project),
    ]
}

#[test]
fn a_semaphore_pipeline_runs_unchanged() {
    let srv = Server::get();
    let bin = bin_dir();
    let home = TempDir::new("sem-home");
    let project = TempDir::new("sem-project");
    std::fs::write(
        project.join("package-lock.json"),
        "{\"name\":\"demo\",\"lockfileVersion\":3}\n",
    )
    .unwrap();
    std::fs::write(project.join("go.sum"), "example.com/m v1.0.0 h1:abc=\n").unwrap();
    let id = unique("sem").replace('/', "-");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/semaphore/pipeline.sh");
    let out = shell(
        bin.path(),
        home.path(),
        project.path(),
        &[
            &agent_env(&srv, &srv.secret, &id)[..],
            &[
                ("SEMAPHORE_GIT_BRANCH", "main"),
                ("CACHER_REGION", &srv.region),
            ],
        ]
        .concat(),
    )
    .arg(&script)
    .output()
    .expect("run bash");
    let got = String::from_utf8_lossy(&out.stdout);
    let want = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/semaphore/expected.txt"),
    )
    .unwrap();
    if got != want {
        let _ = std::fs::write(std::env::temp_dir().join("cacher-semaphore-got.txt"), &*got);
        for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
            assert_eq!(
                g,
                w,
                "transcript line {} differs (whole run: {}/cacher-semaphore-got.txt; stderr: {})",
                i + 1,
                std::env::temp_dir().display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        panic!(
            "the transcript has {} lines, expected {}:\n{got}",
            got.lines().count(),
            want.lines().count()
        );
    }
}

#[test]
fn the_seed_setup_works_with_four_permissions() {
    let srv = Server::get();
    let Some((id, secret)) = srv.limited.clone() else {
        assert!(!srv.is("moto"), "moto must come with a limited user");
        println!("{}: no IAM here; the seeds/000 test runs on moto", srv.name);
        return;
    };
    let bin = bin_dir();
    let home = TempDir::new("sem-seed-home");
    // ~/.aws exactly as seeds/000 has the agent's user write it (with its section headers).
    std::fs::create_dir(home.join(".aws")).unwrap();
    std::fs::write(
        home.join(".aws/config"),
        format!("[default]\nregion = {}\noutput = json\n", srv.region),
    )
    .unwrap();
    std::fs::write(
        home.join(".aws/credentials"),
        format!("[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"),
    )
    .unwrap();
    let project = TempDir::new("sem-seed-project");
    std::fs::create_dir_all(project.join("deps/a")).unwrap();
    std::fs::write(project.join("deps/a/x"), "x").unwrap();
    let pid = unique("seed").replace('/', "-");
    let cache = |args: &str| {
        let o = shell(
            bin.path(),
            home.path(),
            project.path(),
            &[
                ("SEMAPHORE_CACHE_S3_BUCKET", &srv.bucket),
                // Not AWS here: the endpoint of the local server (seeds/000 needs none on AWS).
                ("SEMAPHORE_CACHE_S3_URL", &srv.endpoint),
                ("SEMAPHORE_PROJECT_ID", &pid),
                ("CACHE_FAIL_ON_ERROR", "true"),
            ],
        )
        .arg("-c")
        .arg(format!("cache {args}"))
        .output()
        .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let ok = |args: &str, code: i32, has: &str| {
        let (c, out, err) = cache(args);
        assert_eq!(c, code, "cache {args}: exit {c}\n{out}\n{err}");
        assert!(
            out.contains(has),
            "cache {args}: stdout lacks {has:?}:\n{out}\n{err}"
        );
    };
    ok("is_not_empty", 1, "");
    ok("store deps-1 deps", 0, "Upload complete");
    ok("store deps-1 deps", 0, "already exists");
    ok("has_key deps-1", 0, "exists");
    std::fs::remove_dir_all(project.join("deps")).unwrap();
    ok(
        "restore deps-2,deps-",
        0,
        "HIT: 'deps-', using key 'deps-1'.",
    );
    assert_eq!(std::fs::read(project.join("deps/a/x")).unwrap(), b"x");
    ok("list", 0, "deps-1");
    ok("usage", 0, "USED SPACE");
    ok("is_not_empty", 0, "");
    ok("delete deps-1", 0, "is deleted");
    ok("store deps-2 deps", 0, "Upload complete");
    ok("clear", 0, "Deleted all caches.");
    ok("has_key deps-2", 1, "doesn't exist");
}

#[test]
fn errors_are_one_line_on_stderr_and_never_show_the_secret() {
    let srv = Server::get();
    let bin = bin_dir();
    let home = TempDir::new("sem-err-home");
    let wrong = "WrongSecretValue/0123456789abcdefXYZ";
    for fail in ["", "true"] {
        let o = shell(
            bin.path(),
            home.path(),
            home.path(),
            &[
                &agent_env(&srv, wrong, "p")[..],
                &[("CACHE_FAIL_ON_ERROR", fail)],
            ]
            .concat(),
        )
        .args(["-c", "cache store k ."])
        .output()
        .unwrap();
        let (out, err) = (
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
        );
        assert_eq!(
            o.status.code(),
            Some(i32::from(fail == "true")),
            "{out}\n{err}"
        );
        assert_eq!(err.lines().count(), 1, "one error line: {err}");
        assert!(err.starts_with("cache: "), "{err}");
        for s in [wrong, srv.secret.as_str()] {
            assert!(
                !out.contains(s) && !err.contains(s),
                "a secret leaked:\n{out}\n{err}"
            );
        }
    }
}
