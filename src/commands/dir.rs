//! `dir upload` and `dir download` (SPEC §1, §6): a directory as a zstd tar stream, streamed
//! both ways with no temporary archive on disk.
//!
//! Upload: a packing thread writes tar+zstd into a bounded in-memory pipe that the multipart
//! uploader reads, so memory stays at a few MiB plus the parts in flight. Download: the object
//! stream is decoded and unpacked into a staging directory beside DIR, which replaces DIR only
//! after the whole archive was read and its checksum verified.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Instant;

use super::files::{confirm_bucket, with_hit};
use super::Ctx;
use crate::archive;
use crate::error::{Error, Result};
use crate::output::{self, Progress};
use crate::pipe;
use crate::transfer::{self, UploadOpts};

pub(crate) fn threads() -> u32 {
    std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1)
        .min(8)
}

pub fn upload(ctx: &Ctx, key: &str, dir: &Path, force: bool, level: Option<&str>) -> Result<i32> {
    let name = ctx.object(key)?;
    let md = fs::metadata(dir).map_err(|e| Error::io("dir upload: reading", dir, e))?;
    if !md.is_dir() {
        return Err(Error::Usage(format!(
            "dir upload: {} is not a directory (use 'cacher upload' for files)",
            dir.display()
        )));
    }
    let level: i32 = match level {
        Some(l) => l
            .parse()
            .map_err(|_| Error::Usage(format!("dir upload: bad --level '{l}'")))?,
        None => ctx.cfg.level,
    };
    let client = ctx.client()?;
    if !force && client.head_object(&name)?.is_some() {
        output::info(&format!(
            "skipped '{key}': already in the cache (use --force to overwrite)"
        ));
        return Ok(0);
    }
    let start = Instant::now();
    let progress = Progress::new(format!("uploading '{key}'"), None);
    let (stats, up) = pack_and_upload(ctx, &client, &name, dir, &progress, |w| {
        archive::pack(dir, w, level, threads())
    })?;
    output::summary(
        &format!(
            "stored {} entries ({}) as",
            stats.entries,
            output::human_size(stats.bytes)
        ),
        key,
        up.bytes,
        start.elapsed(),
    );
    Ok(0)
}

/// Runs `pack` on a thread, writing into a bounded pipe that a multipart upload to `name`
/// reads: no temporary archive. A failed pack aborts the upload (nothing becomes visible) and
/// its error, which says more than the upload's, is the one returned.
pub(crate) fn pack_and_upload(
    ctx: &Ctx,
    client: &crate::s3::Client,
    name: &str,
    what: &Path,
    progress: &Progress,
    pack: impl FnOnce(&mut dyn io::Write) -> Result<archive::PackStats> + Send,
) -> Result<(archive::PackStats, transfer::Uploaded)> {
    let (mut w, mut reader) = pipe::pipe("packing failed");
    let (packed, uploaded) = std::thread::scope(|s| {
        let packer = s.spawn(move || {
            let stats = pack(&mut w)?;
            w.finish()
                .map_err(|_| Error::Other("the upload stopped".into()))?;
            Ok::<_, Error>(stats)
        });
        let opts = UploadOpts {
            part_size: ctx.cfg.part_size,
            concurrency: ctx.cfg.concurrency,
            meta_sha256: None,
            known_size: None,
        };
        let up = transfer::upload(
            client,
            name,
            &mut reader,
            &what.display().to_string(),
            &opts,
            progress,
        );
        // Dropping the reader unblocks a packer still writing after a failed upload.
        drop(reader);
        let packed = packer
            .join()
            .unwrap_or_else(|_| Err(Error::Other("the packing thread panicked".into())));
        (packed, up)
    });
    progress.finish();
    match (packed, uploaded) {
        (Err(e), _) | (Ok(_), Err(e)) => Err(e),
        (Ok(stats), Ok(up)) => Ok((stats, up)),
    }
}

pub(crate) fn running_as_root() -> bool {
    // /proc/self belongs to the process's effective user: no libc call needed.
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

pub fn download(ctx: &Ctx, key: &str, dir: &Path, restore_keys: &[String]) -> Result<i32> {
    let name = ctx.object(key)?;
    archive::check_replaceable(dir, ctx.env.home().as_deref())?;
    let client = ctx.client()?;
    crate::leftovers::clean_stale(dir, &["staging", "old"]);
    let staging = crate::leftovers::sibling(dir, "staging")?;
    let start = Instant::now();
    let hit = with_hit(ctx, &client, &name, restore_keys, |obj, r, meta| {
        if let Some(parent) = staging.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
        }
        fs::create_dir(&staging).map_err(|e| Error::io("creating", &staging, e))?;
        let doomed = staging.clone();
        let _undo = crate::interrupt::on_interrupt(move || {
            let _ = fs::remove_dir_all(doomed);
        });
        let progress = Progress::new(
            format!("restoring '{}'", ctx.relative(obj)),
            Some(meta.size),
        );
        let mut counted = Counted {
            inner: r,
            progress: &progress,
        };
        let unpacked = archive::unpack(&mut counted, &staging, running_as_root());
        progress.finish();
        Ok((obj.to_string(), meta.size, unpacked, _undo))
    });
    // `_undo` lives until DIR was replaced: Ctrl-C before that removes the staging directory.
    let (obj, size, entries, _undo) = match hit {
        Ok(Some((obj, size, Ok(n), undo))) => (obj, size, n, undo),
        Ok(Some((_, _, Err(e), _))) | Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
        Ok(None) => {
            confirm_bucket(ctx, &client)?;
            return Err(Error::Miss {
                key: key.to_string(),
            });
        }
    };
    if let Err(e) = archive::replace_dir(&staging, dir) {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    let what = if obj == name {
        format!("hit, restored {entries} entries of")
    } else {
        format!(
            "hit (restore key '{}'), restored {entries} entries for",
            ctx.relative(&obj)
        )
    };
    output::summary(&what, key, size, start.elapsed());
    Ok(0)
}

/// Counts bytes for the progress line as they are read.
pub(crate) struct Counted<'a, R: Read + ?Sized> {
    pub inner: &'a mut R,
    pub progress: &'a Progress,
}

impl<R: Read + ?Sized> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.add(n as u64);
        Ok(n)
    }
}
