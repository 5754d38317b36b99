//! gzip (RFC 1952) around DEFLATE (RFC 1951), as Java's `GZIPOutputStream` writes it for Kafka.
//!
//! The decoder reads stored, fixed-Huffman and dynamic-Huffman blocks and checks each member's
//! CRC-32 and length. The encoder finds LZ77 matches through a hash chain and writes each block
//! with Huffman codes built for it.

use super::checksum::crc32;
use super::{corrupt, Out, Result};

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] =
    [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// The order in which a dynamic block lists the code length code's lengths.
const CL_ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
const MAX_BITS: usize = 15;

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;

pub fn decompress(data: &[u8], limit: usize) -> Result<Vec<u8>> {
    let mut out = Out::new(limit, data.len() * 4);
    let mut rest = data;
    loop {
        rest = member(rest, &mut out)?;
        // Java's GZIPInputStream reads concatenated members and ignores what follows them
        // when it is not another member.
        if rest.len() < 10 || rest[..2] != [0x1f, 0x8b] {
            return Ok(out.buf);
        }
    }
}

/// Reads one gzip member onto `out`; returns what follows it.
fn member<'a>(b: &'a [u8], out: &mut Out) -> Result<&'a [u8]> {
    if b.len() < 18 || b[0] != 0x1f || b[1] != 0x8b {
        return corrupt("not a gzip stream");
    }
    if b[2] != 8 {
        return corrupt("gzip method is not deflate");
    }
    let flags = b[3];
    let mut at = 10;
    let skip_to = |at: usize, n: usize| {
        at.checked_add(n)
            .filter(|&end| end <= b.len())
            .ok_or(super::CompressionError::Corrupt("gzip header runs past the data"))
    };
    if flags & FEXTRA != 0 {
        let n = u16::from_le_bytes([b[at], b[at + 1]]) as usize;
        at = skip_to(at, 2 + n)?;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let Some(zero) = b.get(at..).and_then(|s| s.iter().position(|&c| c == 0)) else {
                return corrupt("gzip header string without its end");
            };
            at += zero + 1;
        }
    }
    if flags & FHCRC != 0 {
        at = skip_to(at, 2)?;
    }
    let start = out.buf.len();
    let used = inflate(&b[at..], out)?;
    let trailer = at + used;
    let Some(t) = b.get(trailer..trailer + 8) else {
        return corrupt("gzip member without its trailer");
    };
    let body = &out.buf[start..];
    if u32::from_le_bytes([t[0], t[1], t[2], t[3]]) != crc32(0, body) {
        return corrupt("gzip CRC-32 mismatch");
    }
    if u32::from_le_bytes([t[4], t[5], t[6], t[7]]) != body.len() as u32 {
        return corrupt("gzip length mismatch");
    }
    Ok(&b[trailer + 8..])
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    count: u32,
}

impl Bits<'_> {
    fn need(&mut self, n: u32) -> Result<()> {
        while self.count < n {
            let Some(&byte) = self.data.get(self.pos) else {
                return corrupt("deflate stream ends early");
            };
            self.buf |= u64::from(byte) << self.count;
            self.pos += 1;
            self.count += 8;
        }
        Ok(())
    }

    fn bits(&mut self, n: u32) -> Result<u32> {
        self.need(n)?;
        let v = (self.buf & ((1u64 << n) - 1)) as u32;
        self.buf >>= n;
        self.count -= n;
        Ok(v)
    }

    /// Bytes consumed, the partial byte counted.
    fn consumed(&self) -> usize {
        self.pos - (self.count / 8) as usize
    }
}

