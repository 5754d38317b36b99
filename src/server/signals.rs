//! SIGTERM and SIGINT ask for a clean shutdown, as they do of Kafka.
//!
//! std has no signal API and the broker takes no crate beyond mio for it, so the C library's
//! `signal` (which std links already) installs a handler. The handler does two things that are
//! safe in a signal handler: it sets a flag, and it wakes the event loop through mio's
//! `Waker`, which on Linux is one `write` to an eventfd. The waker makes the request reach
//! the loop even when the signal lands between the loop's check of the flag and its wait.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use mio::{Registry, Token, Waker};

/// Same numbers on Linux, the BSDs and macOS.
const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

static REQUESTED: AtomicBool = AtomicBool::new(false);
static WAKER: OnceLock<Waker> = OnceLock::new();

extern "C" {
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
}

extern "C" fn on_signal(_: i32) {
    REQUESTED.store(true, Ordering::SeqCst);
    if let Some(w) = WAKER.get() {
        let _ = w.wake();
    }
}

/// Installs the handlers; the loop is woken with `token` when a stop is asked for.
pub fn install(registry: &Registry, token: Token) -> std::io::Result<()> {
    if WAKER.get().is_none() {
        let _ = WAKER.set(Waker::new(registry, token)?);
    }
    // SAFETY: `on_signal` only stores to an atomic and writes to an eventfd.
    unsafe {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
    }
    Ok(())
}

/// Whether a stop was asked for.
pub fn stop_requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}
