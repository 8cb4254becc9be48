//! Directories as zstd-compressed tar streams, both ways, over `Read`/`Write` only: this module
//! knows nothing of S3 (SPEC §6).
//!
//! Packing walks DIR itself (rather than `tar::Builder::append_dir_all`) so that it can store
//! hard links as links, keep symlinks as symlinks, and skip sockets/devices with a warning.
//! Unpacking goes into a fresh staging directory and refuses, before writing anything, every
//! entry that could land outside it: absolute paths, `..`, a path through a symlink the archive
//! made, a hard link whose target is outside. [`replace_dir`] then swaps the staging directory
//! in for DIR only after the whole archive was read and the zstd frame checksum verified.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::output;

/// What packing saw, for the summary line and tests.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PackStats {
    pub entries: u64,
    pub bytes: u64,
    pub skipped: u64,
}

/// Writes DIR's contents (relative paths) as tar into `out`, compressed with zstd at `level`
/// using `threads` worker threads, with the frame content checksum on.
pub fn pack(dir: &Path, out: &mut dyn Write, level: i32, threads: u32) -> Result<PackStats> {
    pack_with(out, level, threads, dir, |b, stats, links| {
        walk(dir, Path::new(""), b, stats, links)
    })
}

/// Writes PATH itself (a directory with its contents, a file or a symlink) as tar + zstd, each
/// entry named by PATH as given — `node_modules/…`, or `/root/.m2/…` for an absolute PATH —
/// the layout `tar -cPf - PATH` makes (Semaphore's cache CLI; see [`unpack_rooted`]).
pub fn pack_path(path: &Path, out: &mut dyn Write, level: i32, threads: u32) -> Result<PackStats> {
    if path.as_os_str().is_empty()
        || path
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return Err(Error::Usage(format!(
            "'{}': give the path without '.' or '..' components",
            path.display()
        )));
    }
    // `a/b/` and `a/b` are the same entry.
    let path: PathBuf = path.components().collect();
    pack_with(out, level, threads, &path, |b, stats, links| {
        b.preserve_absolute(true);
        entry(Path::new(""), &path, b, stats, links)
    })
}

type Links = HashMap<(u64, u64), PathBuf>;

fn pack_with(
    out: &mut dyn Write,
    level: i32,
    threads: u32,
    what: &Path,
    fill: impl FnOnce(
        &mut tar::Builder<zstd::stream::write::Encoder<'_, &mut dyn Write>>,
        &mut PackStats,
        &mut Links,
    ) -> Result<()>,
) -> Result<PackStats> {
    let mut enc =
        zstd::stream::write::Encoder::new(out, level).map_err(|e| zstd_err("starting zstd", e))?;
    enc.include_checksum(true)
        .map_err(|e| zstd_err("zstd checksum", e))?;
    if threads > 1 {
        enc.multithread(threads)
            .map_err(|e| zstd_err("zstd threads", e))?;
    }
    let mut b = tar::Builder::new(enc);
    b.mode(tar::HeaderMode::Complete);
    b.follow_symlinks(false);
    let mut stats = PackStats::default();
    let mut links = Links::new();
    fill(&mut b, &mut stats, &mut links)?;
    let enc = b
        .into_inner()
        .map_err(|e| Error::io("writing the archive of", what, e))?;
    enc.finish().map_err(|e| zstd_err("finishing zstd", e))?;
    Ok(stats)
}

fn zstd_err(what: &str, e: io::Error) -> Error {
    Error::Other(format!("{what}: {e}"))
}

fn walk<W: Write>(
    root: &Path,
    rel: &Path,
    b: &mut tar::Builder<W>,
    stats: &mut PackStats,
    links: &mut Links,
) -> Result<()> {
    let dir = root.join(rel);
    let mut names: Vec<_> = fs::read_dir(&dir)
        .map_err(|e| Error::io("reading directory", &dir, e))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<_>>()
        .map_err(|e| Error::io("reading directory", &dir, e))?;
    // A stable order makes archives of the same tree identical.
    names.sort();
    for name in names {
        entry(root, &rel.join(&name), b, stats, links)?;
    }
    Ok(())
}

