//! EndTxn (key 26), versions 0-5.
//!
//! - v1 is the same as v0; v2 may answer PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before).
//! - v3 is the first flexible version; v4 may answer TRANSACTION_ABORTABLE (KIP-890), which
//!   this broker never does.
//! - v5 (transactions v2, KIP-890 part 2): the coordinator bumps the producer epoch at every
//!   end, and the response names the producer id and epoch to continue with.
//!
//! Before v5 the response is AddOffsetsToTxn's: see
//! [`super::add_offsets_to_txn::encode_response`].

use super::codec::{Put, Reader, Result};

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

/// The response from v5: the producer id and epoch after the end (-1 and -1 with an error).
pub fn encode_response_v5(
    error_code: i16,
    producer_id: i64,
    producer_epoch: i16,
    out: &mut Vec<u8>,
) {
    out.put_i32(0);
    out.put_i16(error_code);
    out.put_i64(producer_id);
    out.put_i16(producer_epoch);
    out.put_empty_tags(true);
}
