//! SIGINT/SIGTERM: undo what is in flight, then exit 2 (SPEC §3 has no other code for it).
//!
//! Work that would leave something behind registers an undo action for as long as it is in
//! flight (a multipart upload: abort it; a temp file or staging directory: remove it), and
//! drops the returned guard when done. The signal handler runs every registered action, says
//! `cacher: interrupted` and exits. It does not wait for the main thread, which may be blocked
//! in a read of stdin or a socket that would never notice a flag.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

type Undo = Box<dyn FnOnce() + Send>;

static ACTIONS: Mutex<Vec<(u64, Undo)>> = Mutex::new(Vec::new());
static NEXT: AtomicU64 = AtomicU64::new(1);

/// Removes its action when dropped (the work finished or undid itself).
pub struct Guard(u64);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(mut a) = ACTIONS.lock() {
            a.retain(|(id, _)| *id != self.0);
        }
    }
}

/// Registers `undo` to run if the process is interrupted before the guard is dropped.
pub fn on_interrupt(undo: impl FnOnce() + Send + 'static) -> Guard {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut a) = ACTIONS.lock() {
        a.push((id, Box::new(undo)));
    }
    Guard(id)
}

/// Installs the handler (once, from `main`). A failure to install is not fatal: the run works,
/// it just cannot clean up after Ctrl-C.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        let actions: Vec<(u64, Undo)> = match ACTIONS.lock() {
            Ok(mut a) => std::mem::take(&mut *a),
            Err(_) => Vec::new(),
        };
        for (_, undo) in actions.into_iter().rev() {
            undo();
        }
        crate::output::error("interrupted");
        std::process::exit(2);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_unregister() {
        let g = on_interrupt(|| {});
        let id = g.0;
        assert!(ACTIONS.lock().unwrap().iter().any(|(i, _)| *i == id));
        drop(g);
        assert!(!ACTIONS.lock().unwrap().iter().any(|(i, _)| *i == id));
    }
}
