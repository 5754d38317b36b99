//! Connection quotas and the idle timeout against the real binary: `max.connections.per.ip`
//! (a connection over its host's quota is closed at once, a freed slot is taken again),
//! `max.connections` (past it connections wait to be accepted until one closes) and
//! `connections.max.idle.ms` (an idle connection is closed, a busy one kept).

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::*;

const WAIT: Duration = Duration::from_secs(10);

fn answers(c: &mut Client) {
    assert_eq!(c.api_versions(3).error_code, NONE);
}

#[test]
fn a_host_over_max_connections_per_ip_is_refused_and_a_freed_slot_taken() {
    let dir = TempDir::new("conn-per-ip");
    let b = Broker::start_with(dir.path(), &["max.connections.per.ip=2"]);
    let (mut c1, mut c2) = (b.connect(), b.connect());
    answers(&mut c1);
    answers(&mut c2);
    let mut c3 = b.connect();
    c3.expect_closed();
    drop(c1);
    // The slot comes back once the broker has seen the close: a new connection is taken.
    let deadline = Instant::now() + WAIT;
    loop {
        let mut c = b.connect();
        let id = c.next_id();
        c.send_raw(&frame(18, 3, id, &api_versions_body(3)));
        if c.recv_frame_or_close().is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "the freed slot was never given out again");
    }
    answers(&mut c2);
    assert!(b.logs.lines().iter().any(|l| l.contains("max.connections.per.ip reached")));
}

#[test]
fn past_max_connections_a_connection_waits_until_one_closes() {
    let dir = TempDir::new("conn-max");
    let b = Broker::start_with(dir.path(), &["max.connections=2"]);
    let (mut c1, mut c2) = (b.connect(), b.connect());
    answers(&mut c1);
    answers(&mut c2);
    // The kernel completes the handshake; the broker does not accept it yet.
    let mut c3 = b.connect();
    let id = c3.next_id();
    c3.send_raw(&frame(18, 3, id, &api_versions_body(3)));
    c3.stream.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let mut byte = [0u8; 1];
    let waiting = c3.stream.read(&mut byte);
    assert!(
        waiting.as_ref().is_err_and(|e| matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )),
        "not served while two are open: {waiting:?}"
    );
    b.logs
        .wait_for(WAIT, |l| l.contains("max.connections reached"))
        .expect("the broker says it stopped accepting");
    drop(c1);
    c3.stream.set_read_timeout(Some(WAIT)).unwrap();
    assert!(c3.recv_frame_or_close().is_some(), "answered once a slot freed");
    answers(&mut c2);
}

#[test]
fn an_idle_connection_is_closed_and_a_busy_one_kept() {
    let dir = TempDir::new("conn-idle");
    let b = Broker::start_with(dir.path(), &["connections.max.idle.ms=300"]);
    let (mut idle, mut busy) = (b.connect(), b.connect());
    answers(&mut idle);
    answers(&mut busy);
    let started = Instant::now();
    idle.stream.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut byte = [0u8; 1];
    let closed_after = loop {
        // The busy one keeps talking meanwhile.
        answers(&mut busy);
        match idle.stream.read(&mut byte) {
            Ok(0) => break started.elapsed(),
            Ok(n) => panic!("{n} unexpected bytes"),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break started.elapsed(),
        }
        assert!(started.elapsed() < WAIT, "the idle connection was never closed");
    };
    assert!(closed_after >= Duration::from_millis(250), "closed too soon: {closed_after:?}");
    answers(&mut busy);
    assert!(b.logs.lines().iter().any(|l| l.contains("connections.max.idle.ms")));
}

#[test]
fn a_request_trickling_in_is_cut_off_without_stalling_anyone() {
    let dir = TempDir::new("conn-slow");
    let b = Broker::start_with(dir.path(), &["connections.max.idle.ms=400"]);
    let mut fine = b.connect();
    let mut slow = b.connect();
    let id = slow.next_id();
    let request = frame(18, 3, id, &api_versions_body(3));
    let started = Instant::now();
    // One byte every 50 ms: never idle, never a whole request.
    let mut cut = None;
    for byte in request.iter().take(request.len() - 1) {
        answers(&mut fine);
        if std::io::Write::write_all(&mut slow.stream, &[*byte]).is_err() {
            cut = Some(started.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if cut.is_none() {
        slow.stream.set_read_timeout(Some(WAIT)).unwrap();
        slow.expect_closed();
        cut = Some(started.elapsed());
    }
    let cut = cut.unwrap();
    assert!(cut >= Duration::from_millis(350), "cut off too soon: {cut:?}");
    answers(&mut fine);
}
