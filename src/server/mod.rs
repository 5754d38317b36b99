//! The reactor: one mio `Poll` owning the listener and every connection (in a `Slab`, keyed
//! by token). A turn of the loop reads every ready socket (up to a budget: what is left is read
//! next turn), handles each whole frame inline, then — like Redis before it sleeps — writes the
//! turn's appends to the partition files once, and only then hands the turn's responses to the
//! sockets.
//!
//! A connection stops being read while its request is parked (a Fetch waiting for data) or
//! while too much of its output is unsent; it is put on the `resume` list when that ends and
//! read again at the start of the next turn, never in the middle of one, so that no response
//! can reach a socket before the appends it acknowledges reach their files.

mod buffer;
mod conn;
mod limits;
mod signals;

pub use limits::parse_overrides as parse_connection_overrides;

use std::io;
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

use crate::broker::{Broker, Handled};
use crate::security::session::Session;
use conn::{Connection, ReadOutcome};

const STOP: Token = Token(usize::MAX);

/// Listener `i` polls as token `usize::MAX - 1 - i`, far above any slab key.
fn listener_token(i: usize) -> Token {
    Token(usize::MAX - 1 - i)
}

fn listener_index(token: Token, listeners: usize) -> Option<usize> {
    let i = (usize::MAX - 1).checked_sub(token.0)?;
    (i < listeners).then_some(i)
}
/// Stop handling a connection's requests while this much output waits for its socket: a
/// client that does not read its responses gets TCP back-pressure, not our memory.
const OUTPUT_HIGH_WATER: usize = 8 << 20;
/// How far ahead of the bytes received a connection's input buffer may grow for a frame.
const FRAME_GROWTH: usize = 1 << 20;
/// Appends waiting for the end of a turn past which the turn ends early: a group commit of
/// this size already amortises the write, and answering sooner keeps pipelined clients busy.
const EARLY_FLUSH_BYTES: usize = 64 << 10;

pub struct Server {
    poll: Poll,
    /// The client listeners, in `config.listeners` order.
    listeners: Vec<TcpListener>,
    conns: Slab<Connection>,
    broker: Broker,
    /// Connections with output produced this turn.
    to_flush: Vec<usize>,
    /// Connections to read and handle again at the start of the next turn.
    resume: Vec<usize>,
    limits: limits::Limits,
    /// Accepting stopped at max.connections; resumed when a connection closes.
    accept_paused: bool,
}

