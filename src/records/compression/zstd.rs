//! Zstandard frames (RFC 8878). The decoder reads every block type: raw, RLE, and compressed
//! blocks with their literals (raw, RLE, Huffman-coded in one or four streams, or reusing the
//! previous table) and their sequences (FSE-coded with predefined, RLE, described or repeated
//! tables, with the repeat offsets), and checks the content checksum when there is one.
//! Dictionaries are not supported (Kafka does not use them). The encoder is in encoder.rs.

use super::checksum::xxh64;
use super::{corrupt, CompressionError, Out, Result};

const MAGIC: u32 = 0xFD2F_B528;
const MAX_BLOCK: usize = 128 * 1024;

pub fn decompress(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    let mut out = Out::new(limit, data.len() * 4);
    let mut rest = data;
    if rest.is_empty() {
        return corrupt("empty zstd stream");
    }
    while !rest.is_empty() {
        let Some(m) = rest.get(..4) else { return corrupt("zstd frame magic cut short") };
        let magic = u32::from_le_bytes([m[0], m[1], m[2], m[3]]);
        if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
            // A skippable frame: its length, then bytes to ignore.
            let Some(n) = rest.get(4..8) else { return corrupt("skippable frame cut short") };
            let n = u32::from_le_bytes([n[0], n[1], n[2], n[3]]) as usize;
            let Some(r) = rest.get(8usize.saturating_add(n)..) else {
                return corrupt("skippable frame runs past the data");
            };
            rest = r;
            continue;
        }
        if magic != MAGIC {
            return corrupt("not a zstd frame");
        }
        rest = frame(&rest[4..], &mut out)?;
    }
    Ok(out.buf)
}

fn byte_at(b: &[u8], i: usize) -> Result<u8> {
    b.get(i).copied().ok_or(CompressionError::Corrupt("zstd data cut short"))
}

fn le(b: &[u8], at: usize, n: usize) -> Result<u64> {
    let Some(s) = b.get(at..at + n) else { return corrupt("zstd data cut short") };
    Ok(s.iter().rev().fold(0u64, |acc, &x| acc << 8 | u64::from(x)))
}

/// Decodes one frame (after its magic) onto `out`; returns what follows it.
fn frame<'a>(b: &'a [u8], out: &mut Out) -> Result<&'a [u8]> {
    let fhd = byte_at(b, 0)?;
    let single_segment = fhd & 0x20 != 0;
    if fhd & 0x08 != 0 {
        return corrupt("zstd frame header reserved bit set");
    }
    let checksum = fhd & 0x04 != 0;
    let mut at = 1;
    // The window needs no enforcing: the whole frame's output stays in memory, and matches
    // are checked against the frame's start.
    if !single_segment {
        at += 1;
    }
    let dict_len = [0, 1, 2, 4][(fhd & 3) as usize];
    if le(b, at, dict_len)? != 0 {
        return Err(CompressionError::Unsupported("zstd dictionaries"));
    }
    at += dict_len;
    let fcs_len = match fhd >> 6 {
        0 if single_segment => 1,
        0 => 0,
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let content_size = match fcs_len {
        0 => None,
        2 => Some(le(b, at, 2)? + 256),
        n => Some(le(b, at, n)?),
    };
    at += fcs_len;
    if let Some(size) = content_size {
        out.room(usize::try_from(size).unwrap_or(usize::MAX))?;
    }
    let start = out.buf.len();
    let mut state = State::new(start);
    loop {
        let header = le(b, at, 3)? as u32;
        at += 3;
        let last = header & 1 != 0;
        let size = (header >> 3) as usize;
        match (header >> 1) & 3 {
            0 => {
                let Some(raw) = b.get(at..at + size) else {
                    return corrupt("zstd raw block cut short");
                };
                if size > MAX_BLOCK {
                    return corrupt("zstd block larger than allowed");
                }
                out.extend(raw)?;
                at += size;
            }
            1 => {
                let byte = byte_at(b, at)?;
                if size > MAX_BLOCK {
                    return corrupt("zstd block larger than allowed");
                }
                out.room(size)?;
                out.buf.resize(out.buf.len() + size, byte);
                at += 1;
            }
            2 => {
                if size > MAX_BLOCK {
                    return corrupt("zstd block larger than allowed");
                }
                let Some(block) = b.get(at..at + size) else {
                    return corrupt("zstd compressed block cut short");
                };
                let before = out.buf.len();
                state.block(block, out)?;
                if out.buf.len() - before > MAX_BLOCK {
                    return corrupt("zstd block decodes past its largest size");
                }
                at += size;
            }
            _ => return corrupt("zstd reserved block type"),
        }
        if last {
            break;
        }
    }
    let produced = (out.buf.len() - start) as u64;
    if content_size.is_some_and(|s| s != produced) {
        return corrupt("zstd frame content size mismatch");
    }
    if checksum {
        let sum = le(b, at, 4)? as u32;
        if sum != xxh64(&out.buf[start..], 0) as u32 {
            return corrupt("zstd content checksum mismatch");
        }
        at += 4;
    }
    Ok(&b[at..])
}

