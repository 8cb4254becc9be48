//! Moving bytes between a local stream and S3 with bounded memory.
//!
//! Uploads read the source in parts: a source that fits in one part goes up in one PutObject;
//! anything larger becomes a multipart upload whose parts are sent by `concurrency` worker
//! threads fed through a rendezvous channel, so at most `concurrency + 1` parts are in memory
//! whatever the size. A multipart upload owns its UploadId: every failure path aborts it (best
//! effort: under the 4-permission policy the abort is denied, which is a warning) and reports
//! the original error. Part sizes are planned purely ([`part_size_for`]).

use std::io::{self, Read, Write};
use std::sync::mpsc;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::output::{self, Progress};
use crate::s3::{self, Client};

/// S3's limits: at most 10,000 parts, every part but the last at least 5 MiB.
pub const MAX_PARTS: u64 = 10_000;
pub const MIN_PART: u64 = 5 << 20;

/// The part size for an upload: the configured size, grown (in whole MiB) so that a known
/// size fits in 10,000 parts.
pub fn part_size_for(known_size: Option<u64>, configured: u64) -> u64 {
    let configured = configured.max(MIN_PART);
    match known_size {
        Some(n) if n.div_ceil(configured) > MAX_PARTS => {
            let need = n.div_ceil(MAX_PARTS);
            need.div_ceil(1 << 20) << 20
        }
        _ => configured,
    }
}

