//! A connection's input buffer: bytes read from the socket and not yet consumed as frames.
//!
//! The storage stays initialised (zeroed once when it grows), so reads go straight into it
//! without `unsafe`; consumed bytes are reclaimed by moving the unread tail to the front only
//! when room is needed.

pub struct InBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

/// Read this much at a time at least, and keep this much when idle.
const MIN_READ: usize = 16 * 1024;

impl InBuf {
    pub fn new() -> Self {
        InBuf { data: Vec::new(), start: 0, end: 0 }
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

    /// Room to read into: at least `want` bytes (and `MIN_READ`), compacting or growing.
    pub fn spare(&mut self, want: usize) -> &mut [u8] {
        let want = want.max(MIN_READ);
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
        self.end += n;
        debug_assert!(self.end <= self.data.len());
    }

    /// Gives back memory a large frame needed once it has been consumed.
    pub fn shrink_if_idle(&mut self) {
        if self.start == self.end && self.data.len() > 4 * MIN_READ {
            self.data = Vec::new();
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
        let n = b.spare(1 << 20).len();
        assert!(n >= 1 << 20);
        assert_eq!(b.unread(), b"cd");
        b.consume(2);
        b.shrink_if_idle();
        assert!(b.unread().is_empty());
    }
}
