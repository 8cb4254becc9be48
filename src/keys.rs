//! Keys (SPEC §4): validation, object names (prefix joining), suffix insertion (hash and
//! arch), templates, and the content hash of `--hash-from` paths.
//!
//! Pure except that hashing reads the files the user names. The hash rules are chosen so that
//! a single file's hash equals `sha256sum FILE | cut -c1-16` and a directory's equals
//! `find DIR -type f | LC_ALL=C sort | xargs sha256sum | sha256sum`.

use std::fs::File;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Non-empty, no control characters, no leading '/', at most 1024 bytes with the prefix.
pub fn validate_key(key: &str, prefix: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the key is empty".into());
    }
    if key.starts_with('/') {
        return Err(format!("key '{key}' starts with '/'"));
    }
    if key.chars().any(char::is_control) {
        return Err(format!("key {key:?} holds a control character"));
    }
    let len = object_name(prefix, key).len();
    if len > 1024 {
        return Err(format!(
            "key is {len} bytes with the prefix; S3 allows 1024"
        ));
    }
    Ok(())
}

/// prefix + "/" + key, with no doubled or leading '/'.
pub fn object_name(prefix: &str, key: &str) -> String {
    let p = prefix.trim_matches('/');
    if p.is_empty() {
        key.trim_start_matches('/').to_string()
    } else {
        format!("{p}/{}", key.trim_start_matches('/'))
    }
}

const EXTENSIONS: &[&str] = &[
    ".tar.zst", ".tar.gz", ".tar.xz", ".tar.bz2", ".tgz", ".tar", ".zst", ".gz", ".xz", ".zip",
];

/// Inserts `-SUFFIX` before the last segment's archive extension (longest match), else
/// appends it.
pub fn insert_suffix(key: &str, suffix: &str) -> String {
    let seg_start = key.rfind('/').map(|i| i + 1).unwrap_or(0);
    let last = &key[seg_start..];
    let ext = EXTENSIONS
        .iter()
        .filter(|e| last.len() > e.len() && last.ends_with(*e))
        .max_by_key(|e| e.len());
    match ext {
        Some(e) => {
            let cut = key.len() - e.len();
            format!("{}-{suffix}{}", &key[..cut], &key[cut..])
        }
        None => format!("{key}-{suffix}"),
    }
}

pub fn go_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        other => other,
    }
}

/// `linux-amd64` etc., in Go's spellings so keys match other tools'.
pub fn arch_suffix() -> String {
    format!("{}-{}", go_os(), go_arch())
}

/// Substitutes `{hash}`, `{os}`, `{arch}`; a hash with no `{hash}` in the template is inserted
/// as a suffix; then the arch suffix when asked (hash first).
pub fn render_template(template: &str, hash: Option<&str>, arch: bool) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    let mut used_hash = false;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("unclosed '{{' in template '{template}'"))?;
        match &after[..close] {
            "hash" => {
                out.push_str(hash.ok_or("the template uses {hash}: give --hash-from PATH")?);
                used_hash = true;
            }
            "os" => out.push_str(go_os()),
            "arch" => out.push_str(go_arch()),
            other => return Err(format!(
                "unknown placeholder {{{other}}} in template (known: {{hash}}, {{os}}, {{arch}})"
            )),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    if let (Some(h), false) = (hash, used_hash) {
        out = insert_suffix(&out, h);
    }
    if arch {
        out = insert_suffix(&out, &arch_suffix());
    }
    Ok(out)
}

