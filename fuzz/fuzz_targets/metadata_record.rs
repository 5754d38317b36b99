//! A `__cluster_metadata` record value, as read back from the metadata log at start-up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minikafka::metadata::records::MetadataRecord;

fuzz_target!(|data: &[u8]| {
    if let Ok(rec) = MetadataRecord::decode(data) {
        // What decodes must encode again without panicking; records of types the broker does
        // not know are kept as `Other` and never written back (their encoding panics).
        if !matches!(rec, MetadataRecord::Other { .. }) {
            let mut out = Vec::new();
            rec.encode(&mut out);
        }
    }
});