impl Server {
    pub fn bind(broker: Broker) -> io::Result<Server> {
        let poll = Poll::new()?;
        let mut broker = broker;
        let mut listeners = Vec::new();
        for (i, l) in broker.config.listeners.iter_mut().enumerate() {
            let mut listener = TcpListener::bind(l.bind)
                .map_err(|e| io::Error::new(e.kind(), format!("listener {}: {e}", l.name)))?;
            poll.registry().register(&mut listener, listener_token(i), Interest::READABLE)?;
            if l.advertised_port == 0 {
                // Listening on port 0 picks a free port: clients must be told the real one.
                l.advertised_port = listener.local_addr()?.port();
            }
            listeners.push(listener);
        }
        broker.config.advertised_port = broker.config.listeners[0].advertised_port;
        signals::install(poll.registry(), STOP)?;
        Ok(Server {
            poll,
            listeners,
            conns: Slab::new(),
            limits: limits::Limits::new(&broker.config),
            broker,
            to_flush: Vec::new(),
            resume: Vec::new(),
            accept_paused: false,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listeners[0].local_addr()
    }

    pub fn run(&mut self, started: Instant) -> io::Result<()> {
        // The other listeners first: a client that waits for "listening on" finds them all.
        for (i, l) in self.broker.config.listeners.iter().enumerate().skip(1) {
            log::info!(
                "listener {} on {} ({:?}{}{})",
                l.name,
                self.listeners[i].local_addr()?,
                l.protocol,
                if l.mechanisms.is_empty() { "" } else { ", mechanisms " },
                l.mechanisms.join(","),
            );
        }
        log::info!(
            "listening on {} (node.id {}, advertised {}:{}, log dir {}, {} topics, {} partitions, started in {:.1} ms)",
            self.local_addr()?,
            self.broker.config.node_id,
            self.broker.config.advertised_host,
            self.broker.config.advertised_port,
            self.broker.config.log_dir.display(),
            self.broker.meta.topics().count(),
            self.broker.logs.total_partitions(),
            started.elapsed().as_secs_f64() * 1e3,
        );
        let mut events = Events::with_capacity(1024);
        while !signals::stop_requested() {
            let timeout = if self.resume.is_empty() {
                let now = Instant::now();
                let idle = self.limits.next_idle_check().saturating_duration_since(now);
                Some(self.broker.next_timeout().map_or(idle, |t| t.min(idle)))
            } else {
                Some(Duration::ZERO)
            };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            for id in std::mem::take(&mut self.resume) {
                self.readable(id, true);
            }
            for ev in events.iter() {
                match ev.token() {
                    STOP => {}
                    t if listener_index(t, self.listeners.len()).is_some() => self.accept_all(),
                    Token(id) => {
                        let closing = ev.is_read_closed() || ev.is_error();
                        if ev.is_readable() || closing {
                            self.readable(id, closing);
                        }
                        if ev.is_writable() {
                            self.queue_flush(id);
                        }
                    }
                }
            }
            self.end_turn();
            self.close_idle();
        }
        log::info!("stopping: writing the logs and Kafka's checkpoints");
        let started = Instant::now();
        self.broker.shutdown()?;
        log::info!("stopped cleanly in {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
        Ok(())
    }

    fn accept_all(&mut self) {
        for i in 0..self.listeners.len() {
            self.accept(i);
        }
    }

    fn accept(&mut self, listener: usize) {
        loop {
            if !self.limits.room() {
                // Kafka's acceptor waits at max.connections: the rest stay in the backlog.
                if !self.accept_paused {
                    log::info!("max.connections reached: accepting again when one closes");
                }
                self.accept_paused = true;
                return;
            }
            self.accept_paused = false;
            match self.listeners[listener].accept() {
                Ok((mut stream, peer)) => {
                    if !self.limits.admit(peer.ip()) {
                        log::info!(
                            "closing connection from {peer}: max.connections.per.ip reached for {}",
                            peer.ip()
                        );
                        continue;
                    }
                    let _ = stream.set_nodelay(true);
                    let entry = self.conns.vacant_entry();
                    let token = Token(entry.key());
                    if let Err(e) =
                        self.poll.registry().register(&mut stream, token, Interest::READABLE)
                    {
                        log::warn!("cannot register connection from {peer}: {e}");
                        self.limits.release(peer.ip());
                        continue;
                    }
                    log::debug!("accepted {peer} as connection {}", token.0);
                    let sasl = self.broker.config.listeners[listener].protocol
                        == crate::listeners::SecurityProtocol::SaslPlaintext;
                    entry.insert(Connection::new(stream, peer, Session::new(listener, sasl)));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // Out of descriptors, most likely: keep serving the connections we have.
                    log::warn!("accept failed: {e}");
                    return;
                }
            }
        }
    }

    /// Whether a connection must not be read now; it is resumed when that changes.
    fn held(conn: &Connection) -> bool {
        conn.parked || conn.closing || conn.pending_out() >= OUTPUT_HIGH_WATER
    }

    /// Reads what the socket has (to its end if `to_end`, see [`Connection::read`]) and
    /// handles every whole frame in it.
    fn readable(&mut self, id: usize, to_end: bool) {
        let Some(conn) = self.conns.get_mut(id) else { return };
        if Self::held(conn) {
            return;
        }
        // Room for the rest of a frame whose size has arrived, but never more than a little
        // beyond what the peer has sent: a size prefix alone must not make us allocate.
        let buffered = conn.input.unread().len();
        let hint = conn
            .next_frame_size()
            .map_or(0, |s| (s.max(0) as usize + 4).min(buffered + FRAME_GROWTH));
        let outcome = conn.read(hint, to_end);
        let result = self.handle_frames(id);
        match (outcome, result) {
            (_, Err(reason)) => self.close(id, &reason),
            (Err(e), Ok(())) => self.close(id, &format!("read failed: {e}")),
            (Ok(ReadOutcome::Closed), Ok(())) => self.close_after_flush(id),
            (Ok(ReadOutcome::Open), Ok(())) => {}
            (Ok(ReadOutcome::Budget), Ok(())) => {
                // The socket may hold more and no new edge will say so. A connection held now
                // is resumed when that ends (its output drains, its request is answered).
                if self.conns.get(id).is_some_and(|c| !Self::held(c)) {
                    self.resume.push(id);
                }
            }
        }
    }

    fn handle_frames(&mut self, id: usize) -> Result<(), String> {
        let max = self.broker.config.socket_request_max_bytes;
        let mut handled = false;
        loop {
            let Some(conn) = self.conns.get_mut(id) else { return Ok(()) };
            if Self::held(conn) {
                break;
            }
            let Some(size) = conn.next_frame_size() else { break };
            if size < 0 || size as usize > max {
                return Err(format!(
                    "frame of {size} bytes is outside 0..={max} (socket.request.max.bytes)"
                ));
            }
            let size = size as usize;
            // Field by field, so the frame can borrow the input while responses go to output.
            let Some(frame) = conn.input.unread().get(4..4 + size) else { break };
            // A bug in one handler must cost one connection, not the broker.
            let broker = &mut self.broker;
            let (out, peer, session) = (&mut conn.out, conn.peer, &mut conn.session);
            let handle = || broker.handle_session(id, peer, session, frame, out);
            match panic::catch_unwind(AssertUnwindSafe(handle)) {
                Ok(Ok(Handled::Done)) => handled = true,
                Ok(Ok(Handled::CloseAfterResponse(reason))) => {
                    log::info!("closing connection from {peer} once answered: {reason}");
                    conn.closing = true;
                    handled = true;
                }
                Ok(Ok(Handled::Parked)) => conn.parked = true,
                Ok(Err(close)) => return Err(close.0),
                Err(_) => return Err("internal error handling its request".to_string()),
            }
            conn.consume_frame(size);
            if self.broker.pending_append_bytes() >= EARLY_FLUSH_BYTES {
                // Much is appended already: write it and answer for it now, so the clients
                // can send more while the rest of the turn is handled.
                if std::mem::take(&mut handled) {
                    self.queue_flush(id);
                }
                self.end_turn();
            }
        }
        if let Some(conn) = self.conns.get_mut(id) {
            conn.input.shrink_if_idle();
            if conn.input.unread().is_empty() {
                conn.frame_started = None;
            } else if handled || conn.frame_started.is_none() {
                conn.frame_started = Some(Instant::now());
            }
        }
        if handled {
            self.queue_flush(id);
        }
        Ok(())
    }

    fn queue_flush(&mut self, id: usize) {
        if let Some(conn) = self.conns.get_mut(id) {
            if !conn.queued {
                conn.queued = true;
                self.to_flush.push(id);
            }
        }
    }

    /// The peer closed its side: answer what it sent before, then let go of it.
    fn close_after_flush(&mut self, id: usize) {
        if let Some(conn) = self.conns.get_mut(id) {
            if conn.pending_out() == 0 && !conn.parked {
                self.close(id, "");
            } else {
                conn.peer_closed = true;
            }
        }
    }

    /// Writes the turn's appends, then sends the turn's responses.
    fn end_turn(&mut self) {
        let end = self.broker.end_turn();
        for id in end.close {
            self.close(id, "its acknowledged append could not be written");
        }
        for (id, at) in end.withdrawn {
            if let Some(conn) = self.conns.get_mut(id) {
                crate::broker::withdraw_produce_answer(&mut conn.out, at);
            }
        }
        for (id, frame) in end.ready {
            let Some(conn) = self.conns.get_mut(id) else { continue };
            conn.out.append(frame);
            conn.parked = false;
            self.queue_flush(id);
            self.resume.push(id);
        }
        for i in 0..self.to_flush.len() {
            let id = self.to_flush[i];
            self.flush(id);
        }
        self.to_flush.clear();
        self.broker.background();
    }

    fn flush(&mut self, id: usize) {
        let Some(conn) = self.conns.get_mut(id) else { return };
        conn.queued = false;
        let was_held = conn.pending_out() >= OUTPUT_HIGH_WATER;
        if let Err(e) = conn.write() {
            self.close(id, &format!("write failed: {e}"));
            return;
        }
        let pending = conn.pending_out();
        // Whole requests still buffered behind an answered parked one are handled first.
        let done_reading = conn.closing || (conn.peer_closed && !conn.has_frame());
        if done_reading && pending == 0 && !conn.parked {
            self.close(id, "");
            return;
        }
        let want_writable = pending > 0;
        if want_writable != conn.writable_interest {
            let interest = if want_writable {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            if let Err(e) = self.poll.registry().reregister(&mut conn.stream, Token(id), interest) {
                self.close(id, &format!("reregister failed: {e}"));
                return;
            }
            conn.writable_interest = want_writable;
        }
        if was_held && pending < OUTPUT_HIGH_WATER {
            self.resume.push(id);
        }
    }

    fn close(&mut self, id: usize, reason: &str) {
        let Some(mut conn) = self.conns.try_remove(id) else { return };
        self.broker.connection_closed(id);
        self.limits.release(conn.peer.ip());
        if reason.is_empty() {
            log::debug!("connection {id} from {} closed by peer", conn.peer);
        } else {
            log::warn!("closing connection from {}: {reason}", conn.peer);
        }
        let _ = self.poll.registry().deregister(&mut conn.stream);
        if self.accept_paused {
            self.accept_all();
        }
    }

    /// Closes connections idle past connections.max.idle.ms: nothing parked, nothing unsent,
    /// no bytes either way for that long (Kafka's `Selector` closes them the same way), or a
    /// request that has been arriving for longer than that (a slowloris).
    fn close_idle(&mut self) {
        let now = Instant::now();
        if !self.limits.idle_check_due(now) {
            return;
        }
        let idle = self.limits.idle_timeout();
        let stale: Vec<usize> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                let quiet = c.pending_out() == 0 && now.duration_since(c.last_active) > idle;
                let trickling = c.frame_started.is_some_and(|t| now.duration_since(t) > idle);
                !c.parked && (quiet || trickling)
            })
            .map(|(id, _)| id)
            .collect();
        for id in stale {
            self.close(id, &format!("idle for more than connections.max.idle.ms ({idle:?})"));
        }
    }
}
