//! SHA-1, only so the tests can replay RFC 5802's SCRAM-SHA-1 example exchange through the
//! same HMAC and `Hi` code the SHA-2 mechanisms use. Kafka serves no SHA-1 mechanism.

use super::sha2::Hash;

#[derive(Clone)]
pub struct Sha1 {
    state: [u32; 5],
    data: Vec<u8>,
}

impl Hash for Sha1 {
    const BLOCK: usize = 64;
    const OUTPUT: usize = 20;

    fn new() -> Self {
        Sha1 { state: [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0], data: vec![] }
    }

    fn update(&mut self, data: &[u8]) {
        self.data.extend_from_slice(data);
    }

    fn finish(mut self) -> Vec<u8> {
        let bits = (self.data.len() as u64) * 8;
        self.data.push(0x80);
        while self.data.len() % 64 != 56 {
            self.data.push(0);
        }
        self.data.extend_from_slice(&bits.to_be_bytes());
        for block in self.data.chunks_exact(64) {
            let mut w = [0u32; 80];
            for (i, c) in block.chunks_exact(4).enumerate() {
                w[i] = u32::from_be_bytes(c.try_into().unwrap());
            }
            for i in 16..80 {
                w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
            }
            let [mut a, mut b, mut c, mut d, mut e] = self.state;
            for (i, wi) in w.iter().enumerate() {
                let (f, k) = match i {
                    0..=19 => ((b & c) | (!b & d), 0x5a827999),
                    20..=39 => (b ^ c ^ d, 0x6ed9eba1),
                    40..=59 => ((b & c) | (b & d) | (c & d), 0x8f1bbcdc),
                    _ => (b ^ c ^ d, 0xca62c1d6),
                };
                let t = a
                    .rotate_left(5)
                    .wrapping_add(f)
                    .wrapping_add(e)
                    .wrapping_add(k)
                    .wrapping_add(*wi);
                (e, d, c, b, a) = (d, c, b.rotate_left(30), a, t);
            }
            for (s, v) in self.state.iter_mut().zip([a, b, c, d, e]) {
                *s = s.wrapping_add(v);
            }
        }
        self.state.iter().flat_map(|w| w.to_be_bytes()).collect()
    }
}
