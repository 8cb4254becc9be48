//! `cacher dir upload|download` against the real server: tree fidelity entry by entry,
//! malicious archives built here (rejected whole, nothing written outside, DIR untouched),
//! corrupted objects, restore keys, refused directories.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use crate::{data, unique, Cacher, Server, TempDir};

/// What a tree holds, entry by entry: kind, mode, mtime (not for symlinks), content or target,
/// and which entries share an inode.
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut inodes: BTreeMap<u64, String> = BTreeMap::new();
    fn walk(
        root: &Path,
        rel: &Path,
        out: &mut BTreeMap<String, String>,
        inodes: &mut BTreeMap<u64, String>,
    ) {
        let mut names: Vec<_> = fs::read_dir(root.join(rel))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        for n in names {
            let r = rel.join(&n);
            let p = root.join(&r);
            let md = fs::symlink_metadata(&p).unwrap();
            let key = r.display().to_string();
            let mode = md.permissions().mode() & 0o7777;
            let desc = if md.is_symlink() {
                format!("link -> {}", fs::read_link(&p).unwrap().display())
            } else if md.is_dir() {
                walk(root, &r, out, inodes);
                format!("dir {mode:o} mtime {}", md.mtime())
            } else if !md.is_file() {
                "special".to_string() // a fifo: never read it (that would block)
            } else {
                let first = inodes
                    .entry(md.ino())
                    .or_insert_with(|| key.clone())
                    .clone();
                let content = fs::read(&p).unwrap();
                let link = if first != key {
                    format!(" hardlink-of {first}")
                } else {
                    String::new()
                };
                format!(
                    "file {mode:o} mtime {} len {} sum {:x}{link}",
                    md.mtime(),
                    content.len(),
                    content
                        .iter()
                        .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(*b as u64))
                )
            };
            out.insert(key, desc);
        }
    }
    walk(root, Path::new(""), &mut out, &mut inodes);
    out
}

