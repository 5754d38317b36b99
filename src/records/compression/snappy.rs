//! Snappy: raw blocks, and the xerial framing Kafka's Java client writes (`SnappyOutputStream`:
//! the magic "\x82SNAPPY\0", a version and a compatible version as big-endian int32s, then
//! blocks of at most 32 KiB input each as a big-endian int32 length and a raw snappy block).
//! librdkafka reads both and writes raw blocks; the broker reads both too.

use super::{corrupt, CompressionError, Out, Result};

const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
const XERIAL_HEADER: usize = 16;
/// `SnappyOutputStream`'s default block size, which Kafka keeps.
const XERIAL_BLOCK: usize = 32 * 1024;

pub fn decompress(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    if data.len() >= XERIAL_HEADER && data[..8] == XERIAL_MAGIC {
        let mut out = Out::new(limit, data.len() * 2);
        let mut rest = &data[XERIAL_HEADER..];
        while !rest.is_empty() {
            let Some(len) = rest.get(..4) else { return corrupt("xerial block length cut short") };
            let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
            let Some(block) = rest.get(4..4 + len) else {
                return corrupt("xerial block runs past the data");
            };
            raw(block, &mut out)?;
            rest = &rest[4 + len..];
        }
        return Ok(out.buf);
    }
    let mut out = Out::new(limit, 0);
    raw(data, &mut out)?;
    Ok(out.buf)
}

/// Decodes one raw snappy block onto `out`.
fn raw(b: &[u8], out: &mut Out) -> Result<()> {
    let (expected, mut i) = uvarint(b)?;
    out.room(expected)?;
    // A copy element of 2-5 bytes writes at most 64: no honest block claims more than that
    // ratio, and a lying length must not make us allocate it.
    out.buf.reserve(expected.min(b.len().saturating_mul(32)));
    let start = out.buf.len();
    let byte =
        |i: usize| b.get(i).copied().ok_or(CompressionError::Corrupt("snappy element cut short"));
    while i < b.len() {
        let tag = b[i];
        i += 1;
        let (len, offset) = match tag & 3 {
            0 => {
                let mut len = (tag >> 2) as usize;
                if len >= 60 {
                    let n = len - 59;
                    let Some(bytes) = b.get(i..i + n) else {
                        return corrupt("snappy literal length cut short");
                    };
                    len = bytes.iter().rev().fold(0, |acc, &x| acc << 8 | x as usize);
                    i += n;
                }
                let len = len + 1;
                let Some(lit) = b.get(i..i.saturating_add(len)) else {
                    return corrupt("snappy literal runs past the data");
                };
                if out.buf.len() - start + len > expected {
                    return corrupt("snappy block longer than it says");
                }
                out.extend(lit)?;
                i += len;
                continue;
            }
            1 => {
                let len = 4 + ((tag >> 2) & 7) as usize;
                let offset = ((tag as usize) >> 5) << 8 | byte(i)? as usize;
                i += 1;
                (len, offset)
            }
            2 => {
                let offset = u16::from_le_bytes([byte(i)?, byte(i + 1)?]) as usize;
                i += 2;
                ((tag >> 2) as usize + 1, offset)
            }
            _ => {
                let o = [byte(i)?, byte(i + 1)?, byte(i + 2)?, byte(i + 3)?];
                i += 4;
                ((tag >> 2) as usize + 1, u32::from_le_bytes(o) as usize)
            }
        };
        if offset > out.buf.len() - start {
            return corrupt("snappy copy before the start of the block");
        }
        if out.buf.len() - start + len > expected {
            return corrupt("snappy block longer than it says");
        }
        out.copy_back(offset, len)?;
    }
    if out.buf.len() - start != expected {
        return corrupt("snappy block shorter than it says");
    }
    Ok(())
}

fn uvarint(b: &[u8]) -> Result<(usize, usize)> {
    let mut v = 0u64;
    for (i, &x) in b.iter().enumerate().take(5) {
        v |= u64::from(x & 0x7f) << (7 * i);
        if x & 0x80 == 0 {
            return u32::try_from(v)
                .map(|v| (v as usize, i + 1))
                .or(corrupt("snappy length too large"));
        }
    }
    corrupt("snappy length varint cut short")
}

