//! The objectives config file (`--config sla.toml`): named objectives, each with a threshold,
//! an optional target and optionally some queues only.

use serde::Deserialize;

use crate::error::SlaError;
use crate::model::{Objective, ObjectiveThreshold};

/// The objectives config file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    objective: Vec<ConfigObjective>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigObjective {
    name: String,
    threshold: String,
    target: Option<f64>,
    queues: Option<Vec<String>>,
}

/// Parses an objectives config file:
///
/// ```toml
/// [[objective]]
/// name = "contract"
/// threshold = "30s"            # or "configured"
/// target = 90                  # percent, optional
/// queues = ["Sales", "Support"] # optional; all queues when absent
/// ```
pub fn parse_config(text: &str) -> Result<Vec<Objective>, SlaError> {
    let file: ConfigFile = toml::from_str(text)
        .map_err(|e| SlaError::InvalidConfig(e.to_string().trim().to_owned()))?;
    // An empty file would silently measure the default 20 s: most likely the wrong file.
    if file.objective.is_empty() {
        return Err(SlaError::InvalidConfig(
            "no objectives: add an [[objective]] with a name and a threshold".to_owned(),
        ));
    }
    file.objective
        .into_iter()
        .map(|o| {
            let name = o.name.trim().to_owned();
            if name.is_empty() {
                return Err(SlaError::InvalidConfig(
                    "an objective has an empty name".to_owned(),
                ));
            }
            let threshold = o
                .threshold
                .parse::<ObjectiveThreshold>()
                .map_err(|e| SlaError::InvalidConfig(format!("objective '{name}': {e}")))?;
            if let Some(target) = o.target
                && !(0.0..=100.0).contains(&target)
            {
                return Err(SlaError::InvalidConfig(format!(
                    "objective '{name}': {}",
                    SlaError::InvalidPercent(target.to_string())
                )));
            }
            if o.queues.as_ref().is_some_and(Vec::is_empty) {
                return Err(SlaError::InvalidConfig(format!(
                    "objective '{name}': the queues list is empty (leave it out for all queues)"
                )));
            }
            Ok(Objective {
                name,
                threshold,
                target_percent: o.target,
                queues: o.queues,
            })
        })
        .collect()
}
