//! InitProducerId (key 22), versions 0-5.
//!
//! - v1 is the same as v0; v2 is the first flexible version.
//! - v3 adds `producer_id` and `producer_epoch`, so an idempotent producer can bump its epoch
//!   after an error instead of taking a new id (KIP-360).
//! - v4 is the same as v3 (PRODUCER_FENCED may be returned); v5 is the same (KIP-890).

use super::codec::{Put, Reader, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitProducerIdRequest<'a> {
    pub transactional_id: Option<&'a str>,
    pub transaction_timeout_ms: i32,
    pub producer_id: i64,
    pub producer_epoch: i16,
}

impl<'a> InitProducerIdRequest<'a> {
    pub fn decode(r: &mut Reader<'a>, version: i16) -> Result<Self> {
        let flexible = version >= 2;
        let transactional_id = r.nullable_string(flexible)?;
        let transaction_timeout_ms = r.i32()?;
        let (producer_id, producer_epoch) =
            if version >= 3 { (r.i64()?, r.i16()?) } else { (-1, -1) };
        r.end_struct(flexible)?;
        Ok(InitProducerIdRequest {
            transactional_id,
            transaction_timeout_ms,
            producer_id,
            producer_epoch,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitProducerIdResponse {
    pub throttle_time_ms: i32,
    pub error_code: i16,
    pub producer_id: i64,
    pub producer_epoch: i16,
}

impl InitProducerIdResponse {
    pub fn encode(&self, version: i16, out: &mut Vec<u8>) {
        let flexible = version >= 2;
        out.put_i32(self.throttle_time_ms);
        out.put_i16(self.error_code);
        out.put_i64(self.producer_id);
        out.put_i16(self.producer_epoch);
        out.put_empty_tags(flexible);
    }
}
