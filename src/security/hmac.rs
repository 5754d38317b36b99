//! HMAC (RFC 2104) and PBKDF2 with HMAC as its PRF, which SCRAM calls `Hi` (RFC 5802 §2.2).

use super::sha2::Hash;

/// An HMAC key made ready: the hash states after the inner and outer padded keys, so each
/// message costs only its own blocks. PBKDF2 runs thousands of HMACs under one key.
#[derive(Clone)]
pub struct HmacKey<H: Hash> {
    inner: H,
    outer: H,
}

impl<H: Hash> HmacKey<H> {
    pub fn new(key: &[u8]) -> Self {
        let mut block = vec![0u8; H::BLOCK];
        if key.len() > H::BLOCK {
            let d = H::digest(key);
            block[..d.len()].copy_from_slice(&d);
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let pad = |b: u8| block.iter().map(|k| k ^ b).collect::<Vec<u8>>();
        let mut inner = H::new();
        inner.update(&pad(0x36));
        let mut outer = H::new();
        outer.update(&pad(0x5c));
        HmacKey { inner, outer }
    }

    pub fn mac(&self, parts: &[&[u8]]) -> Vec<u8> {
        let mut inner = self.inner.clone();
        for p in parts {
            inner.update(p);
        }
        let mut outer = self.outer.clone();
        outer.update(&inner.finish());
        outer.finish()
    }
}

pub fn hmac<H: Hash>(key: &[u8], message: &[u8]) -> Vec<u8> {
    HmacKey::<H>::new(key).mac(&[message])
}

/// PBKDF2 of one output block (RFC 8018 §5.2 with block index 1), which is all SCRAM needs:
/// its derived key is exactly one hash long.
pub fn hi<H: Hash>(password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
    let key = HmacKey::<H>::new(password);
    let mut u = key.mac(&[salt, &1u32.to_be_bytes()]);
    let mut out = u.clone();
    for _ in 1..iterations {
        u = key.mac(&[&u]);
        for (o, x) in out.iter_mut().zip(&u) {
            *o ^= x;
        }
    }
    out
}
