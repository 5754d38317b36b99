//! One client connection: its socket, the bytes it sent that are not yet a whole frame, and
//! the responses waiting for the socket to take them.

use std::io::{self, Read};
use std::net::SocketAddr;

use mio::net::TcpStream;

use super::buffer::InBuf;
use crate::protocol::output::Output;
use crate::security::session::Session;

pub struct Connection {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    pub input: InBuf,
    /// Responses waiting for the socket to take them.
    pub out: Output,
    /// Whether WRITABLE interest is registered (only while output is pending).
    pub writable_interest: bool,
    /// Already on the loop's list of connections to flush this turn.
    pub queued: bool,
    /// Its current request waits in the broker; nothing more is handled until it is answered.
    pub parked: bool,
    /// The peer shut down its side; close once everything is answered.
    pub peer_closed: bool,
    /// When bytes last moved either way (connections.max.idle.ms).
    pub last_active: std::time::Instant,
    /// When the partial frame buffered now began to arrive: a request trickling in (a byte a
    /// second, or a size announced and never sent) is cut off by connections.max.idle.ms too.
    pub frame_started: Option<std::time::Instant>,
    /// Its listener and what it has proved (SASL).
    pub session: Session,
    /// Answered for the last time: close once the output is sent, read nothing more.
    pub closing: bool,
}

/// What reading found.
pub enum ReadOutcome {
    /// Drained the socket for now.
    Open,
    /// The peer closed its side.
    Closed,
    /// Stopped with a read budget's worth buffered and maybe more in the socket: read again
    /// next turn, once what is buffered has been handled.
    Budget,
}

/// Frame size prefix.
const SIZE_LEN: usize = 4;
/// Reading stops once this much (or the frame being completed) is buffered: a peer writing
/// faster than we drain must not grow the input buffer past it within one read call, or the
/// high-water mark on output would come too late to push back.
const READ_BUDGET: usize = 256 << 10;

impl Connection {
    pub fn new(stream: TcpStream, peer: SocketAddr, session: Session) -> Self {
        Connection {
            stream,
            peer,
            input: InBuf::new(),
            out: Output::new(),
            writable_interest: false,
            queued: false,
            parked: false,
            peer_closed: false,
            last_active: std::time::Instant::now(),
            frame_started: None,
            session,
            closing: false,
        }
    }

    /// Reads what the socket holds. `frame_hint` is the size of a frame known to be partly
    /// buffered, so one large read can take the rest of it. A read that leaves room unfilled
    /// has emptied the socket, and new bytes raise a new edge-triggered event, so reading
    /// stops there rather than paying a syscall for `WouldBlock` (as nginx does), unless
    /// `to_end` asks for a read to `WouldBlock` or end of stream: after a close or error was
    /// signalled, whose edge has passed, and when a held connection is resumed. Either way it
    /// stops at the read budget, and the caller resumes the connection later.
    pub fn read(&mut self, frame_hint: usize, to_end: bool) -> io::Result<ReadOutcome> {
        let budget = frame_hint.max(READ_BUDGET);
        loop {
            if self.input.unread().len() >= budget {
                return Ok(ReadOutcome::Budget);
            }
            let buf = self.input.spare(frame_hint);
            let room = buf.len();
            match self.stream.read(buf) {
                Ok(0) => return Ok(ReadOutcome::Closed),
                Ok(n) => {
                    self.input.commit(n);
                    self.last_active = std::time::Instant::now();
                    if n < room && !to_end {
                        return Ok(ReadOutcome::Open);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(ReadOutcome::Open),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The size of the first buffered frame, if its prefix has arrived. Negative sizes are
    /// returned as they are, for the caller to refuse.
    pub fn next_frame_size(&self) -> Option<i32> {
        let b = self.input.unread();
        (b.len() >= SIZE_LEN).then(|| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Whether a whole frame is buffered.
    pub fn has_frame(&self) -> bool {
        self.next_frame_size()
            .is_some_and(|s| s >= 0 && self.input.unread().len() >= SIZE_LEN + s as usize)
    }

    pub fn consume_frame(&mut self, size: usize) {
        self.input.consume(SIZE_LEN + size);
    }

    pub fn pending_out(&self) -> usize {
        self.out.pending()
    }

    /// Writes pending output until done or the socket would block.
    pub fn write(&mut self) -> io::Result<()> {
        self.last_active = std::time::Instant::now();
        self.out.write_to(&mut self.stream)
    }
}