/// Appends one filesystem object, `root`/`rel_path`, named `rel_path` in the archive; a
/// directory brings its contents.
fn entry<W: Write>(
    root: &Path,
    rel_path: &Path,
    b: &mut tar::Builder<W>,
    stats: &mut PackStats,
    links: &mut Links,
) -> Result<()> {
    let rel_path = rel_path.to_path_buf();
    let full = root.join(&rel_path);
    let md = fs::symlink_metadata(&full).map_err(|e| Error::io("reading", &full, e))?;
    let ft = md.file_type();
    let mut h = tar::Header::new_gnu();
    h.set_metadata_in_mode(&md, tar::HeaderMode::Complete);
    if ft.is_dir() {
        h.set_size(0);
        b.append_data(&mut h, &rel_path, io::empty())
            .map_err(|e| Error::io("archiving", &full, e))?;
        stats.entries += 1;
        walk(root, &rel_path, b, stats, links)?;
    } else if ft.is_symlink() {
        let target = fs::read_link(&full).map_err(|e| Error::io("reading link", &full, e))?;
        h.set_size(0);
        b.append_link(&mut h, &rel_path, &target)
            .map_err(|e| Error::io("archiving", &full, e))?;
        stats.entries += 1;
    } else if ft.is_file() {
        if md.nlink() > 1 {
            let id = (md.dev(), md.ino());
            if let Some(first) = links.get(&id) {
                h.set_entry_type(tar::EntryType::Link);
                h.set_size(0);
                b.append_link(&mut h, &rel_path, first)
                    .map_err(|e| Error::io("archiving", &full, e))?;
                stats.entries += 1;
                return Ok(());
            }
            links.insert(id, rel_path.clone());
        }
        let f = File::open(&full).map_err(|e| Error::io("opening", &full, e))?;
        // The size in the header is the one read now; a file that changes size while it is
        // archived makes tar fail rather than write a corrupt entry.
        b.append_data(&mut h, &rel_path, f)
            .map_err(|e| Error::io("archiving", &full, e))?;
        stats.entries += 1;
        stats.bytes += md.len();
    } else {
        output::warn(&format!(
            "skipping {} (socket, fifo or device)",
            full.display()
        ));
        stats.skipped += 1;
    }
    Ok(())
}

/// Where an archive's entry may go: relative, no `..`, not through a symlink it made.
fn safe_relative(p: &Path) -> std::result::Result<PathBuf, String> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(format!("entry '{}' has a '..' component", p.display()))
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("entry '{}' has an absolute path", p.display()))
            }
        }
    }
    Ok(out)
}

fn through_symlink(p: &Path, symlinks: &HashSet<PathBuf>) -> bool {
    p.ancestors().skip(1).any(|a| symlinks.contains(a))
}

/// Unpacks a zstd tar stream into `dest` (an empty directory that exists). Any entry that could
/// write outside `dest` fails the whole unpack. Modes and mtimes are restored; owners only when
/// running as root.
pub fn unpack(src: &mut dyn Read, dest: &Path, as_root: bool) -> Result<u64> {
    let mut dec = zstd_decoder(src)?;
    unpack_tar(&mut dec, dest, as_root, &mut |p| safe_relative(p))
}

fn zstd_decoder<'a>(src: &'a mut dyn Read) -> Result<impl Read + 'a> {
    let mut dec =
        zstd::stream::read::Decoder::new(src).map_err(|e| zstd_err("starting zstd", e))?;
    // Archives made with `zstd --long` need a larger window than the default limit.
    dec.window_log_max(31)
        .map_err(|e| zstd_err("zstd window", e))?;
    Ok(dec)
}

