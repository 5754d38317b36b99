//! The log-level admin APIs, judged against Kafka: DeleteRecords (the log start offset it
//! moves, as ListOffsets and Fetch then see it), OffsetForLeaderEpoch (the epoch cache's
//! answers and the current-epoch check) and DescribeLogDirs (partition sizes, which match
//! because both brokers store the batches as sent; the directory's path and its volume's
//! sizes are erased, as they cannot be the same).

use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;

use crate::harness::Scenario;
use crate::scenarios::{
    fetch, idempotent_records, init_producer_id, list_offsets, produce, records, versions, FetchAt,
};

fn topic(v: &str) -> TopicName {
    TopicName(StrBytes::from_string(v.to_string()))
}

fn delete_records(name: &str, parts: &[(i32, i64)]) -> RequestKind {
    DeleteRecordsRequest::default()
        .with_topics(vec![DeleteRecordsTopic::default().with_name(topic(name)).with_partitions(
            parts
                .iter()
                .map(|&(p, o)| {
                    DeleteRecordsPartition::default().with_partition_index(p).with_offset(o)
                })
                .collect(),
        )])
        .with_timeout_ms(30_000)
        .into()
}

/// (partition, current leader epoch, epoch asked for).
fn epoch_ends(name: &str, parts: &[(i32, i32, i32)]) -> RequestKind {
    OffsetForLeaderEpochRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![OffsetForLeaderTopic::default().with_topic(topic(name)).with_partitions(
            parts
                .iter()
                .map(|&(p, current, epoch)| {
                    OffsetForLeaderPartition::default()
                        .with_partition(p)
                        .with_current_leader_epoch(current)
                        .with_leader_epoch(epoch)
                })
                .collect(),
        )])
        .into()
}

fn describe_log_dirs(topics: &[(&str, &[i32])]) -> RequestKind {
    DescribeLogDirsRequest::default()
        .with_topics(Some(
            topics
                .iter()
                .map(|(t, ps)| {
                    DescribableLogDirTopic::default()
                        .with_topic(topic(t))
                        .with_partitions(ps.to_vec())
                })
                .collect(),
        ))
        .into()
}

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for v in versions(ApiKey::DeleteRecords) {
        let name = format!("dr-{v}");
        let n = || name.clone();
        let (a, b, c, d, e, f, g, h) = (n(), n(), n(), n(), n(), n(), n(), n());
        out.push(
            Scenario::new(format!("delete_records v{v}: the log start offset moves, never back"))
                .topic(&name, 2)
                .setup(ApiKey::Produce, 9, move |c, _| produce(c, &a, 0, 1, records(3, "dr")))
                .setup(ApiKey::Produce, 9, move |c, _| produce(c, &b, 0, 1, records(3, "dr")))
                .step(ApiKey::DeleteRecords, v, move |_, _| {
                    delete_records(&c, &[(0, 2), (1, 0), (7, 0)])
                })
                .step(ApiKey::DeleteRecords, v, move |_, _| delete_records(&d, &[(0, 1)]))
                .step(ApiKey::DeleteRecords, v, move |_, _| delete_records(&e, &[(0, 7)]))
                .step(ApiKey::ListOffsets, 7, move |_, _| list_offsets(&f, 0, -2))
                .step(ApiKey::Fetch, 12, move |c, v| {
                    fetch(c, v, &g, &[FetchAt { partition: 0, offset: 0, max_bytes: 1 << 20 }], 0)
                })
                .step(ApiKey::DeleteRecords, v, move |_, _| delete_records(&h, &[(0, -1)]))
                .step(ApiKey::DeleteRecords, v, |_, _| {
                    delete_records("dr-no-such-topic", &[(0, 0)])
                }),
        );
    }
    // Kafka keeps a producer's state when the log start offset moves past all its batches
    // (`ProducerStateManager.onLogStartOffsetIncremented` trims transactions only; state goes
    // by producer.id.expiration.ms or with a restart's snapshots): a gap is still out of
    // order, a retry still a duplicate answered with its offset below the new start, and the
    // next sequence is taken.
    let name = "dr-producer".to_string();
    let n = [0; 7].map(|_| name.clone());
    let [n0, n1, n2, n3, n4, n5, n6] = n;
    out.push(
        Scenario::new("delete_records: an idempotent producer's state outlives its records")
            .topic(&n0, 1)
            .setup(ApiKey::InitProducerId, 4, |_, _| init_producer_id())
            .step(ApiKey::Produce, 9, move |c, _| {
                produce(c, &n1, 0, -1, idempotent_records(c, 3, 0, 0))
            })
            .step(ApiKey::Produce, 9, move |c, _| {
                produce(c, &n2, 0, -1, idempotent_records(c, 2, 3, 0))
            })
            .step(ApiKey::DeleteRecords, 2, move |_, _| delete_records(&n3, &[(0, -1)]))
            .step(ApiKey::Produce, 9, move |c, _| {
                produce(c, &n4, 0, -1, idempotent_records(c, 1, 9, 0))
            })
            .step(ApiKey::Produce, 9, move |c, _| {
                produce(c, &n5, 0, -1, idempotent_records(c, 2, 3, 0))
            })
            .step(ApiKey::Produce, 9, move |c, _| {
                produce(c, &n6, 0, -1, idempotent_records(c, 1, 5, 0))
            })
            .step(ApiKey::ListOffsets, 7, move |_, _| list_offsets(&name, 0, -2)),
    );
    for v in versions(ApiKey::OffsetForLeaderEpoch) {
        let name = format!("oe-{v}");
        let (a, b, c) = (name.clone(), name.clone(), name.clone());
        out.push(
            Scenario::new(format!("offset_for_leader_epoch v{v}: epoch ends and epoch checks"))
                .topic(&name, 2)
                .setup(ApiKey::Produce, 9, move |c, _| produce(c, &a, 0, 1, records(3, "oe")))
                .step(ApiKey::OffsetForLeaderEpoch, v, move |_, _| {
                    epoch_ends(&b, &[(0, -1, 0), (0, 0, 0), (1, 0, 0), (0, -1, 1), (0, -1, -1)])
                })
                .step(ApiKey::OffsetForLeaderEpoch, v, move |_, _| {
                    epoch_ends(&c, &[(0, 1, 0), (5, -1, 0)])
                })
                .step(ApiKey::OffsetForLeaderEpoch, v, |_, _| {
                    epoch_ends("oe-no-such-topic", &[(0, -1, 0)])
                }),
        );
    }
    for v in versions(ApiKey::DescribeLogDirs) {
        let name = format!("dld-{v}");
        let (a, b, c, d) = (name.clone(), name.clone(), name.clone(), name.clone());
        out.push(
            Scenario::new(format!("describe_log_dirs v{v}: partition sizes"))
                .topic(&name, 3)
                .setup(ApiKey::Produce, 9, move |c, _| produce(c, &a, 1, 1, records(4, "dld")))
                .step(ApiKey::DescribeLogDirs, v, move |_, _| {
                    describe_log_dirs(&[(&b, &[0, 1, 9]), ("dld-no-such-topic", &[0])])
                })
                // Deleted records stay on disk until retention's next check, in both.
                .setup(ApiKey::DeleteRecords, 2, move |_, _| delete_records(&c, &[(1, 2)]))
                .step(ApiKey::DescribeLogDirs, v, move |_, _| describe_log_dirs(&[(&d, &[1])])),
        );
    }
    out
}