/// A canonical Huffman code as `count` codes per length and the symbols in code order: decoded
/// one bit at a time, walking the lengths (the shape of zlib's `puff`).
struct Huffman {
    count: [u16; MAX_BITS + 1],
    symbol: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Result<Huffman> {
        let mut count = [0u16; MAX_BITS + 1];
        for &l in lengths {
            count[l as usize] += 1;
        }
        let mut left: i32 = 1;
        for &c in &count[1..] {
            left = (left << 1) - i32::from(c);
            if left < 0 {
                return corrupt("over-subscribed Huffman code");
            }
        }
        let mut offs = [0u16; MAX_BITS + 2];
        for len in 1..=MAX_BITS {
            offs[len + 1] = offs[len] + count[len];
        }
        let mut symbol = vec![0u16; lengths.len()];
        for (sym, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbol[offs[l as usize] as usize] = sym as u16;
                offs[l as usize] += 1;
            }
        }
        count[0] = 0;
        Ok(Huffman { count, symbol })
    }

    fn decode(&self, bits: &mut Bits) -> Result<u16> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..=MAX_BITS {
            code |= bits.bits(1)? as i32;
            let count = i32::from(self.count[len]);
            if code - first < count {
                return Ok(self.symbol[(index + code - first) as usize]);
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        corrupt("invalid Huffman code")
    }
}

fn fixed_lengths() -> ([u8; 288], [u8; 30]) {
    let mut lit = [0u8; 288];
    lit[..144].fill(8);
    lit[144..256].fill(9);
    lit[256..280].fill(7);
    lit[280..].fill(8);
    (lit, [5; 30])
}

/// Inflates a raw DEFLATE stream onto `out`; returns the input bytes it used.
fn inflate(data: &[u8], out: &mut Out) -> Result<usize> {
    let mut bits = Bits { data, pos: 0, buf: 0, count: 0 };
    loop {
        let last = bits.bits(1)? == 1;
        match bits.bits(2)? {
            0 => {
                let drop = bits.count % 8;
                bits.bits(drop)?;
                let len = bits.bits(16)?;
                if bits.bits(16)? != !len & 0xffff {
                    return corrupt("stored block length check fails");
                }
                // The bit buffer holds whole bytes now; hand them out before the input's.
                let mut len = len as usize;
                while len > 0 && bits.count >= 8 {
                    out.push(bits.bits(8)? as u8)?;
                    len -= 1;
                }
                let Some(chunk) = data.get(bits.pos..bits.pos + len) else {
                    return corrupt("stored block runs past the data");
                };
                out.extend(chunk)?;
                bits.pos += len;
            }
            1 => {
                let (lit, dist) = fixed_lengths();
                codes(&mut bits, out, &Huffman::new(&lit)?, &Huffman::new(&dist)?)?;
            }
            2 => {
                let (lit, dist) = dynamic_codes(&mut bits)?;
                codes(&mut bits, out, &lit, &dist)?;
            }
            _ => return corrupt("deflate block type 3"),
        }
        if last {
            return Ok(bits.consumed());
        }
    }
}

fn dynamic_codes(bits: &mut Bits) -> Result<(Huffman, Huffman)> {
    let nlen = bits.bits(5)? as usize + 257;
    let ndist = bits.bits(5)? as usize + 1;
    let ncode = bits.bits(4)? as usize + 4;
    if nlen > 286 || ndist > 30 {
        return corrupt("too many deflate codes");
    }
    let mut cl = [0u8; 19];
    for &i in &CL_ORDER[..ncode] {
        cl[i] = bits.bits(3)? as u8;
    }
    let cl = Huffman::new(&cl)?;
    let mut lengths = [0u8; 286 + 30];
    let mut i = 0;
    while i < nlen + ndist {
        let sym = cl.decode(bits)?;
        let (value, repeat) = match sym {
            0..=15 => (sym as u8, 1),
            16 if i == 0 => return corrupt("repeat of no code length"),
            16 => (lengths[i - 1], 3 + bits.bits(2)? as usize),
            17 => (0, 3 + bits.bits(3)? as usize),
            _ => (0, 11 + bits.bits(7)? as usize),
        };
        if i + repeat > nlen + ndist {
            return corrupt("code lengths run past their count");
        }
        lengths[i..i + repeat].fill(value);
        i += repeat;
    }
    if lengths[256] == 0 {
        return corrupt("deflate block without an end-of-block code");
    }
    Ok((Huffman::new(&lengths[..nlen])?, Huffman::new(&lengths[nlen..nlen + ndist])?))
}

