//! Peak memory stays bounded whatever the size (issue: at most concurrency + 1 parts in
//! flight): a 1 GiB stdin upload and a 1 GiB download, with default settings, each under
//! 150 MiB of peak RSS. (On moto, which is slow for big objects, 256 MiB: the bound is the same.)

use std::io::Write;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::{unique, Cacher, Server, TempDir};

const LIMIT_KIB: u64 = 150 * 1024;

/// Polls VmHWM (the kernel's own peak-RSS counter) until the child exits; returns the last
/// value seen, in KiB, and the exit code.
fn watch(mut child: Child, feed: Option<u64>) -> (u64, i32) {
    let pid = child.id();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let p2 = peak.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s2 = stop.clone();
    let poller = std::thread::spawn(move || {
        while !s2.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok(st) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                if let Some(kib) = st
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                {
                    p2.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    if let Some(total) = feed {
        let mut stdin = child.stdin.take().unwrap();
        let mut block = vec![0u8; 1 << 20];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..total >> 20 {
            for w in block.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                w.copy_from_slice(&x.to_le_bytes());
            }
            stdin.write_all(&block).unwrap();
        }
    }
    let status = child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    poller.join().unwrap();
    (
        peak.load(std::sync::atomic::Ordering::Relaxed),
        status.code().unwrap_or(-1),
    )
}

#[test]
fn one_gib_up_and_down_in_bounded_memory() {
    let srv = Server::get();
    let size: u64 = if srv.is("moto") { 256 << 20 } else { 1 << 30 };
    let p = unique("memory");
    let t = TempDir::new("memory");

    let mut up = Cacher::new(&srv, &p);
    up.cmd
        .args(["upload", "big", "-", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let (peak_up, code) = watch(up.cmd.spawn().unwrap(), Some(size));
    assert_eq!(code, 0, "upload failed");
    let meta = srv
        .client()
        .head_object(&format!("{p}/big"))
        .unwrap()
        .unwrap();
    assert_eq!(meta.size, size);

    let dest = t.join("big");
    let mut down = Cacher::new(&srv, &p);
    down.cmd
        .args(["download", "big", dest.to_str().unwrap(), "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    let (peak_down, code) = watch(down.cmd.spawn().unwrap(), None);
    assert_eq!(code, 0, "download failed");
    assert_eq!(std::fs::metadata(&dest).unwrap().len(), size);
    println!(
        "peak RSS for {} MiB: upload {} KiB, download {} KiB",
        size >> 20,
        peak_up,
        peak_down
    );
    assert!(peak_up > 0 && peak_down > 0, "VmHWM was read");
    assert!(
        peak_up <= LIMIT_KIB,
        "upload peak RSS {peak_up} KiB > {LIMIT_KIB}"
    );
    assert!(
        peak_down <= LIMIT_KIB,
        "download peak RSS {peak_down} KiB > {LIMIT_KIB}"
    );
    srv.client().delete_object(&format!("{p}/big")).unwrap();
}
