use super::*;

fn coordinator_with(id: &str) -> (TxnCoordinator, i64) {
    let mut c = TxnCoordinator::default();
    assert_eq!(c.init_producer_id(id, 60_000, 900_000, (-1, -1), || Ok(42)), Init::Ready(42, 0));
    (c, 42)
}

fn p(t: &str, n: i32) -> (String, i32) {
    (t.to_string(), n)
}

#[test]
fn timeouts_and_empty_ids_are_refused() {
    let mut c = TxnCoordinator::default();
    let no_id = || -> Result<i64, i16> { panic!("no id for a refused request") };
    assert_eq!(
        c.init_producer_id("t", 900_001, 900_000, (-1, -1), no_id),
        Init::Error(error::INVALID_TRANSACTION_TIMEOUT)
    );
    assert_eq!(
        c.init_producer_id("t", 0, 900_000, (-1, -1), no_id),
        Init::Error(error::INVALID_TRANSACTION_TIMEOUT)
    );
    assert_eq!(
        c.init_producer_id("", 1, 900_000, (-1, -1), no_id),
        Init::Error(error::INVALID_REQUEST)
    );
}

#[test]
fn a_transaction_commits_and_the_next_one_aborts() {
    let (mut c, pid) = coordinator_with("t");
    assert_eq!(c.end_txn("t", pid, 0, true), End::Error(error::INVALID_TXN_STATE));
    c.add_partitions("t", pid, 0, [p("a", 0), p("b", 1)]).unwrap();
    c.add_partitions("t", pid, 0, [p("a", 0)]).unwrap();
    let End::Write(m) = c.end_txn("t", pid, 0, true) else { panic!() };
    assert_eq!(m.partitions, [p("a", 0), p("b", 1)]);
    assert!(m.commit);
    c.complete("t", true);
    // A retried commit is answered again; an abort of it is not.
    assert_eq!(c.end_txn("t", pid, 0, true), End::Done);
    assert_eq!(c.end_txn("t", pid, 0, false), End::Error(error::INVALID_TXN_STATE));
    c.add_partitions("t", pid, 0, [p("c", 0)]).unwrap();
    let End::Write(m) = c.end_txn("t", pid, 0, false) else { panic!() };
    assert_eq!(m.partitions, [p("c", 0)]);
    c.complete("t", false);
    assert_eq!(c.end_txn("t", pid, 0, false), End::Done);
}

#[test]
fn wrong_ids_and_epochs_are_refused() {
    let (mut c, pid) = coordinator_with("t");
    assert_eq!(c.add_partitions("u", pid, 0, [p("a", 0)]), Err(error::INVALID_PRODUCER_ID_MAPPING));
    assert_eq!(
        c.add_partitions("t", pid + 1, 0, [p("a", 0)]),
        Err(error::INVALID_PRODUCER_ID_MAPPING)
    );
    assert_eq!(c.add_partitions("t", pid, 1, [p("a", 0)]), Err(error::PRODUCER_FENCED));
    assert_eq!(c.end_txn("t", pid, 1, true), End::Error(error::PRODUCER_FENCED));
}

#[test]
fn reinit_bumps_the_epoch_and_aborts_an_ongoing_transaction_first() {
    let (mut c, pid) = coordinator_with("t");
    assert_eq!(c.init_producer_id("t", 1000, 900_000, (-1, -1), || Ok(7)), Init::Ready(pid, 1));
    c.add_partitions("t", pid, 1, [p("a", 0)]).unwrap();
    let Init::AbortFirst(m) = c.init_producer_id("t", 1000, 900_000, (-1, -1), || Ok(7)) else {
        panic!()
    };
    assert_eq!((m.producer_epoch, m.commit, m.partitions), (2, false, vec![p("a", 0)]));
    // The old producer is fenced from here on.
    assert_eq!(c.end_txn("t", pid, 1, true), End::Error(error::PRODUCER_FENCED));
    c.complete("t", false);
    assert_eq!(c.init_producer_id("t", 1000, 900_000, (-1, -1), || Ok(7)), Init::Ready(pid, 3));
    // A producer naming an epoch that is not the current one is fenced.
    assert_eq!(
        c.init_producer_id("t", 1000, 900_000, (pid, 1), || Ok(7)),
        Init::Error(error::PRODUCER_FENCED)
    );
    assert_eq!(c.init_producer_id("t", 1000, 900_000, (pid, 3), || Ok(7)), Init::Ready(pid, 4));
}

