//! The file cache commands: `download`, `upload`, `exists`, `list`, `delete` (SPEC §1, §6).
//!
//! Downloads never leave a half-written DEST: bytes go to a recognisably named temporary file
//! beside DEST (`.NAME.cacher-tmp-PID`), which is renamed over DEST only after every byte
//! arrived and every check passed; leftovers of killed runs are removed by the next run.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::{housekeeping, Ctx};
use crate::error::{Error, Result};
use crate::interrupt;
use crate::leftovers;
use crate::output::{self, Progress};
use crate::s3::{http, Client, ObjectEntry, ObjectMeta};
use crate::timefmt;
use crate::transfer::{self, UploadOpts};

// ---------------------------------------------------------------- download

/// Where downloaded bytes go until they are known good.
enum Sink {
    Stdout(BufWriter<io::StdoutLock<'static>>),
    Temp {
        file: BufWriter<File>,
        temp: PathBuf,
        dest: PathBuf,
        /// Removes the temp file if the run is interrupted.
        _undo: interrupt::Guard,
    },
}

impl Sink {
    fn open(dest: &str) -> Result<Sink> {
        if dest == "-" {
            return Ok(Sink::Stdout(BufWriter::with_capacity(
                256 << 10,
                io::stdout().lock(),
            )));
        }
        let dest = PathBuf::from(dest);
        if dest.is_dir() {
            return Err(Error::Usage(format!(
                "download: DEST {} is a directory; give a file path",
                dest.display()
            )));
        }
        let (temp, file) = temp_beside(&dest)?;
        let doomed = temp.clone();
        Ok(Sink::Temp {
            file: BufWriter::with_capacity(256 << 10, file),
            temp,
            dest,
            _undo: interrupt::on_interrupt(move || {
                let _ = fs::remove_file(doomed);
            }),
        })
    }

    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Sink::Stdout(w) => w,
            Sink::Temp { file, .. } => file,
        }
    }

    fn name(&self) -> String {
        match self {
            Sink::Stdout(_) => "stdout".into(),
            Sink::Temp { dest, .. } => dest.display().to_string(),
        }
    }

    /// Everything arrived and was verified: make it visible.
    fn commit(self) -> Result<()> {
        match self {
            Sink::Stdout(mut w) => w.flush().map_err(|e| Error::io("writing", "stdout", e)),
            Sink::Temp {
                file, temp, dest, ..
            } => {
                let file = file
                    .into_inner()
                    .map_err(|e| Error::io("writing", &temp, e.into_error()))?;
                drop(file);
                fs::rename(&temp, &dest).map_err(|e| {
                    let _ = fs::remove_file(&temp);
                    Error::io("renaming into place", &dest, e)
                })
            }
        }
    }

    /// Something failed: nothing becomes visible. For stdout the bytes are already gone; the
    /// exit code says they are bad (SPEC §1).
    fn discard(self) {
        match self {
            Sink::Stdout(mut w) => {
                let _ = w.flush();
            }
            Sink::Temp { temp, .. } => {
                let _ = fs::remove_file(temp);
            }
        }
    }

    /// Starts over (a refetch after a corrupted cache entry). Only files can.
    fn reset(self) -> Result<Sink> {
        match self {
            Sink::Stdout(_) => Err(Error::Other(
                "cannot refetch into stdout after bytes were written".into(),
            )),
            Sink::Temp { temp, dest, .. } => {
                let _ = fs::remove_file(&temp);
                Sink::open(&dest.to_string_lossy())
            }
        }
    }
}

/// Creates `.NAME.cacher-tmp-PID` beside `dest` (creating parents), after removing leftovers
/// of earlier runs whose process is gone.
pub fn temp_beside(dest: &Path) -> Result<(PathBuf, File)> {
    if dest.file_name().is_none() {
        return Err(Error::Usage(format!(
            "{} does not name a file",
            dest.display()
        )));
    }
    let temp = leftovers::sibling(dest, "tmp")?;
    if let Some(parent) = temp.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io("creating directory", parent, e))?;
    }
    leftovers::clean_stale(dest, &["tmp"]);
    let file = File::create(&temp).map_err(|e| Error::io("creating", &temp, e))?;
    Ok((temp, file))
}

/// Checks computed against expected sha256s; the first mismatch is returned as an error.
fn verify(what: &str, actual: &str, expected: &[(&str, Option<&str>)]) -> Result<()> {
    for (label, exp) in expected {
        if let Some(exp) = exp {
            if !exp.eq_ignore_ascii_case(actual) {
                return Err(Error::Checksum {
                    what: format!("{what} ({label})"),
                    expected: exp.to_string(),
                    actual: actual.to_string(),
                });
            }
        }
    }
    Ok(())
}

