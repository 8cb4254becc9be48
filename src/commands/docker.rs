//! `docker upload` and `docker download` (SPEC §1, §6): a docker image as the zstd-compressed
//! `docker save` stream, streamed both ways with no temporary file. (`docker exists` is
//! `files::exists`.) The processes themselves are `crate::docker`'s business.
//!
//! Upload: a producer thread runs `docker save IMAGE` through a multithreaded zstd encoder
//! (frame checksum on) into the bounded in-memory pipe that the multipart uploader reads. The
//! stream ends cleanly only after docker exited with success; a failing `docker save` fails
//! the pipe, which aborts the multipart upload, so no object is left.
//!
//! Download: concurrent ranged GETs → zstd decoder → `docker load`, which is killed (never
//! given end-of-file) if the object turns out corrupted or the download breaks, so nothing is
//! loaded (see `crate::docker`). Afterwards IMAGE must exist locally. A miss with `--pull`
//! pulls IMAGE and seeds the cache from it; failing to seed is only a warning.

use std::io::{self, Read};
use std::time::Instant;

use super::files::{confirm_bucket, with_hit};
use super::Ctx;
use crate::docker::Docker;
use crate::error::{Error, Result};
use crate::output::{self, Progress};
use crate::pipe;
use crate::s3::Client;
use crate::transfer::{self, UploadOpts, Uploaded};

fn threads() -> u32 {
    std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1)
        .min(8)
}

pub fn upload(ctx: &Ctx, key: &str, image: &str, force: bool) -> Result<i32> {
    let name = ctx.object(key)?;
    let client = ctx.client()?;
    if !force && client.head_object(&name)?.is_some() {
        output::info(&format!(
            "skipped '{key}': already in the cache (use --force to overwrite)"
        ));
        return Ok(0);
    }
    let docker = Docker::new(&ctx.cfg.docker);
    let start = Instant::now();
    let up = store(ctx, &client, &docker, &name, key, image)
        .map_err(|e| Error::Other(format!("docker upload '{key}': {e}")))?;
    output::summary(
        &format!("stored image {image} as"),
        key,
        up.bytes,
        start.elapsed(),
    );
    Ok(0)
}

