//! Just enough of the Kafka wire protocol for the benchmark, written independently of the
//! broker's own codec so that a codec bug cannot hide behind a matching client bug.
//!
//! Requests are encoded once into a complete frame (size prefix included); only the
//! correlation id is patched per request. Versions used: ApiVersions v3 (flexible request,
//! response header v0), Produce v7 and Fetch v11 (classic encodings, request header v1); to set up Apache Kafka,
//! CreateTopics v4 and Metadata v1; to turn a filled topic into a compacted one,
//! IncrementalAlterConfigs v0.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

pub const CLIENT_ID: &str = "minikafka-bench";
/// Where the correlation id sits in a request frame: size(4) api_key(2) api_version(2).
const CORRELATION_AT: usize = 8;
/// No blocking socket call waits longer than this: a hung broker fails the scenario.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

// ---------------------------------------------------------------------------------------------
// Encoding

struct Frame(Vec<u8>);

impl Frame {
    fn new(api_key: i16, api_version: i16, flexible_header: bool) -> Frame {
        let mut f = Frame(Vec::with_capacity(128));
        f.i32(0); // size, patched by `finish`
        f.i16(api_key);
        f.i16(api_version);
        f.i32(0); // correlation id, patched per request
        f.string(CLIENT_ID); // client_id stays a classic string even in header v2
        if flexible_header {
            f.0.push(0); // no tagged fields
        }
        f
    }
    fn i8(&mut self, v: i8) {
        self.0.push(v as u8);
    }
    fn i16(&mut self, v: i16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn uvarint(&mut self, mut v: u32) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn string(&mut self, s: &str) {
        self.i16(s.len() as i16);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn compact_string(&mut self, s: &str) {
        self.uvarint(s.len() as u32 + 1);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.i32(b.len() as i32);
        self.0.extend_from_slice(b);
    }
    fn finish(mut self) -> Vec<u8> {
        let size = (self.0.len() - 4) as i32;
        self.0[..4].copy_from_slice(&size.to_be_bytes());
        self.0
    }
}

pub fn set_correlation_id(frame: &mut [u8], id: i32) {
    frame[CORRELATION_AT..CORRELATION_AT + 4].copy_from_slice(&id.to_be_bytes());
}

/// ApiVersions v3: header v2, compact client software name and version, no tags.
pub fn api_versions_v3() -> Vec<u8> {
    let mut f = Frame::new(18, 3, true);
    f.compact_string(CLIENT_ID);
    f.compact_string(env!("CARGO_PKG_VERSION"));
    f.0.push(0);
    f.finish()
}

/// Produce v7 of one record batch to one partition.
pub fn produce_v7(topic: &str, partition: i32, acks: i16, records: &[u8]) -> Vec<u8> {
    let mut f = Frame::new(0, 7, false);
    f.i16(-1); // transactional_id: null
    f.i16(acks);
    f.i32(30_000); // timeout_ms
    f.i32(1); // topic_data
    f.string(topic);
    f.i32(1); // partition_data
    f.i32(partition);
    f.bytes(records);
    f.finish()
}

/// Size of the Produce v7 response body (correlation id included) for one partition of
/// `topic`: what the loopback echo answers so that both carry the same bytes.
pub fn produce_v7_response_len(topic: &str) -> usize {
    4 + 4 + 2 + topic.len() + 4 + (4 + 2 + 8 + 8 + 8) + 4
}

/// Fetch v11 of one partition from `offset`, `max_bytes` both for the response and the
/// partition, answering at once if there is any data.
pub fn fetch_v11(topic: &str, partition: i32, offset: i64, max_bytes: i32) -> Vec<u8> {
    fetch_v11_waiting(topic, partition, offset, max_bytes, 500)
}

/// [`fetch_v11`] waiting at most `max_wait_ms` for data.
pub fn fetch_v11_waiting(
    topic: &str,
    partition: i32,
    offset: i64,
    max_bytes: i32,
    max_wait_ms: i32,
) -> Vec<u8> {
    let mut f = Frame::new(1, 11, false);
    f.i32(-1); // replica_id: a consumer
    f.i32(max_wait_ms);
    f.i32(1); // min_bytes
    f.i32(max_bytes);
    f.i8(0); // isolation_level: read uncommitted
    f.i32(0); // session_id
    f.i32(-1); // session_epoch: no session
    f.i32(1); // topics
    f.string(topic);
    f.i32(1); // partitions
    f.i32(partition);
    f.i32(-1); // current_leader_epoch
    f.i64(offset);
    f.i64(-1); // log_start_offset (followers only)
    f.i32(max_bytes);
    f.i32(0); // forgotten_topics_data
    f.string(""); // rack_id
    f.finish()
}

/// Where the fetch offset sits in a frame made by [`fetch_v11`], so that it can be patched.
pub fn fetch_v11_offset_at(topic: &str) -> usize {
    4 + 2
        + 2
        + 4
        + 2
        + CLIENT_ID.len()
        + 4
        + 4
        + 4
        + 4
        + 1
        + 4
        + 4
        + 4
        + 2
        + topic.len()
        + 4
        + 4
        + 4
}

/// CreateTopics v4 (the newest classic encoding) of `topics` (name, partition count) with
/// replication factor 1 and each topic's `configs`: how the bench creates its topics on Apache
/// Kafka, whose metadata log it cannot write beforehand as it does minikafka's.
pub fn create_topics_v4(topics: &[(&str, i32)], configs: &[(&str, &str)]) -> Vec<u8> {
    let mut f = Frame::new(19, 4, false);
    f.i32(topics.len() as i32);
    for &(name, partitions) in topics {
        f.string(name);
        f.i32(partitions);
        f.i16(1); // replication_factor
        f.i32(0); // assignments: automatic
        f.i32(configs.len() as i32);
        for &(k, v) in configs {
            f.string(k);
            f.string(v);
        }
    }
    f.i32(30_000); // timeout_ms
    f.i8(0); // validate_only
    f.finish()
}

/// IncrementalAlterConfigs v0 setting (operation SET) `configs` of topic `topic`.
pub fn incremental_alter_configs_v0(topic: &str, configs: &[(&str, &str)]) -> Vec<u8> {
    let mut f = Frame::new(44, 0, false);
    f.i32(1); // resources
    f.i8(2); // resource_type: topic
    f.string(topic);
    f.i32(configs.len() as i32);
    for &(k, v) in configs {
        f.string(k);
        f.i8(0); // config_operation: SET
        f.string(v);
    }
    f.i8(0); // validate_only
    f.finish()
}

/// Metadata v1 of `topics`.
pub fn metadata_v1(topics: &[&str]) -> Vec<u8> {
    let mut f = Frame::new(3, 1, false);
    f.i32(topics.len() as i32);
    for t in topics {
        f.string(t);
    }
    f.finish()
}

// ---------------------------------------------------------------------------------------------
// Decoding

pub struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        Reader { b, at: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.b.len() - self.at < n {
            return Err(format!("response truncated at byte {} (need {n})", self.at));
        }
        let s = &self.b[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    pub fn i16(&mut self) -> Result<i16, String> {
        Ok(i16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }
    pub fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }
    pub fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn string(&mut self) -> Result<&'a [u8], String> {
        let n = self.i16()?;
        self.take(n.max(0) as usize)
    }
    fn nullable_bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.i32()?;
        self.take(n.max(0) as usize)
    }
    fn one(&mut self, what: &str) -> Result<(), String> {
        match self.i32()? {
            1 => Ok(()),
            n => Err(format!("{what}: expected 1 entry, got {n}")),
        }
    }
}

fn check_correlation(r: &mut Reader<'_>, expect: i32) -> Result<(), String> {
    let got = r.i32()?;
    if got != expect {
        return Err(format!("correlation id {got}, expected {expect}"));
    }
    Ok(())
}

pub fn check_api_versions(body: &[u8], correlation_id: i32) -> Result<(), String> {
    let mut r = Reader::new(body);
    check_correlation(&mut r, correlation_id)?;
    match r.i16()? {
        0 => Ok(()),
        e => Err(format!("ApiVersions error code {e}")),
    }
}

/// Checks a Produce v7 response for one partition; returns the base offset.
pub fn check_produce_v7(body: &[u8], correlation_id: i32) -> Result<i64, String> {
    let mut r = Reader::new(body);
    check_correlation(&mut r, correlation_id)?;
    r.one("produce responses")?;
    r.string()?;
    r.one("produce partition responses")?;
    r.i32()?;
    let err = r.i16()?;
    let base_offset = r.i64()?;
    if err != 0 {
        return Err(format!("Produce error code {err}"));
    }
    Ok(base_offset)
}

/// Checks a CreateTopics v4 response: every topic created, or already there.
pub fn check_create_topics_v4(body: &[u8], correlation_id: i32) -> Result<(), String> {
    let mut r = Reader::new(body);
    check_correlation(&mut r, correlation_id)?;
    r.i32()?; // throttle_time_ms
    for _ in 0..r.i32()? {
        let name = String::from_utf8_lossy(r.string()?).into_owned();
        let err = r.i16()?;
        let message = String::from_utf8_lossy(r.string()?).into_owned();
        // TOPIC_ALREADY_EXISTS (36): a topic is created once per run and reused.
        if err != 0 && err != 36 {
            return Err(format!("CreateTopics {name}: error code {err} ({message})"));
        }
    }
    Ok(())
}

/// Checks an IncrementalAlterConfigs v0 response: every resource altered.
pub fn check_incremental_alter_configs_v0(body: &[u8], correlation_id: i32) -> Result<(), String> {
    let mut r = Reader::new(body);
    check_correlation(&mut r, correlation_id)?;
    r.i32()?; // throttle_time_ms
    for _ in 0..r.i32()? {
        let err = r.i16()?;
        let message = String::from_utf8_lossy(r.string()?).into_owned();
        r.take(1)?; // resource_type
        let name = String::from_utf8_lossy(r.string()?).into_owned();
        if err != 0 {
            return Err(format!("IncrementalAlterConfigs {name}: error code {err} ({message})"));
        }
    }
    Ok(())
}

/// Parses a Metadata v1 response: per topic, how many partitions have a leader and no error
/// (a topic just created on Kafka takes a moment to get them).
pub fn metadata_v1_led(body: &[u8], correlation_id: i32) -> Result<Vec<(String, i32)>, String> {
    let mut r = Reader::new(body);
    check_correlation(&mut r, correlation_id)?;
    for _ in 0..r.i32()? {
        r.i32()?; // node_id
        r.string()?; // host
        r.i32()?; // port
        r.string()?; // rack
    }
    r.i32()?; // controller_id
    let mut out = Vec::new();
    for _ in 0..r.i32()? {
        let topic_err = r.i16()?;
        let name = String::from_utf8_lossy(r.string()?).into_owned();
        r.take(1)?; // is_internal
        let mut led = 0;
        for _ in 0..r.i32()? {
            let err = r.i16()?;
            r.i32()?; // partition_index
            let leader = r.i32()?;
            let replicas = r.i32()?.max(0) as usize;
            r.take(replicas * 4)?;
            let isr = r.i32()?.max(0) as usize;
            r.take(isr * 4)?;
            led += i32::from(topic_err == 0 && err == 0 && leader >= 0);
        }
        out.push((name, led));
    }
    Ok(out)
}

pub struct FetchPartition<'a> {
    pub high_watermark: i64,
    pub records: &'a [u8],
}