pub fn download(
    ctx: &Ctx,
    key: &str,
    dest: &str,
    url: Option<&str>,
    sha256: Option<&str>,
    restore_keys: &[String],
) -> Result<i32> {
    let name = ctx.object(key)?;
    let client = ctx.client()?;
    let mut sink = Sink::open(dest)?;

    // 1. the key itself, else 2. the newest object under each restore key
    let hit = with_hit(ctx, &client, &name, restore_keys, |obj, r, meta| {
        let shown = ctx.relative(obj).to_string();
        let progress = Progress::new(format!("downloading '{shown}'"), Some(meta.size));
        let dest_name = sink.name();
        let res = transfer::copy_hashing(
            r,
            sink.writer(),
            &format!("'{shown}'"),
            &dest_name,
            &progress,
        );
        progress.finish();
        res.map(|(bytes, actual)| {
            (
                obj.to_string(),
                bytes,
                actual,
                meta.sha256.clone(),
                progress.elapsed(),
            )
        })
    });
    let hit = match hit {
        Ok(h) => h,
        Err(e) => {
            sink.discard();
            return Err(e);
        }
    };
    if let Some((obj, bytes, actual, stored_sha, elapsed)) = hit {
        let used_key = ctx.relative(&obj).to_string();
        let checked = verify(
            &format!("cached '{used_key}'"),
            &actual,
            &[
                ("--sha256", sha256),
                ("stored x-amz-meta-sha256", stored_sha.as_deref()),
            ],
        );
        match checked {
            Ok(()) => {
                sink.commit()?;
                let what = if obj == name {
                    "hit".to_string()
                } else {
                    format!("hit (restore key '{used_key}') for")
                };
                output::summary(&what, key, bytes, elapsed);
                return Ok(0);
            }
            Err(e) if url.is_some() && !matches!(sink, Sink::Stdout(_)) => {
                output::warn(&format!(
                    "{e}; the cache entry is corrupted, refetching it from the URL"
                ));
                sink = sink.reset()?;
            }
            Err(e) => {
                sink.discard();
                return Err(e);
            }
        }
    }

    // 3. a miss (or a corrupted entry with a URL): fetch the URL
    let Some(url) = url else {
        sink.discard();
        confirm_bucket(ctx, &client)?;
        return Err(Error::Miss {
            key: key.to_string(),
        });
    };
    let agent = http::agent(
        ctx.cfg.ca_file.as_deref(),
        crate::config::proxy_for_url(&ctx.env, url).as_deref(),
        2,
        10,
    )?;
    let fetched = http::fetch(&agent, url).and_then(|(mut body, len)| {
        let progress = Progress::new(format!("fetching {url}"), len);
        let dest_name = sink.name();
        let r = transfer::copy_hashing(&mut body, sink.writer(), url, &dest_name, &progress);
        progress.finish();
        r.map(|x| (x, progress.elapsed()))
    });
    let ((bytes, actual), elapsed) = match fetched {
        Ok(x) => x,
        Err(e) => {
            sink.discard();
            return Err(e);
        }
    };
    if let Err(e) = verify(url, &actual, &[("--sha256", sha256)]) {
        sink.discard();
        return Err(e);
    }
    let dest_path = match &sink {
        Sink::Temp { dest, .. } => Some(dest.clone()),
        Sink::Stdout(_) => None,
    };
    sink.commit()?;
    output::summary("miss, fetched", key, bytes, elapsed);

    // 4. seed the cache; failing to is only a warning (the user has the file)
    let seed_start = std::time::Instant::now();
    let seeded = match &dest_path {
        Some(p) => seed_from_file(ctx, &client, &name, p, &actual, bytes),
        None => {
            output::warn(&format!("'{key}' was streamed to stdout, so it was not stored; download to a file to seed the cache"));
            return Ok(0);
        }
    };
    match seeded {
        Ok(()) => output::summary("stored", key, bytes, seed_start.elapsed()),
        Err(e) => output::warn(&format!("could not store '{key}' in the cache: {e}")),
    }
    Ok(0)
}

fn seed_from_file(
    ctx: &Ctx,
    client: &Client,
    name: &str,
    path: &Path,
    sha: &str,
    size: u64,
) -> Result<()> {
    let mut f = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let opts = UploadOpts {
        part_size: ctx.cfg.part_size,
        concurrency: ctx.cfg.concurrency,
        meta_sha256: Some(sha.to_string()),
        known_size: Some(size),
    };
    let progress = Progress::new(format!("storing '{name}'"), Some(size));
    let r = transfer::upload(
        client,
        name,
        &mut f,
        &path.display().to_string(),
        &opts,
        &progress,
    );
    progress.finish();
    r.map(drop)
}