#[test]
fn timed_out_transactions_are_fenced_and_returned_for_abort() {
    let (mut c, pid) = coordinator_with("t");
    c.add_partitions("t", pid, 0, [p("a", 0)]).unwrap();
    let start = c.get("t").unwrap().start_ms;
    assert!(c.fence_timed_out(start + 60_000).is_empty(), "not past the timeout yet");
    let out = c.fence_timed_out(start + 60_001);
    let (id, m) = &out[0];
    assert_eq!((id.as_str(), m.producer_epoch, m.commit), ("t", 1, false));
    assert_eq!(m.partitions, [p("a", 0)]);
    // The old epoch is fenced from now on.
    assert_eq!(c.end_txn("t", pid, 0, true), End::Error(error::PRODUCER_FENCED));
    c.complete("t", false);
    assert!(c.fence_timed_out(i64::MAX).is_empty());
}

#[test]
fn loaded_prepared_states_come_back_as_markers() {
    let mut c = TxnCoordinator::default();
    let v = log::TxnLogValue {
        producer_id: 5,
        producer_epoch: 3,
        timeout_ms: 1000,
        state: TxnState::PrepareAbort,
        partitions: [p("a", 1)].into_iter().collect(),
        last_update_ms: 2,
        start_ms: 1,
        previous_producer_id: -1,
        client_transaction_version: 0,
    };
    c.load("x".into(), Some(v.clone()));
    c.load("y".into(), Some(log::TxnLogValue { state: TxnState::Ongoing, ..v.clone() }));
    c.load("z".into(), Some(v));
    c.load("z".into(), None);
    let prepared = c.prepared();
    assert_eq!(prepared.len(), 1);
    assert_eq!(prepared[0].0, "x");
    assert_eq!(
        prepared[0].1,
        Markers {
            producer_id: 5,
            producer_epoch: 3,
            commit: false,
            partitions: vec![p("a", 1)],
            next: None
        }
    );
}

#[test]
fn verify_partition_answers_as_kafkas_coordinator() {
    let (mut c, pid) = coordinator_with("t");
    assert_eq!(c.verify_partition("t", pid, 0, "a", 0), error::TRANSACTION_ABORTABLE);
    c.add_partitions("t", pid, 0, [p("a", 0)]).unwrap();
    assert_eq!(c.verify_partition("t", pid, 0, "a", 0), error::NONE);
    assert_eq!(c.verify_partition("t", pid, 0, "a", 1), error::TRANSACTION_ABORTABLE);
    assert_eq!(c.verify_partition("t", pid, 1, "a", 0), error::PRODUCER_FENCED);
    assert_eq!(c.verify_partition("t", pid + 1, 0, "a", 0), error::INVALID_PRODUCER_ID_MAPPING);
    assert_eq!(c.verify_partition("u", pid, 0, "a", 0), error::INVALID_PRODUCER_ID_MAPPING);
    assert_eq!(c.verify_partition("", pid, 0, "a", 0), error::INVALID_REQUEST);
    // The partitions go with the transaction's end.
    c.complete("t", true);
    assert_eq!(c.verify_partition("t", pid, 0, "a", 0), error::TRANSACTION_ABORTABLE);
}

#[test]
fn a_v2_end_past_the_last_epoch_moves_to_a_new_producer_id() {
    let (mut c, pid) = coordinator_with("t");
    c.by_id.get_mut("t").unwrap().producer_epoch = MAX_EPOCH;
    c.add_partitions("t", pid, MAX_EPOCH, [p("a", 0)]).unwrap();
    let End::Write(m) = c.end_transaction("t", pid, MAX_EPOCH, true, true, || Ok(77)) else {
        panic!()
    };
    assert_eq!((m.producer_id, m.producer_epoch, m.next), (pid, MAX_EPOCH + 1, Some((77, 0))));
    c.complete("t", true);
    c.completed_with("t", m.next);
    let t = c.get("t").unwrap();
    assert_eq!((t.producer_id, t.producer_epoch, t.previous_producer_id), (77, 0, pid));
    // A retry from before the move is still answered.
    assert_eq!(c.end_transaction("t", pid, MAX_EPOCH, true, true, || panic!()), End::Done);
    assert_eq!(
        c.end_transaction("t", pid, MAX_EPOCH, false, true, || panic!()),
        End::Error(error::INVALID_TXN_STATE)
    );
    assert_eq!(
        c.end_transaction("t", pid, MAX_EPOCH - 1, true, true, || panic!()),
        End::Error(error::INVALID_PRODUCER_ID_MAPPING)
    );
}
