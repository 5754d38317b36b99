//! `__consumer_offsets` and `__transaction_state` keys and values, as replayed at start-up:
//! the first byte chooses the topic and whether there is a value (a tombstone has none), the
//! next two bytes where the key ends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minikafka::groups::offsets;
use minikafka::txn::log as txn_log;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    if rest.len() < 2 {
        return;
    }
    let key_len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
    let (key, value) = rest[2..].split_at(key_len);
    let value = (sel & 1 == 0).then_some(value);
    if sel & 2 == 0 {
        let _ = offsets::decode(key, value);
    } else {
        let _ = txn_log::decode(key, value);
    }
});
