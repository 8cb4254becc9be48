//! The key rules of SPEC §4: validation, object names (joining the configured prefix), suffix
//! insertion for the hash and the arch suffix, `cacher key` templates, and the content hash of
//! `--hash-from` paths.
//!
//! Pure except that hashing reads the files the user names. The hash is defined so that shell
//! tools reproduce it: one file hashes like `sha256sum FILE | cut -c1-16`, a directory like
//! `find DIR -type f | LC_ALL=C sort | xargs sha256sum | sha256sum` (for names without a
//! newline or backslash, which `sha256sum` would escape).

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{ErrorKind, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use sha2::{Digest, Sha256};

/// S3's limit on an object name, in UTF-8 bytes.
const MAX_NAME: usize = 1024;

/// A user's key: non-empty, no control characters, no leading `/`, and at most 1024 bytes once
/// the prefix is joined (SPEC §4). The error says what is wrong, for an exit-2 usage line.
pub fn validate_key(key: &str, prefix: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the key is empty".into());
    }
    // {:?} so a control character shows as an escape rather than acting on the terminal.
    if let Some(c) = key.chars().find(|c| c.is_control()) {
        return Err(format!("key {key:?} holds the control character {c:?}"));
    }
    if key.starts_with('/') {
        return Err(format!(
            "key {key:?} starts with '/': keys are relative to the bucket and prefix"
        ));
    }
    let len = object_name(prefix, key).len();
    if len > MAX_NAME {
        return Err(format!(
            "key {key:?} is {len} bytes with the prefix joined; S3 allows {MAX_NAME}"
        ));
    }
    Ok(())
}

/// `prefix/key`, the object name in the bucket. The prefix's own leading and trailing `/` are
/// dropped so that `--prefix /ci/` and `--prefix ci` name the same objects, and an empty
/// prefix leaves the key alone. A key's leading `/` (which `validate_key` refuses) is dropped
/// too, so no name ever starts with or doubles a `/` at the join.
pub fn object_name(prefix: &str, key: &str) -> String {
    let prefix = prefix.trim_matches('/');
    let key = key.trim_start_matches('/');
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}/{key}")
    }
}

/// The archive extensions a suffix goes in front of (SPEC §4).
const EXTENSIONS: [&str; 10] = [
    ".tar.zst", ".tar.gz", ".tar.xz", ".tar.bz2", ".tgz", ".tar", ".zst", ".gz", ".xz", ".zip",
];

/// `-SUFFIX` inserted before the longest archive extension the key's last path segment ends
/// in, else appended: `img/build.tar.zst` → `img/build-SUFFIX.tar.zst`, `bin/cacher` →
/// `bin/cacher-SUFFIX`. Only the last segment counts, so `a.tar/b` → `a.tar/b-SUFFIX`.
/// As SPEC §4 reads, a segment that is nothing but an extension keeps it: `.tar.gz` →
/// `-SUFFIX.tar.gz`.
pub fn insert_suffix(key: &str, suffix: &str) -> String {
    let last = key.rsplit('/').next().unwrap_or(key);
    let ext = EXTENSIONS
        .iter()
        .filter(|e| last.ends_with(*e))
        .max_by_key(|e| e.len())
        .map_or("", |e| *e);
    // The extensions are ASCII, so this is a char boundary.
    let (stem, ext) = key.split_at(key.len() - ext.len());
    format!("{stem}-{suffix}{ext}")
}

/// This machine's OS in Go's spelling (`GOOS`), so keys match those other tools make.
pub fn go_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

/// This machine's architecture in Go's spelling (`GOARCH`).
pub fn go_arch() -> &'static str {
    let little = cfg!(target_endian = "little");
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc" => "ppc",
        "powerpc64" if little => "ppc64le",
        "powerpc64" => "ppc64",
        "mips" if little => "mipsle",
        "mips64" if little => "mips64le",
        "loongarch64" => "loong64",
        "wasm32" => "wasm",
        other => other,
    }
}

/// `linux-amd64`, `darwin-arm64`, …
pub fn arch_suffix() -> String {
    format!("{}-{}", go_os(), go_arch())
}

