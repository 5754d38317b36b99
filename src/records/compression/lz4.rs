//! The LZ4 frame format as Kafka writes it (`Lz4BlockOutputStream`): magic 0x184D2204, a frame
//! descriptor (FLG, BD) closed by a checksum byte (the second byte of its XXH32), blocks each
//! prefixed by a little-endian length whose top bit marks an uncompressed block, an empty block
//! to end, and an optional XXH32 of the content.

use super::checksum::xxh32;
use super::{corrupt, Out, Result};

const MAGIC: u32 = 0x184D_2204;
const UNCOMPRESSED: u32 = 0x8000_0000;
/// Kafka's block size: BD value 4, 64 KiB.
const BLOCK: usize = 64 * 1024;

const FLG_VERSION: u8 = 0x40;
const FLG_BLOCK_INDEPENDENT: u8 = 0x20;
const FLG_BLOCK_CHECKSUM: u8 = 0x10;
const FLG_CONTENT_SIZE: u8 = 0x08;
const FLG_CONTENT_CHECKSUM: u8 = 0x04;
const FLG_DICT_ID: u8 = 0x01;

pub fn decompress(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    if data.len() < 7 || u32::from_le_bytes([data[0], data[1], data[2], data[3]]) != MAGIC {
        return corrupt("not an LZ4 frame");
    }
    let (flg, bd) = (data[4], data[5]);
    if flg & 0xc0 != FLG_VERSION {
        return corrupt("LZ4 frame version is not 1");
    }
    if flg & 0x02 != 0 || bd & 0x8f != 0 {
        return corrupt("LZ4 frame reserved bits set");
    }
    let max_block = match (bd >> 4) & 7 {
        v @ 4..=7 => 1usize << (2 * v + 8),
        _ => return corrupt("LZ4 block size value not 4 to 7"),
    };
    let mut at = 6;
    if flg & FLG_CONTENT_SIZE != 0 {
        at += 8;
    }
    if flg & FLG_DICT_ID != 0 {
        at += 4;
    }
    let Some(&hc) = data.get(at) else { return corrupt("LZ4 frame descriptor cut short") };
    if (xxh32(&data[4..at], 0) >> 8) as u8 != hc {
        return corrupt("LZ4 frame descriptor checksum mismatch");
    }
    at += 1;
    let mut out = Out::new(limit, data.len() * 3);
    loop {
        let Some(word) = data.get(at..at + 4) else {
            return corrupt("LZ4 frame without its end mark");
        };
        let word = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        at += 4;
        if word == 0 {
            break;
        }
        let len = (word & !UNCOMPRESSED) as usize;
        if len > max_block {
            return corrupt("LZ4 block larger than the frame's block size");
        }
        let Some(block) = data.get(at..at + len) else {
            return corrupt("LZ4 block runs past the data");
        };
        at += len;
        if flg & FLG_BLOCK_CHECKSUM != 0 {
            let Some(sum) = data.get(at..at + 4) else {
                return corrupt("LZ4 block checksum cut short");
            };
            if u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]) != xxh32(block, 0) {
                return corrupt("LZ4 block checksum mismatch");
            }
            at += 4;
        }
        if word & UNCOMPRESSED != 0 {
            out.extend(block)?;
        } else {
            // Dependent blocks may refer back into earlier ones: all decode into one buffer.
            let start = out.buf.len();
            decode_block(block, &mut out)?;
            if out.buf.len() - start > max_block {
                return corrupt("LZ4 block decodes past the frame's block size");
            }
        }
    }
    if flg & FLG_CONTENT_CHECKSUM != 0 {
        let Some(sum) = data.get(at..at + 4) else {
            return corrupt("LZ4 content checksum cut short");
        };
        if u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]) != xxh32(&out.buf, 0) {
            return corrupt("LZ4 content checksum mismatch");
        }
    }
    Ok(out.buf)
}

fn decode_block(b: &[u8], out: &mut Out) -> Result<()> {
    let mut i = 0;
    let length = |i: &mut usize, mut n: usize| -> Result<usize> {
        if n == 15 {
            loop {
                let Some(&x) = b.get(*i) else { return corrupt("LZ4 length cut short") };
                *i += 1;
                n += x as usize;
                if x != 255 {
                    break;
                }
            }
        }
        Ok(n)
    };
    loop {
        let Some(&token) = b.get(i) else { return corrupt("LZ4 block ends without literals") };
        i += 1;
        let lit = length(&mut i, (token >> 4) as usize)?;
        let Some(l) = b.get(i..i.saturating_add(lit)) else {
            return corrupt("LZ4 literals run past the block");
        };
        out.extend(l)?;
        i += lit;
        if i == b.len() {
            return Ok(());
        }
        let Some(o) = b.get(i..i + 2) else { return corrupt("LZ4 offset cut short") };
        let offset = u16::from_le_bytes([o[0], o[1]]) as usize;
        i += 2;
        let len = length(&mut i, (token & 15) as usize)? + 4;
        out.copy_back(offset, len)?;
    }
}