// ---- Bit streams ----

/// Little-endian bits read forward: FSE table descriptions.
struct Forward<'a> {
    b: &'a [u8],
    bit: usize,
}

impl Forward<'_> {
    fn peek(&self, n: u32) -> u32 {
        let byte = self.bit / 8;
        let mut w = 0u64;
        for i in 0..5 {
            w |= u64::from(self.b.get(byte + i).copied().unwrap_or(0)) << (8 * i);
        }
        ((w >> (self.bit % 8)) & ((1u64 << n) - 1)) as u32
    }

    fn read(&mut self, n: u32) -> Result<u32> {
        let v = self.peek(n);
        self.skip(n)?;
        Ok(v)
    }

    fn skip(&mut self, n: u32) -> Result<()> {
        self.bit += n as usize;
        if self.bit > self.b.len() * 8 {
            return corrupt("zstd table description cut short");
        }
        Ok(())
    }

    fn bytes_used(&self) -> usize {
        self.bit.div_ceil(8)
    }
}

/// Bits read backward from the end, past a final marker bit: the Huffman and sequence
/// streams. Reading before the start yields zeros and leaves `pos` negative, which the
/// callers check.
struct Backward<'a> {
    b: &'a [u8],
    pos: isize,
}

impl<'a> Backward<'a> {
    fn new(b: &'a [u8]) -> Result<Backward<'a>> {
        let Some(&last) = b.last() else { return corrupt("empty zstd bit stream") };
        if last == 0 {
            return corrupt("zstd bit stream without its end marker");
        }
        let pos = (b.len() * 8) as isize - last.leading_zeros() as isize - 1;
        Ok(Backward { b, pos })
    }

    fn peek(&self, n: u32) -> u64 {
        if n == 0 {
            return 0;
        }
        let start = self.pos - n as isize;
        let lo = start.max(0);
        if self.pos <= 0 {
            return 0;
        }
        let shift = (lo - start) as u32;
        let count = n - shift;
        let byte = (lo / 8) as usize;
        let mut w = 0u64;
        for i in 0..8 {
            w |= u64::from(self.b.get(byte + i).copied().unwrap_or(0)) << (8 * i);
        }
        ((w >> (lo % 8)) & ((1u64 << count) - 1)) << shift
    }

    fn read(&mut self, n: u32) -> u64 {
        let v = self.peek(n);
        self.pos -= n as isize;
        v
    }
}

// ---- FSE ----

#[derive(Clone, Copy, Default)]
struct Entry {
    symbol: u8,
    bits: u8,
    base: u16,
}

#[derive(Clone, Default)]
struct Fse {
    log: u32,
    table: Vec<Entry>,
}

impl Fse {
    fn from_counts(counts: &[i16], log: u32) -> Result<Fse> {
        let size = 1usize << log;
        let mut table = vec![Entry::default(); size];
        let mut next = vec![0u32; counts.len()];
        let mut high = size - 1;
        for (s, &c) in counts.iter().enumerate() {
            if c == -1 {
                table[high].symbol = s as u8;
                high = high.wrapping_sub(1);
                next[s] = 1;
            } else {
                next[s] = c.max(0) as u32;
            }
        }
        let step = (size >> 1) + (size >> 3) + 3;
        let mask = size - 1;
        let mut pos = 0usize;
        for (s, &c) in counts.iter().enumerate() {
            for _ in 0..c.max(0) {
                table[pos].symbol = s as u8;
                loop {
                    pos = (pos + step) & mask;
                    if high == usize::MAX || pos <= high {
                        break;
                    }
                }
            }
        }
        if pos != 0 {
            return corrupt("zstd FSE distribution does not fill its table");
        }
        for e in table.iter_mut() {
            let s = e.symbol as usize;
            let n = next[s];
            next[s] += 1;
            if n == 0 {
                return corrupt("zstd FSE table inconsistent");
            }
            let bits = log - (31 - n.leading_zeros());
            e.bits = bits as u8;
            e.base = ((n << bits) as usize - size) as u16;
        }
        Ok(Fse { log, table })
    }

