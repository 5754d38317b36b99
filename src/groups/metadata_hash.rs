//! The metadata hash of a KIP-848 group (KIP-1101): what `ConsumerGroupMetadataValue` keeps
//! of the subscribed topics, so that a coordinator loading the group knows whether the topics
//! changed while it was away. Kafka 4.4 computes it with XXH3-64 (hash4j's streaming hasher,
//! seed 0): a topic hashes its magic byte 0, topic id (most then least significant half),
//! name, partition count and each partition's index and sorted replica racks; the group
//! hashes its topics' hashes in name order. The values must be Kafka's bit for bit, else
//! Kafka opening the directory sees every group's topics as changed and rebalances it.

use std::collections::BTreeMap;

use crate::uuid::Uuid;

/// The hash of one topic, as Kafka's `Utils.computeTopicHash`. Partitions hash no racks:
/// this broker has none (`broker.rack` is not served).
pub fn topic_hash(name: &str, id: &Uuid, partitions: i32) -> i64 {
    let mut s = Stream::default();
    s.byte(0);
    s.long(u64::from_be_bytes(id[..8].try_into().unwrap()));
    s.long(u64::from_be_bytes(id[8..].try_into().unwrap()));
    s.string(name);
    s.int(partitions as u32);
    for p in 0..partitions {
        s.int(p as u32);
    }
    xxh3_64(&s.0) as i64
}

/// The metadata hash of a group subscribed to `topics` (name to id and partition count, the
/// existing topics only, as Kafka hashes them).
pub fn of_subscription(topics: &BTreeMap<String, (Uuid, i32)>) -> i64 {
    let hashes = topics.iter().map(|(n, (id, p))| (n.clone(), topic_hash(n, id, *p))).collect();
    group_hash(&hashes)
}

/// The hash of a group's subscribed topics (name to topic hash), as Kafka's
/// `Utils.computeGroupHash`: 0 without topics.
pub fn group_hash(topics: &BTreeMap<String, i64>) -> i64 {
    if topics.is_empty() {
        return 0;
    }
    let mut s = Stream::default();
    for h in topics.values() {
        s.long(*h as u64);
    }
    xxh3_64(&s.0) as i64
}

/// The bytes hash4j's `HashStream64` feeds its hash: integers little-endian, a string as its
/// UTF-16 code units then its length in units.
#[derive(Default)]
struct Stream(Vec<u8>);