/// A frame as Kafka's producer writes it: independent 64 KiB blocks, no checksums but the
/// descriptor's, each block stored uncompressed when compressing does not make it smaller.
/// `level` is accepted for Kafka's `compression.lz4.level`; one greedy matcher serves all.
pub fn compress(data: &[u8], _level: Option<i32>) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2 + 16);
    out.extend_from_slice(&MAGIC.to_le_bytes());
    let descriptor = [FLG_VERSION | FLG_BLOCK_INDEPENDENT, 4 << 4];
    out.extend_from_slice(&descriptor);
    out.push((xxh32(&descriptor, 0) >> 8) as u8);
    let mut table = vec![0u32; 1 << 14];
    let mut block = Vec::with_capacity(BLOCK);
    for chunk in data.chunks(BLOCK) {
        block.clear();
        encode_block(chunk, &mut block, &mut table);
        if block.len() < chunk.len() {
            out.extend_from_slice(&(block.len() as u32).to_le_bytes());
            out.extend_from_slice(&block);
        } else {
            out.extend_from_slice(&(chunk.len() as u32 | UNCOMPRESSED).to_le_bytes());
            out.extend_from_slice(chunk);
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out
}

/// The block format's end rules: the last 5 bytes are literals, and no match starts in the
/// last 12.
const LAST_LITERALS: usize = 5;
const MF_LIMIT: usize = 12;

fn read32(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn encode_block(src: &[u8], out: &mut Vec<u8>, table: &mut [u32]) {
    table.fill(u32::MAX);
    let hash = |v: u32| (v.wrapping_mul(2_654_435_761) >> 18) as usize;
    let (mut anchor, mut i) = (0, 0);
    if src.len() > MF_LIMIT {
        let match_limit = src.len() - LAST_LITERALS;
        while i + MF_LIMIT <= src.len() {
            let v = read32(src, i);
            let h = hash(v);
            let cand = table[h];
            table[h] = i as u32;
            if cand != u32::MAX && i - cand as usize <= 0xffff && read32(src, cand as usize) == v {
                let c = cand as usize;
                let len = 4 + src[c + 4..match_limit]
                    .iter()
                    .zip(&src[i + 4..match_limit])
                    .take_while(|(a, b)| a == b)
                    .count();
                sequence(out, &src[anchor..i], Some((i - c, len)));
                i += len;
                anchor = i;
            } else {
                i += 1;
            }
        }
    }
    sequence(out, &src[anchor..], None);
}

fn sequence(out: &mut Vec<u8>, lit: &[u8], copy: Option<(usize, usize)>) {
    let put_len = |out: &mut Vec<u8>, mut n: usize| {
        while n >= 255 {
            out.push(255);
            n -= 255;
        }
        out.push(n as u8);
    };
    let ml = copy.map_or(0, |(_, len)| len - 4);
    out.push(((lit.len().min(15) as u8) << 4) | ml.min(15) as u8);
    if lit.len() >= 15 {
        put_len(out, lit.len() - 15);
    }
    out.extend_from_slice(lit);
    if let Some((offset, _)) = copy {
        out.extend_from_slice(&(offset as u16).to_le_bytes());
        if ml >= 15 {
            put_len(out, ml - 15);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{tests as common, LZ4};
    use super::*;

    #[test]
    fn round_trips() {
        common::round_trips(LZ4);
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        common::survives_damage(LZ4, true);
    }

    #[test]
    fn frame_header_as_kafka_writes_it() {
        let f = compress(b"", None);
        // Magic, FLG (version 1, independent blocks), BD (64 KiB), checksum, end mark.
        assert_eq!(f[..6], [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40]);
        assert_eq!(f.len(), 11);
        assert_eq!(decompress(&f, 0).unwrap(), b"");
        let mut bad = f.clone();
        bad[6] ^= 1;
        assert!(decompress(&bad, 0).is_err(), "descriptor checksum checked");
    }

    #[test]
    fn reads_checksums_and_uncompressed_blocks() {
        // FLG with block and content checksums; one uncompressed block.
        let payload = b"kafka lz4";
        let descriptor =
            [FLG_VERSION | FLG_BLOCK_INDEPENDENT | FLG_BLOCK_CHECKSUM | FLG_CONTENT_CHECKSUM, 0x40];
        let mut f = MAGIC.to_le_bytes().to_vec();
        f.extend_from_slice(&descriptor);
        f.push((xxh32(&descriptor, 0) >> 8) as u8);
        f.extend_from_slice(&(payload.len() as u32 | UNCOMPRESSED).to_le_bytes());
        f.extend_from_slice(payload);
        f.extend_from_slice(&xxh32(payload, 0).to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&xxh32(payload, 0).to_le_bytes());
        assert_eq!(decompress(&f, 100).unwrap(), payload);
        let n = f.len();
        f[n - 1] ^= 1;
        assert!(decompress(&f, 100).is_err(), "content checksum checked");
    }
}
