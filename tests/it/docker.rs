//! `cacher docker upload|download|exists` against the real S3 server, a real docker engine and
//! a real registry on loopback (`tests/bed/docker.sh` starts both; `make test` runs it).
//!
//! Test images are made here: `docker import` of a small tarball with unique content, under a
//! unique name per test, removed at the end. Without an engine or a registry the tests fail
//! with one line saying so; they never skip.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::{data, unique, Cacher, Run, Server, TempDir};

/// The engine and registry under test.
pub(crate) struct Engine {
    pub(crate) exe: String,
    registry: String,
}

impl Engine {
    /// How cacher names the executable in messages (`docker`, `podman`).
    fn shown(&self) -> &str {
        self.exe.rsplit('/').next().unwrap_or(&self.exe)
    }

    fn is_docker(&self) -> bool {
        self.shown() == "docker"
    }
}

pub(crate) fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    let e = ENGINE.get_or_init(|| {
        let exe = std::env::var("CACHER_DOCKER").unwrap_or_else(|_| "docker".into());
        let Some(registry) = std::env::var("CACHER_TEST_REGISTRY")
            .ok()
            .filter(|v| !v.is_empty())
        else {
            return Err("CACHER_TEST_REGISTRY is not set: the docker tests need a docker engine and a registry on loopback; `make test` starts them (tests/bed/docker.sh start, as root where no engine runs), then source target/testbed/docker.env".into());
        };
        match Command::new(&exe).arg("info").stdin(Stdio::null()).output() {
            Ok(o) if o.status.success() => Ok(Engine { exe, registry }),
            Ok(o) => Err(format!(
                "no docker engine: `{exe} info` fails ({}); start one with tests/bed/docker.sh start (as root) and source target/testbed/docker.env",
                last_line(&o.stderr)
            )),
            Err(e) => Err(format!("no docker engine: cannot run `{exe}`: {e}")),
        }
    });
    match e {
        Ok(e) => e,
        Err(msg) => panic!("{msg}"),
    }
}

fn last_line(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string()
}

pub(crate) fn docker(args: &[&str]) -> Output {
    Command::new(&engine().exe)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run docker")
}

