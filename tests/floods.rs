//! Floods: clients that never read what they asked for, a producer writing as fast as it can,
//! and ten thousand connections held open. The broker's resident memory must stay within what
//! its design allows (see README, "Memory under floods"), and a well-behaved client must be
//! served throughout.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;

/// `OUTPUT_HIGH_WATER` in src/server/mod.rs: a connection is not read while this much of its
/// output is unsent.
const OUTPUT_HIGH_WATER_KIB: u64 = 8 << 10;
/// What a connection's input buffer may hold while it is not read: the requests of the last
/// read, at most twice the largest read (`MAX_READ`, 256 KiB, in src/server/buffer.rs).
const INPUT_KIB: u64 = 512;
/// Slack for the allocator, page tables, the flooding producer's frames and the well-behaved
/// client's requests.
const SLACK_KIB: u64 = 48 << 10;

/// Resident memory of `pid` in KiB, or `None` once it has gone.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Samples the broker's RSS until dropped; `peak()` is the largest value seen.
struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let (s, p) = (Arc::clone(&stop), Arc::clone(&peak));
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    p.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        RssSampler { stop, peak, thread: Some(thread) }
    }

    fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `n` batches of one `value_len`-byte record each, appended to partition 0 before start.
fn fill(dir: &std::path::Path, topic: &str, n: i64, value_len: usize) {
    for i in 0..n {
        let mut b = BatchBuilder::new(i, TS);
        b.push(None, Some(&vec![i as u8; value_len]), &[]);
        append_log(dir, topic, 0, &b.finish());
    }
}

/// A produce and a fetch of what it wrote, on a fresh batch: the client every flood must not
/// starve. Asserts the answers, not their timing.
fn produce_and_fetch(c: &mut Client, topic: &str, id: [u8; 16], round: i64) {
    let value = format!("well-behaved round {round}").into_bytes();
    let b = batch(0, &[&value]);
    let resp = c.produce(&[(topic, vec![(0, Some(b.clone()))])]);
    let p = resp.partition(topic, 0);
    assert_eq!((p.error_code, p.base_offset), (NONE, round), "produce round {round}");
    let f = c.fetch(&FetchReq::default().topic(id, vec![fp(0, round)]));
    let records = f.partition(&id, 0).records();
    assert_eq!(split_batches(records), [&as_stored(&b, round, 0)[..]], "fetch round {round}");
}

