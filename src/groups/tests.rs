//! The coordinator's state machine, driven without sockets or clocks of its own.

use super::*;
use crate::protocol::error;

const CFG: GroupConfig = GroupConfig {
    min_session_timeout: Duration::from_millis(10),
    max_session_timeout: Duration::from_secs(60),
    initial_rebalance_delay: Duration::ZERO,
};

fn args(member_id: &str) -> JoinArgs {
    JoinArgs {
        group_id: "g".into(),
        member_id: member_id.into(),
        group_instance_id: None,
        client_id: "c".into(),
        client_host: "/127.0.0.1".into(),
        session_timeout_ms: 1000,
        rebalance_timeout_ms: 1000,
        protocol_type: "consumer".into(),
        protocols: vec![("range".into(), b"meta".to_vec())],
        require_known_member_id: true,
    }
}

fn sargs<'a>(
    g: &'a str,
    generation_id: i32,
    member_id: &'a str,
    assignments: Vec<(String, Vec<u8>)>,
) -> SyncArgs<'a> {
    SyncArgs {
        group_id: g,
        generation_id,
        member_id,
        protocol_type: None,
        protocol_name: None,
        assignments,
        group_instance_id: None,
    }
}

fn r(conn: usize) -> Responder {
    Responder { conn, correlation_id: conn as i32, version: 9 }
}

/// Joins a new member through MEMBER_ID_REQUIRED; returns its id.
fn join_new(c: &mut Coordinator, conn: usize, now: Instant) -> String {
    let Answer::Now(first) = c.join(args(""), r(conn), now) else {
        panic!("first join is answered")
    };
    assert_eq!(first.error_code, error::MEMBER_ID_REQUIRED);
    assert!(matches!(c.join(args(&first.member_id), r(conn), now), Answer::Held));
    first.member_id
}

fn joins(c: &mut Coordinator) -> Vec<(usize, JoinResult)> {
    c.take_completions()
        .into_iter()
        .filter_map(|x| match x {
            Completion::Join(r, j) => Some((r.conn, j)),
            Completion::Sync(..) => None,
        })
        .collect()
}

#[test]
fn two_members_rebalance_sync_and_leave() {
    let mut c = Coordinator::new(CFG);
    let t0 = Instant::now();
    let a = join_new(&mut c, 1, t0);
    let done = joins(&mut c);
    assert_eq!(done.len(), 1, "a lone member completes the join at once");
    assert_eq!((done[0].1.generation_id, done[0].1.leader.as_str()), (1, a.as_str()));
    assert_eq!(done[0].1.members.len(), 1);

    // A second member triggers a rebalance; the first must rejoin.
    let b = join_new(&mut c, 2, t0);
    assert!(joins(&mut c).is_empty());
    assert_eq!(c.heartbeat("g", 1, &a, None, t0), error::REBALANCE_IN_PROGRESS);
    assert!(matches!(c.join(args(&a), r(1), t0), Answer::Held));
    let done = joins(&mut c);
    assert_eq!(done.len(), 2);
    let leader = done.iter().find(|(_, j)| j.member_id == a).unwrap();
    let follower = done.iter().find(|(_, j)| j.member_id == b).unwrap();
    assert_eq!(leader.1.members.len(), 2, "the leader sees every member");
    assert!(follower.1.members.is_empty());
    assert_eq!(leader.1.generation_id, 2);

    // The follower's sync waits for the leader's assignments.
    assert!(matches!(c.sync(sargs("g", 2, &b, vec![]), r(2), t0), Answer::Held));
    let assignments = vec![(a.clone(), b"A".to_vec()), (b.clone(), b"B".to_vec())];
    assert!(matches!(c.sync(sargs("g", 2, &a, assignments), r(1), t0), Answer::Held));
    let syncs: Vec<_> = c
        .take_completions()
        .into_iter()
        .filter_map(|x| match x {
            Completion::Sync(r, s) => Some((r.conn, s.assignment)),
            _ => None,
        })
        .collect();
    assert_eq!(syncs.len(), 2);
    assert!(syncs.contains(&(2, b"B".to_vec())) && syncs.contains(&(1, b"A".to_vec())));
    assert_eq!(c.groups["g"].state, GroupState::Stable);
    assert_eq!(c.heartbeat("g", 2, &b, None, t0), error::NONE);
    assert_eq!(c.heartbeat("g", 1, &b, None, t0), error::ILLEGAL_GENERATION);

    // The follower leaves: the leader must rejoin, and completes alone.
    let (_, errs) = c.leave("g", &[(b.clone(), None)], t0);
    assert_eq!(errs, [error::NONE]);
    assert_eq!(c.heartbeat("g", 2, &a, None, t0), error::REBALANCE_IN_PROGRESS);
    assert!(matches!(c.join(args(&a), r(1), t0), Answer::Held));
    let done = joins(&mut c);
    assert_eq!((done.len(), done[0].1.generation_id), (1, 3));
}