    /// Reads a table description (RFC 8878 4.1.1) of at most `max_log` accuracy.
    fn read(r: &mut Forward, max_log: u32, max_symbol: usize) -> Result<Fse> {
        let log = r.read(4)? + 5;
        if log > max_log {
            return corrupt("zstd FSE accuracy too high");
        }
        let mut remaining = (1i32 << log) + 1;
        let mut threshold = 1i32 << log;
        let mut bits = log + 1;
        let mut counts: Vec<i16> = Vec::with_capacity(max_symbol + 1);
        while remaining > 1 {
            if counts.len() > max_symbol {
                return corrupt("zstd FSE description has too many symbols");
            }
            let max = (2 * threshold - 1) - remaining;
            let v = r.peek(bits) as i32;
            let low = v & (threshold - 1);
            let count = if low < max {
                r.skip(bits - 1)?;
                low
            } else {
                r.skip(bits)?;
                let v = v & (2 * threshold - 1);
                if v >= threshold {
                    v - max
                } else {
                    v
                }
            } - 1;
            remaining -= count.abs();
            counts.push(count as i16);
            if count == 0 {
                loop {
                    let repeat = r.read(2)?;
                    counts.extend(std::iter::repeat_n(0, repeat as usize));
                    if repeat != 3 {
                        break;
                    }
                }
            }
            while remaining < threshold && bits > 1 {
                bits -= 1;
                threshold >>= 1;
            }
        }
        if remaining != 1 || counts.len() > max_symbol + 1 {
            return corrupt("zstd FSE description is inconsistent");
        }
        Fse::from_counts(&counts, log)
    }

    fn rle(symbol: u8) -> Fse {
        Fse { log: 0, table: vec![Entry { symbol, bits: 0, base: 0 }] }
    }
}

const LL_DEFAULT: [i16; 36] = [
    4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1,
    -1, -1, -1, -1,
];
const ML_DEFAULT: [i16; 53] = [
    1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1,
];
const OF_DEFAULT: [i16; 29] =
    [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1];

const LL_BASE: [u32; 36] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 22, 24, 28, 32, 40, 48, 64,
    128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536,
];
const LL_BITS: [u8; 36] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11,
    12, 13, 14, 15, 16,
];
const ML_BASE: [u32; 53] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
    28, 29, 30, 31, 32, 33, 34, 35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027,
    2051, 4099, 8195, 16387, 32771, 65539,
];
const ML_BITS: [u8; 53] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
];

// ---- Huffman ----

#[derive(Clone, Default)]
struct Huffman {
    max_bits: u32,
    /// Indexed by the next `max_bits` bits: (symbol, bits the code takes).
    table: Vec<(u8, u8)>,
}

