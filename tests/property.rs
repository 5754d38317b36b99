//! A property of the whole broker, tried with seeded random traffic: whatever a crowd of
//! clients sends (well-formed and malformed frames, requests of every API key and version with
//! random bodies, valid and corrupt produces to their own topics, topics created and deleted,
//! reads of anything), a client that owns a topic reads back exactly what it wrote, and the
//! broker keeps serving. The seed is printed; `MINIKAFKA_PROPERTY_SEED` replays a run.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::*;

const OBSERVED: &str = "observed";
const ROUNDS: usize = 1500;
const CHAOS_CLIENTS: u64 = 4;

/// One chaos client: sends `ROUNDS` random things, reconnecting whenever the broker closes
/// its connection (as it must for some of them). Never writes to the observed topic.
/// Returns (requests answered, connections lost).
fn chaos(addr: SocketAddr, seed: u64, id: u64) -> (usize, usize) {
    let mut rng = Rng::new(seed ^ (id + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let connect = || {
        let s = TcpStream::connect(addr).expect("the broker accepts connections");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    };
    let mut stream = connect();
    let mine = format!("chaos-{id}");
    let (mut answered, mut lost) = (0, 0);
    for round in 0..ROUNDS {
        let frame = match rng.below(7) {
            // Garbage after a plausible size.
            0 => {
                let n = rng.below(64) as usize;
                let body = rng.bytes(n);
                let mut f = (body.len() as i32).to_be_bytes().to_vec();
                f.extend_from_slice(&body);
                f
            }
            // A header of any API key and version, a random body.
            1 => {
                let key = rng.below(80) as i16;
                let version = rng.below(20) as i16 - 1;
                let n = rng.below(48) as usize;
                let body = rng.bytes(n);
                frame(key, version, round as i32, &body)
            }
            // A valid produce to its own topic (auto-created) or a corrupt one.
            2 | 3 => {
                let mut b = batch(0, &[format!("{mine}-{round}").as_bytes()]);
                if rng.below(3) == 0 {
                    let at = 61 + rng.below((b.len() - 61) as u64) as usize;
                    b[at] ^= 0x5a; // past the header: the CRC no longer holds
                }
                frame(
                    PRODUCE,
                    9,
                    round as i32,
                    &produce_v9_body(-1, &[(&mine, vec![(0, Some(b))])]),
                )
            }
            // Reading the observed topic (by name, Fetch v12) from a random offset.
            4 => {
                let offset = rng.below(40) as i64 - 5;
                frame(FETCH, 12, round as i32, &fetch_v12_body(OBSERVED, 0, offset))
            }
            // Creating and deleting its own topics, some with names that must be refused.
            5 => {
                let names = [mine.as_str(), "../escape", "a/b", "", "..", &"x".repeat(300)];
                let name = names[rng.below(names.len() as u64) as usize];
                frame(19, 7, round as i32, &create_topics_v7_body(name))
            }
            _ => frame(20, 6, round as i32, &delete_topics_v6_body(&mine)),
        };
        // A frame may be cut short and the rest never sent: the connection is dropped.
        if rng.below(20) == 0 {
            let cut = rng.below(frame.len() as u64) as usize;
            let _ = stream.write_all(&frame[..cut]);
            stream = connect();
            lost += 1;
            continue;
        }
        if stream.write_all(&frame).is_err() {
            stream = connect();
            lost += 1;
            continue;
        }
        // An answer, or the connection closed on bad input; either way, go on.
        let mut size = [0u8; 4];
        match stream.read_exact(&mut size) {
            Ok(()) => {
                let mut rest = vec![0u8; i32::from_be_bytes(size).max(0) as usize];
                if stream.read_exact(&mut rest).is_err() {
                    stream = connect();
                    lost += 1;
                } else {
                    answered += 1;
                }
            }
            Err(_) => {
                stream = connect();
                lost += 1;
            }
        }
    }
    (answered, lost)
}

fn produce_v9_body(acks: i16, topics: &[(&str, Vec<ProducePart>)]) -> Vec<u8> {
    let mut w = W::new();
    w.compact_nullable_string(None).i16(acks).i32(5000).compact_len(topics.len());
    for (name, parts) in topics {
        w.compact_string(name).compact_len(parts.len());
        for (index, records) in parts {
            w.i32(*index);
            w.compact_bytes(records.as_deref()).tags();
        }
        w.tags();
    }
    w.tags();
    w.take()
}

fn fetch_v12_body(topic: &str, partition: i32, offset: i64) -> Vec<u8> {
    let mut w = W::new();
    w.i32(-1).i32(0).i32(1).i32(1 << 20).i8(0).i32(0).i32(-1);
    w.compact_len(1).compact_string(topic).compact_len(1);
    w.i32(partition).i32(-1).i64(offset).i32(-1).i64(-1).i32(1 << 20).tags();
    w.tags();
    w.compact_len(0).compact_string("").tags();
    w.take()
}

fn create_topics_v7_body(name: &str) -> Vec<u8> {
    let mut w = W::new();
    w.compact_len(1).compact_string(name).i32(1).i16(1).compact_len(0).compact_len(0).tags();
    w.i32(5000).bool(false).tags();
    w.take()
}

fn delete_topics_v6_body(name: &str) -> Vec<u8> {
    let mut w = W::new();
    w.compact_len(1).compact_nullable_string(Some(name)).uuid(&[0; 16]).tags();
    w.i32(5000).tags();
    w.take()
}

#[test]
fn random_traffic_from_others_never_changes_what_a_client_reads_back() {
    let seed = std::env::var("MINIKAFKA_PROPERTY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
                as u64
                | 1
        });
    eprintln!("property seed {seed} (MINIKAFKA_PROPERTY_SEED={seed} replays it)");
    let dir = TempDir::new("property");
    let ids = make_log_dir(dir.path(), &[(OBSERVED, 1)]);
    let broker = Broker::start(dir.path());
    let mut owner = broker.connect();
    let mut written = Vec::new();
    let produce_some = |owner: &mut Client, written: &mut Vec<Vec<u8>>, n: usize| {
        for _ in 0..n {
            let i = written.len();
            let b = batch(0, &[format!("owned {i}").as_bytes()]);
            let r = owner.produce(&[(OBSERVED, vec![(0, Some(b.clone()))])]);
            let p = r.partition(OBSERVED, 0);
            assert_eq!((p.error_code, p.base_offset), (NONE, i as i64), "seed {seed}");
            written.push(as_stored(&b, i as i64, 0));
        }
    };
    produce_some(&mut owner, &mut written, 10);
    let addr = broker.addr;
    let crowd: Vec<_> =
        (0..CHAOS_CLIENTS).map(|id| std::thread::spawn(move || chaos(addr, seed, id))).collect();
    // The owner keeps writing and reading while the crowd runs.
    while !crowd.iter().all(|t| t.is_finished()) {
        produce_some(&mut owner, &mut written, 1);
        let got = owner.fetch_one(ids[0], 0, 0);
        assert_eq!(got.records(), written.concat(), "seed {seed}");
    }
    let (mut answered, mut lost) = (0, 0);
    for t in crowd {
        let (a, l) = t.join().expect("a chaos client panicked");
        (answered, lost) = (answered + a, lost + l);
    }
    eprintln!("the crowd got {answered} answers and lost {lost} connections");
    // Both kinds happened: well-formed requests answered, bad ones cutting connections.
    assert!(answered > ROUNDS && lost > 10, "seed {seed}: {answered} answered, {lost} lost");
    produce_some(&mut owner, &mut written, 5);
    // A new client sees the same, and the broker is still whole after a restart.
    assert_eq!(broker.connect().fetch_one(ids[0], 0, 0).records(), written.concat(), "seed {seed}");
    assert!(
        broker.logs.lines().iter().all(|l| !l.contains("panicked")),
        "seed {seed}: a handler panicked"
    );
    broker.stop();
    let broker = Broker::start(dir.path());
    assert_eq!(broker.connect().fetch_one(ids[0], 0, 0).records(), written.concat(), "seed {seed}");
    // Nothing escaped the log directory.
    let parent = dir.path().parent().unwrap();
    assert!(!parent.join("escape").exists() && !dir.path().join("escape-0").exists());
}