/// `cacher key TEMPLATE`: substitutes `{hash}`, `{os}` and `{arch}`. A hash with no `{hash}`
/// in the template is inserted as a suffix; then, with `arch_suffix`, the arch suffix, so the
/// hash comes first: `img/build-<hash>-linux-amd64.tar.zst`. An unknown `{name}`, a `{` that
/// never closes, or `{hash}` without a hash is an error saying so.
pub fn render_template(
    template: &str,
    hash: Option<&str>,
    arch_suffix: bool,
) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    let mut used_hash = false;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!(
                "template {template:?} has a '{{' that is never closed"
            ));
        };
        match &after[..close] {
            "hash" => {
                let Some(h) = hash else {
                    return Err(format!(
                        "template {template:?} uses {{hash}}: give --hash-from PATH"
                    ));
                };
                out.push_str(h);
                used_hash = true;
            }
            "os" => out.push_str(go_os()),
            "arch" => out.push_str(go_arch()),
            name => {
                return Err(format!(
                    "template {template:?} has the unknown placeholder {{{name}}} (known: {{hash}}, {{os}}, {{arch}})"
                ))
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    if let (Some(h), false) = (hash, used_hash) {
        out = insert_suffix(&out, h);
    }
    if arch_suffix {
        out = insert_suffix(&out, &self::arch_suffix());
    }
    Ok(out)
}

/// Read size for hashing: large enough that syscalls are noise next to SHA-256 (~1.2 GB/s
/// here), small enough to sit in L2 with one buffer per thread.
const BUF: usize = 256 << 10;

/// The `--hash-from` hash of SPEC §4, as `length` (1..=64) lowercase hex characters:
/// - exactly one PATH that is a regular file, or a symlink to one: the sha256 of its content;
/// - otherwise the sha256 of a manifest of every regular file under the PATHs (a file PATH
///   counts itself; symlinks met while walking and special files are skipped; directories are
///   walked recursively), one `<sha256-hex>  <path>\n` line per file, where path is the PATH as
///   given less any trailing `/` joined with the path below it, lines sorted bytewise.
///
/// A PATH that does not exist, or anything that cannot be read, is an error naming it.
pub fn hash_paths(paths: &[PathBuf], length: usize) -> Result<String, String> {
    if !(1..=64).contains(&length) {
        return Err(format!("--hash-length {length} must be 1..64"));
    }
    if paths.is_empty() {
        return Err("no --hash-from PATH given".into());
    }
    let mut kinds = Vec::with_capacity(paths.len());
    for p in paths {
        // metadata() follows symlinks: a PATH the user names is taken for what it points at.
        let md = fs::metadata(p).map_err(|e| io_error("--hash-from", p, e))?;
        kinds.push(md);
    }
    let full = match (paths, kinds.as_slice()) {
        ([file], [md]) if md.is_file() => hex::encode(sha256_file(file, &mut vec![0; BUF])?),
        _ => {
            let mut files = Vec::new();
            for (p, md) in paths.iter().zip(&kinds) {
                let base = strip_trailing_slashes(p);
                if md.is_dir() {
                    walk(&base, &mut files)?;
                } else if md.is_file() {
                    files.push(base);
                }
            }
            // LC_ALL=C sort: bytewise on the whole path.
            files.sort_unstable_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
            let digests = sha256_files(&files)?;
            let mut manifest = Sha256::new();
            for (file, digest) in files.iter().zip(&digests) {
                manifest.update(hex::encode(digest).as_bytes());
                manifest.update(b"  ");
                manifest.update(file.as_os_str().as_bytes());
                manifest.update(b"\n");
            }
            hex::encode(manifest.finalize())
        }
    };
    Ok(full[..length].to_string())
}

/// `dir/` and `dir//` → `dir`, as `find` prints them; `/` stays `/`.
fn strip_trailing_slashes(p: &Path) -> PathBuf {
    let mut bytes = p.as_os_str().as_bytes();
    while bytes.len() > 1 && bytes.ends_with(b"/") {
        bytes = &bytes[..bytes.len() - 1];
    }
    PathBuf::from(OsStr::from_bytes(bytes))
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> String {
    let why = match e.kind() {
        ErrorKind::NotFound => "no such file or directory".to_string(),
        _ => e.to_string(),
    };
    format!("{what} {}: {why}", path.display())
}

/// Every regular file below `dir`, as `dir` joined with its relative path. Symlinks are not
/// followed and special files are skipped, like `find DIR -type f`. An explicit stack rather
/// than recursion, so a deep tree cannot exhaust the thread's stack.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let entries = fs::read_dir(&dir).map_err(|e| io_error("reading", &dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error("reading", &dir, e))?;
            // DirEntry::file_type does not follow symlinks, which is what skips them.
            let kind = entry
                .file_type()
                .map_err(|e| io_error("reading", &entry.path(), e))?;
            if kind.is_dir() {
                todo.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    Ok(())
}

fn sha256_file(path: &Path, buf: &mut [u8]) -> Result<[u8; 32], String> {
    let mut file = File::open(path).map_err(|e| io_error("hashing", path, e))?;
    let mut hasher = Sha256::new();
    loop {
        match file.read(buf) {
            Ok(0) => return Ok(hasher.finalize().into()),
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error("hashing", path, e)),
        }
    }
}

/// The digests of `files`, in order. Big trees (module caches, node_modules) are many small
/// files, where opening and reading cost as much as hashing: a few threads overlap that.
/// On an error the lowest-numbered failing file is reported, so the message is the same
/// whichever thread met it first.
fn sha256_files(files: &[PathBuf]) -> Result<Vec<[u8; 32]>, String> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(files.len());
    if threads <= 1 {
        let mut buf = vec![0; BUF];
        return files.iter().map(|f| sha256_file(f, &mut buf)).collect();
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let mut results: Vec<(usize, Result<[u8; 32], String>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut buf = vec![0; BUF];
                    let mut done = Vec::new();
                    while !failed.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(file) = files.get(i) else { break };
                        let r = sha256_file(file, &mut buf);
                        if r.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        done.push((i, r));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| match w.join() {
                Ok(done) => done,
                // Hashing does not panic; should a worker die anyway, say so rather than
                // return a manifest with holes.
                Err(_) => vec![(usize::MAX, Err("hashing: a worker thread died".into()))],
            })
            .collect()
    });
    results.sort_unstable_by_key(|(i, _)| *i);
    if let Some((_, Err(e))) = results.iter().find(|(_, r)| r.is_err()) {
        return Err(e.clone());
    }
    if results.len() != files.len() {
        return Err("hashing: not every file was hashed".into());
    }
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn check_validate(key: &str, prefix: &str, want: Result<(), &str>) {
        match (validate_key(key, prefix), want) {
            (Ok(()), Ok(())) => {}
            (Err(e), Err(needle)) => assert!(e.contains(needle), "{key:?}: {e:?} lacks {needle:?}"),
            (got, want) => panic!("validate_key({key:?}, {prefix:?}) = {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn validation() {
        let k1024 = "x".repeat(1024);
        let k1020 = "x".repeat(1020);
        let k1019 = "x".repeat(1019);
        for (key, prefix, want) in [
            ("a/b c+ü%2B~=[]", "p", Ok(())),
            ("ü/日本/😀", "", Ok(())),
            ("a/", "", Ok(())),
            ("trailing/slash/", "p/", Ok(())),
            (k1024.as_str(), "", Ok(())),
            (k1019.as_str(), "pref", Ok(())), // 4 + 1 + 1019 = 1024
            (k1020.as_str(), "pref", Err("1025 bytes")),
            (k1024.as_str(), "/", Ok(())), // a prefix of only '/' is no prefix
            ("", "", Err("empty")),
            ("", "p", Err("empty")),
            ("/a", "", Err("starts with '/'")),
            ("/a", "p", Err("starts with '/'")),
            ("a\nb", "", Err("control character '\\n'")),
            ("a\tb", "", Err("control character")),
            ("a\0b", "", Err("control character")),
            ("a\u{7f}", "", Err("control character")),
            ("a\u{85}", "", Err("control character")), // C1 control
        ] {
            check_validate(key, prefix, want);
        }
        // Bytes, not characters: 342 three-byte characters are 1026 bytes.
        check_validate(&"日".repeat(341), "", Ok(()));
        check_validate(&"日".repeat(342), "", Err("1026 bytes"));
    }

    #[test]
    fn object_names() {
        for (prefix, key, want) in [
            ("", "k", "k"),
            ("", "a/b", "a/b"),
            ("p", "k", "p/k"),
            ("p/", "k", "p/k"),
            ("/p", "k", "p/k"),
            ("//p//", "/k", "p/k"),
            ("/", "k", "k"),
            ("a/b", "c/d", "a/b/c/d"),
            ("p", "dir/", "p/dir/"),
            ("p", "", "p/"), // a listing prefix for everything under p
            ("", "", ""),
            ("p q", "k+l", "p q/k+l"),
        ] {
            assert_eq!(
                object_name(prefix, key),
                want,
                "object_name({prefix:?}, {key:?})"
            );
        }
    }

    #[test]
    fn suffixes() {
        for (key, want) in [
            ("img/build.tar.zst", "img/build-S.tar.zst"),
            ("a.tar.gz", "a-S.tar.gz"),
            ("a.tar.xz", "a-S.tar.xz"),
            ("a.tar.bz2", "a-S.tar.bz2"),
            ("a.tgz", "a-S.tgz"),
            ("a.tar", "a-S.tar"),
            ("a.zst", "a-S.zst"),
            ("a.gz", "a-S.gz"),
            ("a.xz", "a-S.xz"),
            ("a.zip", "a-S.zip"),
            // Longest match: .tar.zst beats .zst, .tar.gz beats .gz.
            ("x.tar.zst", "x-S.tar.zst"),
            ("x.zst", "x-S.zst"),
            ("x.tar.gz", "x-S.tar.gz"),
            // Only the extensions of the list, and only at the very end.
            ("x.gz.tar", "x.gz-S.tar"),
            ("x.tar.bz2.zip", "x.tar.bz2-S.zip"),
            ("x.bz2", "x.bz2-S"),
            ("x.7z", "x.7z-S"),
            ("x.tar.zstd", "x.tar.zstd-S"),
            ("x.TAR.GZ", "x.TAR.GZ-S"), // case matters, as in the key itself
            ("a.txt", "a.txt-S"),
            ("bin/cacher", "bin/cacher-S"),
            ("noext", "noext-S"),
            // Only the last path segment counts.
            ("a.tar/b", "a.tar/b-S"),
            ("dir.tar.gz/sub/file", "dir.tar.gz/sub/file-S"),
            ("dir.tar.gz/file.zip", "dir.tar.gz/file-S.zip"),
            ("dir/", "dir/-S"),
            // A segment that is only an extension keeps it (SPEC §4 read literally).
            (".tar.gz", "-S.tar.gz"),
            ("d/.zst", "d/-S.zst"),
            ("", "-S"),
            ("ü日本.tar.zst", "ü日本-S.tar.zst"),
        ] {
            assert_eq!(insert_suffix(key, "S"), want, "insert_suffix({key:?})");
        }
    }

    #[test]
    fn go_spellings() {
        let arch = arch_suffix();
        assert!(!arch.contains("x86_64") && !arch.contains("aarch64") && !arch.contains("macos"));
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            assert_eq!(arch, "linux-amd64");
        }
        if cfg!(all(target_os = "macos", target_arch = "aarch64")) {
            assert_eq!(arch, "darwin-arm64");
        }
        assert_eq!(arch, format!("{}-{}", go_os(), go_arch()));
    }

    fn check_template(template: &str, hash: Option<&str>, arch: bool, want: Result<&str, &str>) {
        // `@` stands for this machine's arch suffix, `OS`/`ARCH` for its parts.
        let here = |s: &str| {
            s.replace('@', &arch_suffix())
                .replace("OS", go_os())
                .replace("ARCH", go_arch())
        };
        match (render_template(template, hash, arch), want) {
            (Ok(got), Ok(w)) => assert_eq!(got, here(w), "{template:?} {hash:?} {arch}"),
            (Err(e), Err(needle)) => {
                assert!(e.contains(needle), "{template:?}: {e:?} lacks {needle:?}")
            }
            (got, want) => panic!("{template:?} {hash:?} {arch}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn templates() {
        for (template, hash, arch, want) in [
            ("plain/key", None, false, Ok("plain/key")),
            (
                "img/{hash}.tar.zst",
                Some("abcd"),
                false,
                Ok("img/abcd.tar.zst"),
            ),
            ("{hash}/{hash}", Some("h"), false, Ok("h/h")),
            (
                "img/build.tar.zst",
                Some("abcd"),
                false,
                Ok("img/build-abcd.tar.zst"),
            ),
            ("go/mod", Some("abcd"), false, Ok("go/mod-abcd")),
            ("bin/cacher", None, true, Ok("bin/cacher-@")),
            (
                "img/build.tar.zst",
                Some("h"),
                true,
                Ok("img/build-h-@.tar.zst"),
            ),
            ("img/{hash}.tar.zst", Some("h"), true, Ok("img/h-@.tar.zst")),
            ("t/{os}-{arch}.tgz", None, false, Ok("t/OS-ARCH.tgz")),
            ("t/{os}/{arch}/x", Some("h"), false, Ok("t/OS/ARCH/x-h")),
            ("a}b", None, false, Ok("a}b")),
            ("x/{hash}", None, false, Err("--hash-from")),
            ("x/{nope}", None, false, Err("unknown placeholder {nope}")),
            ("x/{HASH}", Some("h"), false, Err("{HASH}")),
            ("x/{}", None, false, Err("unknown placeholder {}")),
            ("x/{ hash }", Some("h"), false, Err("{ hash }")),
            ("x/{open", None, false, Err("never closed")),
            ("x/{", None, false, Err("never closed")),
        ] {
            check_template(template, hash, arch, want);
        }
    }

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            static N: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "cacher-keys-{tag}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
        fn write(&self, rel: &str, content: &[u8]) {
            let p = self.0.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, content).unwrap();
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// Runs a shell pipeline in the test's working directory and returns its stdout, trimmed.
    fn sh(script: &str) -> String {
        let out = Command::new("sh").arg("-c").arg(script).output().unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// `hash_paths(paths)` must equal what `script` prints; both see the same working
    /// directory, so relative PATHs mean the same to both.
    fn check_hash(paths: &[String], length: usize, script: &str) {
        let want = sh(script);
        assert_eq!(want.len(), length, "`{script}` printed {want:?}");
        let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
        match hash_paths(&paths, length) {
            Ok(got) => assert_eq!(got, want, "hash_paths({paths:?}) vs `{script}`"),
            Err(e) => panic!("hash_paths({paths:?}): {e}"),
        }
    }

    /// `p` as a path relative to the working directory (`../../tmp/…`), the way a user types
    /// one; tests cannot chdir, they share the process.
    fn relative(p: &Path) -> String {
        let cwd = std::env::current_dir().unwrap();
        let up = cwd.components().count().saturating_sub(1);
        format!(
            "{}{}",
            "../".repeat(up),
            p.display().to_string().trim_start_matches('/')
        )
    }

    fn tree(t: &TempDir) {
        t.write("tree/a", b"a\n");
        t.write("tree/B", b"b");
        t.write("tree/-dash", b"dash");
        t.write("tree/_under", b"");
        t.write("tree/sub/c d", b"with space");
        t.write("tree/sub.x/y", b"dot dir");
        t.write("tree/sub/deeper/e", &vec![7u8; 300_000]); // more than one read buffer
        t.write("tree/\u{fc}/\u{65e5}\u{672c}", "unicode".as_bytes());
        for i in 0..40 {
            t.write(&format!("tree/many/{i:03}"), format!("{i}").as_bytes());
        }
        std::os::unix::fs::symlink("a", t.0.join("tree/link-to-file")).unwrap();
        std::os::unix::fs::symlink("sub", t.0.join("tree/link-to-dir")).unwrap();
        std::os::unix::fs::symlink("nowhere", t.0.join("tree/dangling")).unwrap();
        let fifo = Command::new("mkfifo").arg(t.0.join("tree/fifo")).status();
        assert!(fifo.is_ok_and(|s| s.success()), "mkfifo");
    }

    /// The tail of SPEC §4's `find … | LC_ALL=C sort | xargs sha256sum | sha256sum` pipeline;
    /// `xargs -d '\n'` keeps names with spaces whole.
    fn manifest(len: usize) -> String {
        format!("LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum | cut -c1-{len}")
    }

    #[test]
    fn hashes_match_coreutils() {
        let t = TempDir::new("hash");
        tree(&t);
        for base in [t.0.display().to_string(), relative(&t.0)] {
            let p = |rel: &str| format!("{base}/{rel}");
            // One file: the hash of its content, at every length.
            for len in [1, 16, 63, 64] {
                check_hash(
                    &[p("tree/a")],
                    len,
                    &format!("sha256sum '{}' | cut -c1-{len}", p("tree/a")),
                );
            }
            check_hash(
                &[p("tree/sub/deeper/e")],
                64,
                &format!("sha256sum '{}' | cut -c1-64", p("tree/sub/deeper/e")),
            );
            // One symlink to a file: the file's content.
            check_hash(
                &[p("tree/link-to-file")],
                16,
                &format!("sha256sum '{}' | cut -c1-16", p("tree/a")),
            );
            // A directory: symlinks (to files, to directories, dangling) and the fifo are
            // skipped, as by `find -type f`; paths are written as the user gave the PATH,
            // less its trailing slashes.
            for len in [16, 64] {
                let script = format!("find '{}' -type f | {}", p("tree"), manifest(len));
                check_hash(&[p("tree")], len, &script);
                check_hash(&[p("tree/")], len, &script);
                check_hash(&[p("tree//")], len, &script);
            }
            // Several PATHs, files among them, in any order: one sorted manifest.
            check_hash(
                &[p("tree/sub"), p("tree/a"), p("tree/\u{fc}/")],
                16,
                &format!(
                    "{{ find '{}' '{}' -type f; echo '{}'; }} | {}",
                    p("tree/sub"),
                    p("tree/\u{fc}"),
                    p("tree/a"),
                    manifest(16)
                ),
            );
            // Two files are a manifest, not a content hash.
            check_hash(
                &[p("tree/B"), p("tree/a")],
                16,
                &format!(
                    "printf '%s\\n' '{}' '{}' | {}",
                    p("tree/a"),
                    p("tree/B"),
                    manifest(16)
                ),
            );
            // A symlink to a directory given as the PATH is followed (find -H), and the walk
            // below it skips symlinks as usual.
            check_hash(
                &[p("tree/link-to-dir")],
                16,
                &format!(
                    "find -H '{}' -type f | {}",
                    p("tree/link-to-dir"),
                    manifest(16)
                ),
            );
        }
        // The path as given is part of the manifest: relative and absolute differ.
        assert_ne!(
            hash_paths(&[t.0.join("tree")], 16).unwrap(),
            hash_paths(&[PathBuf::from(relative(&t.0.join("tree")))], 16).unwrap()
        );
    }

    #[test]
    fn empty_and_special_inputs() {
        let t = TempDir::new("edge");
        fs::create_dir_all(t.0.join("empty")).unwrap();
        let sha_of_nothing = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            hash_paths(&[t.0.join("empty")], 64).unwrap(),
            sha_of_nothing
        );
        t.write("zero", b"");
        assert_eq!(hash_paths(&[t.0.join("zero")], 64).unwrap(), sha_of_nothing);
        // A PATH listed twice appears twice, as with `find D D`.
        t.write("d/f", b"f");
        let d = t.0.join("d");
        assert_ne!(
            hash_paths(&[d.clone(), d.clone()], 16).unwrap(),
            hash_paths(std::slice::from_ref(&d), 16).unwrap()
        );
    }

    #[test]
    fn hash_errors() {
        let t = TempDir::new("err");
        t.write("f", b"f");
        for (paths, len, needle) in [
            (
                vec![t.0.join("missing")],
                16,
                "missing: no such file or directory",
            ),
            (
                vec![t.0.join("f"), t.0.join("also-missing")],
                16,
                "also-missing",
            ),
            (vec![t.0.join("f/below-a-file")], 16, "below-a-file"),
            (vec![t.0.join("f")], 0, "must be 1..64"),
            (vec![t.0.join("f")], 65, "must be 1..64"),
            (vec![], 16, "no --hash-from"),
        ] {
            match hash_paths(&paths, len) {
                Ok(h) => panic!("{paths:?}: hashed to {h}"),
                Err(e) => assert!(e.contains(needle), "{e:?} lacks {needle:?}"),
            }
        }
    }
}
