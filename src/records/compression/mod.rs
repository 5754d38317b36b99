//! The record batch compression codecs, by the codec id in a batch's attributes (Kafka's
//! `CompressionType`): 1 gzip, 2 snappy, 3 lz4, 4 zstd. Written here because the broker takes
//! no codec crates; each file holds one codec, both directions.
//!
//! Decoders treat their input as hostile: every length is checked before it is used, output
//! never grows past the caller's `limit` (a decompression bomb is an error, not an
//! allocation), and malformed input is an error, never a panic.

mod checksum;
mod gzip;
mod lz4;
mod snappy;
mod zstd;

use std::fmt;

pub const NONE: i16 = 0;
pub const GZIP: i16 = 1;
pub const SNAPPY: i16 = 2;
pub const LZ4: i16 = 3;
pub const ZSTD: i16 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompressionError {
    /// The data is not valid for its codec (truncated, bad checksum, bad code...).
    Corrupt(&'static str),
    /// Decompressing would produce more than the limit allows.
    TooLarge,
    /// A codec id or codec feature this broker does not implement.
    Unsupported(&'static str),
}

impl fmt::Display for CompressionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompressionError::Corrupt(why) => write!(f, "corrupt compressed data: {why}"),
            CompressionError::TooLarge => f.write_str("decompressed data larger than the limit"),
            CompressionError::Unsupported(why) => write!(f, "unsupported compression: {why}"),
        }
    }
}

impl std::error::Error for CompressionError {}

pub type Result<T> = std::result::Result<T, CompressionError>;

pub(crate) fn corrupt<T>(why: &'static str) -> Result<T> {
    Err(CompressionError::Corrupt(why))
}

/// Kafka's name for a codec id, as `compression.type` spells it.
pub fn name(codec: i16) -> &'static str {
    match codec {
        NONE => "none",
        GZIP => "gzip",
        SNAPPY => "snappy",
        LZ4 => "lz4",
        ZSTD => "zstd",
        _ => "unknown",
    }
}

/// Decompresses `data` written with `codec`; more than `limit` bytes of output is an error.
pub fn decompress(codec: i16, data: &[u8], limit: usize) -> Result<Vec<u8>> {
    match codec {
        NONE if data.len() > limit => Err(CompressionError::TooLarge),
        NONE => Ok(data.to_vec()),
        GZIP => gzip::decompress(data, limit),
        SNAPPY => snappy::decompress(data, limit),
        LZ4 => lz4::decompress(data, limit),
        ZSTD => zstd::decompress(data, limit),
        _ => Err(CompressionError::Unsupported("unknown codec id")),
    }
}

/// Compresses `data` with `codec` in the framing Kafka's Java client writes. `level` is the
/// codec's level as Kafka's `compression.<codec>.level` names it (`None`: the codec's
/// default). An unknown codec id leaves the data as it is.
pub fn compress(codec: i16, data: &[u8], level: Option<i32>) -> Vec<u8> {
    match codec {
        GZIP => gzip::compress(data, level),
        SNAPPY => snappy::compress(data),
        LZ4 => lz4::compress(data, level),
        ZSTD => zstd::compress(data, level),
        _ => data.to_vec(),
    }
}

/// Output that refuses to grow past a limit, shared by the decoders.
pub(crate) struct Out {
    pub buf: Vec<u8>,
    limit: usize,
}

impl Out {
    pub fn new(limit: usize, hint: usize) -> Out {
        Out { buf: Vec::with_capacity(hint.min(limit).min(1 << 20)), limit }
    }

    pub fn room(&self, n: usize) -> Result<()> {
        if n > self.limit - self.buf.len() {
            Err(CompressionError::TooLarge)
        } else {
            Ok(())
        }
    }

    pub fn push(&mut self, b: u8) -> Result<()> {
        self.room(1)?;
        self.buf.push(b);
        Ok(())
    }

    pub fn extend(&mut self, b: &[u8]) -> Result<()> {
        self.room(b.len())?;
        self.buf.extend_from_slice(b);
        Ok(())
    }