/// Reads the object `name`, else the newest object under each restore key in turn, through
/// `f` (object name, body, metadata), with concurrent ranged GETs for large objects. `None`
/// when nothing was found.
pub(super) fn with_hit<T>(
    ctx: &Ctx,
    client: &Client,
    name: &str,
    restore_keys: &[String],
    mut f: impl FnMut(&str, &mut dyn Read, &ObjectMeta) -> Result<T>,
) -> Result<Option<T>> {
    let (chunk, conc) = (ctx.cfg.part_size, ctx.cfg.concurrency);
    let mut try_one = |obj: &str| {
        transfer::read_object(client, obj, chunk, conc, |found| match found {
            None => Ok(None),
            Some((r, meta)) => f(obj, r, meta).map(Some),
        })
    };
    if let Some(t) = try_one(name)? {
        return Ok(Some(t));
    }
    for rk in restore_keys {
        if let Some(entry) = newest_under(ctx, client, rk)? {
            if let Some(t) = try_one(&entry.key)? {
                return Ok(Some(t));
            }
        }
    }
    Ok(None)
}

/// The newest object whose key starts with `prefix` (ties: the greatest key). With the arch
/// suffix on, only keys carrying this machine's suffix count (SPEC §1).
pub(super) fn newest_under(
    ctx: &Ctx,
    client: &Client,
    prefix: &str,
) -> Result<Option<ObjectEntry>> {
    let full = ctx.list_prefix(prefix, false);
    let suffix = crate::keys::arch_suffix();
    let mut best: Option<(i64, ObjectEntry)> = None;
    client.list_each(&full, None, |page| {
        for o in page.objects {
            if ctx.cfg.arch_suffix && !has_arch_suffix(ctx.relative(&o.key), &suffix) {
                continue;
            }
            let t = timefmt::parse_rfc3339(&o.last_modified).unwrap_or(0);
            let better = match &best {
                None => true,
                Some((bt, bo)) => t > *bt || (t == *bt && o.key > bo.key),
            };
            if better {
                best = Some((t, o));
            }
        }
        Ok(())
    })?;
    Ok(best.map(|b| b.1))
}

fn has_arch_suffix(key: &str, suffix: &str) -> bool {
    // The suffix sits before a known extension or at the end: compare with the key the
    // insertion rule would produce from the key without it.
    let tagged = format!("-{suffix}");
    key.contains(&tagged)
}

// ---------------------------------------------------------------- upload

pub fn upload(ctx: &Ctx, key: &str, path: &str, force: bool) -> Result<i32> {
    let name = ctx.object(key)?;
    if path != "-" {
        let md = fs::metadata(path).map_err(|e| Error::io("upload: reading", path, e))?;
        if md.is_dir() {
            return Err(Error::Usage(format!(
                "upload: {path} is a directory; use 'cacher dir upload {key} {path}' to cache a directory"
            )));
        }
    }
    let client = ctx.client()?;
    if !force && client.head_object(&name)?.is_some() {
        output::info(&format!(
            "skipped '{key}': already in the cache (use --force to overwrite)"
        ));
        return Ok(0);
    }
    let start = std::time::Instant::now();
    let (mut src, what, known_size, meta): (Box<dyn Read>, String, Option<u64>, Option<String>) =
        if path == "-" {
            (Box::new(io::stdin().lock()), "stdin".into(), None, None)
        } else {
            // Files are hashed before the upload starts so the object carries x-amz-meta-sha256
            // (SPEC §6) even when it goes up in many parts.
            let (sha, size) = hash_file(Path::new(path))?;
            let f = File::open(path).map_err(|e| Error::io("opening", path, e))?;
            (Box::new(f), path.to_string(), Some(size), Some(sha))
        };
    let opts = UploadOpts {
        part_size: ctx.cfg.part_size,
        concurrency: ctx.cfg.concurrency,
        meta_sha256: meta,
        known_size,
    };
    let progress = Progress::new(format!("uploading '{key}'"), known_size);
    let r = transfer::upload(&client, &name, &mut src, &what, &opts, &progress);
    progress.finish();
    let up = r?;
    output::summary("stored", key, up.bytes, start.elapsed());
    Ok(0)
}

fn hash_file(path: &Path) -> Result<(String, u64)> {
    use sha2::{Digest, Sha256};
    let mut f = File::open(path).map_err(|e| Error::io("opening", path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f
            .read(&mut buf)
            .map_err(|e| Error::io("reading", path, e))?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(h.finalize()), n))
}

// ---------------------------------------------------------------- exists

pub fn exists(ctx: &Ctx, key: &str) -> Result<i32> {
    let name = ctx.object(key)?;
    let client = ctx.client()?;
    if client.head_object(&name)?.is_some() {
        return Ok(0);
    }
    confirm_bucket(ctx, &client)?;
    Ok(1)
}

