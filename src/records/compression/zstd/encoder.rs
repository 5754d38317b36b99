//! The zstd encoder: a frame of compressed blocks, each with its literals stored raw and its
//! sequences (greedy LZ77 matches through a hash of the next 4 bytes) coded with the
//! predefined FSE tables, so no table or Huffman tree is ever described: simple, and about
//! lz4's ratio. A block that would not shrink is stored raw.

use super::OF_DEFAULT;
use super::{LL_BASE, LL_BITS, LL_DEFAULT, MAGIC, MAX_BLOCK, ML_BASE, ML_BITS, ML_DEFAULT};

pub fn compress(data: &[u8]) -> Vec<u8> {
    let n = data.len();
    let mut out = Vec::with_capacity(n / 2 + 32);
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
    if n == 0 {
        out.extend_from_slice(&[1, 0, 0]); // one empty raw block, the last
        return out;
    }
    let tables = Tables::predefined();
    let mut head = vec![u32::MAX; 1 << HASH_BITS];
    let mut block = Vec::new();
    let mut start = 0;
    while start < n {
        let end = (start + MAX_BLOCK).min(n);
        let last = u32::from(end == n);
        block.clear();
        compress_block(data, start, end, &mut head, &tables, &mut block);
        if block.len() < end - start {
            let header = last | 2 << 1 | (block.len() as u32) << 3;
            out.extend_from_slice(&header.to_le_bytes()[..3]);
            out.extend_from_slice(&block);
        } else {
            let header = last | ((end - start) as u32) << 3;
            out.extend_from_slice(&header.to_le_bytes()[..3]);
            out.extend_from_slice(&data[start..end]);
        }
        start = end;
    }
    out
}

const HASH_BITS: u32 = 16;
const MIN_MATCH: usize = 4;
/// The longest match one sequence carries (the largest match length code's range).
const MAX_MATCH: usize = 65539 + 65535;

fn read32(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

struct Sequence {
    lit_len: u32,
    offset: u32,
    match_len: u32,
}

/// One compressed block of `data[start..end]`; matches may reach back to the frame's start.
fn compress_block(
    data: &[u8],
    start: usize,
    end: usize,
    head: &mut [u32],
    tables: &Tables,
    out: &mut Vec<u8>,
) {
    let hash = |v: u32| (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize;
    let mut seqs = Vec::new();
    let mut literals = Vec::new();
    let (mut anchor, mut i) = (start, start);
    while i + MIN_MATCH <= end {
        let v = read32(data, i);
        let h = hash(v);
        let cand = head[h];
        head[h] = i as u32;
        if cand != u32::MAX && read32(data, cand as usize) == v {
            let c = cand as usize;
            let max = (end - i).min(MAX_MATCH);
            let len = MIN_MATCH
                + data[c + MIN_MATCH..]
                    .iter()
                    .zip(&data[i + MIN_MATCH..i + max])
                    .take_while(|(a, b)| a == b)
                    .count();
            literals.extend_from_slice(&data[anchor..i]);
            seqs.push(Sequence {
                lit_len: (i - anchor) as u32,
                offset: (i - c) as u32,
                match_len: len as u32,
            });
            i += len;
            anchor = i;
        } else {
            i += 1;
        }
    }
    literals.extend_from_slice(&data[anchor..end]);
    // Literals section: raw, with the shortest size header that fits.
    let n = literals.len();
    if n < 32 {
        out.push((n as u8) << 3);
    } else if n < 4096 {
        out.extend_from_slice(&((n as u16) << 4 | 0b0100).to_le_bytes());
    } else {
        out.extend_from_slice(&((n as u32) << 4 | 0b1100).to_le_bytes()[..3]);
    }
    out.extend_from_slice(&literals);
    // Sequences section: the count, the modes (all predefined), the bit stream.
    let count = seqs.len();
    if count < 128 {
        out.push(count as u8);
    } else if count < 0x7F00 {
        out.extend_from_slice(&[((count >> 8) + 128) as u8, count as u8]);
    } else {
        out.push(255);
        out.extend_from_slice(&((count - 0x7F00) as u16).to_le_bytes());
    }
    if count == 0 {
        return;
    }
    out.push(0);
    let coded: Vec<[(u8, u32, u32); 3]> = seqs.iter().map(codes).collect();
    let mut w = BitWriter { out, acc: 0, bits: 0 };
    // Encoded last to first: the decoder reads the stream backward.
    let [ll, ml, of] = coded[count - 1];
    let mut ll_state = tables.ll.init(ll.0);
    let mut ml_state = tables.ml.init(ml.0);
    let mut of_state = tables.of.init(of.0);
    for (_, extra, bits) in [ll, ml, of] {
        w.put(extra, bits);
    }
    for &[ll, ml, of] in coded[..count - 1].iter().rev() {
        tables.of.encode(&mut of_state, of.0, &mut w);
        tables.ml.encode(&mut ml_state, ml.0, &mut w);
        tables.ll.encode(&mut ll_state, ll.0, &mut w);
        for (_, extra, bits) in [ll, ml, of] {
            w.put(extra, bits);
        }
    }
    w.put(ml_state & ((1 << tables.ml.log) - 1), tables.ml.log);
    w.put(of_state & ((1 << tables.of.log) - 1), tables.of.log);
    w.put(ll_state & ((1 << tables.ll.log) - 1), tables.ll.log);
    w.put(1, 1); // the end marker
    w.flush();
}

/// (code, extra bits' value, extra bits' count) for literal length, match length, offset.
fn codes(s: &Sequence) -> [(u8, u32, u32); 3] {
    let ll = LL_BASE.iter().rposition(|&b| b <= s.lit_len).expect("base 0");
    let ml = ML_BASE.iter().rposition(|&b| b <= s.match_len).expect("match of 3 or more");
    // Never a repeat offset: the offset value is the offset plus 3.
    let ov = s.offset + 3;
    let of = 31 - ov.leading_zeros();
    [
        (ll as u8, s.lit_len - LL_BASE[ll], u32::from(LL_BITS[ll])),
        (ml as u8, s.match_len - ML_BASE[ml], u32::from(ML_BITS[ml])),
        (of as u8, ov - (1 << of), of),
    ]
}

struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    bits: u32,
}

impl BitWriter<'_> {
    fn put(&mut self, value: u32, n: u32) {
        if n == 0 {
            return;
        }
        self.acc |= u64::from(value & ((1u64 << n) - 1) as u32) << self.bits;
        self.bits += n;
        while self.bits >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.bits -= 8;
        }
    }

    fn flush(&mut self) {
        if self.bits > 0 {
            self.out.push(self.acc as u8);
        }
        self.acc = 0;
        self.bits = 0;
    }
}

