//! Changes to the cluster's metadata made on behalf of requests: topics created and deleted,
//! their config overrides, producer id blocks taken. Each is recorded (and synced) in the metadata log before the
//! cache and the logs change, as Kafka's controller commits a record before applying it.

use super::Broker;
use crate::metadata as kraft;
use crate::protocol::error;
use crate::topic_config::{Source, TopicConfig};
use crate::uuid::Uuid;

impl Broker {
    /// Creates a topic: records it in the metadata log (synced to disk) as Kafka's controller
    /// would, applies it to the cache, and opens its partition logs. Errors are Kafka codes.
    pub fn create_topic(&mut self, name: &str, partitions: i32) -> Result<Uuid, (i16, String)> {
        self.create_topic_with_configs(name, partitions, &[])
    }

    /// As [`Broker::create_topic`], recording topic configs (ConfigRecords) in the same batch,
    /// as Kafka's controller does. They must have been validated.
    pub fn create_topic_with_configs(
        &mut self,
        name: &str,
        partitions: i32,
        configs: &[(&str, &str)],
    ) -> Result<Uuid, (i16, String)> {
        kraft::validate_topic_name(name).map_err(|m| (error::INVALID_TOPIC_EXCEPTION, m))?;
        if self.meta.topic(name).is_some() {
            return Err((error::TOPIC_ALREADY_EXISTS, format!("Topic '{name}' already exists.")));
        }
        if partitions <= 0 {
            return Err((
                error::INVALID_PARTITIONS,
                "Number of partitions must be larger than 0.".into(),
            ));
        }
        let topic_id = crate::uuid::random();
        let mut recs = kraft::topic_records(name, topic_id, partitions, self.config.node_id);
        recs.extend(configs.iter().map(|(k, v)| kraft::MetadataRecord::Config {
            resource_type: 2,
            resource_name: name.to_string(),
            name: k.to_string(),
            value: Some(v.to_string()),
        }));
        if let Err(e) = self.meta_log.append(&recs) {
            log::error!("cannot record topic {name} in the metadata log: {e}");
            return Err((error::KAFKA_STORAGE_ERROR, e.to_string()));
        }
        for rec in recs {
            self.meta.apply(rec);
        }
        for p in 0..partitions {
            if let Err(e) = self.logs.open(name, &topic_id, p, 0) {
                log::error!("cannot create the log of {name}-{p}: {e}");
                return Err((error::KAFKA_STORAGE_ERROR, e.to_string()));
            }
        }
        self.apply_topic_config(name);
        log::info!("created topic {name} with {partitions} partitions");
        Ok(topic_id)
    }

    /// Grows `name` to `count` partitions: PartitionRecords for the new ones in the metadata
    /// log (synced), as Kafka's controller writes them, then their directories and logs.
    /// The caller has checked the count against the topic's.
    pub fn create_partitions(&mut self, name: &str, count: i32) -> Result<(), (i16, String)> {
        let Some(t) = self.meta.topic(name) else {
            return Err((error::UNKNOWN_TOPIC_OR_PARTITION, String::new()));
        };
        let (topic_id, current) = (t.topic_id, t.partitions.len() as i32);
        let node = self.config.node_id;
        let recs: Vec<_> = (current..count)
            .map(|p| {
                kraft::MetadataRecord::Partition(kraft::PartitionRecord {
                    partition_id: p,
                    topic_id,
                    replicas: vec![node],
                    isr: vec![node],
                    leader: node,
                    leader_epoch: 0,
                    partition_epoch: 0,
                })
            })
            .collect();
        if let Err(e) = self.meta_log.append(&recs) {
            log::error!("cannot record new partitions of {name} in the metadata log: {e}");
            return Err((error::KAFKA_STORAGE_ERROR, e.to_string()));
        }
        for rec in recs {
            self.meta.apply(rec);
        }
        for p in current..count {
            if let Err(e) = self.logs.open(name, &topic_id, p, 0) {
                log::error!("cannot create the log of {name}-{p}: {e}");
                return Err((error::KAFKA_STORAGE_ERROR, e.to_string()));
            }
        }
        log::info!("topic {name} grown from {current} to {count} partitions");
        Ok(())
    }