/// A miss must mean "the bucket is fine, the key is not there" (exit 1/3), but some servers
/// answer a GET/HEAD in a missing bucket with a plain 404 or even NoSuchKey (s3s-fs). A 1-key
/// listing under the prefix (allowed by s3:ListBucket) tells the two apart; it costs one
/// request, and only on a miss.
pub(super) fn confirm_bucket(ctx: &Ctx, client: &Client) -> Result<()> {
    client
        .list_page(&ctx.list_prefix("", false), None, None, Some(1))
        .map(drop)
}

// ---------------------------------------------------------------- list

pub(crate) fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn list(
    ctx: &Ctx,
    prefix: &str,
    recursive: bool,
    root: bool,
    json: bool,
    human: bool,
) -> Result<i32> {
    let client = ctx.client()?;
    let mut full = ctx.list_prefix(prefix, root);
    // Listing "p" under a configured prefix means the folder "p/": without the slash, a
    // non-recursive listing would only show "PRE p/". An empty user prefix lists the
    // configured prefix's folder.
    if !root && !ctx.cfg.prefix.is_empty() && prefix.is_empty() {
        full = format!("{}/", ctx.cfg.prefix);
    }
    // aws s3 ls shows names relative to the listed "folder": everything up to the last '/'.
    let base_len = full.rfind('/').map(|i| i + 1).unwrap_or(0);
    let shown = |name: &str| -> String {
        if json || recursive {
            if root {
                name.to_string()
            } else {
                ctx.relative(name).to_string()
            }
        } else {
            name.get(base_len..).unwrap_or(name).to_string()
        }
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let delimiter = if recursive { None } else { Some("/") };
    client.list_each(&full, delimiter, |page| {
        let mut lines = String::new();
        for p in &page.common_prefixes {
            if json {
                lines.push_str(&format!("{{\"prefix\":{}}}\n", json_str(&shown(p))));
            } else {
                lines.push_str(&format!("{:>30} {}\n", "PRE", shown(p)));
            }
        }
        for o in &page.objects {
            let t = timefmt::parse_rfc3339(&o.last_modified);
            if json {
                let mut l = format!(
                    "{{\"key\":{},\"size\":{},\"last_modified\":{}",
                    json_str(&shown(&o.key)),
                    o.size,
                    json_str(
                        &t.map(timefmt::rfc3339)
                            .unwrap_or_else(|| o.last_modified.clone())
                    )
                );
                if let Some(e) = &o.etag {
                    l.push_str(&format!(",\"etag\":{}", json_str(e)));
                }
                l.push_str("}\n");
                lines.push_str(&l);
            } else {
                let size = if human {
                    output::human_size(o.size)
                } else {
                    o.size.to_string()
                };
                let when = t
                    .map(timefmt::list_time)
                    .unwrap_or_else(|| o.last_modified.clone());
                lines.push_str(&format!("{when} {size:>10} {}\n", shown(&o.key)));
            }
        }
        out.write_all(lines.as_bytes())
            .map_err(|e| Error::io("writing", "stdout", e))
    })?;
    out.flush().map_err(|e| Error::io("writing", "stdout", e))?;
    Ok(0)
}

// ---------------------------------------------------------------- delete

pub fn delete(ctx: &Ctx, keys: &[String], recursive: Option<&str>, dry_run: bool) -> Result<i32> {
    let client = ctx.client()?;
    let names: Vec<String> = match recursive {
        Some(p) => housekeeping::entries(&client, &ctx.list_prefix(p, false))?
            .into_iter()
            .map(|e| e.name)
            .collect(),
        None => keys.iter().map(|k| ctx.object(k)).collect::<Result<_>>()?,
    };
    if dry_run {
        housekeeping::print_names(ctx, &names)?;
        output::info(&format!("would delete {} object(s)", names.len()));
        return Ok(0);
    }
    // Deleting a missing key is not an error (S3 answers 204 anyway).
    housekeeping::delete_many(ctx, &client, &names, false)?;
    output::info(&format!("deleted {} object(s)", names.len()));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escaping() {
        assert_eq!(json_str("a\"b\\c\n\u{1}ü"), "\"a\\\"b\\\\c\\n\\u0001ü\"");
    }

    #[test]
    fn verify_names_the_failing_check() {
        let e = verify("x", "aa", &[("--sha256", Some("aa")), ("meta", Some("bb"))])
            .unwrap_err()
            .to_string();
        assert!(e.contains("meta") && e.contains("bb"), "{e}");
        assert!(verify("x", "AA", &[("--sha256", Some("aa")), ("meta", None)]).is_ok());
    }
}