#[test]
fn silent_members_expire_and_missing_rejoins_are_dropped() {
    let mut c = Coordinator::new(CFG);
    let t0 = Instant::now();
    let a = join_new(&mut c, 1, t0);
    joins(&mut c);
    let b = join_new(&mut c, 2, t0);
    // `a` never rejoins: at the rebalance deadline the group goes on without it.
    c.tick(t0 + Duration::from_millis(999));
    assert!(joins(&mut c).is_empty());
    c.tick(t0 + Duration::from_millis(1001));
    let done = joins(&mut c);
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].1.member_id, b);
    assert!(!c.groups["g"].members.contains_key(&a));
    // `b` then stops heartbeating and expires; the group empties.
    c.sync(sargs("g", 2, &b, vec![(b.clone(), vec![])]), r(2), t0);
    c.take_completions();
    c.tick(t0 + Duration::from_secs(3));
    assert_eq!(c.groups["g"].state, GroupState::Empty);
    assert!(c.groups["g"].members.is_empty());
}

#[test]
fn bad_joins_are_refused() {
    let mut c = Coordinator::new(CFG);
    let now = Instant::now();
    let mut bad = args("");
    bad.session_timeout_ms = 1;
    assert!(
        matches!(c.join(bad, r(1), now), Answer::Now(j) if j.error_code == error::INVALID_SESSION_TIMEOUT)
    );
    let mut bad = args("");
    bad.group_id.clear();
    assert!(
        matches!(c.join(bad, r(1), now), Answer::Now(j) if j.error_code == error::INVALID_GROUP_ID)
    );
    assert!(
        matches!(c.join(args("nobody"), r(1), now), Answer::Now(j) if j.error_code == error::UNKNOWN_MEMBER_ID)
    );
    join_new(&mut c, 1, now);
    let mut other = args("");
    other.protocols = vec![("roundrobin".into(), vec![])];
    other.require_known_member_id = false;
    assert!(
        matches!(c.join(other, r(2), now), Answer::Now(j) if j.error_code == error::INCONSISTENT_GROUP_PROTOCOL)
    );
}

#[test]
fn manual_commits_only_while_empty() {
    let mut c = Coordinator::new(CFG);
    let now = Instant::now();
    assert_eq!(c.check_commit("g", -1, "", None, now), error::NONE);
    let a = join_new(&mut c, 1, now);
    joins(&mut c);
    assert_eq!(c.check_commit("g", -1, "", None, now), error::UNKNOWN_MEMBER_ID);
    assert_eq!(c.check_commit("g", 1, &a, None, now), error::REBALANCE_IN_PROGRESS);
    c.sync(sargs("g", 1, &a, vec![]), r(1), now);
    assert_eq!(c.check_commit("g", 1, &a, None, now), error::NONE);
    assert_eq!(c.check_commit("g", 0, &a, None, now), error::ILLEGAL_GENERATION);
}

#[test]
fn the_next_deadline_is_never_one_already_handled() {
    // The loop sleeps until `next_deadline`: one in the past after a tick would make it spin.
    let cfg = GroupConfig { initial_rebalance_delay: Duration::from_millis(100), ..CFG };
    let mut c = Coordinator::new(cfg);
    let t0 = Instant::now();
    let a = join_new(&mut c, 1, t0);
    let _b = join_new(&mut c, 2, t0);
    // `a` loses its connection while held: the join waits for it until the rebalance timeout.
    c.connection_closed(1);
    let later = t0 + Duration::from_millis(200);
    c.tick(later);
    assert!(c.next_deadline().is_some_and(|d| d > later), "{:?}", c.next_deadline());
    assert!(c.groups["g"].members.contains_key(&a));
    // A member held in a rebalance longer than its session is not expired meanwhile.
    let mut c = Coordinator::new(CFG);
    join_new(&mut c, 1, t0);
    joins(&mut c);
    let b = join_new(&mut c, 2, t0);
    let mid = t0 + Duration::from_millis(999);
    c.tick(mid);
    assert!(c.next_deadline().is_some_and(|d| d > mid));
    assert!(c.groups["g"].members.contains_key(&b));
}

#[test]
fn the_cached_next_deadline_follows_heartbeats() {
    let mut c = Coordinator::new(CFG);
    let t0 = Instant::now();
    let a = join_new(&mut c, 1, t0);
    joins(&mut c);
    c.sync(sargs("g", 1, &a, vec![]), r(1), t0);
    c.take_completions();
    assert_eq!(c.next_deadline(), Some(t0 + Duration::from_millis(1000)));
    let t1 = t0 + Duration::from_millis(500);
    assert_eq!(c.heartbeat("g", 1, &a, None, t1), error::NONE);
    assert_eq!(c.next_deadline(), Some(t1 + Duration::from_millis(1000)));
    // Groups that only hold offsets add no timers.
    for i in 0..100 {
        c.group_mut(&format!("offsets-only-{i}"));
    }
    assert_eq!(c.next_deadline(), Some(t1 + Duration::from_millis(1000)));
}