/// An FSE encoding table (the reference's `FSE_buildCTable`): for each symbol, how many bits
/// a state emits and where the next state is found.
struct Encoder {
    log: u32,
    /// Next states, grouped by symbol.
    states: Vec<u32>,
    delta_bits: Vec<u32>,
    delta_find: Vec<i32>,
}

struct Tables {
    ll: Encoder,
    ml: Encoder,
    of: Encoder,
}

impl Tables {
    fn predefined() -> Tables {
        Tables {
            ll: Encoder::new(&LL_DEFAULT, 6),
            ml: Encoder::new(&ML_DEFAULT, 6),
            of: Encoder::new(&OF_DEFAULT, 5),
        }
    }
}

impl Encoder {
    fn new(counts: &[i16], log: u32) -> Encoder {
        let size = 1usize << log;
        let mut symbol_at = vec![0u8; size];
        let mut cumul = vec![0usize; counts.len() + 1];
        let mut high = size - 1;
        for (s, &c) in counts.iter().enumerate() {
            if c == -1 {
                cumul[s + 1] = cumul[s] + 1;
                symbol_at[high] = s as u8;
                high -= 1;
            } else {
                cumul[s + 1] = cumul[s] + c.max(0) as usize;
            }
        }
        // The same spread as the decoder's table.
        let step = (size >> 1) + (size >> 3) + 3;
        let mut pos = 0;
        for (s, &c) in counts.iter().enumerate() {
            for _ in 0..c.max(0) {
                symbol_at[pos] = s as u8;
                pos = (pos + step) & (size - 1);
                while pos > high {
                    pos = (pos + step) & (size - 1);
                }
            }
        }
        let mut states = vec![0u32; size];
        let mut next = cumul.clone();
        for (u, &s) in symbol_at.iter().enumerate() {
            states[next[s as usize]] = (size + u) as u32;
            next[s as usize] += 1;
        }
        let mut delta_bits = vec![0u32; counts.len()];
        let mut delta_find = vec![0i32; counts.len()];
        let mut total = 0i32;
        for (s, &c) in counts.iter().enumerate() {
            match c {
                0 => {}
                -1 | 1 => {
                    delta_bits[s] = (log << 16) - (1 << log);
                    delta_find[s] = total - 1;
                    total += 1;
                }
                _ => {
                    let c = c as u32;
                    let max_bits_out = log - (31 - (c - 1).leading_zeros());
                    let min_state_plus = c << max_bits_out;
                    delta_bits[s] = (max_bits_out << 16).wrapping_sub(min_state_plus);
                    delta_find[s] = total - c as i32;
                    total += c as i32;
                }
            }
        }
        Encoder { log, states, delta_bits, delta_find }
    }

    /// The state that starts encoding with `symbol` (`FSE_initCState2`).
    fn init(&self, symbol: u8) -> u32 {
        let s = symbol as usize;
        let bits = (self.delta_bits[s].wrapping_add(1 << 15)) >> 16;
        let value = (bits << 16).wrapping_sub(self.delta_bits[s]);
        self.states[((value >> bits) as i32 + self.delta_find[s]) as usize]
    }

    fn encode(&self, state: &mut u32, symbol: u8, w: &mut BitWriter) {
        let s = symbol as usize;
        let bits = (state.wrapping_add(self.delta_bits[s])) >> 16;
        w.put(*state, bits);
        *state = self.states[((*state >> bits) as i32 + self.delta_find[s]) as usize];
    }
}
