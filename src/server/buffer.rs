//! A connection's input buffer: bytes read from the socket and not yet consumed as frames.
//!
//! The storage stays initialised (zeroed once when it grows), so reads go straight into it
//! without `unsafe`; consumed bytes are reclaimed by moving the unread tail to the front only
//! when room is needed.

pub struct InBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
    read_size: usize,
}

/// Reads start this small, so a thousand quiet connections cost little memory...
const MIN_READ: usize = 4 * 1024;
/// ...and double, up to this, each time a read fills all the room it was given: a busy
/// connection is drained in few syscalls.
const MAX_READ: usize = 256 * 1024;
/// Buffers grown past this for a large frame are given back once idle; smaller ones are kept,
/// since freeing and re-zeroing them on every drained read costs more than it saves.
const KEEP_IDLE: usize = 1 << 20;

impl InBuf {
    pub fn new() -> Self {
        InBuf { data: Vec::new(), start: 0, end: 0, read_size: MIN_READ }
    }

    pub fn unread(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    pub fn consume(&mut self, n: usize) {
        self.start += n;
        debug_assert!(self.start <= self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Room to read into: at least `want` bytes (and the current read size), compacting or
    /// growing.
    pub fn spare(&mut self, want: usize) -> &mut [u8] {
        let want = want.max(self.read_size);
        if self.data.len() - self.end < want {
            if self.start > 0 {
                self.data.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.data.len() - self.end < want {
                self.data.resize(self.end + want, 0);
            }
        }
        &mut self.data[self.end..]
    }

    pub fn commit(&mut self, n: usize) {
        if self.end + n == self.data.len() {
            self.read_size = (self.read_size * 2).min(MAX_READ);
        }
        self.end += n;
        debug_assert!(self.end <= self.data.len());
    }

    /// Gives back memory a large frame needed once it has been consumed.
    pub fn shrink_if_idle(&mut self) {
        if self.start == self.end && self.data.len() > KEEP_IDLE {
            self.data = Vec::new();
            self.read_size = MIN_READ;
            self.start = 0;
            self.end = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_unread_bytes_across_compaction() {
        let mut b = InBuf::new();
        let s = b.spare(4);
        s[..4].copy_from_slice(b"abcd");
        b.commit(4);
        b.consume(2);
        assert_eq!(b.unread(), b"cd");
        let n = b.spare(2 << 20).len();
        assert!(n >= 2 << 20);
        assert_eq!(b.unread(), b"cd");
        b.consume(2);
        b.shrink_if_idle();
        assert!(b.unread().is_empty());
    }
}
