//! AlterConfigs and IncrementalAlterConfigs of a BROKER resource: dynamic broker configs for
//! this node (resource "<node.id>") or the cluster (resource ""), checked as Kafka's
//! `ConfigAdminManager` and `DynamicBrokerConfig` check them on the broker, recorded as
//! ConfigRecords of resource type 4 as its controller records them, and put in force at once:
//! every log without its own override of a key follows the new value.
//!
//! Kafka answers INVALID_REQUEST, not INVALID_CONFIG, for a broker value it refuses
//! (KAFKA-13609 keeps it so for compatibility); so does this broker.

use std::collections::BTreeMap;

use super::alter_configs::{apply_ops, Failure};
use super::Broker;
use crate::broker_config::{self, RESOURCE_BROKER};
use crate::metadata::MetadataRecord;
use crate::protocol::alter_configs::{AlterConfigsResource, OP_DELETE};
use crate::protocol::error;

pub fn alter(
    b: &mut Broker,
    res: &AlterConfigsResource<'_>,
    incremental: bool,
    validate_only: bool,
) -> Result<(), Failure> {
    let invalid = |m: String| (error::INVALID_REQUEST, m);
    let name = res.resource_name;
    let node = b.config.node_id;
    let mut seen = Vec::new();
    for c in &res.configs {
        if seen.contains(&c.name) {
            return Err(invalid("Error due to duplicate config keys".into()));
        }
        seen.push(c.name);
    }
    let nulls: Vec<&str> = res
        .configs
        .iter()
        .filter(|c| c.value.is_none() && !(incremental && c.op == OP_DELETE))
        .map(|c| c.name)
        .collect();
    if !nulls.is_empty() {
        return Err(invalid(format!("Null value not supported for : {}", nulls.join(", "))));
    }
    if !name.is_empty() {
        match name.parse::<i32>() {
            Ok(id) if id == node => {}
            Ok(_) => {
                return Err(invalid(format!(
                    "Unexpected broker id, expected {node}, but received {name}"
                )))
            }
            Err(_) => {
                return Err(invalid(format!("Node id must be an integer, but it is: {name}")));
            }
        }
    }
    let per_broker = !name.is_empty();
    let old = if per_broker { &b.config.dynamic_broker } else { &b.config.dynamic_default };
    let new = if incremental {
        apply_ops(old, &res.configs, &broker_config::dynamic_def)?
    } else {
        res.configs
            .iter()
            .filter_map(|c| Some((c.name.to_string(), c.value?.to_string())))
            .collect::<BTreeMap<_, _>>()
    };
    let fixed: Vec<&str> = res
        .configs
        .iter()
        .map(|c| c.name)
        .filter(|k| new.contains_key(*k) && broker_config::dynamic_def(k).is_none())
        .collect();
    if !fixed.is_empty() {
        return Err(invalid(format!(
            "Cannot update these configs dynamically: [{}]",
            fixed.join(", ")
        )));
    }
    for (k, v) in &new {
        let def = broker_config::dynamic_def(k).expect("checked above");
        def.validate(v).map_err(invalid)?;
    }
    let (default, broker) = if per_broker {
        (b.config.dynamic_default.clone(), new.clone())
    } else {
        (new.clone(), b.config.dynamic_broker.clone())
    };
    let config = b.config.with_dynamic(&default, &broker).map_err(|e| {
        log::debug!("dynamic broker configs refused: {e}");
        invalid("Invalid dynamic configuration".into())
    })?;
    if validate_only {
        return Ok(());
    }
    let old = if per_broker { &b.config.dynamic_broker } else { &b.config.dynamic_default };
    let changes = super::alter_configs::config_changes(old, &new);
    b.set_broker_configs(name, &changes, config)
}

impl Broker {
    /// Records changes to the dynamic configs of broker resource `name` ("" or this node's
    /// id) as ConfigRecords, synced, then puts `config` (the configuration they make) in
    /// force: the defaults new logs start from and the rules of every open log.
    fn set_broker_configs(
        &mut self,
        name: &str,
        changes: &[(String, Option<String>)],
        config: crate::config::Config,
    ) -> Result<(), Failure> {
        if changes.is_empty() {
            return Ok(());
        }
        let recs: Vec<MetadataRecord> = changes
            .iter()
            .map(|(k, v)| MetadataRecord::Config {
                resource_type: RESOURCE_BROKER,
                resource_name: name.to_string(),
                name: k.clone(),
                value: v.clone(),
            })
            .collect();
        if let Err(e) = self.meta_log.append(&recs) {
            log::error!("cannot record dynamic broker configs in the metadata log: {e}");
            return Err((error::KAFKA_STORAGE_ERROR, e.to_string()));
        }
        for rec in recs {
            self.meta.apply(rec);
        }
        self.config = config;
        self.logs.set_default_config(self.config.log_config());
        let topics: Vec<String> = self.meta.topics().map(|t| t.name.clone()).collect();
        for t in topics {
            self.apply_topic_config(&t);
        }
        log::info!("dynamic broker configs of {name:?} changed: {changes:?}");
        Ok(())
    }
}