/// Unpacks an archive made by [`pack_path`] (tar.zst) or by Semaphore's Go cache CLI
/// (`tar -czPf`: tar.gz), told apart by their magic bytes. The first entry names the archive's
/// root (the path as it was stored: `node_modules`, `/root/.m2`, `file.txt`); every entry must
/// be that root or inside it. `staging_for(root)` is called once the root is known and returns
/// a fresh empty directory (beside the root, so it can be renamed into place); the root lands
/// at `staging/data`. Returns the root and the number of entries.
pub fn unpack_rooted(
    src: &mut dyn Read,
    as_root: bool,
    staging_for: &mut dyn FnMut(&Path) -> Result<PathBuf>,
) -> Result<(PathBuf, u64)> {
    let mut src = io::BufReader::with_capacity(256 << 10, src);
    let magic = io::BufRead::fill_buf(&mut src)
        .map_err(|e| archive_err(Path::new("the cache entry"), e))?
        .get(..4)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    match magic.as_slice() {
        [0x28, 0xb5, 0x2f, 0xfd] => {
            unpack_rooted_tar(&mut zstd_decoder(&mut src)?, as_root, staging_for)
        }
        [0x1f, 0x8b, ..] => unpack_rooted_tar(
            &mut flate2::read::MultiGzDecoder::new(&mut src),
            as_root,
            staging_for,
        ),
        _ => Err(Error::Other(
            "refusing the archive: it is neither zstd nor gzip (corrupted?)".into(),
        )),
    }
}

/// An entry's name without `./` components; `x/` (a directory's spelling) is `x`.
fn plain(p: &Path) -> PathBuf {
    p.components().filter(|c| *c != Component::CurDir).collect()
}

fn unpack_rooted_tar(
    dec: &mut dyn Read,
    as_root: bool,
    staging_for: &mut dyn FnMut(&Path) -> Result<PathBuf>,
) -> Result<(PathBuf, u64)> {
    let bad = |m: String| Error::Other(format!("refusing the archive: {m}"));
    // The first entry's name decides where the staging directory goes, before anything is
    // written: read the start of the tar stream, parse it, then replay it.
    let mut head = Vec::new();
    dec.take(1 << 20)
        .read_to_end(&mut head)
        .map_err(|e| archive_err(Path::new("the cache entry"), e))?;
    let root = {
        let mut ar = tar::Archive::new(&head[..]);
        let first = ar
            .entries()
            .ok()
            .and_then(|mut es| es.next())
            .and_then(|e| e.ok())
            .and_then(|e| e.path().ok().map(|p| plain(&p)))
            .ok_or_else(|| bad("it holds no entry (empty or corrupted)".into()))?;
        first
    };
    if root.as_os_str().is_empty() || root.components().any(|c| c == Component::ParentDir) {
        return Err(bad(format!(
            "its root '{}' is not a plain path",
            root.display()
        )));
    }
    let staging = staging_for(&root)?;
    let mut map = |p: &Path| -> std::result::Result<PathBuf, String> {
        match plain(p).strip_prefix(&root) {
            Ok(rest) if rest.as_os_str().is_empty() => Ok(PathBuf::from("data")),
            Ok(rest) => Ok(Path::new("data").join(safe_relative(rest)?)),
            Err(_) => Err(format!(
                "entry '{}' is outside the archive's root '{}'",
                p.display(),
                root.display()
            )),
        }
    };
    let mut replay = (&head[..]).chain(dec);
    let n = unpack_tar(&mut replay, &staging, as_root, &mut map)?;
    Ok((root, n))
}