/// `docker save IMAGE | zstd | multipart upload` to `name`, streamed.
fn store(
    ctx: &Ctx,
    client: &Client,
    docker: &Docker,
    name: &str,
    key: &str,
    image: &str,
) -> Result<Uploaded> {
    let saving = docker.save(image)?;
    let (w, mut reader) = pipe::pipe("`docker save` stopped");
    let level = ctx.cfg.level;
    let progress = Progress::new(format!("uploading image {image} as '{key}'"), None);
    let uploaded = std::thread::scope(|s| {
        s.spawn(move || {
            // A failure here is handed through the pipe, so the uploader fails with it (and
            // aborts); a pipe that broke because the upload failed needs no word from us.
            if let Err(e) = compress(saving, w, level) {
                output::debug(|| format!("docker save producer stopped: {e}"));
            }
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
            &format!("docker save {image}"),
            &opts,
            &progress,
        );
        // Dropping the reader unblocks a producer still writing after a failed upload (it then
        // kills docker save).
        drop(reader);
        up
    });
    progress.finish();
    uploaded
}

/// The producer: docker's output through zstd into the pipe. The pipe is finished (a clean
/// end) only once docker exited with success; otherwise it is failed with docker's error.
/// Dropping `saving` on an early return kills docker.
fn compress(mut saving: crate::docker::Saving, mut w: pipe::PipeWriter, level: i32) -> Result<()> {
    let run = |saving: &mut crate::docker::Saving, w: &mut pipe::PipeWriter| -> io::Result<()> {
        let mut enc = zstd::stream::write::Encoder::new(w, level)?;
        enc.include_checksum(true)?;
        enc.multithread(threads())?;
        io::copy(saving, &mut enc)?;
        enc.finish().map(drop)
    };
    if let Err(e) = run(&mut saving, &mut w) {
        // A broken pipe is the upload side gone: it reports its own error. Anything else is
        // docker's output failing, which the upload must fail with.
        let msg = format!("reading the output of docker save: {e}");
        if e.kind() != io::ErrorKind::BrokenPipe {
            w.fail(Error::Other(msg.clone()));
        }
        return Err(Error::Other(msg));
    }
    match saving.finish() {
        Ok(()) => w
            .finish()
            .map_err(|e| Error::Other(format!("docker upload: {e}"))),
        Err(e) => {
            let msg = e.to_string();
            w.fail(e);
            Err(Error::Other(msg))
        }
    }
}

pub fn download(ctx: &Ctx, key: &str, image: &str, pull: bool) -> Result<i32> {
    let name = ctx.object(key)?;
    let client = ctx.client()?;
    let docker = Docker::new(&ctx.cfg.docker);
    let start = Instant::now();
    let hit = with_hit(ctx, &client, &name, &[], |_, r, meta| {
        let progress = Progress::new(format!("loading '{key}'"), Some(meta.size));
        let mut counted = Counted {
            inner: r,
            progress: &progress,
        };
        let loaded = decoder(&mut counted, key).and_then(|mut d| docker.load(&mut d));
        progress.finish();
        loaded.map(|out| (meta.size, out))
    })
    .map_err(|e| Error::Other(format!("docker download '{key}': {e}")))?;

    if let Some((size, out)) = hit {
        let loaded = loaded_images(&out);
        if !docker.image_exists(image)? {
            return Err(Error::Other(format!(
                "docker download '{key}': the cached archive was loaded ({}) but does not contain {image}: it was stored from another image; re-upload it with 'cacher docker upload {key} {image} --force'",
                if loaded.is_empty() { "no image names reported".into() } else { loaded }
            )));
        }
        output::summary(
            &format!("hit, loaded image {image} from"),
            key,
            size,
            start.elapsed(),
        );
        return Ok(0);
    }

    if !pull {
        confirm_bucket(ctx, &client)?;
        return Err(Error::Miss {
            key: key.to_string(),
        });
    }
    output::info(&format!("miss '{key}': pulling {image}"));
    docker
        .pull(image)
        .map_err(|e| Error::Other(format!("docker download '{key}' --pull: {e}")))?;
    output::info(&format!(
        "pulled {image} in {:.2} s",
        start.elapsed().as_secs_f64()
    ));
    let seed_start = Instant::now();
    match store(ctx, &client, &docker, &name, key, image) {
        Ok(up) => output::summary(
            &format!("stored image {image} as"),
            key,
            up.bytes,
            seed_start.elapsed(),
        ),
        Err(e) => output::warn(&format!(
            "pulled {image}, but could not store it as '{key}': {e}"
        )),
    }
    Ok(0)
}

/// The zstd decoder over the object. Its errors (a corrupted block, a frame checksum that does
/// not match, a truncated frame) are phrased as a corrupted cache entry; errors of the download
/// itself (an S3 error after retries) pass through as they are.
fn decoder<'a>(r: &'a mut dyn Read, key: &str) -> Result<Corruption<'a>> {
    let mut d = zstd::stream::read::Decoder::new(r)
        .map_err(|e| Error::Other(format!("zstd decoder: {e}")))?;
    d.window_log_max(31)
        .map_err(|e| Error::Other(format!("zstd decoder: {e}")))?;
    Ok(Corruption {
        inner: d,
        key: key.to_string(),
    })
}

struct Corruption<'a> {
    inner: zstd::stream::read::Decoder<'static, io::BufReader<&'a mut dyn Read>>,
    key: String,
}

impl Read for Corruption<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if e.get_ref().is_some_and(|i| i.is::<Error>()) {
                return e;
            }
            io::Error::other(Error::Other(format!(
                "the cached image '{}' is corrupted (zstd: {e}); replace it with 'cacher docker upload {} IMAGE --force'",
                self.key, self.key
            )))
        })
    }
}

/// `Loaded image: a:1` / `Loaded image ID: sha256:…` lines → `a:1, sha256:…`.
fn loaded_images(out: &str) -> String {
    out.lines()
        .filter_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.starts_with("Loaded image"))
        })
        .map(|(_, v)| v.trim())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Counts bytes for the progress line as they are read.
struct Counted<'a> {
    inner: &'a mut dyn Read,
    progress: &'a Progress,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.add(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loaded_image_lines() {
        assert_eq!(
            loaded_images("Loaded image: a/b:1\nLoaded image ID: sha256:ab\nother\n"),
            "a/b:1, sha256:ab"
        );
        assert_eq!(loaded_images(""), "");
    }

    #[test]
    fn corruption_is_phrased_as_such() {
        use std::io::Write;
        let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        enc.include_checksum(true).unwrap();
        enc.write_all(b"hello world, hello world").unwrap();
        let mut z = enc.finish().unwrap();
        // The last 4 bytes are the frame's content checksum: the data itself decodes fine.
        let n = z.len();
        z[n - 1] ^= 0xff;
        let mut src: &[u8] = &z;
        let mut d = decoder(&mut src, "k").unwrap();
        let e = d.read_to_end(&mut Vec::new()).unwrap_err();
        let e = crate::s3::unwrap_io("reading", "x", e).to_string();
        assert!(e.contains("the cached image 'k' is corrupted"), "{e}");
    }
}