fn codes(bits: &mut Bits, out: &mut Out, lit: &Huffman, dist: &Huffman) -> Result<()> {
    loop {
        let sym = lit.decode(bits)? as usize;
        if sym < 256 {
            out.push(sym as u8)?;
        } else if sym == 256 {
            return Ok(());
        } else {
            let i = sym - 257;
            if i >= 29 {
                return corrupt("invalid deflate length code");
            }
            let len = LEN_BASE[i] as usize + bits.bits(u32::from(LEN_EXTRA[i]))? as usize;
            let d = dist.decode(bits)? as usize;
            if d >= 30 {
                return corrupt("invalid deflate distance code");
            }
            let d = DIST_BASE[d] as usize + bits.bits(u32::from(DIST_EXTRA[d]))? as usize;
            out.copy_back(d, len)?;
        }
    }
}

// ---- Encoder ----

const WINDOW: usize = 1 << 15;
const HASH_BITS: u32 = 15;
const MIN_MATCH: usize = 3;
const MAX_MATCH: usize = 258;
/// Symbols per block: each block gets codes fitted to its own statistics.
const BLOCK_SYMBOLS: usize = 1 << 15;

/// A literal (`dist == 0`) or a match.
#[derive(Clone, Copy)]
struct Token {
    len_or_lit: u16,
    dist: u16,
}

