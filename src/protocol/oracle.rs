//! The `kafka-protocol` crate as an independent codec for the unit tests: requests it encodes
//! must decode with ours, responses we encode must decode with it, with nothing left over.

use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

pub fn kp_encode<T: Encodable>(m: &T, version: i16) -> Vec<u8> {
    let mut b = Vec::new();
    m.encode(&mut b, version).expect("kafka-protocol encodes");
    b
}

pub fn kp_decode<T: Decodable>(b: &[u8], version: i16) -> T {
    let mut s = b;
    let m = T::decode(&mut s, version).expect("kafka-protocol decodes");
    assert!(s.is_empty(), "v{version}: {} bytes left over", s.len());
    m
}

pub fn sb(s: &'static str) -> StrBytes {
    StrBytes::from_static_str(s)
}