/// Reads until `buf` holds `want` bytes or the source ends. Returns the bytes read.
fn fill(r: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> io::Result<usize> {
    buf.clear();
    let mut total = 0;
    // Read straight into the vector's spare capacity in large steps.
    buf.reserve(want);
    while total < want {
        let n = Read::take(&mut *r, (want - total) as u64).read_to_end(buf)?;
        if n == 0 {
            break;
        }
        total += n;
    }
    Ok(total)
}

pub struct UploadOpts {
    pub part_size: u64,
    pub concurrency: usize,
    /// Stored as `x-amz-meta-sha256` (known before the upload starts, e.g. a hashed file).
    pub meta_sha256: Option<String>,
    pub known_size: Option<u64>,
}

/// What an upload did.
pub struct Uploaded {
    pub bytes: u64,
    /// sha256 of everything sent.
    pub sha256: String,
}

/// Uploads everything `src` yields to `name`. `what` names the source in read errors.
pub fn upload(
    client: &Client,
    name: &str,
    src: &mut dyn Read,
    what: &str,
    o: &UploadOpts,
    progress: &Progress,
) -> Result<Uploaded> {
    let part = part_size_for(o.known_size, o.part_size) as usize;
    let mut first = Vec::new();
    // One byte more than a part tells "fits in one PUT" from "needs multipart".
    let n = fill(src, &mut first, part + 1).map_err(|e| s3::unwrap_io("reading", what, e))?;
    if n <= part {
        let sha = hex::encode(Sha256::digest(&first));
        let meta = o.meta_sha256.clone().unwrap_or_else(|| sha.clone());
        if meta != sha {
            return Err(Error::Other(format!(
                "{what} changed while it was being uploaded (sha256 differs from the first read)"
            )));
        }
        client.put_object(name, &first, Some(&sha), Some(&meta))?;
        progress.add(n as u64);
        return Ok(Uploaded {
            bytes: n as u64,
            sha256: sha,
        });
    }
    let carry = first.split_off(part);
    multipart(client, name, src, what, o, part, first, carry, progress)
}

#[allow(clippy::too_many_arguments)]
fn multipart(
    client: &Client,
    name: &str,
    src: &mut dyn Read,
    what: &str,
    o: &UploadOpts,
    part: usize,
    first: Vec<u8>,
    carry: Vec<u8>,
    progress: &Progress,
) -> Result<Uploaded> {
    let upload_id = client.create_multipart(name, o.meta_sha256.as_deref())?;
    // Ctrl-C while parts are in flight: abort from the signal handler (a fresh client, since
    // this one is busy), so nothing is left but what a denied abort cannot remove.
    let _undo = {
        let (settings, n, id) = (
            client.settings().clone(),
            name.to_string(),
            upload_id.clone(),
        );
        crate::interrupt::on_interrupt(move || {
            if let Ok(c) = Client::new(settings) {
                if let Err(e) = c.abort_multipart(&n, &id) {
                    output::warn(&format!(
                        "could not abort the multipart upload of '{n}': {e}"
                    ));
                }
            }
        })
    };
    let etags: Mutex<Vec<(u32, String)>> = Mutex::new(Vec::new());
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    let mut whole = Sha256::new();
    let mut total: u64 = 0;
    let mut read_err: Option<Error> = None;

    // Rendezvous channel: the reader holds one part, each worker one; nothing queues.
    let (tx, rx) = mpsc::sync_channel::<(u32, Vec<u8>)>(0);
    let rx = Mutex::new(rx);
    std::thread::scope(|scope| {
        let rx = &rx;
        let (failed, etags, upload_id) = (&failed, &etags, &upload_id);
        for _ in 0..o.concurrency.max(1) {
            scope.spawn(move || loop {
                let next = rx.lock().ok().and_then(|r| r.recv().ok());
                let Some((number, body)) = next else { return };
                if failed.lock().map(|f| f.is_some()).unwrap_or(true) {
                    continue; // drain: the upload is being abandoned
                }
                let sha = if client.settings().endpoint.https && client.settings().unsigned_payload
                {
                    None
                } else {
                    Some(hex::encode(Sha256::digest(&body)))
                };
                match client.upload_part(name, upload_id, number, &body, sha.as_deref()) {
                    Ok(etag) => {
                        progress.add(body.len() as u64);
                        if let Ok(mut e) = etags.lock() {
                            e.push((number, etag));
                        }
                    }
                    Err(e) => {
                        if let Ok(mut f) = failed.lock() {
                            f.get_or_insert(e);
                        }
                    }
                }
            });
        }
        let mut number: u32 = 0;
        let mut buf = first;
        let mut carry = carry;
        loop {
            if buf.is_empty() {
                break;
            }
            number += 1;
            if number as u64 > MAX_PARTS {
                read_err = Some(Error::Other(format!(
                    "{what} is larger than 10,000 parts of {}: raise --part-size",
                    output::human_size(part as u64)
                )));
                break;
            }
            whole.update(&buf);
            total += buf.len() as u64;
            if tx.send((number, std::mem::take(&mut buf))).is_err() {
                break;
            }
            if failed.lock().map(|f| f.is_some()).unwrap_or(true) {
                break;
            }
            // Next part: the carried byte(s) from the look-ahead, then the rest.
            let mut next = std::mem::take(&mut carry);
            let want = part - next.len();
            let mut more = Vec::new();
            match fill(src, &mut more, want) {
                Ok(_) => {
                    next.extend_from_slice(&more);
                    buf = next;
                }
                Err(e) => {
                    read_err = Some(s3::unwrap_io("reading", what, e));
                    break;
                }
            }
        }
        drop(tx);
    });

    let failure = read_err.or_else(|| failed.into_inner().ok().flatten());
    if let Some(e) = failure {
        abort(client, name, &upload_id);
        return Err(e);
    }
    let sha = hex::encode(whole.finalize());
    if let Some(m) = &o.meta_sha256 {
        if *m != sha {
            abort(client, name, &upload_id);
            return Err(Error::Other(format!(
                "{what} changed while it was being uploaded (sha256 differs from the first read)"
            )));
        }
    }
    let mut parts = etags.into_inner().unwrap_or_default();
    parts.sort_by_key(|p| p.0);
    if let Err(e) = client.complete_multipart(name, &upload_id, &parts) {
        abort(client, name, &upload_id);
        return Err(e);
    }
    Ok(Uploaded {
        bytes: total,
        sha256: sha,
    })
}

/// Best-effort abort: a denied abort (the 4-permission policy has no s3:AbortMultipartUpload)
/// is a warning pointing at the lifecycle rule that cleans such leftovers.
fn abort(client: &Client, name: &str, upload_id: &str) {
    if let Err(e) = client.abort_multipart(name, upload_id) {
        output::warn(&format!(
            "could not abort the multipart upload of '{name}' ({e}); its parts stay invisible and are removed by a lifecycle rule for incomplete multipart uploads (see README)"
        ));
    }
}

/// Copies an object body to `w`, hashing it on the way. Returns (bytes, sha256 hex).
pub fn copy_hashing(
    src: &mut dyn Read,
    w: &mut dyn Write,
    what: &str,
    dest: &str,
    progress: &Progress,
) -> Result<(u64, String)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 << 10];
    let mut total = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(s3::unwrap_io("reading", what, e)),
        };
        h.update(&buf[..n]);
        w.write_all(&buf[..n])
            .map_err(|e| Error::io("writing", dest, e))?;
        total += n as u64;
        progress.add(n as u64);
    }
    Ok((total, hex::encode(h.finalize())))
}