impl Huffman {
    /// Reads a Huffman tree description (RFC 8878 4.2.1); returns it and the bytes it used.
    fn read(b: &[u8]) -> Result<(Huffman, usize)> {
        let header = byte_at(b, 0)? as usize;
        let mut weights: Vec<u8> = Vec::with_capacity(256);
        let used;
        if header >= 128 {
            let n = header - 127;
            used = 1 + n.div_ceil(2);
            let Some(packed) = b.get(1..used) else {
                return corrupt("zstd Huffman weights cut short");
            };
            for i in 0..n {
                let byte = packed[i / 2];
                weights.push(if i % 2 == 0 { byte >> 4 } else { byte & 15 });
            }
        } else {
            used = 1 + header;
            let Some(data) = b.get(1..used) else {
                return corrupt("zstd Huffman weights cut short");
            };
            let mut fwd = Forward { b: data, bit: 0 };
            let fse = Fse::read(&mut fwd, 6, 255)?;
            let Some(stream) = data.get(fwd.bytes_used()..) else {
                return corrupt("zstd Huffman weights cut short");
            };
            let mut bits = Backward::new(stream)?;
            let mut s1 = bits.read(fse.log) as usize;
            let mut s2 = bits.read(fse.log) as usize;
            // Two interleaved states until the stream runs out; the other state's symbol
            // is the last one.
            loop {
                let e = fse.table[s1];
                weights.push(e.symbol);
                s1 = e.base as usize + bits.read(u32::from(e.bits)) as usize;
                if bits.pos < 0 {
                    weights.push(fse.table[s2].symbol);
                    break;
                }
                let e = fse.table[s2];
                weights.push(e.symbol);
                s2 = e.base as usize + bits.read(u32::from(e.bits)) as usize;
                if bits.pos < 0 {
                    weights.push(fse.table[s1].symbol);
                    break;
                }
                if weights.len() > 255 {
                    return corrupt("zstd Huffman weights too many");
                }
            }
        }
        if weights.len() > 255 {
            return corrupt("zstd Huffman weights too many");
        }
        let mut sum = 0u32;
        for &w in &weights {
            if w > 11 {
                return corrupt("zstd Huffman weight too large");
            }
            if w > 0 {
                sum += 1 << (w - 1);
            }
        }
        if sum == 0 {
            return corrupt("zstd Huffman weights all zero");
        }
        let max_bits = 32 - sum.leading_zeros(); // the power of two above the sum
        let left = (1u32 << max_bits) - sum;
        if !left.is_power_of_two() || max_bits > 11 {
            return corrupt("zstd Huffman weights do not complete a tree");
        }
        weights.push((left.trailing_zeros() + 1) as u8);
        let size = 1usize << max_bits;
        let mut table = vec![(0u8, 0u8); size];
        let mut pos = 0usize;
        for w in 1..=max_bits as u8 {
            let span = 1usize << (w - 1);
            for (s, _) in weights.iter().enumerate().filter(|(_, &x)| x == w) {
                table[pos..pos + span].fill((s as u8, (max_bits + 1 - u32::from(w)) as u8));
                pos += span;
            }
        }
        Ok((Huffman { max_bits, table }, used))
    }

    fn decode_stream(&self, stream: &[u8], n: usize, out: &mut Vec<u8>) -> Result<()> {
        let mut bits = Backward::new(stream)?;
        for _ in 0..n {
            let (s, len) = self.table[bits.peek(self.max_bits) as usize];
            out.push(s);
            bits.pos -= isize::from(len);
        }
        if bits.pos != 0 {
            return corrupt("zstd Huffman stream not consumed exactly");
        }
        Ok(())
    }
}

// ---- Blocks ----

/// What carries from block to block in a frame.
struct State {
    frame_start: usize,
    huffman: Option<Huffman>,
    ll: Option<Fse>,
    of: Option<Fse>,
    ml: Option<Fse>,
    rep: [usize; 3],
    literals: Vec<u8>,
}

impl State {
    fn new(frame_start: usize) -> State {
        State {
            frame_start,
            huffman: None,
            ll: None,
            of: None,
            ml: None,
            rep: [1, 4, 8],
            literals: Vec::new(),
        }
    }

    fn block(&mut self, b: &[u8], out: &mut Out) -> Result<()> {
        let used = self.literals(b)?;
        self.sequences(&b[used..], out)
    }

    /// Decodes the literals section into `self.literals`; returns its length in bytes.
    fn literals(&mut self, b: &[u8]) -> Result<usize> {
        let h0 = byte_at(b, 0)?;
        let kind = h0 & 3;
        let format = (h0 >> 2) & 3;
        self.literals.clear();
        if kind < 2 {
            let (size, header) = match format {
                0 | 2 => ((h0 >> 3) as usize, 1),
                1 => ((h0 >> 4) as usize | (byte_at(b, 1)? as usize) << 4, 2),
                _ => ((h0 >> 4) as usize | (le(b, 1, 2)? as usize) << 4, 3),
            };
            if size > MAX_BLOCK {
                return corrupt("zstd literals larger than a block");
            }
            if kind == 0 {
                let Some(raw) = b.get(header..header + size) else {
                    return corrupt("zstd raw literals cut short");
                };
                self.literals.extend_from_slice(raw);
                return Ok(header + size);
            }
            self.literals.resize(size, byte_at(b, header)?);
            return Ok(header + 1);
        }
        let (header, bits) = match format {
            0 | 1 => (3, 10),
            2 => (4, 14),
            _ => (5, 18),
        };
        let v = le(b, 0, header)?;
        let mask = (1u64 << bits) - 1;
        let regenerated = ((v >> 4) & mask) as usize;
        let compressed = ((v >> (4 + bits)) & mask) as usize;
        if regenerated > MAX_BLOCK {
            return corrupt("zstd literals larger than a block");
        }
        let Some(mut data) = b.get(header..header + compressed) else {
            return corrupt("zstd compressed literals cut short");
        };
        if kind == 2 {
            let (huffman, used) = Huffman::read(data)?;
            self.huffman = Some(huffman);
            data = &data[used..];
        }
        let Some(huffman) = &self.huffman else {
            return corrupt("zstd treeless literals without an earlier table");
        };
        if format == 0 {
            huffman.decode_stream(data, regenerated, &mut self.literals)?;
        } else {
            if data.len() < 6 {
                return corrupt("zstd literals jump table cut short");
            }
            let s1 = le(data, 0, 2)? as usize;
            let s2 = le(data, 2, 2)? as usize;
            let s3 = le(data, 4, 2)? as usize;
            let streams = &data[6..];
            if s1 + s2 + s3 > streams.len() {
                return corrupt("zstd literal streams run past the data");
            }
            let each = regenerated.div_ceil(4);
            if each * 3 > regenerated {
                return corrupt("zstd literal streams too short");
            }
            let ends = [s1, s1 + s2, s1 + s2 + s3, streams.len()];
            let mut from = 0;
            for (i, &end) in ends.iter().enumerate() {
                let n = if i < 3 { each } else { regenerated - 3 * each };
                huffman.decode_stream(&streams[from..end], n, &mut self.literals)?;
                from = end;
            }
        }
        Ok(header + compressed)
    }

