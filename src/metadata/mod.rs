//! Cluster metadata: the KRaft `__cluster_metadata` log, `meta.properties`, and the in-process
//! cache the handlers read.

pub mod cache;
pub mod log;
pub mod records;

use std::fs;
use std::io;
use std::path::Path;

pub use cache::{Cache, PartitionMeta, TopicMeta};
pub use records::{MetadataRecord, PartitionRecord};

use crate::properties;
use crate::uuid::{self, Uuid};

pub const METADATA_DIR: &str = "__cluster_metadata-0";
pub const META_PROPERTIES: &str = "meta.properties";
/// The feature level `kafka-storage.sh format` bootstraps when it is not told otherwise here:
/// 3.9-IV0, which Kafka 3.9 and every 4.x release accept.
pub const DEFAULT_METADATA_VERSION: i16 = 21;
/// The feature that turns on the KIP-848 consumer group protocol at level 1.
pub const GROUP_VERSION: &str = "group.version";
pub const MAX_GROUP_VERSION: i16 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaProperties {
    pub cluster_id: String,
    pub directory_id: Option<String>,
    pub node_id: i32,
}

impl MetaProperties {
    pub fn read(log_dir: &Path) -> io::Result<Option<MetaProperties>> {
        let text = match fs::read_to_string(log_dir.join(META_PROPERTIES)) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let p = properties::parse(&text);
        let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
        Ok(Some(MetaProperties {
            cluster_id: properties::get(&p, "cluster.id")
                .ok_or_else(|| invalid("meta.properties has no cluster.id"))?
                .to_string(),
            directory_id: properties::get(&p, "directory.id").map(str::to_string),
            node_id: properties::get(&p, "node.id")
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| invalid("meta.properties has no valid node.id"))?,
        }))
    }

    fn write(&self, log_dir: &Path) -> io::Result<()> {
        let mut pairs = vec![("cluster.id", self.cluster_id.clone())];
        if let Some(d) = &self.directory_id {
            pairs.push(("directory.id", d.clone()));
        }
        pairs.push(("node.id", self.node_id.to_string()));
        pairs.push(("version", "1".to_string()));
        fs::write(log_dir.join(META_PROPERTIES), properties::render(&pairs))
    }
}

/// Makes `log_dir` a formatted KRaft log directory if it is not one yet, as
/// `kafka-storage.sh format` would: `meta.properties` with fresh ids, and a metadata log whose
/// first batch sets `metadata.version` and, as Kafka 4's format does by default,
/// `group.version` 1 (the consumer group protocol; Kafka opening the directory serves the
/// consumer groups kept here only then). `transaction.version` stays unset unless asked for
/// (`--feature`), since announcing it puts tagged fields in ApiVersions answers. An already
/// formatted directory is left as it is.
pub fn format_log_dir(log_dir: &Path, node_id: i32) -> io::Result<MetaProperties> {
    fs::create_dir_all(log_dir)?;
    let props = match MetaProperties::read(log_dir)? {
        Some(p) => p,
        None => {
            let p = MetaProperties {
                cluster_id: uuid::to_base64(&uuid::random()),
                directory_id: Some(uuid::to_base64(&uuid::random())),
                node_id,
            };
            p.write(log_dir)?;
            ::log::info!("formatted {} with cluster id {}", log_dir.display(), p.cluster_id);
            p
        }
    };
    let meta_dir = log_dir.join(METADATA_DIR);
    if !meta_dir.exists() {
        crate::storage::create_partition_dir(&meta_dir, &uuid::METADATA_TOPIC_ID)?;
        let mut cache = Cache::default();
        let mut log = log::MetadataLog::load(&meta_dir, &mut cache)?;
        log.append(&[
            MetadataRecord::FeatureLevel {
                name: "metadata.version".into(),
                feature_level: DEFAULT_METADATA_VERSION,
            },
            MetadataRecord::FeatureLevel {
                name: GROUP_VERSION.into(),
                feature_level: MAX_GROUP_VERSION,
            },
        ])?;
    }
    Ok(props)
}

/// Kafka's topic name rules, with its messages (`org.apache.kafka.common.internals.Topic`).
pub fn validate_topic_name(name: &str) -> Result<(), String> {
    const INVALID: &str = "Topic name is invalid:";
    if name.is_empty() {
        return Err(format!("{INVALID} the empty string is not allowed"));
    }
    if name == "." || name == ".." {
        return Err(format!("{INVALID} '{name}' is not allowed"));
    }
    if name.len() > 249 {
        return Err(format!(
            "{INVALID} the length of '{name}' is longer than the max allowed length 249"
        ));
    }
    if !name.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-')) {
        return Err(format!(
            "{INVALID} '{name}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"
        ));
    }
    Ok(())
}