/// The xerial framing with raw blocks of 32 KiB input, as Kafka's Java producer writes it.
pub fn compress(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2 + XERIAL_HEADER + 16);
    out.extend_from_slice(&XERIAL_MAGIC);
    out.extend_from_slice(&1i32.to_be_bytes());
    out.extend_from_slice(&1i32.to_be_bytes());
    let mut table = vec![0u32; 1 << 14];
    for chunk in data.chunks(XERIAL_BLOCK) {
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        compress_raw(chunk, &mut out, &mut table);
        let len = (out.len() - at - 4) as u32;
        out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }
    out
}

fn read32(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// One raw block: greedy matches of 4 bytes or more through a hash of the next 4 bytes.
fn compress_raw(src: &[u8], out: &mut Vec<u8>, table: &mut [u32]) {
    let mut n = src.len();
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    table.fill(u32::MAX);
    let hash = |v: u32| (v.wrapping_mul(0x1E35_A7BD) >> 18) as usize;
    let (mut lit_start, mut i) = (0, 0);
    while i + 4 <= src.len() {
        let v = read32(src, i);
        let h = hash(v);
        let cand = table[h];
        table[h] = i as u32;
        if cand != u32::MAX && read32(src, cand as usize) == v {
            let c = cand as usize;
            let len =
                4 + src[c + 4..].iter().zip(&src[i + 4..]).take_while(|(a, b)| a == b).count();
            literal(out, &src[lit_start..i]);
            copy(out, i - c, len);
            i += len;
            lit_start = i;
        } else {
            i += 1;
        }
    }
    literal(out, &src[lit_start..]);
}

fn literal(out: &mut Vec<u8>, lit: &[u8]) {
    if lit.is_empty() {
        return;
    }
    let n = lit.len() - 1;
    if n < 60 {
        out.push((n as u8) << 2);
    } else {
        let bytes = (usize::BITS - n.leading_zeros()).div_ceil(8) as usize;
        out.push(((59 + bytes) as u8) << 2);
        out.extend_from_slice(&n.to_le_bytes()[..bytes]);
    }
    out.extend_from_slice(lit);
}

fn copy(out: &mut Vec<u8>, offset: usize, mut len: usize) {
    // One element carries at most 64 bytes; keep the last one at 4 or more.
    while len > 0 {
        let n = if len > 64 {
            if len - 64 < 4 {
                60
            } else {
                64
            }
        } else {
            len
        };
        if (4..12).contains(&n) && offset < 2048 {
            out.push(1 | ((n - 4) as u8) << 2 | ((offset >> 8) as u8) << 5);
            out.push(offset as u8);
        } else if offset < 65536 {
            out.push(2 | ((n - 1) as u8) << 2);
            out.extend_from_slice(&(offset as u16).to_le_bytes());
        } else {
            out.push(3 | ((n - 1) as u8) << 2);
            out.extend_from_slice(&(offset as u32).to_le_bytes());
        }
        len -= n;
    }
}

#[cfg(test)]
mod tests {
    use super::super::{tests as common, SNAPPY};
    use super::*;

    #[test]
    fn round_trips() {
        common::round_trips(SNAPPY);
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        // A xerial stream cut at a block boundary is still a valid (shorter) stream.
        common::survives_damage(SNAPPY, false);
    }

    #[test]
    fn reads_raw_blocks() {
        // From the snappy format description: a literal, then copies with 1- and 2-byte offsets.
        let raw = [0x0b, 0x08, b'a', b'b', b'c', 0x01 | (1 << 2), 3, 0x02 | (2 << 2), 3, 0];
        assert_eq!(decompress(&raw, 100).unwrap(), b"abcabcabcab");
        let mut out = Vec::new();
        compress_raw(b"hello, hello, hello!", &mut out, &mut vec![0; 1 << 14]);
        assert_eq!(decompress(&out, 100).unwrap(), b"hello, hello, hello!");
        assert!(decompress(&[0x05, 0x08, b'a'], 100).is_err(), "short literal");
        assert!(decompress(&[0x03, 0x05, 1], 100).is_err(), "copy before the start");
        assert_eq!(
            decompress(&[0xff, 0xff, 0xff, 0xff, 0x0f], 100),
            Err(CompressionError::TooLarge)
        );
    }
}