fn set_mtime(p: &Path, secs: u64) {
    fs::File::open(p)
        .unwrap()
        .set_modified(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap();
}

fn make_tree(root: &Path) {
    fs::create_dir_all(root.join("sub/deeper")).unwrap();
    fs::create_dir_all(root.join("empty")).unwrap();
    fs::write(root.join("plain.txt"), "hello\n").unwrap();
    fs::write(root.join("sub/big.bin"), data(3 << 20, 31)).unwrap();
    fs::write(root.join("sub/deeper/exec.sh"), "#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(
        root.join("sub/deeper/exec.sh"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    fs::write(root.join("secret"), "x").unwrap();
    fs::set_permissions(root.join("secret"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(root.join("name with spaces & ü"), "unicode").unwrap();
    let long = "l".repeat(120);
    fs::write(root.join(format!("sub/{long}")), "long name").unwrap();
    std::os::unix::fs::symlink("plain.txt", root.join("rel-link")).unwrap();
    std::os::unix::fs::symlink("/usr/bin/env", root.join("abs-link")).unwrap();
    std::os::unix::fs::symlink("../nowhere", root.join("sub/dangling")).unwrap();
    fs::hard_link(root.join("plain.txt"), root.join("sub/hard")).unwrap();
    let fifo = root.join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for (p, t) in [
        ("plain.txt", 1_000_000_000),
        ("sub/big.bin", 1_100_000_000),
        ("sub/deeper/exec.sh", 1_200_000_000),
    ] {
        set_mtime(&root.join(p), t);
    }
    for (p, t) in [
        ("sub/deeper", 1_300_000_000),
        ("sub", 1_400_000_000),
        ("empty", 1_500_000_000),
    ] {
        set_mtime(&root.join(p), t);
    }
}

fn no_leftovers(parent: &Path) {
    let left: Vec<String> = fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".cacher-"))
        .collect();
    assert!(left.is_empty(), "staging/temp left behind: {left:?}");
}

#[test]
fn tree_round_trips_exactly_and_replaces_dir() {
    let srv = Server::get();
    let p = unique("dirtree");
    let t = TempDir::new("dirtree");
    let src = t.join("src");
    make_tree(&src);
    let r = Cacher::new(&srv, &p).run(["dir", "upload", "deps.tar.zst", src.to_str().unwrap()]);
    r.code(0).err_has("skipping").err_has("fifo");
    Cacher::new(&srv, &p)
        .run(["dir", "upload", "deps.tar.zst", src.to_str().unwrap()])
        .code(0)
        .err_has("skipped");

    let mut want = snapshot(&src);
    want.remove("fifo");

    // into a fresh directory
    let fresh = t.join("out/fresh");
    Cacher::new(&srv, &p)
        .run(["dir", "download", "deps.tar.zst", fresh.to_str().unwrap()])
        .code(0)
        .err_has("hit");
    assert_eq!(snapshot(&fresh), want);
    // into an existing directory with other contents: replaced, not merged
    let existing = t.join("existing");
    fs::create_dir_all(existing.join("stale")).unwrap();
    fs::write(existing.join("stale/old"), "old").unwrap();
    Cacher::new(&srv, &p)
        .run([
            "dir",
            "download",
            "deps.tar.zst",
            existing.to_str().unwrap(),
        ])
        .code(0);
    assert_eq!(snapshot(&existing), want);
    no_leftovers(t.path());
    no_leftovers(&t.join("out"));

    // a miss
    Cacher::new(&srv, &p)
        .run([
            "dir",
            "download",
            "nope.tar.zst",
            t.join("x").to_str().unwrap(),
        ])
        .code(3);
    assert!(!t.join("x").exists());
}

#[test]
fn refuses_dangerous_dirs() {
    let srv = Server::get();
    let p = unique("dirrefuse");
    let c = Cacher::new(&srv, &p);
    let home = c.home.path().to_path_buf();
    c.run(["dir", "download", "k", "/"])
        .code(2)
        .err_has("refusing");
    Cacher::new(&srv, &p)
        .env("HOME", &home)
        .run(["dir", "download", "k", home.to_str().unwrap()])
        .code(2)
        .err_has("home");
    // the current directory and its ancestors
    let cwd = TempDir::new("dircwd");
    let sub = cwd.join("a/b");
    fs::create_dir_all(&sub).unwrap();
    for d in [".", "..", sub.parent().unwrap().to_str().unwrap()] {
        Cacher::new(&srv, &p)
            .current_dir(&sub)
            .run(["dir", "download", "k", d])
            .code(2)
            .err_has("current directory");
    }
    assert!(sub.exists());
}

/// A raw tar header whose name is written as given, bypassing the tar crate's path checks
/// (that is how a malicious archive is made).
fn raw_entry(
    b: &mut tar::Builder<Vec<u8>>,
    name: &str,
    kind: tar::EntryType,
    link: &str,
    body: &[u8],
) {
    let mut h = tar::Header::new_gnu();
    {
        let g = h.as_gnu_mut().unwrap();
        g.name[..name.len()].copy_from_slice(name.as_bytes());
        g.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_entry_type(kind);
    h.set_mode(0o644);
    h.set_size(body.len() as u64);
    h.set_cksum();
    b.append(&h, body).unwrap();
}

fn archive(entries: &[(&str, tar::EntryType, &str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (n, k, l, body) in entries {
        raw_entry(&mut b, n, *k, l, body);
    }
    let tar = b.into_inner().unwrap();
    zstd::encode_all(&tar[..], 3).unwrap()
}

#[test]
fn malicious_archives_are_rejected_whole() {
    use tar::EntryType::{Link, Regular, Symlink};
    let srv = Server::get();
    let p = unique("evil");
    let t = TempDir::new("evil");
    let outside = t.join("outside");
    fs::create_dir_all(&outside).unwrap();
    let c = srv.client();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "dotdot",
            archive(&[
                ("ok.txt", Regular, "", b"fine"),
                ("../escaped", Regular, "", b"evil"),
            ]),
        ),
        (
            "abs",
            archive(&[
                ("ok.txt", Regular, "", b"fine"),
                (&format!("{}/abs", outside.display()), Regular, "", b"evil"),
            ]),
        ),
        (
            "symlink-then-file",
            archive(&[
                ("l", Symlink, outside.to_str().unwrap(), b""),
                ("l/through", Regular, "", b"evil"),
            ]),
        ),
        (
            "hardlink-out",
            archive(&[
                ("ok.txt", Regular, "", b"fine"),
                ("pw", Link, "/etc/passwd", b""),
            ]),
        ),
        (
            "hardlink-dotdot",
            archive(&[("pw", Link, "../outside/x", b"")]),
        ),
    ];
    for (name, bytes) in &cases {
        c.put_object(&format!("{p}/{name}"), bytes, None, None)
            .unwrap();
        let dir = t.join("target");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("keep"), "before").unwrap();
        let before = snapshot(&dir);
        let r = Cacher::new(&srv, &p).run(["dir", "download", name, dir.to_str().unwrap()]);
        r.code(2).err_has("refusing the archive").one_error_line();
        assert_eq!(snapshot(&dir), before, "{name}: DIR changed");
        assert!(
            fs::read_dir(&outside).unwrap().next().is_none(),
            "{name}: wrote outside"
        );
        assert!(
            !t.path().join("escaped").exists(),
            "{name}: wrote ../escaped"
        );
        no_leftovers(t.path());
    }
    // the same archives' benign parts are fine: a good one restores
    c.put_object(
        &format!("{p}/good"),
        &archive(&[("a/b.txt", Regular, "", b"fine")]),
        None,
        None,
    )
    .unwrap();
    let dir = t.join("good");
    Cacher::new(&srv, &p)
        .run(["dir", "download", "good", dir.to_str().unwrap()])
        .code(0);
    assert_eq!(fs::read(dir.join("a/b.txt")).unwrap(), b"fine");
}

#[test]
fn truncated_or_corrupted_objects_leave_dir_untouched() {
    let srv = Server::get();
    let p = unique("dircorrupt");
    let t = TempDir::new("dircorrupt");
    let src = t.join("src");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("f"), data(2 << 20, 41)).unwrap();
    Cacher::new(&srv, &p)
        .run(["dir", "upload", "good", src.to_str().unwrap()])
        .code(0);
    let c = srv.client();
    let mut good = Vec::new();
    std::io::Read::read_to_end(
        &mut c.get_object(&format!("{p}/good"), None).unwrap().unwrap(),
        &mut good,
    )
    .unwrap();
    let truncated = good[..good.len() / 2].to_vec();
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    for (name, bytes) in [
        ("truncated", truncated),
        ("flipped", flipped),
        ("garbage", b"not zstd at all".to_vec()),
    ] {
        c.put_object(&format!("{p}/{name}"), &bytes, None, None)
            .unwrap();
        let dir = t.join("target");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("keep"), "before").unwrap();
        Cacher::new(&srv, &p)
            .run(["dir", "download", name, dir.to_str().unwrap()])
            .code(2)
            .one_error_line();
        assert_eq!(fs::read(dir.join("keep")).unwrap(), b"before", "{name}");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "{name}");
        no_leftovers(t.path());
    }
}