impl Stream {
    fn byte(&mut self, v: u8) {
        self.0.push(v);
    }
    fn int(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn long(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn string(&mut self, s: &str) {
        let mut units = 0u32;
        for u in s.encode_utf16() {
            self.0.extend_from_slice(&u.to_le_bytes());
            units += 1;
        }
        self.int(units);
    }
}

// XXH3-64 with seed 0 and the default secret, from the xxHash specification. A streaming
// hash equals the one-shot hash of the concatenated input, so one-shot is enough here.

const P32_1: u64 = 0x9E37_79B1;
const P32_2: u64 = 0x85EB_CA77;
const P32_3: u64 = 0xC2B2_AE3D;
const P64_1: u64 = 0x9E37_79B1_85EB_CA87;
const P64_2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P64_3: u64 = 0x1656_67B1_9E37_79F9;
const P64_4: u64 = 0x85EB_CA77_C2B2_AE63;
const P64_5: u64 = 0x27D4_EB2F_1656_67C5;

/// The specification's default 192-byte secret, as little-endian words.
const SECRET_WORDS: [u64; 24] = [
    0xbe4b_a423_396c_feb8,
    0x1cad_21f7_2c81_017c,
    0xdb97_9083_e96d_d4de,
    0x1f67_b3b7_a4a4_4072,
    0x78e5_c0cc_4ee6_79cb,
    0x2172_ffcc_7dd0_5a82,
    0x8e24_43f7_7446_08b8,
    0x4c26_3a81_e690_35e0,
    0xcb00_c391_bb52_283c,
    0xa32e_531b_8b65_d088,
    0x4ef9_0da2_9748_6471,
    0xd8ac_dea9_46ef_1938,
    0x3f34_9ce3_3f76_faa8,
    0x1d4f_0bc7_c7bb_dcf9,
    0x3159_b4cd_4be0_518a,
    0x6473_78d9_c97e_9fc8,
    0xc3eb_d334_83ac_c5ea,
    0xeb63_13fa_ffa0_81c5,
    0x49da_f0b7_51dd_0d17,
    0x9e68_d429_2655_16d3,
    0xfca1_477d_58be_162b,
    0xce31_d07a_d1b8_f88f,
    0x2804_1695_8f3a_cb45,
    0x7e40_4bbb_cafb_d7af,
];

const SECRET: [u8; 192] = {
    let mut s = [0u8; 192];
    let mut i = 0;
    while i < 192 {
        s[i] = (SECRET_WORDS[i / 8] >> ((i % 8) * 8)) as u8;
        i += 1;
    }
    s
};

fn r64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn r32(b: &[u8], at: usize) -> u64 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as u64
}

fn mul_fold(a: u64, b: u64) -> u64 {
    let p = (a as u128) * (b as u128);
    (p as u64) ^ ((p >> 64) as u64)
}

fn xxh64_avalanche(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(P64_2);
    h ^= h >> 29;
    h = h.wrapping_mul(P64_3);
    h ^ (h >> 32)
}

fn avalanche(mut h: u64) -> u64 {
    h ^= h >> 37;
    h = h.wrapping_mul(0x1656_6791_9E37_79F9);
    h ^ (h >> 32)
}

fn mix16(input: &[u8], at: usize, secret_at: usize) -> u64 {
    mul_fold(
        r64(input, at) ^ r64(&SECRET, secret_at),
        r64(input, at + 8) ^ r64(&SECRET, secret_at + 8),
    )
}

pub fn xxh3_64(input: &[u8]) -> u64 {
    let len = input.len();
    let n = len as u64;
    match len {
        0 => xxh64_avalanche(r64(&SECRET, 56) ^ r64(&SECRET, 64)),
        1..=3 => {
            let combined = ((input[0] as u64) << 16)
                | ((input[len >> 1] as u64) << 24)
                | input[len - 1] as u64
                | (n << 8);
            xxh64_avalanche(combined ^ (r32(&SECRET, 0) ^ r32(&SECRET, 4)))
        }
        4..=8 => {
            let both = r32(input, len - 4).wrapping_add(r32(input, 0) << 32);
            let mut h = both ^ (r64(&SECRET, 8) ^ r64(&SECRET, 16));
            h ^= h.rotate_left(49) ^ h.rotate_left(24);
            h = h.wrapping_mul(0x9FB2_1C65_1E98_DF25);
            h ^= (h >> 35).wrapping_add(n);
            h = h.wrapping_mul(0x9FB2_1C65_1E98_DF25);
            h ^ (h >> 28)
        }
        9..=16 => {
            let lo = r64(input, 0) ^ (r64(&SECRET, 24) ^ r64(&SECRET, 32));
            let hi = r64(input, len - 8) ^ (r64(&SECRET, 40) ^ r64(&SECRET, 48));
            let acc =
                n.wrapping_add(lo.swap_bytes()).wrapping_add(hi).wrapping_add(mul_fold(lo, hi));
            avalanche(acc)
        }
        17..=128 => {
            let mut acc = n.wrapping_mul(P64_1);
            let rounds = (len - 1) / 32;
            for i in (0..=rounds).rev() {
                acc = acc.wrapping_add(mix16(input, 16 * i, 32 * i));
                acc = acc.wrapping_add(mix16(input, len - 16 * (i + 1), 32 * i + 16));
            }
            avalanche(acc)
        }
        129..=240 => {
            let mut acc = n.wrapping_mul(P64_1);
            for i in 0..8 {
                acc = acc.wrapping_add(mix16(input, 16 * i, 16 * i));
            }
            acc = avalanche(acc);
            for i in 8..len / 16 {
                acc = acc.wrapping_add(mix16(input, 16 * i, 16 * (i - 8) + 3));
            }
            acc = acc.wrapping_add(mix16(input, len - 16, 136 - 17));
            avalanche(acc)
        }
        _ => long(input),
    }
}

fn accumulate_stripe(acc: &mut [u64; 8], input: &[u8], at: usize, secret_at: usize) {
    for i in 0..8 {
        let v = r64(input, at + 8 * i);
        let k = v ^ r64(&SECRET, secret_at + 8 * i);
        acc[i ^ 1] = acc[i ^ 1].wrapping_add(v);
        acc[i] = acc[i].wrapping_add((k & 0xFFFF_FFFF).wrapping_mul(k >> 32));
    }
}

fn long(input: &[u8]) -> u64 {
    const STRIPE: usize = 64;
    const STRIPES_PER_BLOCK: usize = (192 - STRIPE) / 8;
    const BLOCK: usize = STRIPE * STRIPES_PER_BLOCK;
    let len = input.len();
    let mut acc = [P32_3, P64_1, P64_2, P64_3, P64_4, P32_2, P64_5, P32_1];
    let blocks = (len - 1) / BLOCK;
    for b in 0..blocks {
        for s in 0..STRIPES_PER_BLOCK {
            accumulate_stripe(&mut acc, input, b * BLOCK + s * STRIPE, s * 8);
        }
        for (i, a) in acc.iter_mut().enumerate() {
            let mut x = *a;
            x ^= x >> 47;
            x ^= r64(&SECRET, 192 - STRIPE + 8 * i);
            *a = x.wrapping_mul(P32_1);
        }
    }
    let stripes = ((len - 1) - BLOCK * blocks) / STRIPE;
    for s in 0..stripes {
        accumulate_stripe(&mut acc, input, blocks * BLOCK + s * STRIPE, s * 8);
    }
    accumulate_stripe(&mut acc, input, len - STRIPE, 192 - STRIPE - 7);
    let mut h = (len as u64).wrapping_mul(P64_1);
    for i in 0..4 {
        h = h.wrapping_add(mul_fold(
            acc[2 * i] ^ r64(&SECRET, 11 + 16 * i),
            acc[2 * i + 1] ^ r64(&SECRET, 11 + 16 * i + 8),
        ));
    }
    avalanche(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_input_hashes_to_the_reference_value() {
        // XXH3_64bits("", 0) of the reference implementation.
        assert_eq!(xxh3_64(b""), 0x2D06_8005_38D3_94C2);
    }

    #[test]
    fn every_length_class_hashes_without_panicking_and_differs() {
        let data: Vec<u8> = (0..3000u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut seen = std::collections::BTreeSet::new();
        for len in 0..=3000 {
            assert!(seen.insert(xxh3_64(&data[..len])), "collision at {len}");
        }
    }
}
