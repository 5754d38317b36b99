//! EndTxn (key 26), versions 0-4.
//!
//! - v1 is the same as v0; v2 may answer PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before).
//! - v3 is the first flexible version; v4 may answer TRANSACTION_ABORTABLE (KIP-890), which
//!   this broker never does.
//! - v5 (an epoch bump at every transaction, KIP-890 part 2) is not served.
//!
//! The response is AddOffsetsToTxn's: see [`super::add_offsets_to_txn::encode_response`].

use super::codec::{Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndTxnRequest<'a> {
    pub transactional_id: &'a str,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub committed: bool,
}

impl<'a> EndTxnRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 3;
        let req = EndTxnRequest {
            transactional_id: r.string(flexible)?,
            producer_id: r.i64()?,
            producer_epoch: r.i16()?,
            committed: r.bool()?,
        };
        r.end_struct(flexible)?;
        Ok(req)
    }
}