/// 200 consumers ask for 32 MiB of records, again and again, and never read a byte; a producer
/// writes 64 KiB batches as fast as the broker takes them. Fetched records are spliced from
/// the segment files (sendfile), so a stuck consumer costs the broker its response headers and
/// its unread requests, not the records: the RSS stays under 200 x 512 KiB of input buffers
/// plus slack above the idle broker, where copying the responses would cost 200 x 8 MiB.
#[test]
fn stuck_consumers_and_a_flooding_producer_stay_bounded() {
    const CONSUMERS: u64 = 200;
    let tmp = TempDir::new("floods");
    let ids = make_log_dir(tmp.path(), &[("big", 1), ("flood", 1), ("ok", 1)]);
    fill(tmp.path(), "big", 32, 1 << 20);
    let mut broker = Broker::start(tmp.path());
    let idle = broker.rss_kib();
    let sampler = RssSampler::start(broker.pid());

    let p = FetchPartitionReq { partition: 0, fetch_offset: 0, partition_max_bytes: 64 << 20 };
    let fetch = FetchReq { max_bytes: 64 << 20, ..FetchReq::default().topic(ids[0], vec![p]) };
    let mut consumers = Vec::new();
    for i in 0..CONSUMERS {
        let mut c = broker.connect();
        // A few requests in flight: the first response alone passes the high-water mark.
        for _ in 0..8 {
            c.send(FETCH, 16, &fetch.v16());
        }
        consumers.push(c);
        if i % 50 == 0 {
            broker.assert_running();
        }
    }

    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let (stop, addr) = (Arc::clone(&stop), broker.addr);
        std::thread::spawn(move || {
            let mut c = Client::connect(addr);
            let value = vec![b'f'; 64 << 10];
            let body = produce_v11_body(1, &[("flood", vec![(0, Some(batch(0, &[&value])))])]);
            let mut acked = 0u64;
            // Bounded so the disk is not: 1000 batches are 64 MiB.
            while !stop.load(Ordering::Relaxed) && acked < 1000 {
                for _ in 0..8 {
                    c.send(PRODUCE, 11, &body);
                }
                for _ in 0..8 {
                    let resp = decode_produce_v11(&c.recv(PRODUCE, 11).body);
                    assert_eq!(resp.partition("flood", 0).error_code, NONE);
                    acked += 1;
                }
            }
            acked
        })
    };

    let mut well_behaved = broker.connect();
    for round in 0..30 {
        produce_and_fetch(&mut well_behaved, "ok", ids[2], round);
    }
    // The consumers ask for more while their earlier answers are still unread.
    for c in &mut consumers {
        let _ = c.stream.set_write_timeout(Some(Duration::from_millis(100)));
        let _ = c.try_send_raw(&frame(FETCH, 16, 1, &fetch.v16()));
    }
    for round in 30..60 {
        produce_and_fetch(&mut well_behaved, "ok", ids[2], round);
    }
    stop.store(true, Ordering::Relaxed);
    let acked = producer.join().expect("the flooding producer was answered throughout");
    assert!(acked > 0);
    broker.assert_running();
    let peak = sampler.peak();
    drop(sampler);
    let ceiling = idle + CONSUMERS * INPUT_KIB + SLACK_KIB;
    eprintln!(
        "floods: idle {idle} KiB, peak {peak} KiB with {CONSUMERS} stuck consumers and \
         {acked} flooded batches; ceiling {ceiling} KiB"
    );
    assert!(peak < ceiling, "RSS peaked at {peak} KiB, over the ceiling of {ceiling} KiB");
    drop(consumers);
}

/// Responses built in memory (ApiVersions here) are where the per-connection high-water mark
/// matters: 16 clients pipelining requests and never reading hold at most 8 MiB of unsent
/// output each (plus the response that crossed the mark and their unread requests), after
/// which the broker stops reading them and TCP pushes back on their writes. (Before the read
/// budget, one read call drained a fast writer into an ever-growing input buffer: 16 such
/// clients took 740 MiB.)
#[test]
fn unread_responses_are_capped_per_connection() {
    const CLIENTS: u64 = 16;
    let tmp = TempDir::new("floods-heap");
    let ids = make_log_dir(tmp.path(), &[("ok", 1)]);
    let mut broker = Broker::start(tmp.path());
    let idle = broker.rss_kib();
    let sampler = RssSampler::start(broker.pid());
    let request = frame(API_VERSIONS, 4, 7, &api_versions_body(4));
    let burst: Vec<u8> = request.repeat(1000);
    let writers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let mut c = broker.connect();
            std::thread::spawn({
                let burst = burst.clone();
                move || {
                    // A write that cannot complete for a second means the broker stopped
                    // reading this connection: the back-pressure this test is about.
                    c.stream.set_write_timeout(Some(Duration::from_secs(1))).unwrap();
                    let mut sent = 0usize;
                    while c.stream.write_all(&burst).is_ok() {
                        sent += burst.len();
                        assert!(sent < 256 << 20, "256 MiB of requests taken without pushback");
                    }
                    (c, sent)
                }
            })
        })
        .collect();
    let mut held = Vec::new();
    for w in writers {
        let (c, sent) = w.join().unwrap();
        assert!(sent > 0);
        held.push(c);
    }
    // Everyone is held back by now; a newcomer is still answered.
    let mut well_behaved = broker.connect();
    for round in 0..5 {
        produce_and_fetch(&mut well_behaved, "ok", ids[0], round);
    }
    broker.assert_running();
    let peak = sampler.peak();
    drop(sampler);
    // Unsent output stops growing one response past the mark; the sent head is given back
    // once it is half the buffer, so the buffer is at most twice that.
    let per_conn = 2 * (OUTPUT_HIGH_WATER_KIB + 1024) + INPUT_KIB;
    let ceiling = idle + CLIENTS * per_conn + SLACK_KIB;
    eprintln!("floods: idle {idle} KiB, peak {peak} KiB with {CLIENTS} clients not reading");
    assert!(peak < ceiling, "RSS peaked at {peak} KiB, over the ceiling of {ceiling} KiB");
    // What they asked for is still answered once they read: nothing was dropped.
    let mut c = held.pop().unwrap();
    let resp = c.recv(API_VERSIONS, 4);
    assert_eq!(resp.correlation_id, 7);
}