/// The records that create topic `name` with `partitions` partitions led by `node_id`.
pub fn topic_records(
    name: &str,
    topic_id: Uuid,
    partitions: i32,
    node_id: i32,
) -> Vec<MetadataRecord> {
    let mut recs = vec![MetadataRecord::Topic { name: name.to_string(), topic_id }];
    recs.extend((0..partitions).map(|p| {
        MetadataRecord::Partition(PartitionRecord {
            partition_id: p,
            topic_id,
            replicas: vec![node_id],
            isr: vec![node_id],
            leader: node_id,
            leader_epoch: 0,
            partition_epoch: 0,
        })
    }));
    recs
}

/// Creates a topic in a formatted, offline log directory (for tools and tests; a running
/// broker creates topics through its own state). Returns the new topic id.
pub fn add_topic(log_dir: &Path, name: &str, partitions: i32) -> io::Result<Uuid> {
    let props = format_log_dir(log_dir, 1)?;
    let meta_dir = log_dir.join(METADATA_DIR);
    let mut cache = Cache::default();
    let mut log = log::MetadataLog::load(&meta_dir, &mut cache)?;
    if cache.topic(name).is_some() {
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, format!("topic {name} exists")));
    }
    let topic_id = uuid::random();
    log.append(&topic_records(name, topic_id, partitions, props.node_id))?;
    for p in 0..partitions {
        let dir = log_dir.join(crate::storage::partition_dir_name(name, p));
        crate::storage::create_partition_dir(&dir, &topic_id)?;
    }
    Ok(topic_id)
}

/// Loads the metadata log of a formatted `log_dir` into a fresh cache.
pub fn load(log_dir: &Path) -> io::Result<(Cache, log::MetadataLog)> {
    let mut cache = Cache::default();
    let log = log::MetadataLog::load(&log_dir.join(METADATA_DIR), &mut cache)?;
    Ok((cache, log))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/kraft-combined-logs")
    }

    #[test]
    fn real_kafka_metadata_log_decodes() {
        let (cache, log) = load(&fixture()).unwrap();
        let foo = cache.topic("foo").expect("topic foo");
        assert_eq!(uuid::to_base64(&foo.topic_id), "v9meXjI1RVKB-NSvF0GXDA");
        assert_eq!(foo.partitions.len(), 1);
        let p = foo.partition(0).unwrap();
        assert_eq!((p.leader, p.leader_epoch, &p.replicas, &p.isr), (1, 0, &vec![1], &vec![1]));
        assert_eq!(cache.topic_by_id(&foo.topic_id).map(|t| t.name.as_str()), Some("foo"));
        assert_eq!(cache.feature_level("metadata.version"), Some(20));
        assert_eq!(log.next_offset(), 36); // the topic batch sits at offset 34
        let props = MetaProperties::read(&fixture()).unwrap().unwrap();
        assert_eq!(props.node_id, 1);
        assert_eq!(props.cluster_id, "rwd2jqiwRaCycLq7mKVHXA");
    }

    #[test]
    fn real_kafka_partition_batch_holds_hello_world() {
        let bytes = fs::read(fixture().join("foo-0/00000000000000000000.log")).unwrap();
        let (h, batch) = crate::records::batches(&bytes).next().unwrap().unwrap();
        assert_eq!((h.base_offset, h.records_count), (0, 1));
        let rec = crate::records::Records::new(batch).unwrap().next().unwrap().unwrap();
        assert_eq!(rec.value, Some(&b"Hello World!"[..]));
    }

    #[test]
    fn format_then_add_topics_then_remove_replays() {
        let d = crate::testutil::TempDir::new("meta");
        let props = format_log_dir(&d, 3).unwrap();
        assert_eq!(props, MetaProperties::read(&d).unwrap().unwrap());
        let a = add_topic(&d, "a", 3).unwrap();
        add_topic(&d, "b", 1).unwrap();
        assert!(add_topic(&d, "a", 1).is_err());
        let (cache, mut log) = load(&d).unwrap();
        assert_eq!(cache.feature_level("metadata.version"), Some(DEFAULT_METADATA_VERSION));
        assert_eq!(cache.feature_level(GROUP_VERSION), Some(1));
        assert_eq!(cache.topic("a").unwrap().partitions.len(), 3);
        assert_eq!(cache.topic("a").unwrap().partition(2).unwrap().leader, 3);
        assert!(d.join("a-2/partition.metadata").exists());
        log.append(&[MetadataRecord::RemoveTopic { topic_id: a }]).unwrap();
        let (cache, _) = load(&d).unwrap();
        assert!(cache.topic("a").is_none());
        assert_eq!(cache.topics().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["b"]);
    }
}
