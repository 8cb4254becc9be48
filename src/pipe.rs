//! A bounded in-memory pipe between a producer thread (the `dir` packer, `docker save | zstd`)
//! and the multipart uploader that reads it.
//!
//! 1 MiB chunks over a channel of 4, so the producer runs at most ~5 MiB ahead of the reader.
//! The stream ends cleanly only when the producer calls [`PipeWriter::finish`]; a producer that
//! stops any other way (an error, a panic, [`PipeWriter::fail`]) makes the reader fail, so a
//! half stream is never uploaded as if it were complete.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

use crate::error::Error;

const CHUNK: usize = 1 << 20;
const DEPTH: usize = 4;

enum Msg {
    Data(Vec<u8>),
    /// The producer's own error, handed to the reader (and so to the uploader's caller).
    Failed(Error),
}

/// A pipe; `broken` phrases the reader's error when the producer stops without a word.
pub fn pipe(broken: &str) -> (PipeWriter, PipeReader) {
    let (tx, rx) = sync_channel(DEPTH);
    let done = Arc::new(AtomicBool::new(false));
    (
        PipeWriter {
            tx,
            buf: Vec::with_capacity(CHUNK + 64 * 1024),
            done: done.clone(),
        },
        PipeReader {
            rx,
            cur: Vec::new(),
            pos: 0,
            done,
            broken: broken.to_string(),
        },
    )
}

/// The writing half. A write fails with `BrokenPipe` once the reader is gone (the upload
/// stopped), which is how a producer learns to stop.
pub struct PipeWriter {
    tx: SyncSender<Msg>,
    buf: Vec<u8>,
    done: Arc<AtomicBool>,
}

fn stopped() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the upload stopped")
}

impl PipeWriter {
    /// Ends the stream cleanly: everything written reaches the reader, then end-of-file.
    pub fn finish(mut self) -> io::Result<()> {
        let last = std::mem::take(&mut self.buf);
        // `done` before the channel closes (dropping `self`), so the reader sees a clean end
        // rather than a failed producer.
        self.done.store(true, Ordering::Release);
        if !last.is_empty() {
            self.tx.send(Msg::Data(last)).map_err(|_| stopped())?;
        }
        Ok(())
    }

    /// Ends the stream with `err`: the reader returns it (inside an `io::Error`, which
    /// `s3::unwrap_io` unwraps) after the data already written.
    pub fn fail(self, err: Error) {
        let _ = self.tx.send(Msg::Failed(err));
    }
}

impl Write for PipeWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + 64 * 1024));
            self.tx.send(Msg::Data(chunk)).map_err(|_| stopped())?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The reading half.
pub struct PipeReader {
    rx: Receiver<Msg>,
    cur: Vec<u8>,
    pos: usize,
    done: Arc<AtomicBool>,
    broken: String,
}

impl Read for PipeReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.cur.len() {
            match self.rx.recv() {
                Ok(Msg::Data(c)) => {
                    self.cur = c;
                    self.pos = 0;
                }
                Ok(Msg::Failed(e)) => return Err(io::Error::other(e)),
                Err(_) if self.done.load(Ordering::Acquire) => return Ok(0),
                Err(_) => return Err(io::Error::other(self.broken.clone())),
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
    fn clean_end_only_after_finish() {
        let (mut w, mut r) = pipe("producer failed");
        let t = std::thread::spawn(move || {
            for i in 0..3000u32 {
                w.write_all(&i.to_le_bytes().repeat(300)).unwrap();
            }
            w.finish().unwrap();
        });
        let mut got = Vec::new();
        r.read_to_end(&mut got).unwrap();
        t.join().unwrap();
        assert_eq!(got.len(), 3000 * 4 * 300);
        assert_eq!(&got[got.len() - 4..], &2999u32.to_le_bytes());
    }

    #[test]
    fn a_dropped_writer_is_an_error() {
        let (mut w, mut r) = pipe("producer failed");
        w.write_all(b"half").unwrap();
        drop(w);
        let e = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("producer failed"), "{e}");
    }

    #[test]
    fn fail_hands_the_error_over() {
        let (w, mut r) = pipe("producer failed");
        w.fail(Error::Other("docker save exploded".into()));
        let e = r.read_to_end(&mut Vec::new()).unwrap_err();
        let e = crate::s3::unwrap_io("reading", "x", e);
        assert_eq!(e.to_string(), "docker save exploded");
    }

    #[test]
    fn writes_fail_once_the_reader_is_gone() {
        let (mut w, r) = pipe("x");
        drop(r);
        let e = w.write_all(&vec![0u8; CHUNK]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
    }
}
