//! The hot paths allocate nothing per request: produce and fetch are answered from buffers
//! and vectors kept across requests. Counted with a per-thread counting allocator, so the
//! other tests running meanwhile do not disturb the count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::SocketAddr;

use super::{Broker, Handled};
use crate::config::Config;
use crate::protocol::codec::Put;
use crate::protocol::output::Output;
use crate::records::BatchBuilder;
use crate::testutil::TempDir;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    ALLOCATIONS.with(|c| c.set(c.get() + 1));
}

// SAFETY: every call is passed on to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

fn broker(dir: &TempDir, topic: &str) -> (Broker, [u8; 16]) {
    crate::metadata::format_log_dir(dir, 1).unwrap();
    let id = crate::metadata::add_topic(dir, topic, 1).unwrap();
    let args = ["--override".to_string(), format!("log.dirs={}", dir.display())];
    (Broker::open(Config::from_args(&args).unwrap()).unwrap(), id)
}

fn request(api_key: i16, version: i16, body: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut f = Vec::new();
    f.put_i16(api_key);
    f.put_i16(version);
    f.put_i32(7);
    f.put_nullable_string(Some("alloc-test"), false);
    f.put_empty_tags(true);
    body(&mut f);
    f
}

fn produce_v11(topic: &str, records: &[u8]) -> Vec<u8> {
    request(0, 11, |f| {
        f.put_nullable_string(None, true);
        f.put_i16(1);
        f.put_i32(1000);
        f.put_array_len(Some(1), true);
        f.put_string(topic, true);
        f.put_array_len(Some(1), true);
        f.put_i32(0);
        f.put_nullable_bytes(Some(records), true);
        f.put_empty_tags(true);
        f.put_empty_tags(true);
        f.put_empty_tags(true);
    })
}

const PEER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 1);

/// Allocations made by `n` produce requests of one record each, answered and written in
/// turns of ten, after a warm-up that sizes the reused buffers.
fn produce_allocations(b: &mut Broker, frame: &[u8], out: &mut Output, n: usize) -> u64 {
    let before = allocations();
    for i in 0..n {
        assert_eq!(b.handle(1, PEER, frame, out), Ok(Handled::Done));
        if i % 10 == 9 {
            let end = b.end_turn();
            assert!(end.close.is_empty() && end.ready.is_empty());
            out.truncate(0);
        }
    }
    allocations() - before
}

#[test]
fn produce_allocates_nothing_per_request() {
    let dir = TempDir::new("alloc-produce");
    let (mut b, _) = broker(&dir, "hot");
    let mut batch = BatchBuilder::new(0, 1_700_000_000_000);
    batch.push(None, Some(&[b'v'; 100]), &[]);
    let frame = produce_v11("hot", &batch.finish());
    let mut out = Output::new();
    produce_allocations(&mut b, &frame, &mut out, 2000);
    // What remains is amortised growth of the segment's sparse index (an entry per 4 KiB).
    let n = produce_allocations(&mut b, &frame, &mut out, 2000);
    assert!(n <= 2, "{n} allocations for 2000 produce requests");
}

fn fetch_v16(topic_id: &[u8; 16], offset: i64) -> Vec<u8> {
    request(1, 16, |f| {
        f.put_i32(0); // max_wait_ms
        f.put_i32(1); // min_bytes
        f.put_i32(1 << 20);
        f.put_i8(0);
        f.put_i32(0);
        f.put_i32(-1);
        f.put_array_len(Some(1), true);
        f.put_uuid(topic_id);
        f.put_array_len(Some(1), true);
        f.put_i32(0);
        f.put_i32(-1);
        f.put_i64(offset);
        f.put_i32(-1);
        f.put_i64(-1);
        f.put_i32(64 << 10);
        f.put_empty_tags(true);
        f.put_empty_tags(true);
        f.put_array_len(Some(0), true);
        f.put_string("", true);
        f.put_empty_tags(true);
    })
}

#[test]
fn fetch_allocates_nothing_per_request() {
    let dir = TempDir::new("alloc-fetch");
    let (mut b, id) = broker(&dir, "hot");
    let mut batch = BatchBuilder::new(0, 1_700_000_000_000);
    for _ in 0..100 {
        batch.push(None, Some(&[b'v'; 100]), &[]);
    }
    let mut out = Output::new();
    let batch = batch.finish();
    let produce = produce_v11("hot", &batch);
    produce_allocations(&mut b, &produce, &mut out, 100);
    let frames: Vec<_> = (0..100).map(|i| fetch_v16(&id, i * 100)).collect();
    let mut turn = |out: &mut Output| {
        for f in &frames {
            assert_eq!(b.handle(1, PEER, f, out), Ok(Handled::Done));
        }
        assert!(out.len_since(0) > frames.len() * batch.len(), "every fetch found records");
        b.end_turn();
        out.truncate(0);
    };
    turn(&mut out);
    let before = allocations();
    for _ in 0..10 {
        turn(&mut out);
    }
    let n = allocations() - before;
    assert_eq!(n, 0, "{n} allocations for 1000 fetch requests");
}

/// With the authorizer on and a few hundred ACLs, the WRITE check of each produce is a
/// lookup in the ACL index: still nothing allocated per request.
#[test]
fn produce_with_acls_allocates_nothing_per_request() {
    use crate::metadata::records::MetadataRecord;
    use crate::security::acl::{op, pattern, permission, resource, AclBinding, StoredAcl};
    let dir = TempDir::new("alloc-produce-acls");
    let (mut b, _) = broker(&dir, "hot");
    b.authorizer.enabled = true;
    let acl = |i: usize, name: String, pattern_type: i8, principal: &str, operation: i8| {
        let binding = AclBinding {
            resource_type: resource::TOPIC,
            resource_name: name,
            pattern_type,
            principal: principal.into(),
            host: if i.is_multiple_of(3) { "127.0.0.1".into() } else { "*".into() },
            operation,
            permission_type: permission::ALLOW,
        };
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
        MetadataRecord::AccessControlEntry(StoredAcl { id, binding })
    };
    b.meta.apply(acl(0, "hot".into(), pattern::LITERAL, "User:ANONYMOUS", op::WRITE));
    for i in 1..300 {
        let (name, pt) = match i % 3 {
            0 => (format!("topic-{i}"), pattern::LITERAL),
            1 => (format!("h{i}"), pattern::PREFIXED),
            _ => (format!("ho{i}"), pattern::LITERAL),
        };
        b.meta.apply(acl(i, name, pt, &format!("User:u{i}"), op::READ));
    }
    b.meta.apply(acl(300, "h".into(), pattern::PREFIXED, "User:other", op::WRITE));
    let mut batch = BatchBuilder::new(0, 1_700_000_000_000);
    batch.push(None, Some(&[b'v'; 100]), &[]);
    let frame = produce_v11("hot", &batch.finish());
    let mut out = Output::new();
    produce_allocations(&mut b, &frame, &mut out, 2000);
    let n = produce_allocations(&mut b, &frame, &mut out, 2000);
    assert!(n <= 2, "{n} allocations for 2000 produce requests");
    // The produce was allowed: the log took the records.
    let log = b.logs.find("hot", 0).unwrap();
    assert_eq!(b.logs.get(log).log_end_offset(), 4000);
}
