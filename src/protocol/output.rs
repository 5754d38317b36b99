//! A connection's reply list: encoded response bytes, with stretches of segment files spliced
//! in where a Fetch response carries records. Those stretches go from the page cache to the
//! socket by `sendfile(2)` and never pass through our memory, as Kafka's `FileRecords.writeTo`
//! does: a fetch costs the broker its response headers, not its record bytes.
//!
//! Handlers encode into it as into a `Vec<u8>` (it derefs to its bytes); only the fetch
//! encoder splices. The socket takes it in order: bytes up to the next splice, the splice,
//! and so on.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::ops::{Deref, DerefMut};
use std::os::fd::{AsFd, AsRawFd};

use crate::storage::FileSlice;

#[derive(Debug, Default)]
pub struct Output {
    bytes: Vec<u8>,
    /// File stretches to send after `bytes[..at]`, in order of `at`.
    splices: VecDeque<(usize, FileSlice)>,
    /// Total length of `splices`.
    splice_bytes: usize,
    /// `bytes[..sent]` have been written.
    sent: usize,
    /// Bytes of the first splice already written.
    spliced: usize,
}

/// Output buffers grown past this for a large response are given back once it is sent.
const KEEP_IDLE: usize = 4 << 20;
/// The sent head is moved out only past this size: each move copies the unsent tail, so it is
/// done when the copy is paid for by at least as many bytes sent.
const DROP_SENT_MIN: usize = 64 << 10;

impl Output {
    pub fn new() -> Output {
        Output::default()
    }

    /// Sends `slice` at this point of the stream.
    pub fn splice(&mut self, slice: FileSlice) {
        if slice.len > 0 {
            self.splice_bytes += slice.len;
            self.splices.push_back((self.bytes.len(), slice));
        }
    }

    /// Drops everything encoded from byte `len` on, splices included. A splice at exactly
    /// `len` ends the frame before and stays.
    pub fn truncate(&mut self, len: usize) {
        debug_assert!(len >= self.sent);
        self.bytes.truncate(len);
        while self.splices.back().is_some_and(|(at, _)| *at > len) {
            let (_, s) = self.splices.pop_back().expect("checked");
            self.splice_bytes -= s.len;
        }
    }

    /// The length of the stream from byte `at` on, spliced stretches included: the size of
    /// a frame that starts there.
    pub fn len_since(&self, at: usize) -> usize {
        let spliced: usize =
            self.splices.iter().rev().take_while(|(p, _)| *p > at).map(|(_, s)| s.len).sum();
        self.bytes.len() - at + spliced
    }

    /// Bytes not yet written to the socket.
    pub fn pending(&self) -> usize {
        self.bytes.len() - self.sent + self.splice_bytes - self.spliced
    }

    /// Moves the whole of `other` (nothing of it sent yet) to the end of this stream.
    pub fn append(&mut self, other: Output) {
        debug_assert_eq!(other.sent, 0);
        let base = self.bytes.len();
        self.bytes.extend_from_slice(&other.bytes);
        self.splice_bytes += other.splice_bytes;
        self.splices.extend(other.splices.into_iter().map(|(at, s)| (base + at, s)));
    }

    /// The whole stream, file stretches read in: what a socket would receive.
    #[cfg(test)]
    pub fn to_vec(&self) -> Vec<u8> {
        use std::os::unix::fs::FileExt;
        let mut v = Vec::with_capacity(self.len_since(0));
        let mut from = 0;
        for (at, s) in &self.splices {
            v.extend_from_slice(&self.bytes[from..*at]);
            let mut buf = vec![0; s.len];
            s.file.read_exact_at(&mut buf, s.position).expect("spliced file readable");
            v.extend_from_slice(&buf);
            from = *at;
        }
        v.extend_from_slice(&self.bytes[from..]);
        v
    }

