//! The baseline: a trivial in-process server over loopback that reads size-prefixed frames and
//! answers each with a frame of a fixed size carrying the request's correlation id, so the
//! same client code measures it and the broker. One blocking thread per connection.

use std::io::{BufReader, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use crate::wire::{self, read_frame};

pub struct Echo {
    pub port: u16,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Echo {
    /// Answers every request with a body of `response_len` bytes (at least 4).
    pub fn start(response_len: usize) -> std::io::Result<Echo> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let (stop, conns) = (Arc::clone(&stop), Arc::clone(&conns));
            thread::Builder::new().name("echo-accept".into()).spawn(move || {
                for s in listener.incoming() {
                    if stop.load(Ordering::Acquire) {
                        break;
                    }
                    let Ok(s) = s else { continue };
                    if let Ok(c) = s.try_clone() {
                        conns.lock().unwrap().push(c);
                    }
                    let _ = thread::Builder::new()
                        .name("echo-conn".into())
                        .spawn(move || serve(s, response_len.max(4)));
                }
            })?
        };
        Ok(Echo { port, stop, accept: Some(accept), conns })
    }
}

fn serve(s: TcpStream, response_len: usize) {
    let _ = s.set_nodelay(true);
    let Ok(mut w) = s.try_clone() else { return };
    let mut r = BufReader::with_capacity(64 * 1024, s);
    let mut req = Vec::new();
    let mut resp = vec![0u8; 4 + response_len];
    resp[..4].copy_from_slice(&(response_len as i32).to_be_bytes());
    while read_frame(&mut r, &mut req).is_ok() && req.len() >= 8 {
        // Request header: api_key(2) api_version(2) correlation_id(4).
        resp[4..8].copy_from_slice(&req[4..8]);
        if w.write_all(&resp).is_err() {
            break;
        }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the accept loop, then end every connection thread.
        let _ = TcpStream::connect_timeout(&wire::loopback(self.port), wire::IO_TIMEOUT);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }
}
