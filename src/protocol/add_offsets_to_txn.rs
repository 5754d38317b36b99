//! AddOffsetsToTxn (key 25), versions 0-4.
//!
//! - v1 is the same as v0; v2 may answer PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before).
//! - v3 is the first flexible version; v4 may answer TRANSACTION_ABORTABLE (KIP-890), which
//!   this broker never does.

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddOffsetsToTxnRequest<'a> {
    pub transactional_id: &'a str,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub group_id: &'a str,
}

impl<'a> AddOffsetsToTxnRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 3;
        let req = AddOffsetsToTxnRequest {
            transactional_id: r.string(flexible)?,
            producer_id: r.i64()?,
            producer_epoch: r.i16()?,
            group_id: r.string(flexible)?,
        };
        r.end_struct(flexible)?;
        Ok(req)
    }
}

/// The response of AddOffsetsToTxn and of EndTxn up to v4: throttle time and error code.
pub fn encode_response(error_code: i16, flexible: bool, out: &mut Vec<u8>) {
    out.put_i32(0);
    out.put_i16(error_code);
    out.put_empty_tags(flexible);
}
