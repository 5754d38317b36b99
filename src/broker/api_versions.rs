use super::{Broker, HandlerResult, Reply};
use crate::protocol::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use crate::protocol::apis;
use crate::protocol::codec::Reader;
use crate::protocol::error;

pub fn handle(
    _b: &mut Broker,
    r: &mut Reader<'_>,
    version: i16,
    out: &mut Vec<u8>,
) -> HandlerResult {
    let req = ApiVersionsRequest::decode(r, version)?;
    log::trace!(
        "ApiVersions v{version} from {:?} {:?}",
        req.client_software_name,
        req.client_software_version
    );
    ApiVersionsResponse { error_code: error::NONE, api_keys: apis::SUPPORTED, throttle_time_ms: 0 }
        .encode(version, out);
    Ok(Reply::Sent)
}