    /// Writes until everything is sent or the socket is full. A write the socket takes only
    /// part of means it is full: the rest waits for writable readiness without a syscall
    /// spent on `WouldBlock`.
    pub fn write_to<W: Write + AsFd>(&mut self, w: &mut W) -> io::Result<()> {
        loop {
            let next = self.splices.front().map_or(self.bytes.len(), |(at, _)| *at);
            let result = if self.sent < next {
                match w.write(&self.bytes[self.sent..next]) {
                    Ok(0) => Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => {
                        self.sent += n;
                        Ok(self.sent == next)
                    }
                    Err(e) => Err(e),
                }
            } else if let Some((_, slice)) = self.splices.front() {
                let len = slice.len;
                send_file(w, slice, self.spliced).map(|n| {
                    self.spliced += n;
                    let whole = self.spliced == len;
                    if whole {
                        self.splice_bytes -= len;
                        self.spliced = 0;
                        self.splices.pop_front();
                    }
                    whole
                })
            } else {
                break;
            };
            match result {
                Ok(true) => {}
                Ok(false) => {
                    self.drop_sent();
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.drop_sent();
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.sent = 0;
        self.bytes.clear();
        if self.bytes.capacity() > KEEP_IDLE {
            self.bytes = Vec::new();
        }
        Ok(())
    }
}

impl Output {
    /// Gives back the sent head of the bytes once it is at least half of them. A client that
    /// reads slowly but never falls behind enough to empty its output would otherwise keep
    /// every byte ever sent to it: the high-water mark bounds what is unsent, not this.
    fn drop_sent(&mut self) {
        if self.sent >= DROP_SENT_MIN && self.sent * 2 >= self.bytes.len() {
            self.bytes.drain(..self.sent);
            // Splices all lie at or after `sent`: the stream is sent in order.
            for (at, _) in &mut self.splices {
                *at -= self.sent;
            }
            self.sent = 0;
        }
    }
}

impl AsMut<Vec<u8>> for Output {
    fn as_mut(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }
}

impl Deref for Output {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.bytes
    }
}

impl DerefMut for Output {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }
}

/// Sends part of `slice` from byte `done` on; how much was sent. A file that ends before the
/// slice does (it cannot shrink under a response: segments are only ever appended to) would
/// leave the frame short, so it is an error that closes the connection.
fn send_file<W: Write + AsFd>(w: &mut W, slice: &FileSlice, done: usize) -> io::Result<usize> {
    let n = match sys::send_file(w, slice, done) {
        Err(e) if matches!(e.kind(), io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported) => {
            // A file or socket sendfile refuses: the bytes go through a buffer instead.
            through_buffer(w, slice, done)?
        }
        n => n?,
    };
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "segment file ended inside a response",
        ));
    }
    Ok(n)
}

/// Sends part of `slice` from byte `done` on by reading it into a buffer and writing that;
/// what the socket does not take is read again next time.
fn through_buffer<W: Write>(w: &mut W, slice: &FileSlice, done: usize) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0; (slice.len - done).min(64 << 10)];
    let n = slice.file.read_at(&mut buf, slice.position + done as u64)?;
    if n == 0 {
        return Ok(0);
    }
    w.write(&buf[..n])
}

#[cfg(target_os = "linux")]
mod sys {
    use super::*;
    use std::os::raw::c_int;

    extern "C" {
        // off_t is 64 bits on the 64-bit targets this builds for.
        fn sendfile(out_fd: c_int, in_fd: c_int, offset: *mut i64, count: usize) -> isize;
    }