#[track_caller]
pub(crate) fn docker_ok(args: &[&str]) -> String {
    let o = docker(args);
    assert!(
        o.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn image_id(name: &str) -> Option<String> {
    let o = docker(&["image", "inspect", "--format", "{{.Id}}", name]);
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// A test image, removed (with every tag given to it) on drop.
struct Image {
    name: String,
    tags: Vec<String>,
}

impl Image {
    /// `docker import` of a tarball holding `size` pseudo-random bytes and the image's name.
    fn new(what: &str, size: usize, seed: u64) -> Image {
        let name = format!("cacher-it/{}:t", unique(what).replace('/', "-"));
        let mut b = tar::Builder::new(Vec::new());
        for (path, body) in [
            ("data.bin", data(size, seed)),
            ("name.txt", name.clone().into_bytes()),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_mtime(1_700_000_000);
            h.set_cksum();
            b.append_data(&mut h, path, &body[..]).unwrap();
        }
        let tarball = b.into_inner().unwrap();
        let mut child = Command::new(&engine().exe)
            .args(["import", "-", &name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run docker import");
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&tarball));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(
            out.status.success(),
            "docker import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Image {
            name: name.clone(),
            tags: vec![name],
        }
    }

    fn id(&self) -> String {
        image_id(&self.name).expect("the test image exists")
    }

    fn tag(&mut self, to: &str) {
        docker_ok(&["tag", &self.name, to]);
        self.tags.push(to.to_string());
    }

    fn rmi(&self) {
        for t in &self.tags {
            let _ = docker(&["rmi", "-f", t]);
        }
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        self.rmi();
    }
}

/// `cacher` connected to the server, with the engine the tests use.
fn cacher(srv: &Server, prefix: &str) -> Cacher {
    let mut c = Cacher::new(srv, prefix);
    for k in [
        "DOCKER_HOST",
        "CACHER_DOCKER",
        "CONTAINER_HOST",
        // podman: a registries.conf marking the loopback registry insecure
        "CONTAINERS_REGISTRIES_CONF",
        "XDG_RUNTIME_DIR",
    ] {
        if let Ok(v) = std::env::var(k) {
            c = c.env(k, v);
        }
    }
    c
}

/// One error line. podman (not docker) prints progress on stderr even when it fails; that is
/// passed through as `cacher: podman: …` and not counted.
#[track_caller]
fn one_line(r: &Run) {
    r.one_error_line();
    let chatter = format!("cacher: {}: ", engine().shown());
    let lines = r
        .stderr
        .lines()
        .filter(|l| engine().is_docker() || !l.starts_with(&chatter));
    assert_eq!(lines.count(), 1, "one line:\n{}", r.stderr);
}

#[track_caller]
fn nothing_stored(srv: &Server, p: &str, key: &str) {
    cacher(srv, p).run(["docker", "exists", key]).code(1);
    let r = cacher(srv, p).run(["list", "--recursive"]).code(0).out();
    assert_eq!(r, "", "no object under the prefix");
}

#[test]
fn docker_upload_rmi_download_restores_tag_and_id() {
    let srv = Server::get();
    let _ = engine();
    let p = unique("dockerrt");
    // 12 MiB of random bytes: several 5 MiB parts up, several ranged GETs down.
    let img = Image::new("rt", 12 << 20, 7);
    let id = img.id();
    cacher(&srv, &p)
        .run(["docker", "exists", "img.tar.zst"])
        .code(1);
    let r = cacher(&srv, &p).env("CACHER_PART_SIZE", "5MiB").run([
        "docker",
        "upload",
        "img.tar.zst",
        &img.name,
    ]);
    r.code(0).err_has("stored");
    cacher(&srv, &p)
        .run(["docker", "exists", "img.tar.zst"])
        .code(0);
    img.rmi();
    assert_eq!(image_id(&img.name), None);
    let r = cacher(&srv, &p).env("CACHER_PART_SIZE", "5MiB").run([
        "docker",
        "download",
        "img.tar.zst",
        &img.name,
    ]);
    r.code(0).err_has("hit");
    assert_eq!(
        image_id(&img.name).as_deref(),
        Some(id.as_str()),
        "same image ID"
    );
}

#[test]
fn docker_upload_skips_when_present_and_force_overwrites() {
    let srv = Server::get();
    let _ = engine();
    let p = unique("dockerforce");
    let a = Image::new("a", 4096, 1);
    let b = Image::new("b", 4096, 2);
    cacher(&srv, &p)
        .run(["docker", "upload", "k", &a.name])
        .code(0);
    cacher(&srv, &p)
        .run(["docker", "upload", "k", &b.name])
        .code(0)
        .err_has("skipped");
    // Still A: A comes back, and B is not in it.
    a.rmi();
    b.rmi();
    cacher(&srv, &p)
        .run(["docker", "download", "k", &a.name])
        .code(0);
    let r = cacher(&srv, &p).run(["docker", "download", "k", &b.name]);
    r.code(2).err_has("does not contain");
    one_line(&r);
    assert_eq!(image_id(&b.name), None);

    let b = Image::new("b2", 4096, 3);
    cacher(&srv, &p)
        .run(["docker", "upload", "k", &b.name, "--force"])
        .code(0)
        .err_has("stored");
    let id = b.id();
    b.rmi();
    cacher(&srv, &p)
        .run(["docker", "download", "k", &b.name])
        .code(0);
    assert_eq!(image_id(&b.name), Some(id));
}

#[test]
fn docker_download_pull_on_a_miss_seeds_the_cache_then_hits() {
    let srv = Server::get();
    let reg = &engine().registry;
    let p = unique("dockerpull");
    let mut img = Image::new("pull", 64 << 10, 11);
    let remote = format!("{reg}/{}", img.name);
    img.tag(&remote);
    let id = img.id();
    docker_ok(&["push", &remote]);
    img.rmi();
    assert_eq!(image_id(&remote), None);

    let r = cacher(&srv, &p).run(["docker", "download", "k", &remote, "--pull"]);
    r.code(0).err_has("pulling").err_has("stored");
    assert_eq!(image_id(&remote).as_deref(), Some(id.as_str()));
    cacher(&srv, &p).run(["docker", "exists", "k"]).code(0);

    // Seeded: a download without --pull hits now, and with --pull it does not pull.
    img.rmi();
    cacher(&srv, &p)
        .run(["docker", "download", "k", &remote])
        .code(0)
        .err_has("hit");
    assert_eq!(image_id(&remote).as_deref(), Some(id.as_str()));
    img.rmi();
    let r = cacher(&srv, &p).run(["docker", "download", "k", &remote, "--pull"]);
    r.code(0).err_has("hit");
    assert!(!r.stderr.contains("pulling"), "{}", r.stderr);
    assert_eq!(image_id(&remote).as_deref(), Some(id.as_str()));
}

#[test]
fn docker_download_miss_is_3_and_a_failing_pull_is_2() {
    let srv = Server::get();
    let reg = &engine().registry;
    let p = unique("dockermiss");
    cacher(&srv, &p).run(["docker", "exists", "k"]).code(1);
    let r = cacher(&srv, &p).run(["docker", "download", "k", "cacher-it/none:1"]);
    r.code(3).err_has("miss");
    one_line(&r);
    let missing = format!("{reg}/cacher-it/{}:1", unique("nothere").replace('/', "-"));
    let r = cacher(&srv, &p).run(["docker", "download", "k", &missing, "--pull"]);
    r.code(2).err_has(&format!("{} pull", engine().shown()));
    nothing_stored(&srv, &p, "k");
}

/// An executable script in `dir` standing in for docker.
fn fake_docker(dir: &TempDir, script: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let fake = dir.join("docker");
    std::fs::write(&fake, script).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    fake
}

#[test]
fn docker_pull_then_a_failing_seed_is_only_a_warning() {
    let srv = Server::get();
    let _ = engine();
    let p = unique("dockerseedfail");
    let t = TempDir::new("dockerseedfail");
    // The pull works; storing the pulled image does not (its docker save fails).
    let fake = fake_docker(
        &t,
        "#!/bin/sh\ncase \"$1\" in\n pull) echo \"pulled $2\"; exit 0;;\n save) echo 'Error response from daemon: disk trouble' >&2; exit 1;;\nesac\nexit 2\n",
    );
    let r = cacher(&srv, &p).env("CACHER_DOCKER", &fake).run([
        "docker",
        "download",
        "k",
        "some/image:1",
        "--pull",
    ]);
    r.code(0)
        .err_has("warning")
        .err_has("could not store")
        .err_has("disk trouble");
    nothing_stored(&srv, &p, "k");
}

#[test]
fn docker_upload_of_a_missing_image_is_2_and_stores_nothing() {
    let srv = Server::get();
    let _ = engine();
    let p = unique("dockernoimg");
    let name = format!("cacher-it/{}:1", unique("absent").replace('/', "-"));
    let r = cacher(&srv, &p).run(["docker", "upload", "k", &name]);
    r.code(2).err_has(&name);
    one_line(&r);
    nothing_stored(&srv, &p, "k");
}

#[test]
fn docker_save_failing_mid_stream_aborts_the_upload() {
    let srv = Server::get();
    let _ = engine();
    let p = unique("dockermidfail");
    let t = TempDir::new("dockermidfail");
    // A docker whose save writes 12 MiB (three 5 MiB parts: a multipart upload is under way)
    // and then fails.
    let fake = fake_docker(
        &t,
        "#!/bin/sh\n[ \"$1\" = save ] || exit 2\nhead -c 12582912 /dev/urandom\necho 'Error response from daemon: write /var/lib/docker/tmp: no space left on device' >&2\nexit 1\n",
    );
    let r = cacher(&srv, &p)
        .env("CACHER_DOCKER", &fake)
        .env("CACHER_PART_SIZE", "5MiB")
        .run(["docker", "upload", "k", "some/image:1"]);
    r.code(2).err_has("no space left on device");
    one_line(&r);
    nothing_stored(&srv, &p, "k");
}

#[test]
fn docker_engine_unreachable_or_missing_is_2_in_one_line() {
    let srv = Server::get();
    let e = engine();
    let p = unique("dockerdown");
    let img = Image::new("down", 4096, 5);
    // podman has no daemon that could be unreachable; the missing executable applies to both.
    if e.is_docker() {
        let r = cacher(&srv, &p)
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .run(["docker", "upload", "k", &img.name]);
        r.code(2).err_has("docker save");
        one_line(&r);
        nothing_stored(&srv, &p, "k");
    }
    let r = cacher(&srv, &p)
        .env("CACHER_DOCKER", "/nonexistent/docker")
        .run(["docker", "upload", "k", &img.name]);
    r.code(2).err_has("CACHER_DOCKER");
    one_line(&r);
    nothing_stored(&srv, &p, "k");

    cacher(&srv, &p)
        .run(["docker", "upload", "k", &img.name])
        .code(0);
    img.rmi();
    if e.is_docker() {
        let r = cacher(&srv, &p)
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .run(["docker", "download", "k", &img.name]);
        r.code(2).err_has("docker load");
        one_line(&r);
        assert_eq!(image_id(&img.name), None);
    }
    let r = cacher(&srv, &p)
        .env("CACHER_DOCKER", "/nonexistent/docker")
        .run(["docker", "download", "k", &img.name]);
    r.code(2).err_has("CACHER_DOCKER");
    one_line(&r);
    assert_eq!(image_id(&img.name), None);
}

#[test]
fn docker_corrupted_object_is_2_and_nothing_is_loaded() {
    let srv = Server::get();
    let _ = engine();
    let p = unique("dockercorrupt");
    let img = Image::new("corrupt", 1 << 20, 9);
    let id = img.id();
    cacher(&srv, &p)
        .run(["docker", "upload", "good", &img.name])
        .code(0);
    let c = srv.client();
    let mut good = Vec::new();
    std::io::Read::read_to_end(
        &mut c.get_object(&format!("{p}/good"), None).unwrap().unwrap(),
        &mut good,
    )
    .unwrap();
    let n = good.len();
    // The last 4 bytes are the zstd frame checksum: flipping one leaves a stream that decodes
    // to the complete, valid tar — only the checksum says no, at the very end.
    let mut checksum = good.clone();
    checksum[n - 1] ^= 0x55;
    let mut middle = good.clone();
    middle[n / 2] ^= 0x55;
    let truncated = good[..n - 2000].to_vec();
    // A complete, valid frame followed by junk: the whole tar decodes before the error.
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"\x28\xb5\x2f\xfd junk after the frame");
    for (name, bytes) in [
        ("checksum", checksum),
        ("middle", middle),
        ("truncated", truncated),
        ("trailing", trailing),
    ] {
        c.put_object(&format!("{p}/{name}"), &bytes, None, None)
            .unwrap();
        img.rmi();
        let r = cacher(&srv, &p).run(["docker", "download", name, &img.name]);
        r.code(2).err_has("corrupted").err_has("nothing was loaded");
        one_line(&r);
        assert_eq!(image_id(&img.name), None, "{name}: the tag was loaded");
        assert_eq!(image_id(&id), None, "{name}: the image was loaded");
    }
    // and the good one still loads
    cacher(&srv, &p)
        .run(["docker", "download", "good", &img.name])
        .code(0);
    assert_eq!(image_id(&img.name), Some(id));
}

#[test]
fn docker_load_rejecting_the_stream_is_reported() {
    let srv = Server::get();
    let _ = engine();
    let p = unique("dockerbadtar");
    // A perfectly good zstd stream of something that is not a docker archive.
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    enc.include_checksum(true).unwrap();
    enc.write_all(&b"this is not a docker archive\n".repeat(10_000))
        .unwrap();
    let body = enc.finish().unwrap();
    srv.client()
        .put_object(&format!("{p}/k"), &body, None, None)
        .unwrap();
    let r = cacher(&srv, &p).run(["docker", "download", "k", "cacher-it/never:1"]);
    r.code(2).err_has(&format!("{} load", engine().shown()));
    one_line(&r);
}

/// A source that yields `data`, waits, then fails: what a stream whose zstd checksum (or
/// trailing frame) turns out bad looks like to `docker load`.
struct LateFailure {
    data: Vec<u8>,
    pos: usize,
}

impl std::io::Read for LateFailure {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.data.len() {
            // Time for an engine that got the whole tar to act on it.
            std::thread::sleep(std::time::Duration::from_secs(1));
            return Err(std::io::Error::other("checksum mismatch at the end"));
        }
        let n = buf.len().min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn docker_load_never_acts_on_a_stream_that_fails_at_the_end() {
    let e = engine();
    let img = Image::new("latefail", 256 << 10, 13);
    let id = img.id();
    let tar = Command::new(&e.exe)
        .args(["save", &img.name])
        .output()
        .unwrap();
    assert!(tar.status.success());
    img.rmi();
    let d = cacher::docker::Docker::new(&e.exe);
    let mut src = LateFailure {
        data: tar.stdout,
        pos: 0,
    };
    let err = d.load(&mut src).unwrap_err().to_string();
    assert!(err.contains("nothing was loaded"), "{err}");
    assert_eq!(image_id(&img.name), None, "the tag was loaded");
    assert_eq!(image_id(&id), None, "the image was loaded");
}