    /// Copies `len` bytes starting `dist` back, overlapping as LZ77 copies do.
    pub fn copy_back(&mut self, dist: usize, len: usize) -> Result<()> {
        if dist == 0 || dist > self.buf.len() {
            return corrupt("match distance before the start of the output");
        }
        self.room(len)?;
        let start = self.buf.len() - dist;
        if dist >= len {
            self.buf.extend_from_within(start..start + len);
        } else {
            for i in 0..len {
                let b = self.buf[start + i];
                self.buf.push(b);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Inputs every codec must round-trip: empty, one byte, repetitive, text-like, random,
    /// and larger than 64 KiB (past one block of the block-based codecs).
    pub fn samples() -> Vec<Vec<u8>> {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut random = |n: usize| {
            (0..n)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    rng as u8
                })
                .collect::<Vec<u8>>()
        };
        let text: Vec<u8> = (0..5000)
            .flat_map(|i| {
                format!("record {i} of topic events, value {}\n", i * 7 % 13).into_bytes()
            })
            .collect();
        let mut mixed = random(40_000);
        mixed.extend_from_slice(&text[..60_000]);
        mixed.extend(random(300));
        mixed.extend(std::iter::repeat_n(b'z', 70_000));
        vec![
            Vec::new(),
            vec![7],
            b"abc".to_vec(),
            vec![0; 1000],
            b"abababababababababababababababab".repeat(50),
            random(100),
            random(70_000),
            text,
            mixed,
        ]
    }

    pub fn round_trips(codec: i16) {
        if std::env::var_os("CODEC_SIZES").is_some() {
            for s in samples() {
                eprintln!("{} {} -> {}", name(codec), s.len(), compress(codec, &s, None).len());
            }
        }
        for (i, s) in samples().into_iter().enumerate() {
            let c = compress(codec, &s, None);
            let d = decompress(codec, &c, s.len()).unwrap_or_else(|e| panic!("sample {i}: {e}"));
            assert!(d == s, "{} sample {i} differs after a round trip", name(codec));
            if s.len() >= 1000 && s[0] == s[1] {
                // Repetitive input must actually shrink.
                assert!(
                    c.len() < s.len() / 4,
                    "{} sample {i}: {} of {}",
                    name(codec),
                    c.len(),
                    s.len()
                );
            }
            if !s.is_empty() {
                assert_eq!(
                    decompress(codec, &c, s.len() - 1),
                    Err(CompressionError::TooLarge),
                    "{} sample {i}: limit",
                    name(codec)
                );
            }
        }
    }

    /// Truncations and bit flips of valid data must give an error or some output, never a
    /// panic (the checksums catch most flips; where a codec has none, any output will do).
    /// `framed`: the codec marks its end, so any truncation is an error.
    pub fn survives_damage(codec: i16, framed: bool) {
        for s in samples().into_iter().take(8) {
            let c = compress(codec, &s, None);
            for cut in (0..c.len()).step_by(c.len() / 25 + 1) {
                let r = decompress(codec, &c[..cut], 1 << 20);
                assert!(!framed || r.is_err(), "{} cut at {cut} accepted", name(codec));
            }
            for i in (0..c.len()).step_by(c.len() / 80 + 1) {
                for bit in [0x01, 0x10, 0x80] {
                    let mut bad = c.clone();
                    bad[i] ^= bit;
                    let _ = decompress(codec, &bad, 1 << 20);
                }
            }
        }
        let mut rng = 12345u32;
        for n in 0..300 {
            let junk: Vec<u8> = (0..n)
                .map(|_| {
                    rng = rng.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (rng >> 16) as u8
                })
                .collect();
            let _ = decompress(codec, &junk, 1 << 16);
        }
    }

    #[test]
    fn none_and_unknown_codecs() {
        assert_eq!(decompress(NONE, b"abc", 3).unwrap(), b"abc");
        assert_eq!(decompress(NONE, b"abc", 2), Err(CompressionError::TooLarge));
        assert!(matches!(decompress(7, b"abc", 10), Err(CompressionError::Unsupported(_))));
    }
}