/// Unpacks a decoded tar stream into `dest`; `map` turns each entry's name (and each hard
/// link's target) into a safe path relative to `dest`, or says why not.
fn unpack_tar(
    dec: &mut dyn Read,
    dest: &Path,
    as_root: bool,
    map: &mut dyn FnMut(&Path) -> std::result::Result<PathBuf, String>,
) -> Result<u64> {
    let mut ar = tar::Archive::new(dec);
    let mut symlinks: HashSet<PathBuf> = HashSet::new();
    let mut dir_times: Vec<(PathBuf, u64, u32)> = Vec::new();
    let mut entries_done = 0u64;
    let bad = |m: String| Error::Other(format!("refusing the archive: {m}"));
    let entries = ar.entries().map_err(|e| archive_err(dest, e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| archive_err(dest, e))?;
        let raw = entry.path().map_err(|e| archive_err(dest, e))?.into_owned();
        let rel = map(&raw).map_err(bad)?;
        if rel.as_os_str().is_empty() {
            continue; // "./" itself
        }
        if through_symlink(&rel, &symlinks) {
            return Err(bad(format!(
                "entry '{}' would be written through a symlink",
                raw.display()
            )));
        }
        let out = dest.join(&rel);
        let h = entry.header();
        let mode = h.mode().unwrap_or(0o644);
        let mtime = h.mtime().unwrap_or(0);
        let (uid, gid) = (h.uid().unwrap_or(0), h.gid().unwrap_or(0));
        let kind = h.entry_type();
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
        }
        match kind {
            tar::EntryType::Directory => {
                match fs::create_dir(&out) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists && out.is_dir() => {}
                    Err(e) => return Err(Error::io("creating", &out, e)),
                }
                fs::set_permissions(&out, fs::Permissions::from_mode(mode & 0o7777))
                    .map_err(|e| Error::io("setting mode of", &out, e))?;
                dir_times.push((out.clone(), mtime, 0));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                remove_existing(&out)?;
                let mut f = File::create(&out).map_err(|e| Error::io("creating", &out, e))?;
                io::copy(&mut entry, &mut f).map_err(|e| archive_err(dest, e))?;
                f.set_permissions(fs::Permissions::from_mode(mode & 0o7777))
                    .map_err(|e| Error::io("setting mode of", &out, e))?;
                f.set_modified(UNIX_EPOCH + Duration::from_secs(mtime))
                    .map_err(|e| Error::io("setting mtime of", &out, e))?;
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(|e| archive_err(dest, e))?
                    .ok_or_else(|| bad(format!("symlink '{}' has no target", raw.display())))?
                    .into_owned();
                remove_existing(&out)?;
                // Symlinks may point anywhere (virtualenvs need that); nothing is written
                // through them, which the check above enforces.
                std::os::unix::fs::symlink(&target, &out)
                    .map_err(|e| Error::io("creating symlink", &out, e))?;
                symlinks.insert(rel.clone());
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name()
                    .map_err(|e| archive_err(dest, e))?
                    .ok_or_else(|| bad(format!("hard link '{}' has no target", raw.display())))?
                    .into_owned();
                let trel = map(&target).map_err(|m| {
                    bad(format!("hard link '{}' points outside: {m}", raw.display()))
                })?;
                if through_symlink(&trel, &symlinks) || symlinks.contains(&trel) {
                    return Err(bad(format!(
                        "hard link '{}' points through a symlink",
                        raw.display()
                    )));
                }
                let tpath = dest.join(&trel);
                if !fs::symlink_metadata(&tpath)
                    .map(|m| m.is_file())
                    .unwrap_or(false)
                {
                    return Err(bad(format!(
                        "hard link '{}' points at '{}', which the archive did not create",
                        raw.display(),
                        target.display()
                    )));
                }
                remove_existing(&out)?;
                fs::hard_link(&tpath, &out)
                    .map_err(|e| Error::io("creating hard link", &out, e))?;
            }
            other => {
                output::warn(&format!(
                    "skipping '{}' (tar entry type {other:?})",
                    raw.display()
                ));
                continue;
            }
        }
        if as_root && kind != tar::EntryType::Link {
            std::os::unix::fs::lchown(&out, Some(uid as u32), Some(gid as u32))
                .map_err(|e| Error::io("setting owner of", &out, e))?;
        }
        entries_done += 1;
    }
    // Reading to the end makes the decoder verify the frame checksum: a corrupted or
    // truncated archive fails here, before anything is swapped in.
    let mut rest = ar.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(|e| archive_err(dest, e))?;
    // Directory mtimes last: creating their children changed them. Deepest first.
    dir_times.sort_by(|a, b| b.0.cmp(&a.0));
    for (d, mtime, _) in dir_times {
        let f = File::open(&d).map_err(|e| Error::io("opening", &d, e))?;
        f.set_modified(UNIX_EPOCH + Duration::from_secs(mtime))
            .map_err(|e| Error::io("setting mtime of", &d, e))?;
    }
    Ok(entries_done)
}

