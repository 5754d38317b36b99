//! Features finalized at start-up, as `kafka-storage.sh format --feature name=level` finalizes
//! them: a FeatureLevelRecord in the metadata log when the level recorded differs. Only
//! `transaction.version` is served (0 to 2); ApiVersions announces it once recorded.

use std::io;

use super::api_versions::{MAX_TRANSACTION_VERSION, TRANSACTION_VERSION};
use super::Broker;
use crate::metadata::records::MetadataRecord;

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
        other => Err(format!("--feature {spec}: {other} is not a feature this broker serves")),
    }
}

impl Broker {
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
        assert!(parse("group.version=1").is_err());
        assert!(parse("transaction.version").is_err());
    }
}
