//! What each config key does, in a sentence or two of this project's own wording, for
//! DescribeConfigs' `documentation` (v3+, when the client asks for it). Kafka's texts are not
//! copied: these say what the key governs and how its value is read.

use crate::topic_config::TOPIC_CONFIGS;

/// The documentation of topic key `name`.
pub fn topic(name: &str) -> Option<&'static str> {
    let doc = match name {
        "cleanup.policy" => {
            "How old data leaves the log: 'delete' drops whole segments past retention, \
             'compact' keeps the latest record of each key; both may be given."
        }
        "compression.gzip.level" => "Compression level used when the topic stores batches as gzip.",
        "compression.lz4.level" => "Compression level used when the topic stores batches as lz4.",
        "compression.type" => {
            "Codec batches are stored with: a codec name recompresses them, 'producer' keeps \
             whatever the producer sent, 'uncompressed' stores them plain."
        }
        "compression.zstd.level" => "Compression level used when the topic stores batches as zstd.",
        "delete.retention.ms" => {
            "On a compacted topic, how long a tombstone (a null value) stays readable after \
             compaction so that consumers can see the deletion."
        }
        "errors.deadletterqueue.group.enable" => {
            "Whether share groups may use this topic as a dead-letter queue."
        }
        "file.delete.delay.ms" => {
            "How long the files of a segment removed from the log are kept on disk before they \
             are deleted."
        }
        "flush.messages" => {
            "Number of appended records after which the log is forced to disk; the default \
             leaves flushing to the operating system."
        }
        "flush.ms" => {
            "Time after which appended data is forced to disk; the default leaves flushing to \
             the operating system."
        }
        "follower.replication.throttled.replicas" => {
            "Replicas whose follower-side replication is throttled: partition:broker pairs, or \
             '*' for all."
        }
        "index.interval.bytes" => {
            "Bytes of records between two entries of a segment's offset index: smaller means a \
             denser index and shorter scans."
        }
        "leader.replication.throttled.replicas" => {
            "Replicas whose leader-side replication is throttled: partition:broker pairs, or \
             '*' for all."
        }
        "local.retention.bytes" => {
            "With tiered storage, the size the local part of a partition may reach before \
             segments already copied to remote storage are removed locally (-2: retention.bytes)."
        }
        "local.retention.ms" => {
            "With tiered storage, how long segments already copied to remote storage stay on \
             local disk (-2: retention.ms)."
        }
        "max.compaction.lag.ms" => {
            "Longest time a record may stay uncompacted on a compacted topic before its segment \
             becomes eligible regardless of the dirty ratio."
        }
        "max.decompressed.message.bytes" => {
            "Largest size a record batch may reach once decompressed; larger batches are refused."
        }
        "max.message.bytes" => {
            "Largest record batch, in bytes after compression, a produce request may append \
             to the topic."
        }
        "message.timestamp.after.max.ms" => {
            "With CreateTime, how far ahead of the broker's clock a record's timestamp may lie \
             before the batch is refused."
        }
        "message.timestamp.before.max.ms" => {
            "With CreateTime, how far behind the broker's clock a record's timestamp may lie \
             before the batch is refused."
        }
        "message.timestamp.type" => {
            "Which time records carry: 'CreateTime' keeps the producer's timestamps, \
             'LogAppendTime' stamps each batch with the broker's clock on append."
        }
        "min.cleanable.dirty.ratio" => {
            "Share of a compacted log not yet compacted above which the log is compacted again."
        }
        "min.compaction.lag.ms" => "Shortest time a record stays uncompacted on a compacted topic.",
        "min.insync.replicas" => {
            "Number of in-sync replicas that must hold a write produced with acks=all for it \
             to succeed."
        }
        "preallocate" => "Whether segment files are allocated at full size when created.",
        "remote.copy.lag.bytes" => {
            "With tiered storage, bytes of local data a segment copy to remote storage may lag \
             behind (-1: no limit)."
        }
        "remote.copy.lag.ms" => {
            "With tiered storage, how long a segment copy to remote storage may lag behind \
             (-1: no limit)."
        }
        "remote.log.copy.disable" => {
            "With tiered storage, stops copying new segments to remote storage while keeping \
             what is there readable."
        }
        "remote.log.delete.on.disable" => {
            "Whether turning tiered storage off for the topic deletes its remote data."
        }
        "remote.storage.enable" => "Whether the topic keeps older segments in tiered storage.",
        "retention.bytes" => {
            "Size a partition may grow to before its oldest segments are deleted, with the \
             'delete' policy (-1: no limit)."
        }
        "retention.ms" => {
            "Age after which a segment is deleted, measured by its newest record's timestamp, \
             with the 'delete' policy (-1: kept forever)."
        }
        "segment.bytes" => "Size at which the active segment file is closed and a new one begun.",
        "segment.index.bytes" => "Size reserved for the offset and time indexes of each segment.",
        "segment.jitter.ms" => {
            "Random time taken off segment.ms for each segment, so that many partitions do not \
             roll at once."
        }
        "segment.ms" => {
            "Age after which the active segment is rolled even when not full, so that \
             retention and compaction can act on it."
        }
        "unclean.leader.election.enable" => {
            "Whether a replica that is not in sync may become leader, trading lost writes for \
             availability."
        }
        _ => return None,
    };
    Some(doc)
}

