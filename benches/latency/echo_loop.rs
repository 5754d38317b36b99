//! The ceiling of a one-thread server on this machine: an echo on a single mio event loop, as
//! the broker is, answering each size-prefixed request with a frame of a fixed size carrying
//! its correlation id. It does the socket work any such server must (edge-triggered readiness,
//! reads drained until they would block, buffered output) and nothing else, so with many
//! connections it measures what the kernel's loopback TCP leaves to one thread.

use std::io::{self, ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use slab::Slab;

use crate::wire;

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
/// Connection tokens are their slab keys shifted past the two above.
const FIRST_CONN: usize = 2;
const READ_CHUNK: usize = 64 * 1024;
/// Same bound on a request as the client's on a response.
const MAX_FRAME: usize = 256 << 20;

pub struct EchoLoop {
    pub port: u16,
    stop: Arc<AtomicBool>,
    waker: Waker,
    thread: Option<JoinHandle<()>>,
}

impl EchoLoop {
    /// Answers every request with a body of `response_len` bytes (at least 4).
    pub fn start(response_len: usize) -> io::Result<EchoLoop> {
        let poll = Poll::new()?;
        let mut listener = TcpListener::bind(wire::loopback(0))?;
        let port = listener.local_addr()?.port();
        poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            thread::Builder::new().name("echo-loop".into()).spawn(move || {
                if let Err(e) = serve(poll, listener, &stop, response_len.max(4)) {
                    // The clients then fail on a closed or silent socket; this says why.
                    eprintln!("echo loop stopped: {e}");
                }
            })?
        };
        Ok(EchoLoop { port, stop, waker, thread: Some(thread) })
    }
}

impl Drop for EchoLoop {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.waker.wake();
        if let Some(h) = self.thread.take() {
            let _ = h.join();
        }
    }
}

struct Conn {
    stream: TcpStream,
    /// Received bytes not yet parsed into a whole frame.
    input: Vec<u8>,
    /// Responses not yet written, from `written` on.
    output: Vec<u8>,
    written: usize,
}

fn serve(mut poll: Poll, listener: TcpListener, stop: &AtomicBool, len: usize) -> io::Result<()> {
    let mut events = Events::with_capacity(1024);
    let mut conns: Slab<Conn> = Slab::new();
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut response = vec![0u8; 4 + len];
    response[..4].copy_from_slice(&(len as i32).to_be_bytes());
    loop {
        match poll.poll(&mut events, None) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            r => r?,
        }
        for ev in events.iter() {
            match ev.token() {
                WAKER if stop.load(Ordering::Acquire) => return Ok(()),
                WAKER => {}
                LISTENER => accept(&poll, &listener, &mut conns)?,
                Token(t) => {
                    let key = t - FIRST_CONN;
                    let Some(c) = conns.get_mut(key) else { continue };
                    let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
                    if !matches!(c.ready(readable, &mut chunk, &response), Ok(true)) {
                        let mut c = conns.remove(key);
                        let _ = poll.registry().deregister(&mut c.stream);
                    }
                }
            }
        }
    }
}

fn accept(poll: &Poll, listener: &TcpListener, conns: &mut Slab<Conn>) -> io::Result<()> {
    loop {
        let (mut stream, _) = match listener.accept() {
            Ok(s) => s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) if matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::ConnectionAborted) => {
                continue
            }
            Err(e) => return Err(e),
        };
        stream.set_nodelay(true)?;
        let slot = conns.vacant_entry();
        // Both interests once: readiness is edge-triggered, so writable readiness adds no
        // wake-ups while output flows freely, and output that backs up needs no re-registration.
        poll.registry().register(
            &mut stream,
            Token(FIRST_CONN + slot.key()),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        slot.insert(Conn { stream, input: Vec::new(), output: Vec::new(), written: 0 });
    }
}

impl Conn {
    /// Reads all that has arrived (if `readable`), queues a response per whole frame, and
    /// writes what the socket takes. Returns whether the connection stays open.
    fn ready(&mut self, readable: bool, chunk: &mut [u8], response: &[u8]) -> io::Result<bool> {
        let mut open = true;
        if readable {
            loop {
                match self.stream.read(chunk) {
                    Ok(0) => {
                        open = false;
                        break;
                    }
                    Ok(n) => self.input.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            self.answer(response)?;
        }
        if !open {
            return Ok(false);
        }
        self.flush()?;
        Ok(true)
    }

    fn answer(&mut self, response: &[u8]) -> io::Result<()> {
        let mut at = 0;
        while let Some(size) = self.input.get(at..at + 4) {
            let size = i32::from_be_bytes(size.try_into().unwrap());
            // Request header: api_key(2) api_version(2) correlation_id(4).
            if !(8..=MAX_FRAME as i32).contains(&size) {
                return Err(io::Error::new(ErrorKind::InvalidData, format!("frame size {size}")));
            }
            let end = at + 4 + size as usize;
            if self.input.len() < end {
                break;
            }
            let out = self.output.len();
            self.output.extend_from_slice(response);
            self.output[out + 4..out + 8].copy_from_slice(&self.input[at + 8..at + 12]);
            at = end;
        }
        self.input.drain(..at);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        while self.written < self.output.len() {
            match self.stream.write(&self.output[self.written..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.output.clear();
        self.written = 0;
        Ok(())
    }
}