    fn sequences(&mut self, b: &[u8], out: &mut Out) -> Result<()> {
        let b0 = byte_at(b, 0)? as usize;
        let (count, mut at) = match b0 {
            0 => {
                out.extend(&self.literals)?;
                return Ok(());
            }
            1..=127 => (b0, 1),
            128..=254 => (((b0 - 128) << 8) + byte_at(b, 1)? as usize, 2),
            _ => (byte_at(b, 1)? as usize + ((byte_at(b, 2)? as usize) << 8) + 0x7F00, 3),
        };
        let modes = byte_at(b, at)?;
        at += 1;
        if modes & 3 != 0 {
            return corrupt("zstd sequence modes reserved bits set");
        }
        for (i, (slot, default, default_log, max_log, max_symbol)) in [
            (&mut self.ll, &LL_DEFAULT[..], 6, 9, 35),
            (&mut self.of, &OF_DEFAULT[..], 5, 8, 31),
            (&mut self.ml, &ML_DEFAULT[..], 6, 9, 52),
        ]
        .into_iter()
        .enumerate()
        {
            match (modes >> (6 - 2 * i)) & 3 {
                0 => *slot = Some(Fse::from_counts(default, default_log)?),
                1 => {
                    let s = byte_at(b, at)?;
                    if s as usize > max_symbol {
                        return corrupt("zstd RLE symbol out of range");
                    }
                    *slot = Some(Fse::rle(s));
                    at += 1;
                }
                2 => {
                    let mut r = Forward { b: &b[at..], bit: 0 };
                    *slot = Some(Fse::read(&mut r, max_log, max_symbol)?);
                    at += r.bytes_used();
                }
                _ => {
                    if slot.is_none() {
                        return corrupt("zstd repeated table without an earlier one");
                    }
                }
            }
        }
        let (Some(ll), Some(of), Some(ml)) = (&self.ll, &self.of, &self.ml) else {
            unreachable!("every table was set above")
        };
        let Some(stream) = b.get(at..) else { return corrupt("zstd sequences cut short") };
        let mut bits = Backward::new(stream)?;
        let mut ll_state = bits.read(ll.log) as usize;
        let mut of_state = bits.read(of.log) as usize;
        let mut ml_state = bits.read(ml.log) as usize;
        let mut lit = 0usize;
        for i in 0..count {
            let (lle, ofe, mle) = (ll.table[ll_state], of.table[of_state], ml.table[ml_state]);
            let of_code = u32::from(ofe.symbol);
            if of_code > 31
                || lle.symbol as usize >= LL_BASE.len()
                || mle.symbol as usize >= ML_BASE.len()
            {
                return corrupt("zstd sequence code out of range");
            }
            let offset_value = ((1u64 << of_code) + bits.read(of_code)) as usize;
            let ml_code = mle.symbol as usize;
            let match_len =
                ML_BASE[ml_code] as usize + bits.read(u32::from(ML_BITS[ml_code])) as usize;
            let ll_code = lle.symbol as usize;
            let lit_len =
                LL_BASE[ll_code] as usize + bits.read(u32::from(LL_BITS[ll_code])) as usize;
            let offset = if offset_value > 3 {
                let o = offset_value - 3;
                self.rep = [o, self.rep[0], self.rep[1]];
                o
            } else {
                let idx = offset_value - 1 + usize::from(lit_len == 0);
                match idx {
                    0 => self.rep[0],
                    1 => {
                        self.rep.swap(0, 1);
                        self.rep[0]
                    }
                    2 => {
                        self.rep = [self.rep[2], self.rep[0], self.rep[1]];
                        self.rep[0]
                    }
                    _ => {
                        let o = self.rep[0].wrapping_sub(1);
                        if o == 0 {
                            return corrupt("zstd repeat offset of zero");
                        }
                        self.rep = [o, self.rep[0], self.rep[1]];
                        o
                    }
                }
            };
            let Some(l) = self.literals.get(lit..lit + lit_len) else {
                return corrupt("zstd sequence takes more literals than decoded");
            };
            out.extend(l)?;
            lit += lit_len;
            if offset > out.buf.len() - self.frame_start {
                return corrupt("zstd match offset before the frame's start");
            }
            out.copy_back(offset, match_len)?;
            if i + 1 < count {
                ll_state = lle.base as usize + bits.read(u32::from(lle.bits)) as usize;
                ml_state = mle.base as usize + bits.read(u32::from(mle.bits)) as usize;
                of_state = ofe.base as usize + bits.read(u32::from(ofe.bits)) as usize;
            }
            if bits.pos < 0 {
                return corrupt("zstd sequence stream ends early");
            }
        }
        if bits.pos != 0 {
            return corrupt("zstd sequence stream not consumed exactly");
        }
        out.extend(&self.literals[lit..])?;
        Ok(())
    }
}