/// Parses a Fetch v11 response for one partition.
pub fn parse_fetch_v11(body: &[u8], correlation_id: i32) -> Result<FetchPartition<'_>, String> {
    let mut r = Reader::new(body);
    check_correlation(&mut r, correlation_id)?;
    r.i32()?; // throttle_time_ms
    let top = r.i16()?;
    if top != 0 {
        return Err(format!("Fetch top-level error code {top}"));
    }
    r.i32()?; // session_id
    r.one("fetch responses")?;
    r.string()?;
    r.one("fetch partition responses")?;
    r.i32()?;
    let err = r.i16()?;
    if err != 0 {
        return Err(format!("Fetch partition error code {err}"));
    }
    let high_watermark = r.i64()?;
    r.i64()?; // last_stable_offset
    r.i64()?; // log_start_offset
    let aborted = r.i32()?;
    if aborted > 0 {
        r.take(aborted as usize * 16)?;
    }
    r.i32()?; // preferred_read_replica
    let records = r.nullable_bytes()?;
    Ok(FetchPartition { high_watermark, records })
}

/// Walks the complete record batches at the start of `records` (a fetch may end with a
/// partial one). Returns (complete batch bytes, next offset after the last complete batch).
pub fn complete_batches(records: &[u8]) -> Option<(usize, i64)> {
    let mut at = 0;
    let mut next = None;
    while records.len() - at >= 27 {
        let b = &records[at..];
        let base = i64::from_be_bytes(b[0..8].try_into().unwrap());
        let len = i32::from_be_bytes(b[8..12].try_into().unwrap()).max(0) as usize + 12;
        let delta = i32::from_be_bytes(b[23..27].try_into().unwrap());
        if b.len() < len {
            break;
        }
        at += len;
        next = Some(base + i64::from(delta) + 1);
    }
    next.map(|n| (at, n))
}