/// Reads an object with concurrent ranged GETs, in order, with bounded memory.
///
/// The first request asks for the first `chunk` bytes; its `Content-Range` tells the size. A
/// small object is served straight from that response. A larger one is served from it too,
/// while `concurrency` workers fetch the following chunks (each a resumable `ObjectReader`
/// pinned with `If-Match` to the first response's ETag) into memory, at most `concurrency`
/// chunks ahead of the consumer. `f` gets `None` when the key does not exist.
pub fn read_object<T>(
    client: &Client,
    name: &str,
    chunk: u64,
    concurrency: usize,
    f: impl FnOnce(Option<(&mut dyn Read, &s3::ObjectMeta)>) -> Result<T>,
) -> Result<T> {
    let chunk = chunk.max(1 << 20);
    let first = match client.get_object(name, Some((0, chunk - 1))) {
        Ok(Some(r)) => r,
        Ok(None) => return f(None),
        // An empty object has no byte 0: S3 answers 416 to any range.
        Err(Error::S3 { status: 416, .. }) => match client.get_object(name, None)? {
            Some(mut r) => {
                let meta = r.meta.clone();
                return f(Some((&mut r, &meta)));
            }
            None => return f(None),
        },
        Err(e) => return Err(e),
    };
    let mut first = first;
    let meta = first.meta.clone();
    if meta.size <= chunk {
        return f(Some((&mut first, &meta)));
    }
    let chunks = meta.size.div_ceil(chunk);
    let shared = Shared {
        state: Mutex::new(State {
            ready: Default::default(),
            free: Vec::new(),
            next_to_fetch: 1,
            consumed: 1,
            failed: None,
            cancelled: false,
        }),
        cond: std::sync::Condvar::new(),
    };
    let window = concurrency.max(1) as u64;
    std::thread::scope(|scope| {
        for _ in 0..concurrency.max(1) {
            let (shared, meta) = (&shared, &meta);
            scope.spawn(move || loop {
                let (i, buf) = {
                    let Ok(mut st) = shared.state.lock() else {
                        return;
                    };
                    loop {
                        if st.cancelled || st.failed.is_some() || st.next_to_fetch >= chunks {
                            return;
                        }
                        if st.next_to_fetch < st.consumed + window {
                            break;
                        }
                        st = match shared.cond.wait(st) {
                            Ok(g) => g,
                            Err(_) => return,
                        };
                    }
                    st.next_to_fetch += 1;
                    (st.next_to_fetch - 1, st.free.pop().unwrap_or_default())
                };
                let a = i * chunk;
                let b = (a + chunk).min(meta.size) - 1;
                let got = fetch_range(client, name, a, b, meta.etag.as_deref(), buf);
                let Ok(mut st) = shared.state.lock() else {
                    return;
                };
                match got {
                    Ok(buf) => {
                        st.ready.insert(i, buf);
                    }
                    Err(e) => {
                        st.failed.get_or_insert(e);
                    }
                }
                shared.cond.notify_all();
            });
        }
        let mut reader = Ranged {
            first: Some(first),
            shared: &shared,
            cur: Vec::new(),
            pos: 0,
            index: 0,
            chunks,
        };
        let out = f(Some((&mut reader, &meta)));
        if let Ok(mut st) = shared.state.lock() {
            st.cancelled = true;
        }
        shared.cond.notify_all();
        out
    })
}

