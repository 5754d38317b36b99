//! The four codecs' decompressors (hand-written: gzip, snappy, lz4, zstd), the first byte
//! choosing which, with the output limit the broker imposes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minikafka::records::compression;

fuzz_target!(|data: &[u8]| {
    let Some((&codec, rest)) = data.split_first() else { return };
    let codec = i16::from(codec % 4) + 1;
    if let Ok(out) = compression::decompress(codec, rest, 1 << 20) {
        assert!(out.len() <= 1 << 20, "{} bytes past the limit", out.len());
    }
});