// ---- Encoder ----

mod encoder;

pub fn compress(data: &[u8], _level: Option<i32>) -> Vec<u8> {
    encoder::compress(data)
}

#[cfg(test)]
mod tests {
    use super::super::{tests as common, ZSTD};
    use super::*;

    #[test]
    fn round_trips() {
        common::round_trips(ZSTD);
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        common::survives_damage(ZSTD, true);
    }

    /// Frames written by the reference implementation (the zstd CLI, when installed) at
    /// several levels, with and without checksums: every block and table kind appears.
    #[test]
    fn reads_what_the_zstd_cli_writes() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let cli = |args: &[&str], data: &[u8]| -> Option<Vec<u8>> {
            let mut child = Command::new("zstd")
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            let mut stdin = child.stdin.take()?;
            let data = data.to_vec();
            let writer = std::thread::spawn(move || stdin.write_all(&data));
            let out = child.wait_with_output().ok()?;
            writer.join().ok()?.ok()?;
            out.status.success().then_some(out.stdout)
        };
        if cli(&["-c"], b"x").is_none() {
            eprintln!("zstd CLI not available: skipped");
            return;
        }
        let samples = common::samples();
        let last = samples.len() - 1;
        for (i, s) in samples.into_iter().enumerate() {
            // Level 22 takes the CLI most of a second to set up each time: the largest,
            // mixed sample only.
            let ultra: &[&[&str]] = if i == last { &[&["-c", "--ultra", "-22"]] } else { &[] };
            for args in [&["-c", "-1"][..], &["-c", "-3", "--no-check"], &["-c", "-19"]]
                .into_iter()
                .chain(ultra.iter().copied())
            {
                let theirs = cli(args, &s).unwrap();
                let ours = decompress(&theirs, s.len())
                    .unwrap_or_else(|e| panic!("sample {i} {args:?}: {e}"));
                assert!(ours == s, "sample {i} {args:?} decodes differently");
            }
            let back = cli(&["-d", "-c"], &compress(&s, None)).unwrap();
            assert!(back == s, "the CLI reads our frame of sample {i}");
        }
        // Damaged compressed blocks (Huffman literals, FSE sequences): errors, never panics.
        for s in common::samples().into_iter().skip(3) {
            let good = cli(&["-c", "-19"], &s).unwrap();
            // Spread over the frame, few enough for a debug build's suite to stay quick.
            for cut in (0..good.len()).step_by(good.len() / 16 + 1) {
                assert!(decompress(&good[..cut], 1 << 20).is_err(), "cut at {cut} accepted");
            }
            for i in (4..good.len()).step_by(good.len() / 60 + 1) {
                for bit in [0x01, 0x80] {
                    let mut bad = good.clone();
                    bad[i] ^= bit;
                    let _ = decompress(&bad, 1 << 20);
                }
            }
        }
    }
}