pub fn compress(data: &[u8], level: Option<i32>) -> Vec<u8> {
    // Kafka's gzip levels are zlib's, 1..=9 with -1 its default (6): the level bounds how far
    // down the hash chain a match is searched.
    let level = level.filter(|l| (1..=9).contains(l)).unwrap_or(6);
    let chain = [0, 4, 8, 16, 32, 64, 128, 256, 1024, 4096][level as usize];
    let mut out = Vec::with_capacity(data.len() / 2 + 32);
    // No name, no time, "unknown" OS, as Java's GZIPOutputStream writes the header.
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    let mut w = BitWriter { out, buf: 0, count: 0 };
    let tokens = lz77(data, chain);
    let mut blocks = tokens.chunks(BLOCK_SYMBOLS).peekable();
    if blocks.peek().is_none() {
        write_block(&mut w, &[], true);
    }
    while let Some(block) = blocks.next() {
        write_block(&mut w, block, blocks.peek().is_none());
    }
    w.flush();
    let mut out = w.out;
    // Input that does not compress goes in stored blocks: 5 bytes per 64 KiB over its size.
    let stored_len = data.len() + 5 * data.len().div_ceil(0xffff).max(1);
    if out.len() - 10 > stored_len {
        out.truncate(10);
        let mut chunks = data.chunks(0xffff).peekable();
        if chunks.peek().is_none() {
            out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
        }
        while let Some(chunk) = chunks.next() {
            out.push(u8::from(chunks.peek().is_none())); // BFINAL, BTYPE 00, then byte-aligned
            let len = chunk.len() as u16;
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&(!len).to_le_bytes());
            out.extend_from_slice(chunk);
        }
    }
    out.extend_from_slice(&crc32(0, data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn hash3(b: &[u8]) -> usize {
    let v = u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16;
    (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
}

/// Greedy LZ77: at each position the longest match among the last `chain` positions with the
/// same 3-byte hash, within the 32 KiB window.
fn lz77(data: &[u8], chain: usize) -> Vec<Token> {
    let mut tokens = Vec::with_capacity(data.len() / 3 + 1);
    let mut head = vec![u32::MAX; 1 << HASH_BITS];
    let mut prev = vec![u32::MAX; WINDOW];
    let insert = |head: &mut [u32], prev: &mut [u32], i: usize| {
        if i + MIN_MATCH <= data.len() {
            let h = hash3(&data[i..]);
            prev[i % WINDOW] = head[h];
            head[h] = i as u32;
        }
    };
    let mut i = 0;
    while i < data.len() {
        let mut best = (0, 0);
        if i + MIN_MATCH <= data.len() {
            let max = (data.len() - i).min(MAX_MATCH);
            let mut cand = head[hash3(&data[i..])];
            let mut steps = chain;
            while cand != u32::MAX && steps > 0 {
                let c = cand as usize;
                if i - c > WINDOW - 1 {
                    break;
                }
                if data[c + best.0] == data[i + best.0.min(max - 1)] {
                    let len = data[c..c + max]
                        .iter()
                        .zip(&data[i..i + max])
                        .take_while(|(a, b)| a == b)
                        .count();
                    if len > best.0 {
                        best = (len, i - c);
                        if len == max {
                            break;
                        }
                    }
                }
                let next = prev[c % WINDOW];
                // The chain only ever goes back; a slot overwritten by a newer position ends it.
                if next == u32::MAX || next as usize >= c {
                    break;
                }
                cand = next;
                steps -= 1;
            }
        }
        if best.0 >= MIN_MATCH {
            tokens.push(Token { len_or_lit: best.0 as u16, dist: best.1 as u16 });
            for j in i..i + best.0 {
                insert(&mut head, &mut prev, j);
            }
            i += best.0;
        } else {
            tokens.push(Token { len_or_lit: u16::from(data[i]), dist: 0 });
            insert(&mut head, &mut prev, i);
            i += 1;
        }
    }
    tokens
}

struct BitWriter {
    out: Vec<u8>,
    buf: u64,
    count: u32,
}

impl BitWriter {
    fn put(&mut self, value: u32, n: u32) {
        self.buf |= u64::from(value) << self.count;
        self.count += n;
        while self.count >= 8 {
            self.out.push(self.buf as u8);
            self.buf >>= 8;
            self.count -= 8;
        }
    }

    fn flush(&mut self) {
        if self.count > 0 {
            self.out.push(self.buf as u8);
        }
        (self.buf, self.count) = (0, 0);
    }
}

fn len_code(len: usize) -> usize {
    LEN_BASE.iter().rposition(|&b| b as usize <= len).expect("len >= 3")
}

fn dist_code(dist: usize) -> usize {
    DIST_BASE.iter().rposition(|&b| b as usize <= dist).expect("dist >= 1")
}

/// Code lengths of at most `max` bits for the frequencies: Huffman's construction, repeated on
/// flattened frequencies until no code is too long. Two codes at least, so every code is
/// complete (some inflaters refuse a lone code).
fn code_lengths(freq: &[u32], max: u8) -> Vec<u8> {
    let mut freq = freq.to_vec();
    let used = freq.iter().filter(|&&f| f > 0).count();
    for f in freq.iter_mut().filter(|f| **f == 0).take(2usize.saturating_sub(used)) {
        *f = 1;
    }
    loop {
        let lengths = huffman_lengths(&freq);
        if lengths.iter().all(|&l| l <= max) {
            return lengths;
        }
        for f in freq.iter_mut().filter(|f| **f > 0) {
            *f = (*f >> 1) | 1;
        }
    }
}

fn huffman_lengths(freq: &[u32]) -> Vec<u8> {
    // Nodes: leaves first, then internal ones; `parent` links give each leaf its depth.
    let mut weight: Vec<u64> = Vec::new();
    let mut parent: Vec<usize> = Vec::new();
    let mut leaf_of = vec![usize::MAX; freq.len()];
    let mut heap = std::collections::BinaryHeap::new();
    for (sym, &f) in freq.iter().enumerate() {
        if f > 0 {
            leaf_of[sym] = weight.len();
            heap.push(std::cmp::Reverse((u64::from(f), weight.len())));
            weight.push(u64::from(f));
            parent.push(usize::MAX);
        }
    }
    while heap.len() > 1 {
        let std::cmp::Reverse((wa, a)) = heap.pop().expect("two nodes");
        let std::cmp::Reverse((wb, b)) = heap.pop().expect("two nodes");
        let n = weight.len();
        weight.push(wa + wb);
        parent.push(usize::MAX);
        parent[a] = n;
        parent[b] = n;
        heap.push(std::cmp::Reverse((wa + wb, n)));
    }
    leaf_of
        .iter()
        .map(|&leaf| {
            if leaf == usize::MAX {
                return 0;
            }
            let (mut depth, mut n) = (0u32, leaf);
            while parent[n] != usize::MAX {
                n = parent[n];
                depth += 1;
            }
            depth.min(255) as u8
        })
        .collect()
}

/// Canonical codes for the lengths, bit-reversed as DEFLATE sends them.
fn canonical(lengths: &[u8]) -> Vec<u16> {
    let mut count = [0u16; MAX_BITS + 1];
    for &l in lengths {
        count[l as usize] += 1;
    }
    count[0] = 0;
    let mut next = [0u16; MAX_BITS + 1];
    let mut code = 0u16;
    for len in 1..=MAX_BITS {
        code = (code + count[len - 1]) << 1;
        next[len] = code;
    }
    lengths
        .iter()
        .map(|&l| {
            if l == 0 {
                return 0;
            }
            let c = next[l as usize];
            next[l as usize] += 1;
            c.reverse_bits() >> (16 - l)
        })
        .collect()
}

fn write_block(w: &mut BitWriter, tokens: &[Token], last: bool) {
    let mut lit_freq = [0u32; 286];
    let mut dist_freq = [0u32; 30];
    for t in tokens {
        if t.dist == 0 {
            lit_freq[t.len_or_lit as usize] += 1;
        } else {
            lit_freq[257 + len_code(t.len_or_lit as usize)] += 1;
            dist_freq[dist_code(t.dist as usize)] += 1;
        }
    }
    lit_freq[256] = 1;
    let lit_len = code_lengths(&lit_freq, 15);
    let dist_len = code_lengths(&dist_freq, 15);
    let nlen = 257.max(lit_len.iter().rposition(|&l| l > 0).map_or(0, |p| p + 1));
    let ndist = 1.max(dist_len.iter().rposition(|&l| l > 0).map_or(0, |p| p + 1));

    // The two codes' lengths, run-length coded with symbols 16 (repeat), 17 and 18 (zeros).
    let all: Vec<u8> = lit_len[..nlen].iter().chain(&dist_len[..ndist]).copied().collect();
    let mut rle: Vec<(u8, u8)> = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let l = all[i];
        let run = all[i..].iter().take_while(|&&x| x == l).count();
        if l == 0 && run >= 3 {
            let n = run.min(138);
            rle.push(if n >= 11 { (18, (n - 11) as u8) } else { (17, (n - 3) as u8) });
            i += n;
        } else if l != 0 && run >= 4 {
            rle.push((l, 0));
            let n = (run - 1).min(6);
            rle.push((16, (n - 3) as u8));
            i += 1 + n;
        } else {
            rle.push((l, 0));
            i += 1;
        }
    }
    let mut cl_freq = [0u32; 19];
    for &(sym, _) in &rle {
        cl_freq[sym as usize] += 1;
    }
    let cl_len = code_lengths(&cl_freq, 7);
    let ncode = 4.max(CL_ORDER.iter().rposition(|&s| cl_len[s] > 0).map_or(0, |p| p + 1));

    w.put(u32::from(last), 1);
    w.put(2, 2);
    w.put((nlen - 257) as u32, 5);
    w.put((ndist - 1) as u32, 5);
    w.put((ncode - 4) as u32, 4);
    for &s in &CL_ORDER[..ncode] {
        w.put(u32::from(cl_len[s]), 3);
    }
    let cl_code = canonical(&cl_len);
    for &(sym, extra) in &rle {
        let s = sym as usize;
        w.put(u32::from(cl_code[s]), u32::from(cl_len[s]));
        match sym {
            16 => w.put(u32::from(extra), 2),
            17 => w.put(u32::from(extra), 3),
            18 => w.put(u32::from(extra), 7),
            _ => {}
        }
    }
    let lit_code = canonical(&lit_len);
    let dist_code_bits = canonical(&dist_len);
    for t in tokens {
        if t.dist == 0 {
            let s = t.len_or_lit as usize;
            w.put(u32::from(lit_code[s]), u32::from(lit_len[s]));
        } else {
            let len = t.len_or_lit as usize;
            let lc = len_code(len);
            w.put(u32::from(lit_code[257 + lc]), u32::from(lit_len[257 + lc]));
            w.put((len - LEN_BASE[lc] as usize) as u32, u32::from(LEN_EXTRA[lc]));
            let d = t.dist as usize;
            let dc = dist_code(d);
            w.put(u32::from(dist_code_bits[dc]), u32::from(dist_len[dc]));
            w.put((d - DIST_BASE[dc] as usize) as u32, u32::from(DIST_EXTRA[dc]));
        }
    }
    w.put(u32::from(lit_code[256]), u32::from(lit_len[256]));
}

#[cfg(test)]
mod tests {
    use super::super::{tests as common, GZIP};
    use super::*;

    #[test]
    fn round_trips() {
        common::round_trips(GZIP);
        for level in [1, 9] {
            let s = &common::samples()[8];
            assert_eq!(decompress(&compress(s, Some(level)), usize::MAX).unwrap(), *s);
        }
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        common::survives_damage(GZIP, true);
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn reads_what_zlib_writes() {
        // Python's gzip.compress(..., mtime=0): a fixed block, an empty one, a stored one.
        let fixed = hex("1f8b0800000000000203cb48cdc9c957c84027b9000088590b18000000");
        assert_eq!(decompress(&fixed, 100).unwrap(), b"hello hello hello hello\n");
        let empty = hex("1f8b080000000000020303000000000000000000");
        assert_eq!(decompress(&empty, 100).unwrap(), b"");
        let stored = hex("1f8b0800000000000403010300fcff616263c241243503000000");
        assert_eq!(decompress(&stored, 100).unwrap(), b"abc");
        let mut two = stored.clone();
        two.extend_from_slice(&fixed);
        assert_eq!(decompress(&two, 100).unwrap(), b"abchello hello hello hello\n");
        let mut bad = stored.clone();
        bad[20] ^= 1;
        assert!(decompress(&bad, 100).is_err(), "CRC-32 checked");
    }

    /// Both directions against Python's zlib (dynamic blocks, levels), when python3 is here.
    #[test]
    fn agrees_with_python_zlib() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let script = "import sys,gzip\nd=sys.stdin.buffer.read()\n\
                      sys.stdout.buffer.write(gzip.decompress(d[1:]) if d[0]==0 else gzip.compress(d[1:],int(d[0]),mtime=0))";
        let python = |mode: u8, data: &[u8]| -> Option<Vec<u8>> {
            let mut child = Command::new("python3")
                .args(["-c", script])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .ok()?;
            let mut input = vec![mode];
            input.extend_from_slice(data);
            child.stdin.take()?.write_all(&input).ok()?;
            let out = child.wait_with_output().ok()?;
            out.status.success().then_some(out.stdout)
        };
        if python(0, &compress(b"x", None)).is_none() {
            eprintln!("python3 not available: skipped");
            return;
        }
        for s in common::samples() {
            assert_eq!(python(0, &compress(&s, None)).unwrap(), s, "python reads ours");
            for level in [1, 6, 9] {
                let theirs = python(level, &s).unwrap();
                assert_eq!(decompress(&theirs, s.len()).unwrap(), s, "we read python's");
            }
        }
    }
}