    pub fn send_file<W: AsFd>(w: &mut W, slice: &FileSlice, done: usize) -> io::Result<usize> {
        let mut offset = (slice.position + done as u64) as i64;
        let count = slice.len - done;
        // SAFETY: both descriptors are open for the duration of the call and `offset` is a
        // valid i64 the kernel may update.
        let n =
            unsafe { sendfile(w.as_fd().as_raw_fd(), slice.file.as_raw_fd(), &mut offset, count) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    pub use super::through_buffer as send_file;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::Read;
    use std::os::unix::net::UnixStream;
    use std::rc::Rc;

    fn temp_file(name: &str, content: &[u8]) -> (crate::testutil::TempDir, Rc<File>) {
        let d = crate::testutil::TempDir::new(name);
        let p = d.join("f");
        std::fs::write(&p, content).unwrap();
        let f = Rc::new(File::open(&p).unwrap());
        (d, f)
    }

    #[test]
    fn splices_keep_their_place_in_the_stream_and_frames_count_them() {
        let (_d, f) = temp_file("out-splice", b"0123456789");
        let mut out = Output::new();
        out.extend_from_slice(b"ab");
        out.splice(FileSlice { file: Rc::clone(&f), position: 2, len: 3 });
        let frame = out.len();
        out.extend_from_slice(b"cd");
        out.splice(FileSlice { file: Rc::clone(&f), position: 7, len: 2 });
        assert_eq!(out.len_since(0), 9);
        assert_eq!(out.len_since(frame), 4);
        assert_eq!(out.pending(), 9);
        // Dropping the second frame keeps the splice that ended the first.
        out.truncate(frame);
        assert_eq!(out.len_since(0), 5);
        out.extend_from_slice(b"e");
        let mut other = Output::new();
        other.extend_from_slice(b"f");
        other.splice(FileSlice { file: f, position: 0, len: 1 });
        out.append(other);
        assert_eq!(out.pending(), 8);
    }

    /// A reader that keeps up but never catches up: responses keep arriving while earlier ones
    /// wait, so the output never empties, yet what was sent is given back and the stream
    /// arrives whole and in order.
    #[test]
    fn the_sent_head_is_given_back_while_output_is_pending() {
        let (mut tx, mut rx) = UnixStream::pair().unwrap();
        tx.set_nonblocking(true).unwrap();
        let mut out = Output::new();
        let mut expected: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8).collect();
        out.extend_from_slice(&expected);
        out.write_to(&mut tx).unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0; 50_000];
        for i in 0..400u32 {
            let chunk = vec![i as u8; 50_000];
            out.extend_from_slice(&chunk);
            expected.extend_from_slice(&chunk);
            rx.read_exact(&mut buf).unwrap();
            got.extend_from_slice(&buf);
            out.write_to(&mut tx).unwrap();
            assert!(out.pending() > 0, "the reader stays behind");
            assert!(out.len() <= 2 * out.pending() + DROP_SENT_MIN, "round {i}: {}", out.len());
        }
        while out.pending() > 0 {
            out.write_to(&mut tx).unwrap();
            let n = rx.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        tx.shutdown(std::net::Shutdown::Write).unwrap();
        rx.read_to_end(&mut got).unwrap();
        assert!(got == expected);
    }

    #[test]
    fn a_socket_receives_bytes_and_file_stretches_in_order_across_would_block() {
        let content: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
        let (_d, f) = temp_file("out-write", &content);
        let mut out = Output::new();
        let mut expected = Vec::new();
        for (i, (pos, len)) in
            [(0u64, 300_000usize), (123, 7), (299_999, 300_001)].into_iter().enumerate()
        {
            let head = vec![b'a' + i as u8; 70_000 * (i + 1)];
            out.extend_from_slice(&head);
            expected.extend_from_slice(&head);
            out.splice(FileSlice { file: Rc::clone(&f), position: pos, len });
            expected.extend_from_slice(&content[pos as usize..pos as usize + len]);
        }
        out.extend_from_slice(b"end");
        expected.extend_from_slice(b"end");
        assert_eq!(out.pending(), expected.len());
        let (mut tx, mut rx) = UnixStream::pair().unwrap();
        tx.set_nonblocking(true).unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0; 1 << 16];
        let mut blocked = 0;
        while out.pending() > 0 || got.len() < expected.len() {
            let before = out.pending();
            out.write_to(&mut tx).unwrap();
            blocked += usize::from(out.pending() > 0 && out.pending() <= before);
            let n = rx.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        assert!(blocked > 0, "the socket buffer never filled: would-block went untested");
        assert_eq!(got.len(), expected.len());
        assert!(got == expected, "stream differs from bytes and splices in order");
        assert!(out.is_empty() && out.pending() == 0);
    }

    #[test]
    fn the_buffered_fallback_sends_the_same_bytes() {
        let content: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
        let (_d, f) = temp_file("out-fallback", &content);
        let slice = FileSlice { file: f, position: 1000, len: 150_000 };
        let mut got = Vec::new();
        let mut done = 0;
        while done < slice.len {
            let n = through_buffer(&mut got, &slice, done).unwrap();
            assert!(n > 0);
            done += n;
        }
        assert!(got == content[1000..151_000], "bytes differ");
    }

    #[test]
    fn a_file_shorter_than_its_splice_is_an_error_not_a_short_frame() {
        let (_d, f) = temp_file("out-short", b"0123");
        let mut out = Output::new();
        out.splice(FileSlice { file: f, position: 2, len: 10 });
        let (mut tx, _rx) = UnixStream::pair().unwrap();
        tx.set_nonblocking(true).unwrap();
        // The first call sends the two bytes there are (a short send, taken for a full socket);
        // the next finds the end of the file.
        out.write_to(&mut tx).unwrap();
        assert_eq!(out.pending(), 8);
        let e = out.write_to(&mut tx).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }
}
