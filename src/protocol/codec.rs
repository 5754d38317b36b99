//! Kafka's wire primitives.
//!
//! Classic encodings use fixed-width length prefixes (int16 for strings, int32 for bytes and
//! arrays, -1 for null); "flexible" (compact) encodings, used from each API's first flexible
//! version on, use an unsigned varint holding length + 1 (0 for null) and end every struct with
//! tagged fields. Every length read from the wire is checked against the bytes left before
//! anything is allocated or sliced, so a hostile length cannot make us allocate or panic.

use std::fmt;

/// Why a buffer could not be decoded. Carries a static reason for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for DecodeError {}

pub type Result<T> = std::result::Result<T, DecodeError>;

pub type Uuid = [u8; 16];
pub const ZERO_UUID: Uuid = [0; 16];

/// How many elements to reserve for a count read from the wire. A count is only known to be
/// at most the bytes left, and one byte of input can decode to a much larger element, so
/// reserve little and let the vector grow with what actually decodes.
pub fn capacity_for(count: usize) -> usize {
    count.min(64)
}

/// A cursor over borrowed bytes; every read is bounds-checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

macro_rules! read_be {
    ($name:ident, $t:ty) => {
        pub fn $name(&mut self) -> Result<$t> {
            const N: usize = std::mem::size_of::<$t>();
            let b = self.take(N)?;
            let mut a = [0u8; N];
            a.copy_from_slice(b);
            Ok(<$t>::from_be_bytes(a))
        }
    };
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(DecodeError("field runs past the end of the buffer"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    read_be!(i8, i8);
    read_be!(i16, i16);
    read_be!(i32, i32);
    read_be!(i64, i64);
    read_be!(u16, u16);
    read_be!(u32, u32);

    pub fn bool(&mut self) -> Result<bool> {
        Ok(self.i8()? != 0)
    }

    pub fn uuid(&mut self) -> Result<Uuid> {
        let mut u = ZERO_UUID;
        u.copy_from_slice(self.take(16)?);
        Ok(u)
    }

    pub fn uvarint(&mut self) -> Result<u32> {
        let v = self.uvarlong()?;
        u32::try_from(v).map_err(|_| DecodeError("unsigned varint out of range"))
    }

    pub fn uvarlong(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = self.take(1)?[0];
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError("varint longer than 10 bytes"))
    }

    /// Zig-zag signed varint (record fields).
    pub fn varint(&mut self) -> Result<i32> {
        let v = self.uvarint()?;
        Ok(((v >> 1) as i32) ^ -((v & 1) as i32))
    }

    pub fn varlong(&mut self) -> Result<i64> {
        let v = self.uvarlong()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// Length of a string/bytes/array: `None` for null.
    fn length(&mut self, flexible: bool, classic16: bool) -> Result<Option<usize>> {
        let n: i64 = if flexible {
            i64::from(self.uvarint()?) - 1
        } else if classic16 {
            i64::from(self.i16()?)
        } else {
            i64::from(self.i32()?)
        };
        if n < -1 {
            return Err(DecodeError("negative length"));
        }
        if n == -1 {
            return Ok(None);
        }
        Ok(Some(n as usize))
    }

    pub fn nullable_string(&mut self, flexible: bool) -> Result<Option<&'a str>> {
        match self.length(flexible, true)? {
            None => Ok(None),
            Some(n) => std::str::from_utf8(self.take(n)?)
                .map(Some)
                .map_err(|_| DecodeError("string is not UTF-8")),
        }
    }

    pub fn string(&mut self, flexible: bool) -> Result<&'a str> {
        self.nullable_string(flexible)?.ok_or(DecodeError("null where a string is required"))
    }

    pub fn nullable_bytes(&mut self, flexible: bool) -> Result<Option<&'a [u8]>> {
        match self.length(flexible, false)? {
            None => Ok(None),
            Some(n) => self.take(n).map(Some),
        }
    }

    /// Element count of an array, `None` for null. Every element takes at least one byte, so a
    /// count above the bytes left is rejected before the caller reserves space for it.
    pub fn array_len(&mut self, flexible: bool) -> Result<Option<usize>> {
        let n = self.length(flexible, false)?;
        if let Some(n) = n {
            if n > self.remaining() {
                return Err(DecodeError("array count exceeds the bytes left"));
            }
        }
        Ok(n)
    }

    /// Reads `count` elements with `f`; a null array reads as empty.
    pub fn array<T>(
        &mut self,
        flexible: bool,
        mut f: impl FnMut(&mut Reader<'a>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let n = self.array_len(flexible)?.unwrap_or(0);
        let mut v = Vec::with_capacity(capacity_for(n));
        for _ in 0..n {
            v.push(f(self)?);
        }
        Ok(v)
    }

    pub fn i32_array(&mut self, flexible: bool) -> Result<Vec<i32>> {
        self.array(flexible, |r| r.i32())
    }

    /// Reads a tagged-field section, handing each field's bytes to `f` (which may ignore
    /// unknown tags: their bytes are skipped either way).
    pub fn tagged_fields(
        &mut self,
        mut f: impl FnMut(u32, &mut Reader<'a>) -> Result<()>,
    ) -> Result<()> {
        let count = self.uvarint()?;
        let mut last: Option<u32> = None;
        for _ in 0..count {
            let tag = self.uvarint()?;
            if last.is_some_and(|l| tag <= l) {
                return Err(DecodeError("tagged fields out of order"));
            }
            last = Some(tag);
            let size = self.uvarint()? as usize;
            let mut field = Reader::new(self.take(size)?);
            f(tag, &mut field)?;
        }
        Ok(())
    }

    pub fn skip_tagged_fields(&mut self) -> Result<()> {
        self.tagged_fields(|_, _| Ok(()))
    }

    /// Skips tagged fields when `flexible`; a no-op for classic versions.
    pub fn end_struct(&mut self, flexible: bool) -> Result<()> {
        if flexible {
            self.skip_tagged_fields()
        } else {
            Ok(())
        }
    }
}

/// Encoders for the same primitives, appended to a byte vector.
pub trait Put {
    fn put_i8(&mut self, v: i8);
    fn put_i16(&mut self, v: i16);
    fn put_i32(&mut self, v: i32);
    fn put_i64(&mut self, v: i64);
    fn put_u32(&mut self, v: u32);
    fn put_bool(&mut self, v: bool);
    fn put_uuid(&mut self, v: &Uuid);
    fn put_uvarint(&mut self, v: u64);
    fn put_varint(&mut self, v: i32);
    fn put_varlong(&mut self, v: i64);
    fn put_string(&mut self, s: &str, flexible: bool);
    fn put_nullable_string(&mut self, s: Option<&str>, flexible: bool);
    fn put_nullable_bytes(&mut self, b: Option<&[u8]>, flexible: bool);
    /// Writes an array count; `None` writes null.
    fn put_array_len(&mut self, n: Option<usize>, flexible: bool);
    fn put_i32_array(&mut self, v: &[i32], flexible: bool);
    /// An empty tagged-field section in flexible versions; nothing in classic ones.
    fn put_empty_tags(&mut self, flexible: bool);
}

impl Put for Vec<u8> {
    fn put_i8(&mut self, v: i8) {
        self.push(v as u8);
    }
    fn put_i16(&mut self, v: i16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_i32(&mut self, v: i32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_i64(&mut self, v: i64) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_bool(&mut self, v: bool) {
        self.push(v as u8);
    }
    fn put_uuid(&mut self, v: &Uuid) {
        self.extend_from_slice(v);
    }
    fn put_uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.push(v as u8);
    }
    fn put_varint(&mut self, v: i32) {
        self.put_uvarint(u64::from(((v << 1) ^ (v >> 31)) as u32));
    }
    fn put_varlong(&mut self, v: i64) {
        self.put_uvarint(((v << 1) ^ (v >> 63)) as u64);
    }
    fn put_string(&mut self, s: &str, flexible: bool) {
        self.put_nullable_string(Some(s), flexible);
    }
    fn put_nullable_string(&mut self, s: Option<&str>, flexible: bool) {
        match (s, flexible) {
            (None, true) => self.put_uvarint(0),
            (None, false) => self.put_i16(-1),
            (Some(s), true) => {
                self.put_uvarint(s.len() as u64 + 1);
                self.extend_from_slice(s.as_bytes());
            }
            (Some(s), false) => {
                self.put_i16(s.len() as i16);
                self.extend_from_slice(s.as_bytes());
            }
        }
    }
    fn put_nullable_bytes(&mut self, b: Option<&[u8]>, flexible: bool) {
        self.put_array_len(b.map(<[u8]>::len), flexible);
        if let Some(b) = b {
            self.extend_from_slice(b);
        }
    }
    fn put_array_len(&mut self, n: Option<usize>, flexible: bool) {
        match (n, flexible) {
            (None, true) => self.put_uvarint(0),
            (None, false) => self.put_i32(-1),
            (Some(n), true) => self.put_uvarint(n as u64 + 1),
            (Some(n), false) => self.put_i32(n as i32),
        }
    }
    fn put_i32_array(&mut self, v: &[i32], flexible: bool) {
        self.put_array_len(Some(v.len()), flexible);
        for x in v {
            self.put_i32(*x);
        }
    }
    fn put_empty_tags(&mut self, flexible: bool) {
        if flexible {
            self.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_match_kafka_bytes() {
        let mut b = Vec::new();
        b.put_varint(-1);
        b.put_varint(150);
        b.put_uvarint(300);
        assert_eq!(b, [0x01, 0xac, 0x02, 0xac, 0x02]);
        let mut r = Reader::new(&b);
        assert_eq!(r.varint().unwrap(), -1);
        assert_eq!(r.varint().unwrap(), 150);
        assert_eq!(r.uvarint().unwrap(), 300);
        assert_eq!(r.remaining(), 0);
        let mut b = Vec::new();
        b.put_varlong(i64::MIN);
        assert_eq!(Reader::new(&b).varlong().unwrap(), i64::MIN);
    }

    #[test]
    fn compact_and_classic_strings() {
        let mut b = Vec::new();
        b.put_string("foo", true);
        b.put_nullable_string(None, true);
        b.put_string("ab", false);
        b.put_nullable_string(None, false);
        assert_eq!(b, [4, b'f', b'o', b'o', 0, 0, 2, b'a', b'b', 0xff, 0xff]);
        let mut r = Reader::new(&b);
        assert_eq!(r.string(true).unwrap(), "foo");
        assert_eq!(r.nullable_string(true).unwrap(), None);
        assert_eq!(r.string(false).unwrap(), "ab");
        assert!(r.string(false).is_err());
    }

    #[test]
    fn hostile_lengths_are_rejected_before_allocation() {
        let mut r = Reader::new(&[0x7f, 0xff, 0xff, 0xff]);
        assert!(r.array_len(false).is_err());
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(r.array_len(true).is_err());
        let mut r = Reader::new(&[0x00, 0x10, b'a']);
        assert!(r.string(false).is_err());
        let mut r = Reader::new(&[0x80; 11]);
        assert!(r.uvarlong().is_err());
    }

    #[test]
    fn tagged_fields_are_skipped_and_checked() {
        // two tags: 0 with 2 bytes, 5 with 1 byte
        let b = [2, 0, 2, 0xaa, 0xbb, 5, 1, 0xcc, 0x99];
        let mut r = Reader::new(&b);
        let mut seen = Vec::new();
        r.tagged_fields(|t, f| {
            seen.push((t, f.remaining()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, [(0, 2), (5, 1)]);
        assert_eq!(r.rest(), [0x99]);
        let bad = [2, 5, 0, 0, 0];
        assert!(Reader::new(&bad).skip_tagged_fields().is_err());
        let short = [1, 0, 9, 1];
        assert!(Reader::new(&short).skip_tagged_fields().is_err());
    }
}