#[test]
fn restore_key_picks_the_newest_and_upload_level() {
    let srv = Server::get();
    let p = unique("dirrestore");
    let t = TempDir::new("dirrestore");
    for (i, key) in ["gomod-aaa", "gomod-bbb"].iter().enumerate() {
        let src = t.join(key);
        fs::create_dir_all(&src).unwrap();
        fs::write(src.join("which"), key).unwrap();
        Cacher::new(&srv, &p)
            .run(["dir", "upload", key, src.to_str().unwrap(), "--level", "19"])
            .code(0);
        if i == 0 {
            std::thread::sleep(Duration::from_millis(1100));
        }
    }
    let dir = t.join("mod");
    Cacher::new(&srv, &p)
        .run([
            "dir",
            "download",
            "gomod-ccc",
            dir.to_str().unwrap(),
            "--restore-key",
            "nothing-",
            "--restore-key",
            "gomod-",
        ])
        .code(0)
        .err_has("gomod-bbb");
    assert_eq!(fs::read(dir.join("which")).unwrap(), b"gomod-bbb");
    Cacher::new(&srv, &p)
        .run([
            "dir",
            "download",
            "gomod-ccc",
            dir.to_str().unwrap(),
            "--restore-key",
            "nothing-",
        ])
        .code(3);
    // a file given to dir upload is an error
    Cacher::new(&srv, &p)
        .run(["dir", "upload", "x", dir.join("which").to_str().unwrap()])
        .code(2)
        .err_has("not a directory");
}
