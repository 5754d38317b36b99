//! Features finalized at start-up, as `kafka-storage.sh format --feature name=level` finalizes
//! them: a FeatureLevelRecord in the metadata log when the level recorded differs. Two are
//! served: `transaction.version` (0 to 2; ApiVersions announces the features once it is
//! recorded) and `group.version` (0 or 1; the KIP-848 consumer protocol needs 1, which a
//! directory this broker formats records, as Kafka 4's format does).

use std::io;

use super::api_versions::{MAX_TRANSACTION_VERSION, TRANSACTION_VERSION};
use super::Broker;
use crate::metadata::records::MetadataRecord;
use crate::metadata::{GROUP_VERSION, MAX_GROUP_VERSION};

/// Parses `name=level` as `--feature` takes it.
pub fn parse(spec: &str) -> Result<(String, i16), String> {
    let (name, level) =
        spec.split_once('=').ok_or_else(|| format!("--feature {spec}: expected name=level"))?;
    let level: i16 =
        level.trim().parse().map_err(|_| format!("--feature {spec}: the level is not a number"))?;
    match name.trim() {
        TRANSACTION_VERSION if (0..=MAX_TRANSACTION_VERSION).contains(&level) => {
            Ok((TRANSACTION_VERSION.to_string(), level))
        }
        TRANSACTION_VERSION => Err(format!(
            "--feature {spec}: transaction.version goes from 0 to {MAX_TRANSACTION_VERSION}"
        )),
        GROUP_VERSION if (0..=MAX_GROUP_VERSION).contains(&level) => {
            Ok((GROUP_VERSION.to_string(), level))
        }
        GROUP_VERSION => {
            Err(format!("--feature {spec}: group.version goes from 0 to {MAX_GROUP_VERSION}"))
        }
        other => Err(format!("--feature {spec}: {other} is not a feature this broker serves")),
    }
}

impl Broker {
    /// Kafka serves ConsumerGroupHeartbeat and ConsumerGroupDescribe only from
    /// `group.version` 1; a directory without the record (formatted before Kafka 4, or by
    /// an older minikafka) is at 0.
    pub fn consumer_protocol_enabled(&self) -> bool {
        self.meta.feature_level(GROUP_VERSION).unwrap_or(0) >= 1
    }

    pub fn finalize_features(&mut self, features: &[(String, i16)]) -> io::Result<()> {
        for (name, level) in features {
            if self.meta.feature_level(name) == Some(*level) {
                continue;
            }
            let rec = MetadataRecord::FeatureLevel { name: name.clone(), feature_level: *level };
            self.meta_log.append(std::slice::from_ref(&rec))?;
            self.meta.apply(rec);
            log::info!("finalized {name} at level {level}");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        assert_eq!(parse("transaction.version=2"), Ok(("transaction.version".into(), 2)));
        assert!(parse("transaction.version=3").is_err());
        assert_eq!(parse("group.version=0"), Ok(("group.version".into(), 0)));
        assert!(parse("group.version=2").is_err());
        assert!(parse("share.version=1").is_err());
        assert!(parse("transaction.version").is_err());
    }
}