fn remove_existing(p: &Path) -> Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p).map_err(|e| Error::io("replacing", p, e)),
        Ok(_) => fs::remove_file(p).map_err(|e| Error::io("replacing", p, e)),
        Err(_) => Ok(()),
    }
}

fn archive_err(dest: &Path, e: io::Error) -> Error {
    // Errors raised by the S3 reader travel inside io::Error; keep them as they are.
    match crate::s3::unwrap_io("reading the archive for", dest, e) {
        Error::Io { err, .. } => Error::Other(format!(
            "reading the archive for {}: {err} (corrupted or truncated?)",
            dest.display()
        )),
        other => other,
    }
}

/// Refuses DIRs that must never be replaced: `/`, the home directory, the current directory
/// or one of its ancestors.
pub fn check_replaceable(dir: &Path, home: Option<&Path>) -> Result<()> {
    let abs = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io("reading", ".", e))?
            .join(dir)
    };
    let norm = normalize(&abs);
    let refuse = |why: &str| {
        Err(Error::Usage(format!(
            "refusing to replace {}: {why}",
            dir.display()
        )))
    };
    if norm == Path::new("/") {
        return refuse("it is /");
    }
    if let Some(h) = home {
        if normalize(h) == norm {
            return refuse("it is the home directory");
        }
    }
    if let Ok(cwd) = std::env::current_dir() {
        let cwd = fs::canonicalize(&cwd).unwrap_or(cwd);
        let target = fs::canonicalize(&norm).unwrap_or(norm.clone());
        if cwd.starts_with(&target) {
            return refuse("it is the current directory or one of its ancestors");
        }
    }
    Ok(())
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// Swaps `staging` in for `dir`: `dir` moves aside, `staging` takes its name, the old contents
/// are removed. If the second rename fails, `dir` is moved back.
pub fn replace_dir(staging: &Path, dir: &Path) -> Result<()> {
    let exists = fs::symlink_metadata(dir).is_ok();
    if !exists {
        return fs::rename(staging, dir)
            .map_err(|e| Error::io("moving the restored directory to", dir, e));
    }
    let old = crate::leftovers::sibling(dir, "old")?;
    fs::rename(dir, &old).map_err(|e| Error::io("moving aside", dir, e))?;
    if let Err(e) = fs::rename(staging, dir) {
        let _ = fs::rename(&old, dir);
        return Err(Error::io("moving the restored directory to", dir, e));
    }
    if fs::symlink_metadata(&old)
        .map(|m| m.is_dir())
        .unwrap_or(false)
    {
        let _ = fs::remove_dir_all(&old);
    } else {
        let _ = fs::remove_file(&old);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            safe_relative(Path::new("./a/b")).unwrap(),
            PathBuf::from("a/b")
        );
        assert!(safe_relative(Path::new("../x")).is_err());
        assert!(safe_relative(Path::new("a/../../x")).is_err());
        assert!(safe_relative(Path::new("/etc/passwd")).is_err());
        let links: HashSet<PathBuf> = [PathBuf::from("l")].into();
        assert!(through_symlink(Path::new("l/x"), &links));
        assert!(!through_symlink(Path::new("l"), &links));
        assert!(!through_symlink(Path::new("lx/y"), &links));
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("cacher-archive-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_path_round_trips_under_its_own_name() {
        let d = scratch("rooted");
        fs::create_dir_all(d.join("tree/sub")).unwrap();
        fs::write(d.join("tree/sub/f"), b"hello").unwrap();
        std::os::unix::fs::symlink("sub/f", d.join("tree/l")).unwrap();
        let mut buf = Vec::new();
        // A trailing slash names the same directory.
        let stats = pack_path(&d.join("tree/"), &mut buf, 3, 1).unwrap();
        assert_eq!(stats.entries, 4);
        let staging = d.join("staging");
        let mut at = |_: &Path| {
            let _ = fs::remove_dir_all(&staging);
            fs::create_dir(&staging).unwrap();
            Ok(staging.clone())
        };
        let (root, n) = unpack_rooted(&mut &buf[..], false, &mut at).unwrap();
        assert_eq!((root, n), (d.join("tree"), 4));
        assert_eq!(fs::read(staging.join("data/sub/f")).unwrap(), b"hello");
        assert_eq!(
            fs::read_link(staging.join("data/l")).unwrap(),
            Path::new("sub/f")
        );
        // A single file is its own root.
        let mut buf = Vec::new();
        pack_path(&d.join("tree/sub/f"), &mut buf, 3, 1).unwrap();
        let (root, _) = unpack_rooted(&mut &buf[..], false, &mut at).unwrap();
        assert_eq!(root, d.join("tree/sub/f"));
        assert_eq!(fs::read(staging.join("data")).unwrap(), b"hello");
        assert!(pack_path(Path::new("../x"), &mut Vec::new(), 3, 1).is_err());
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn rooted_archives_keep_every_entry_inside_the_root() {
        let d = scratch("escape");
        for (first, second) in [("a", "b/x"), ("a", "a/../../x"), ("a", "/etc/x")] {
            let mut b = tar::Builder::new(Vec::new());
            for name in [first, second] {
                let mut h = tar::Header::new_gnu();
                h.set_size(1);
                h.set_mode(0o644);
                // Raw names: tar::Builder would refuse the bad ones.
                h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
                h.set_cksum();
                b.append(&h, &b"x"[..]).unwrap();
            }
            let mut z = Vec::new();
            let mut enc = zstd::stream::write::Encoder::new(&mut z, 3).unwrap();
            enc.write_all(&b.into_inner().unwrap()).unwrap();
            enc.finish().unwrap();
            let staging = d.join("s");
            let _ = fs::remove_dir_all(&staging);
            fs::create_dir(&staging).unwrap();
            let e = unpack_rooted(&mut &z[..], false, &mut |_| Ok(staging.clone())).unwrap_err();
            assert!(
                e.to_string().contains("refusing the archive"),
                "{second}: {e}"
            );
        }
        let e =
            unpack_rooted(&mut &b"not an archive"[..], false, &mut |_| Ok(d.clone())).unwrap_err();
        assert!(e.to_string().contains("neither zstd nor gzip"), "{e}");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn refuses_root_home_and_cwd_ancestors() {
        assert!(check_replaceable(Path::new("/"), None).is_err());
        assert!(check_replaceable(Path::new("/tmp/../"), None).is_err());
        assert!(check_replaceable(Path::new("/home/u"), Some(Path::new("/home/u/"))).is_err());
        let cwd = std::env::current_dir().unwrap();
        assert!(check_replaceable(&cwd, None).is_err());
        assert!(check_replaceable(Path::new("."), None).is_err());
        assert!(check_replaceable(cwd.parent().unwrap(), None).is_err());
        assert!(check_replaceable(&cwd.join("sub-dir-of-cwd"), None).is_ok());
    }
}