// ---------------------------------------------------------------------------------------------
// A blocking, framed connection

pub struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub fn connect(port: u16) -> io::Result<Conn> {
        let s = TcpStream::connect_timeout(&loopback(port), IO_TIMEOUT)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(IO_TIMEOUT))?;
        s.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(Conn { r: BufReader::with_capacity(64 * 1024, s.try_clone()?), w: s, buf: Vec::new() })
    }

    pub fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.w.write_all(frame)
    }

    /// Reads one response frame; returns its body (correlation id first).
    pub fn recv(&mut self) -> io::Result<&[u8]> {
        read_frame(&mut self.r, &mut self.buf)?;
        Ok(&self.buf)
    }

    /// One request and its response.
    pub fn round_trip(&mut self, frame: &[u8]) -> io::Result<&[u8]> {
        self.send(frame)?;
        self.recv()
    }
}

/// Reads a size-prefixed frame into `buf` (resized to the body).
pub fn read_frame(r: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut size = [0u8; 4];
    r.read_exact(&mut size)?;
    let size = i32::from_be_bytes(size);
    if !(0..=256 << 20).contains(&size) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("frame size {size}")));
    }
    buf.resize(size as usize, 0);
    r.read_exact(buf)
}

/// Checks the hand-computed field positions above against the encoders (run at start-up:
/// a `harness = false` bench has no test runner).
pub fn self_check() -> Result<(), String> {
    let f = fetch_v11("t-1", 0, 0x0102_0304_0506_0708, 1 << 20);
    let at = fetch_v11_offset_at("t-1");
    if f[at..at + 8] != 0x0102_0304_0506_0708i64.to_be_bytes() {
        return Err("fetch_v11_offset_at is wrong".into());
    }
    let mut f = produce_v7("t", 0, 1, &[]);
    set_correlation_id(&mut f, 0x0a0b_0c0d);
    if f[4..12] != [0, 0, 0, 7, 0x0a, 0x0b, 0x0c, 0x0d] {
        return Err("correlation id position is wrong".into());
    }
    Ok(())
}
