//! The request header (v1 and v2) and the API table lookup the broker does before any body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minikafka::protocol::apis;
use minikafka::protocol::codec::Reader;
use minikafka::protocol::header::{response_header_flexible, RequestHeader};

fuzz_target!(|data: &[u8]| {
    let Ok((api_key, version, _)) = RequestHeader::decode_prefix(&mut Reader::new(data)) else {
        return;
    };
    let _ = response_header_flexible(api_key, version);
    let flexible =
        apis::spec(api_key).is_some_and(|s| s.supports(version) && s.is_flexible(version));
    for f in [flexible, !flexible] {
        let _ = RequestHeader::decode(&mut Reader::new(data), f);
    }
});
