//! Zstandard (RFC 8878). The encoder writes a valid frame of raw (stored) blocks: readers
//! accept it, it just saves no space. Decoding is not implemented yet.

use super::{CompressionError, Result};

const MAGIC: u32 = 0xFD2F_B528;
const MAX_BLOCK: usize = 128 * 1024;

pub fn decompress(_data: &[u8], _limit: usize) -> Result<Vec<u8>> {
    Err(CompressionError::Unsupported("zstd decoding is not implemented"))
}

pub fn compress(data: &[u8], _level: Option<i32>) -> Vec<u8> {
    let n = data.len();
    let mut out = Vec::with_capacity(n + 16 + 3 * (n / MAX_BLOCK + 1));
    out.extend_from_slice(&MAGIC.to_le_bytes());
    // Single segment (the window is the content), so the content size is written, in the
    // fewest bytes its flag allows; no checksum, no dictionary.
    let single_segment = 0x20;
    if n < 256 {
        out.push(single_segment);
        out.push(n as u8);
    } else if n < 65536 + 256 {
        out.push(0x40 | single_segment);
        out.extend_from_slice(&((n - 256) as u16).to_le_bytes());
    } else if n <= u32::MAX as usize {
        out.push(0x80 | single_segment);
        out.extend_from_slice(&(n as u32).to_le_bytes());
    } else {
        out.push(0xc0 | single_segment);
        out.extend_from_slice(&(n as u64).to_le_bytes());
    }
    let mut blocks = data.chunks(MAX_BLOCK).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0]); // one empty raw block, the last
    }
    while let Some(block) = blocks.next() {
        let last = u32::from(blocks.peek().is_none());
        let header = last | (block.len() as u32) << 3; // block type 0: raw
        out.extend_from_slice(&header.to_le_bytes()[..3]);
        out.extend_from_slice(block);
    }
    out
}
