//! Authentication building blocks for SASL: the hashes, HMAC and PBKDF2 that SCRAM
//! (RFC 5802, RFC 7677) is made of, base64 for its messages, and comparisons whose time does
//! not depend on where two secrets differ.

pub mod acl;
pub mod acl_index;
pub mod base64;
pub mod hmac;
pub mod jaas;
pub mod scram;
pub mod session;
pub mod sha2;

#[cfg(test)]
mod sha1;
#[cfg(test)]
mod tests;

/// Whether `a` and `b` are equal, looking at every byte whatever the first difference, so a
/// client timing the answer learns nothing about how much of a proof was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold back into an early exit.
    std::hint::black_box(diff) == 0
}