/// The documentation of broker key `name`: a log default names the topic key it stands for.
pub fn broker(name: &str) -> Option<String> {
    if let Some(t) = TOPIC_CONFIGS.iter().find(|d| d.broker_key == name) {
        let what = topic(t.name).unwrap_or_default();
        return Some(format!(
            "Default of topic config {} for topics that do not set it. {what}",
            t.name
        ));
    }
    let doc = match name {
        "listeners" => "Addresses the broker listens on, as NAME://host:port entries.",
        "advertised.listeners" => {
            "Addresses clients are told to connect to, when they differ from the listeners."
        }
        "controller.listener.names" => "Names of the listeners used by the KRaft controller.",
        "listener.security.protocol.map" => {
            "Security protocol of each listener name: PLAINTEXT or SASL_PLAINTEXT (TLS is not \
             served)."
        }
        "sasl.enabled.mechanisms" => {
            "SASL mechanisms a SASL listener offers: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512. A \
             listener.name.<listener>.sasl.enabled.mechanisms key overrides it per listener."
        }
        "authorizer.class.name" => {
            "org.apache.kafka.metadata.authorizer.StandardAuthorizer turns ACLs on; empty \
             leaves every action allowed."
        }
        "super.users" => "Principals (User:name; separated) every action is allowed to.",
        "allow.everyone.if.no.acl.found" => {
            "Whether an action on a resource no ACL covers is allowed."
        }
        "connections.max.reauth.ms" => {
            "When positive, the lifetime of an authenticated session: the client must \
             re-authenticate before it ends, or its connection is closed."
        }
        "log.dirs" => "Directories the partition logs and metadata are kept in.",
        "log.dir" => "Directory of the logs when log.dirs is not given.",
        "node.id" => "This node's id in the cluster.",
        "socket.request.max.bytes" => "Largest request frame the broker accepts.",
        "log.roll.hours" => "Segment roll age in hours, when log.roll.ms is not given.",
        "log.roll.jitter.hours" => {
            "Segment roll jitter in hours, when log.roll.jitter.ms is not given."
        }
        "log.retention.minutes" => "Retention age in minutes, when log.retention.ms is not given.",
        "log.retention.hours" => {
            "Retention age in hours, when neither log.retention.ms nor .minutes is given."
        }
        "log.retention.check.interval.ms" => {
            "How often the logs are checked for segments that retention deletes."
        }
        "log.initial.task.delay.ms" => "Delay after start-up before the first retention check.",
        "log.flush.scheduler.interval.ms" => {
            "How often logs are checked for data due to be flushed."
        }
        "log.flush.offset.checkpoint.interval.ms" => {
            "How often each log's recovery point (below which all is synced) is checkpointed."
        }
        "auto.create.topics.enable" => {
            "Whether a Metadata request naming an unknown topic creates it."
        }
        "num.partitions" => "Partitions of a topic created without a partition count.",
        "fetch.max.bytes" => "Largest response a fetch request may be answered with.",
        "group.initial.rebalance.delay.ms" => {
            "Time a new group waits for more members before its first rebalance."
        }
        "group.min.session.timeout.ms" => "Shortest session timeout a group member may ask for.",
        "group.max.session.timeout.ms" => "Longest session timeout a group member may ask for.",
        "group.consumer.heartbeat.interval.ms" => {
            "Heartbeat interval given to members of consumer protocol groups."
        }
        "group.consumer.session.timeout.ms" => {
            "Session timeout of members of consumer protocol groups."
        }
        "group.consumer.max.size" => "Most members a consumer protocol group may have.",
        "group.consumer.assignment.interval.ms" => {
            "The interval between assignment updates for a consumer protocol group."
        }
        "group.consumer.assignors" => {
            "Server-side assignors of consumer protocol groups; the first is the default."
        }
        "offsets.topic.num.partitions" => "Partitions of the __consumer_offsets topic.",
        "transaction.max.timeout.ms" => {
            "Longest transaction timeout a transactional producer may ask for."
        }
        "transaction.state.log.num.partitions" => "Partitions of the __transaction_state topic.",
        "transaction.state.log.segment.bytes" => {
            "Segment size of the __transaction_state topic, set when the topic is created."
        }
        "transaction.abort.timed.out.transaction.cleanup.interval.ms" => {
            "How often ongoing transactions past their timeout are looked for and aborted."
        }
        "transactional.id.expiration.ms" => {
            "A transactional id with no transaction ongoing and no change for this long is forgotten."
        }
        "transaction.remove.expired.transaction.cleanup.interval.ms" => {
            "How often transactional ids past transactional.id.expiration.ms are looked for."
        }
        "max.connections" => "Most client connections open at once; more wait to be accepted.",
        "max.connections.per.ip" => "Most connections from one host; more are closed at once.",
        "max.connections.per.ip.overrides" => {
            "Per-host exceptions to max.connections.per.ip, as host:count pairs."
        }
        "connections.max.idle.ms" => {
            "Connections with no traffic and nothing in flight for this long are closed."
        }
        "log.cleaner.enable" => "Whether the log cleaner compacts topics whose policy is compact.",
        "log.cleaner.backoff.ms" => {
            "How long the log cleaner waits before looking again when no log needs cleaning."
        }
        "log.cleaner.dedupe.buffer.size" => {
            "Memory bound of the key map one cleaning builds (24 bytes a key)."
        }
        _ => return None,
    };
    Some(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reported_key_is_documented() {
        for d in TOPIC_CONFIGS {
            assert!(topic(d.name).is_some(), "{}", d.name);
        }
        for k in crate::broker_config::described_keys() {
            assert!(broker(k).is_some(), "{k}");
        }
        let seg = broker("log.segment.bytes").unwrap();
        assert!(seg.starts_with("Default of topic config segment.bytes"), "{seg}");
    }
}