/// Opens `n` connections from a python3 child (which raises its own descriptor limit), each
/// sending one ApiVersions and reading its answer, then holding the connection open until its
/// stdin closes.
const HOLDER: &str = r#"
import resource, socket, struct, sys
n, port = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = n + 64
if hard != resource.RLIM_INFINITY and hard < want:
    print("skip: hard RLIMIT_NOFILE %d < %d" % (hard, want), flush=True)
    sys.exit(0)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
body = struct.pack(">hhi", 18, 4, 1) + struct.pack(">h", -1) + b"\x00" + b"\x02a\x021\x00"
req = struct.pack(">i", len(body)) + body
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    size = b""
    while len(size) < 4:
        chunk = s.recv(4 - len(size))
        if not chunk:
            raise SystemExit("connection %d closed by the broker" % i)
        size += chunk
    left = struct.unpack(">i", size)[0]
    while left:
        chunk = s.recv(left)
        if not chunk:
            raise SystemExit("connection %d closed mid-response" % i)
        left -= len(chunk)
    socks.append(s)
print("holding %d" % len(socks), flush=True)
sys.stdin.read()
"#;

/// Ten thousand connections, each having asked ApiVersions once, are held open; the broker
/// answers another client meanwhile. Prints the memory per idle connection (README).
#[test]
fn ten_thousand_idle_connections() {
    const N: u64 = 10_000;
    let tmp = TempDir::new("floods-10k");
    let ids = make_log_dir(tmp.path(), &[("ok", 1)]);
    let mut broker = Broker::start_with_max_files(tmp.path(), &[]);
    let broker_limit = std::fs::read_to_string(format!("/proc/{}/limits", broker.pid())).unwrap();
    let max_files = broker_limit.lines().find(|l| l.starts_with("Max open files")).unwrap();
    let broker_soft: u64 = max_files.split_whitespace().nth(3).unwrap().parse().unwrap_or(u64::MAX);
    if broker_soft < N + 64 {
        eprintln!("SKIPPED: the broker may open only {broker_soft} files (hard limit)");
        return;
    }
    let before = broker.rss_kib();
    let mut holder = Command::new("python3")
        .arg("-c")
        .arg(HOLDER)
        .arg(N.to_string())
        .arg(broker.addr.port().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut out = BufReader::new(holder.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    if line.starts_with("skip") {
        eprintln!("SKIPPED: {}", line.trim());
        let _ = holder.wait();
        return;
    }
    assert_eq!(line.trim(), format!("holding {N}"), "the holder failed: {line:?}");
    broker.assert_running();
    let mut other = broker.connect();
    assert_eq!(other.api_versions(4).error_code, NONE);
    produce_and_fetch(&mut other, "ok", ids[0], 0);
    let held = broker.rss_kib();
    let per_conn = (held.saturating_sub(before) * 1024) / N;
    eprintln!(
        "floods: RSS {before} KiB idle, {held} KiB with {N} idle connections: \
         {per_conn} bytes per connection"
    );
    // Kafka's worst case would be megabytes; this catches a per-connection buffer of 64 KiB.
    assert!(per_conn < 64 << 10, "{per_conn} bytes per idle connection");
    drop(holder.stdin.take());
    let mut rest = String::new();
    let _ = out.read_to_string(&mut rest);
    assert!(holder.wait().unwrap().success());
    broker.assert_running();
    assert_eq!(other.api_versions(4).error_code, NONE);
}