fn sha256_file(path: &Path, buf: &mut [u8]) -> Result<String, String> {
    let mut f = File::open(path).map_err(|e| format!("hashing {}: {e}", path.display()))?;
    let mut h = Sha256::new();
    loop {
        let n = f
            .read(buf)
            .map_err(|e| format!("hashing {}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Every regular file under `dir` (recursively), skipping symlinks and special files.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for e in rd {
        let e = e.map_err(|e| format!("reading {}: {e}", dir.display()))?;
        let ft = e
            .file_type()
            .map_err(|err| format!("reading {}: {err}", e.path().display()))?;
        if ft.is_dir() {
            walk(&e.path(), out)?;
        } else if ft.is_file() {
            out.push(e.path());
        }
    }
    Ok(())
}

/// The hash of SPEC §4, truncated to `length` hex characters.
pub fn hash_paths(paths: &[PathBuf], length: usize) -> Result<String, String> {
    let mut buf = vec![0u8; 256 << 10];
    for p in paths {
        if std::fs::metadata(p).is_err() {
            return Err(format!(
                "--hash-from {}: no such file or directory",
                p.display()
            ));
        }
    }
    let full = if let [single] = paths {
        if std::fs::metadata(single)
            .map(|m| m.is_file())
            .unwrap_or(false)
        {
            Some(sha256_file(single, &mut buf)?)
        } else {
            None
        }
    } else {
        None
    };
    let full = match full {
        Some(h) => h,
        None => {
            let mut files: Vec<PathBuf> = Vec::new();
            for p in paths {
                // The path as the user gave it, less a trailing '/'.
                let bytes = p.as_os_str().as_bytes();
                let mut trimmed = bytes;
                while trimmed.len() > 1 && trimmed.ends_with(b"/") {
                    trimmed = &trimmed[..trimmed.len() - 1];
                }
                let base = PathBuf::from(std::ffi::OsStr::from_bytes(trimmed));
                let md = std::fs::metadata(&base)
                    .map_err(|e| format!("--hash-from {}: {e}", p.display()))?;
                if md.is_dir() {
                    walk(&base, &mut files)?;
                } else if md.is_file() {
                    files.push(base);
                }
            }
            files.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
            let mut manifest = Sha256::new();
            for f in &files {
                manifest.update(sha256_file(f, &mut buf)?.as_bytes());
                manifest.update(b"  ");
                manifest.update(f.as_os_str().as_bytes());
                manifest.update(b"\n");
            }
            hex::encode(manifest.finalize())
        }
    };
    Ok(full[..length.clamp(1, 64)].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn validation() {
        assert!(validate_key("a/b c+ü", "p").is_ok());
        for bad in ["", "/a", "a\nb", "a\u{7f}"] {
            assert!(validate_key(bad, "").is_err(), "{bad:?}");
        }
        assert!(validate_key(&"x".repeat(1024), "").is_ok());
        assert!(validate_key(&"x".repeat(1020), "pref").is_err());
    }

    #[test]
    fn names() {
        for (p, k, want) in [
            ("", "k", "k"),
            ("p", "k", "p/k"),
            ("p/", "k", "p/k"),
            ("/p/", "/k", "p/k"),
            ("a/b", "c/d", "a/b/c/d"),
        ] {
            assert_eq!(object_name(p, k), want);
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
            ("bin/cacher", "bin/cacher-S"),
            ("dir.tar/file", "dir.tar/file-S"),
            ("a.txt", "a.txt-S"),
            (".tar.gz", ".tar-S.gz"), // the stem may not be empty: ".tar" is the stem here
        ] {
            assert_eq!(insert_suffix(key, "S"), want, "{key}");
        }
    }

    #[test]
    fn templates() {
        let arch = arch_suffix();
        assert_eq!(
            render_template("img/{hash}.tar.zst", Some("abcd"), false).unwrap(),
            "img/abcd.tar.zst"
        );
        assert_eq!(
            render_template("img/build.tar.zst", Some("abcd"), false).unwrap(),
            "img/build-abcd.tar.zst"
        );
        assert_eq!(
            render_template("bin/cacher", None, true).unwrap(),
            format!("bin/cacher-{arch}")
        );
        assert_eq!(
            render_template("img/build.tar.zst", Some("h"), true).unwrap(),
            format!("img/build-h-{arch}.tar.zst")
        );
        assert_eq!(
            render_template("t/{os}-{arch}", None, false).unwrap(),
            format!("t/{}-{}", go_os(), go_arch())
        );
        assert!(render_template("x/{hash}", None, false)
            .unwrap_err()
            .contains("--hash-from"));
        assert!(render_template("x/{nope}", None, false)
            .unwrap_err()
            .contains("{nope}"));
        assert!(render_template("x/{open", None, false).is_err());
    }

    fn sh(cmd: &str) -> String {
        let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
        assert!(out.status.success(), "{cmd}");
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn hashes_match_coreutils() {
        let dir = std::env::temp_dir().join(format!("cacher-keys-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("tree/sub/deeper")).unwrap();
        std::fs::write(dir.join("tree/a"), "a\n").unwrap();
        std::fs::write(dir.join("tree/B"), "b").unwrap();
        std::fs::write(dir.join("tree/sub/c d"), "with space").unwrap();
        std::fs::write(dir.join("tree/sub/deeper/e"), vec![7u8; 300_000]).unwrap();
        std::os::unix::fs::symlink("a", dir.join("tree/link")).unwrap();
        let file = dir.join("tree/a");
        let want = sh(&format!("sha256sum '{}' | cut -c1-16", file.display()));
        assert_eq!(hash_paths(&[file.clone()], 16).unwrap(), want.trim());
        assert_eq!(hash_paths(&[file], 64).unwrap().len(), 64);
        // a directory given with a trailing slash, relative to the working directory of sh
        let want = sh(&format!("cd '{}' && find tree -type f | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum | cut -c1-16", dir.display()));
        let tree = dir.join("tree/");
        let got_abs = hash_paths(&[tree], 16).unwrap();
        let want_abs = sh(&format!("find '{0}/tree' -type f | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum | cut -c1-16", dir.display()));
        assert_eq!(got_abs, want_abs.trim());
        assert_ne!(want.trim(), got_abs, "paths are part of the manifest");
        assert!(hash_paths(&[dir.join("missing")], 16)
            .unwrap_err()
            .contains("missing"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
