//! Kafka's 16-byte UUIDs: random generation and the URL-safe, unpadded base64 text form
//! (`org.apache.kafka.common.Uuid#toString`) used in `meta.properties` and `partition.metadata`.

use std::io::Read;

pub use crate::protocol::codec::{Uuid, ZERO_UUID};

/// The fixed id of `__cluster_metadata` (`Uuid.METADATA_TOPIC_ID`).
pub const METADATA_TOPIC_ID: Uuid = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A random version-4 UUID, never one of Kafka's reserved ids, never one whose text starts
/// with '-' (Kafka avoids those so they cannot be mistaken for command-line flags).
pub fn random() -> Uuid {
    loop {
        let mut u = ZERO_UUID;
        match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut u)) {
            Ok(()) => {}
            Err(_) => fallback_entropy(&mut u),
        }
        u[6] = (u[6] & 0x0f) | 0x40;
        u[8] = (u[8] & 0x3f) | 0x80;
        if u != ZERO_UUID && u != METADATA_TOPIC_ID && !to_base64(&u).starts_with('-') {
            return u;
        }
    }
}

fn fallback_entropy(u: &mut Uuid) {
    use std::hash::{BuildHasher, Hasher};
    for chunk in u.chunks_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
    }
}

pub fn to_base64(u: &Uuid) -> String {
    let mut s = String::with_capacity(22);
    for chunk in u.chunks(3) {
        let mut n = 0u32;
        for (i, b) in chunk.iter().enumerate() {
            n |= u32::from(*b) << (16 - 8 * i);
        }
        for i in 0..=chunk.len() {
            s.push(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize] as char);
        }
    }
    s
}

pub fn from_base64(s: &str) -> Option<Uuid> {
    let s = s.trim();
    if s.len() != 22 {
        return None;
    }
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = Vec::with_capacity(16);
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        bits = (bits << 6) | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    out.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_kafka_text_form() {
        assert_eq!(to_base64(&METADATA_TOPIC_ID), "AAAAAAAAAAAAAAAAAAAAAQ");
        let u = from_base64("v9meXjI1RVKB-NSvF0GXDA").unwrap();
        assert_eq!(u[..4], [0xbf, 0xd9, 0x9e, 0x5e]);
        assert_eq!(to_base64(&u), "v9meXjI1RVKB-NSvF0GXDA");
        assert_eq!(from_base64("short"), None);
    }

    #[test]
    fn random_ids_are_v4_and_round_trip() {
        let a = random();
        assert_ne!(a, random());
        assert_eq!(a[6] >> 4, 4);
        assert_eq!(from_base64(&to_base64(&a)), Some(a));
    }
}