    /// A topic's effective configuration: its overrides, else the broker's settings, else
    /// Kafka's defaults (see [`crate::topic_config`]). For a topic that does not exist, the
    /// broker's settings and defaults.
    pub fn topic_config(&self, topic: &str) -> TopicConfig {
        TopicConfig::resolve(&self.config, self.meta.topic_configs(topic))
    }

    /// The effective value of one topic key, and where it comes from; `None` for a key Kafka
    /// does not define.
    pub fn topic_config_value(&self, topic: &str, key: &str) -> Option<(String, Source)> {
        let def = crate::topic_config::lookup(key)?;
        Some(crate::topic_config::effective(&self.config, self.meta.topic_configs(topic), def))
    }

    /// Hands the topic's effective tuning to its partition logs.
    pub(super) fn apply_topic_config(&mut self, topic: &str) {
        let config = crate::topic_config::log_config(&self.config, self.meta.topic_configs(topic));
        self.logs.set_topic_config(topic, super::offsets_log_config(topic, config));
    }

    /// Records changes to a topic's config overrides (`None` deletes one) as ConfigRecords,
    /// synced, then applies them. They must have been validated.
    pub fn set_topic_configs(
        &mut self,
        topic: &str,
        changes: &[(String, Option<String>)],
    ) -> Result<(), (i16, String)> {
        if changes.is_empty() {
            return Ok(());
        }
        let recs: Vec<kraft::MetadataRecord> = changes
            .iter()
            .map(|(k, v)| kraft::MetadataRecord::Config {
                resource_type: kraft::cache::RESOURCE_TOPIC,
                resource_name: topic.to_string(),
                name: k.clone(),
                value: v.clone(),
            })
            .collect();
        if let Err(e) = self.meta_log.append(&recs) {
            log::error!("cannot record configs of {topic} in the metadata log: {e}");
            return Err((error::KAFKA_STORAGE_ERROR, e.to_string()));
        }
        for rec in recs {
            self.meta.apply(rec);
        }
        self.apply_topic_config(topic);
        log::info!("configs of topic {topic} changed: {changes:?}");
        Ok(())
    }

    /// Hands out a producer id, recording a new block of them in the metadata log when the
    /// current one is used up.
    pub fn next_producer_id(&mut self) -> Result<i64, i16> {
        const BLOCK: i64 = 1000;
        if self.producer_ids.is_empty() {
            let start = self.meta.next_producer_id();
            let rec = kraft::MetadataRecord::ProducerIds {
                broker_id: self.config.node_id,
                broker_epoch: -1,
                next_producer_id: start + BLOCK,
            };
            if let Err(e) = self.meta_log.append(std::slice::from_ref(&rec)) {
                log::error!("cannot record producer ids in the metadata log: {e}");
                return Err(error::KAFKA_STORAGE_ERROR);
            }
            self.meta.apply(rec);
            self.producer_ids = start..start + BLOCK;
        }
        Ok(self.producer_ids.next().expect("a block was just taken"))
    }

    /// Deletes a topic: a RemoveTopicRecord in the metadata log, then its partition logs.
    pub fn delete_topic(&mut self, name: &str) -> Result<Uuid, (i16, String)> {
        let Some(topic_id) = self.meta.topic(name).map(|t| t.topic_id) else {
            return Err((
                error::UNKNOWN_TOPIC_OR_PARTITION,
                format!("Topic {name} does not exist."),
            ));
        };
        let rec = kraft::MetadataRecord::RemoveTopic { topic_id };
        if let Err(e) = self.meta_log.append(std::slice::from_ref(&rec)) {
            log::error!("cannot record the deletion of {name} in the metadata log: {e}");
            return Err((error::KAFKA_STORAGE_ERROR, e.to_string()));
        }
        self.meta.apply(rec);
        if let Err(e) = self.logs.remove_topic(name) {
            // The topic is gone from the metadata either way; Kafka, too, deletes files later.
            log::warn!("deleted topic {name}, but removing its files failed: {e}");
        }
        log::info!("deleted topic {name}");
        Ok(topic_id)
    }
}