/// Fetches bytes a..=b into `buf` (a recycled buffer: reusing the same few chunk buffers keeps
/// the allocator from growing the heap with every freed 16 MiB chunk).
fn fetch_range(
    client: &Client,
    name: &str,
    a: u64,
    b: u64,
    etag: Option<&str>,
    mut buf: Vec<u8>,
) -> Result<Vec<u8>> {
    let mut r = client
        .get_object_if(name, Some((a, b)), etag)?
        .ok_or_else(|| {
            Error::Other(format!(
                "GET '{name}': the object disappeared during the download"
            ))
        })?;
    buf.clear();
    buf.reserve_exact((b - a + 1) as usize);
    r.read_to_end(&mut buf)
        .map_err(|e| s3::unwrap_io("reading", name, e))?;
    if buf.len() as u64 != b - a + 1 {
        return Err(Error::Other(format!(
            "GET '{name}': range {a}-{b} returned {} bytes",
            buf.len()
        )));
    }
    Ok(buf)
}

struct State {
    ready: std::collections::HashMap<u64, Vec<u8>>,
    /// Buffers the reader is done with, for the workers to reuse.
    free: Vec<Vec<u8>>,
    next_to_fetch: u64,
    consumed: u64,
    failed: Option<Error>,
    cancelled: bool,
}

struct Shared {
    state: Mutex<State>,
    cond: std::sync::Condvar,
}

/// The in-order reader over chunk 0 (streamed) and the prefetched chunks.
struct Ranged<'a, 'c> {
    first: Option<s3::ObjectReader<'c>>,
    shared: &'a Shared,
    cur: Vec<u8>,
    pos: usize,
    index: u64,
    chunks: u64,
}

impl Read for Ranged<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if let Some(f) = self.first.as_mut() {
            let n = f.read(out)?;
            if n > 0 {
                return Ok(n);
            }
            self.first = None;
            self.index = 1;
        }
        while self.pos >= self.cur.len() {
            if self.index >= self.chunks {
                return Ok(0);
            }
            let mut st = self
                .shared
                .state
                .lock()
                .map_err(|_| io::Error::other("download worker panicked"))?;
            loop {
                if let Some(buf) = st.ready.remove(&self.index) {
                    let done = std::mem::replace(&mut self.cur, buf);
                    if done.capacity() > 0 {
                        st.free.push(done);
                    }
                    self.pos = 0;
                    self.index += 1;
                    st.consumed = self.index;
                    self.shared.cond.notify_all();
                    break;
                }
                if let Some(e) = st.failed.take() {
                    st.cancelled = true;
                    self.shared.cond.notify_all();
                    return Err(io::Error::other(e));
                }
                st = self
                    .shared
                    .cond
                    .wait(st)
                    .map_err(|_| io::Error::other("download worker panicked"))?;
            }
        }
        let n = out.len().min(self.cur.len() - self.pos);
        out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_sizes() {
        const MIB: u64 = 1 << 20;
        for (size, configured, want) in [
            (None, 16 * MIB, 16 * MIB),
            (Some(1), 16 * MIB, 16 * MIB),
            (Some(100 * MIB), 16 * MIB, 16 * MIB),
            (Some(10_000 * 16 * MIB), 16 * MIB, 16 * MIB),
            (Some(10_000 * 16 * MIB + 1), 16 * MIB, 17 * MIB),
            (Some(1 << 40), 16 * MIB, 105 * MIB),
            (None, MIB, 5 * MIB),
        ] {
            let got = part_size_for(size, configured);
            assert_eq!(got, want, "{size:?} {configured}");
            if let Some(n) = size {
                assert!(n.div_ceil(got) <= MAX_PARTS);
            }
        }
    }

    #[test]
    fn fill_reads_across_short_reads() {
        struct Trickle(Vec<u8>);
        impl Read for Trickle {
            fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() || b.is_empty() {
                    return Ok(0);
                }
                b[0] = self.0.remove(0);
                Ok(1)
            }
        }
        let mut t = Trickle((0..10).collect());
        let mut buf = Vec::new();
        assert_eq!(fill(&mut t, &mut buf, 4).unwrap(), 4);
        assert_eq!(buf, vec![0, 1, 2, 3]);
        assert_eq!(fill(&mut t, &mut buf, 100).unwrap(), 6);
        assert_eq!(fill(&mut t, &mut buf, 100).unwrap(), 0);
    }
}
