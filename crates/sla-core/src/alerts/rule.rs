//! Alert rules and webhooks as the service's config file declares them (`[[alert]]` and
//! `[[webhook]]` tables beside `[[objective]]`), parsed and checked into typed rules.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Deserialize;

use crate::config::{ConfigObjective, objectives_of};
use crate::error::SlaError;
use crate::model::{Objective, ObjectiveThreshold, Threshold};

/// The service's config file: objectives, alert rules and the webhooks they notify.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceConfig {
    /// The `[[objective]]` tables, as [`crate::parse_config`] reads them; may be empty, since
    /// the service's objectives may all come from `--threshold`.
    pub objectives: Vec<Objective>,
    /// The `[[alert]]` tables, in file order.
    pub alerts: Vec<AlertRule>,
    /// The `[[webhook]]` tables, in file order.
    pub webhooks: Vec<WebhookSpec>,
}

/// One alert rule: a condition watched per queue (and media type, when rows are split by
/// media), that fires after holding for `pending_for` and resolves after being clear of it for
/// `resolve_after`.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRule {
    /// The rule's name, unique in the file.
    pub name: String,
    /// The queues (ids, or names ignoring case) the rule watches; every watched queue when
    /// `None`. Always `None` for [`AlertCondition::Stale`], which is about the whole document.
    pub queues: Option<Vec<String>>,
    /// What is watched, and the bound it is compared with.
    pub condition: AlertCondition,
    /// How long the condition must hold before the alert fires (`for`); zero fires at once.
    pub pending_for: Duration,
    /// How long a firing alert must stay clear of the condition, by the condition's margin,
    /// before it resolves (`resolve_after`).
    pub resolve_after: Duration,
    /// The names of the `[[webhook]]` tables notified when the alert fires or resolves; none
    /// means the alert is only listed.
    pub webhooks: Vec<String>,
}

/// What a rule watches. Each condition carries a `margin` in its own unit: a firing alert is
/// clear only once the value is past the bound by at least the margin.
#[derive(Clone, Debug, PartialEq)]
pub enum AlertCondition {
    /// The rolling service level of an objective is below a bound (`service_level_below`).
    ServiceLevelBelow {
        /// The objective's name.
        objective: String,
        /// The objective's target on each row, or a fixed percent.
        bound: LevelBound,
        /// Percentage points above the bound a firing alert must reach to be clear.
        margin: f64,
    },
    /// The longest wait now is above a duration (`longest_wait_above`).
    LongestWaitAbove {
        /// The bound.
        above: Duration,
        /// How far below the bound a firing alert must come to be clear.
        margin: Duration,
    },
    /// More conversations than a count are waiting past an objective's threshold now
    /// (`waiting_over_threshold_above`).
    WaitingOverThresholdAbove {
        /// The objective's name.
        objective: String,
        /// The bound.
        above: u64,
        /// How far below the bound a firing alert must come to be clear.
        margin: u64,
    },
    /// The live document is older than a duration, or none has come for that long since the
    /// first evaluation (`stale_after`).
    Stale {
        /// The bound.
        after: Duration,
        /// How far below the bound the document's age must come to be clear.
        margin: Duration,
    },
}

impl AlertCondition {
    /// The condition's key in the config file, as listings and webhooks name it.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            AlertCondition::ServiceLevelBelow { .. } => "service_level_below",
            AlertCondition::LongestWaitAbove { .. } => "longest_wait_above",
            AlertCondition::WaitingOverThresholdAbove { .. } => "waiting_over_threshold_above",
            AlertCondition::Stale { .. } => "stale_after",
        }
    }

    /// The objective the condition reads, if any.
    #[must_use]
    pub fn objective(&self) -> Option<&str> {
        match self {
            AlertCondition::ServiceLevelBelow { objective, .. }
            | AlertCondition::WaitingOverThresholdAbove { objective, .. } => Some(objective),
            AlertCondition::LongestWaitAbove { .. } | AlertCondition::Stale { .. } => None,
        }
    }
}

/// The bound of a service-level condition.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LevelBound {
    /// Each row's target for the objective (`"target"`); a row without one is not measured.
    Target,
    /// A fixed percent.
    Percent(f64),
}

/// A webhook a rule can notify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookSpec {
    /// The webhook's name, unique in the file.
    pub name: String,
    /// Where to post.
    pub url: WebhookUrl,
    /// The body's shape.
    pub format: WebhookFormat,
    /// The environment variable holding the HMAC-SHA256 signing secret, when bodies are signed.
    pub secret_env: Option<String>,
}

/// Where a webhook posts. Chat webhooks carry their credential in the URL, so it can come from
/// the environment instead of the file.
#[derive(Clone, PartialEq, Eq)]
pub enum WebhookUrl {
    /// The URL as written in the file (`url`).
    Literal(String),
    /// The name of the environment variable holding the URL (`url_env`).
    Env(String),
}

impl std::fmt::Debug for WebhookUrl {
    /// Never prints a literal URL's path or query, where chat services put their credential.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebhookUrl::Literal(url) => f
                .debug_tuple("Literal")
                .field(&format_args!("{}/[redacted]", origin(url)))
                .finish(),
            WebhookUrl::Env(name) => f.debug_tuple("Env").field(name).finish(),
        }
    }
}

/// A URL's scheme and host, without the path where credentials live.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| i + after_scheme);
    &url[..end]
}

/// The shape of a webhook's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookFormat {
    /// `sla-alert/v1` JSON: the event, the rule, the queue, the values and the times.
    Generic,
    /// A Slack incoming-webhook message: `text` plus blocks.
    Slack,
    /// A Microsoft Teams message carrying an Adaptive Card, as Teams incoming webhooks and
    /// Workflows accept.
    Teams,
}

impl WebhookFormat {
    /// Every format, in the order messages list them.
    pub const ALL: &'static [WebhookFormat] = &[
        WebhookFormat::Generic,
        WebhookFormat::Slack,
        WebhookFormat::Teams,
    ];

    /// The name the config file uses.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Generic => "generic",
            WebhookFormat::Slack => "slack",
            WebhookFormat::Teams => "teams",
        }
    }
}

/// The default of `resolve_after`: a minute is a dozen live refreshes, long enough that a value
/// hovering at its bound does not resolve and fire again, short enough to tell people soon.
pub const DEFAULT_RESOLVE_AFTER: Duration = Duration::from_mins(1);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceFile {
    #[serde(default)]
    objective: Vec<ConfigObjective>,
    #[serde(default)]
    alert: Vec<toml::Table>,
    #[serde(default)]
    webhook: Vec<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    queues: Option<Vec<String>>,
    service_level_below: Option<NumberOrText>,
    longest_wait_above: Option<String>,
    waiting_over_threshold_above: Option<i64>,
    stale_after: Option<String>,
    objective: Option<String>,
    #[serde(rename = "for")]
    pending_for: Option<String>,
    resolve_margin: Option<NumberOrText>,
    resolve_after: Option<String>,
    webhooks: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    name: String,
    url: Option<String>,
    url_env: Option<String>,
    format: Option<String>,
    secret_env: Option<String>,
}

/// A TOML value that may be a number or a string: `service_level_below = 85` or `"target"`,
/// `resolve_margin = 2` or `"15s"`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Integer(i64),
    Number(f64),
    Text(String),
}

impl NumberOrText {
    /// The value as a percent from 0 to 100, if it is one.
    fn percent(&self) -> Option<f64> {
        let value = match self {
            NumberOrText::Integer(i) => f64::from(i32::try_from(*i).ok()?),
            NumberOrText::Number(n) => *n,
            NumberOrText::Text(_) => return None,
        };
        (0.0..=100.0).contains(&value).then_some(value)
    }
}

impl std::fmt::Display for NumberOrText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NumberOrText::Integer(i) => write!(f, "{i}"),
            NumberOrText::Number(n) => write!(f, "{n}"),
            NumberOrText::Text(t) => write!(f, "'{t}'"),
        }
    }
}

/// Parses the service's config file: `[[objective]]` tables as `sla report --config` reads
/// them, plus `[[alert]]` rules and the `[[webhook]]` tables they name.
///
/// ```toml
/// [[objective]]
/// name = "contract"
/// threshold = "30s"
/// target = 85
///
/// [[alert]]
/// name = "support-below-target"
/// queues = ["Support"]              # optional; every watched queue when absent
/// service_level_below = "target"    # or a percent, such as 80
/// objective = "contract"
/// for = "2m"                        # optional, default 0s: fire at once
/// resolve_margin = 2                # optional, in the condition's unit; default 0
/// resolve_after = "1m"              # optional, default 1m
/// webhooks = ["ops-slack"]          # optional; listed only when absent
///
/// [[webhook]]
/// name = "ops-slack"
/// url_env = "SLA_OPS_SLACK_URL"     # or url = "https://..."
/// format = "slack"                  # generic (default), slack or teams
/// secret_env = "SLA_OPS_SLACK_SECRET" # optional: sign bodies with HMAC-SHA256
/// ```
///
/// The other conditions are `longest_wait_above = "2m"`, `waiting_over_threshold_above = 3`
/// (with an `objective`) and `stale_after = "1m"`. Every error names the rule (or webhook) and
/// the field at fault. Which objectives exist is known only once the service's flags are read:
/// check that with [`check_alert_objectives`].
pub fn parse_service_config(text: &str) -> Result<ServiceConfig, SlaError> {
    let file: ServiceFile = toml::from_str(text)
        .map_err(|e| SlaError::InvalidConfig(e.to_string().trim().to_owned()))?;
    let objectives = objectives_of(file.objective)?;
    let webhooks = file
        .webhook
        .into_iter()
        .enumerate()
        .map(|(i, table)| webhook_of(i, table))
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = BTreeSet::new();
    for webhook in &webhooks {
        if !seen.insert(webhook.name.as_str()) {
            return Err(invalid(format!(
                "duplicate webhook name '{}'",
                webhook.name
            )));
        }
    }
    let alerts = file
        .alert
        .into_iter()
        .enumerate()
        .map(|(i, table)| rule_of(i, table, &webhooks))
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = BTreeSet::new();
    for rule in &alerts {
        if !seen.insert(rule.name.as_str()) {
            return Err(invalid(format!("duplicate alert name '{}'", rule.name)));
        }
    }
    Ok(ServiceConfig {
        objectives,
        alerts,
        webhooks,
    })
}

/// Checks the objectives the rules read against those the service measures (from the config
/// file and `--threshold`): each must exist, and a rule below `"target"` needs an objective with
/// a target (or `configured`, whose targets come from each queue).
pub fn check_alert_objectives(
    rules: &[AlertRule],
    objectives: &[Objective],
) -> Result<(), SlaError> {
    for rule in rules {
        let Some(name) = rule.condition.objective() else {
            continue;
        };
        let Some(objective) = objectives.iter().find(|o| o.name == name) else {
            let known: Vec<String> = objectives.iter().map(|o| format!("'{}'", o.name)).collect();
            return Err(invalid(format!(
                "alert '{}': objective '{name}' is not measured (the objectives are {})",
                rule.name,
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )));
        };
        let below_target = matches!(
            rule.condition,
            AlertCondition::ServiceLevelBelow {
                bound: LevelBound::Target,
                ..
            }
        );
        if below_target
            && objective.target_percent.is_none()
            && objective.threshold != ObjectiveThreshold::Configured
        {
            return Err(invalid(format!(
                "alert '{}': service_level_below = \"target\" but objective '{name}' has no target: \
                 give the objective a target or the rule a percent",
                rule.name
            )));
        }
    }
    Ok(())
}

fn invalid(message: String) -> SlaError {
    SlaError::InvalidConfig(message)
}

/// The name of the `index`th table, for messages about a table whose fields are wrong.
fn table_name(kind: &str, index: usize, table: &toml::Table) -> String {
    match table.get("name").and_then(toml::Value::as_str) {
        Some(name) => format!("{kind} '{name}'"),
        None => format!("{kind} #{}", index + 1),
    }
}

fn rule_of(
    index: usize,
    table: toml::Table,
    webhooks: &[WebhookSpec],
) -> Result<AlertRule, SlaError> {
    let label = table_name("alert", index, &table);
    let raw: RawRule = table
        .try_into()
        .map_err(|e: toml::de::Error| invalid(format!("{label}: {}", e.to_string().trim())))?;
    let name = raw.name.trim();
    if name.is_empty() {
        return Err(invalid(format!("{label}: the name is empty")));
    }
    let mut given: Vec<&'static str> = Vec::new();
    for (field, set) in [
        ("service_level_below", raw.service_level_below.is_some()),
        ("longest_wait_above", raw.longest_wait_above.is_some()),
        (
            "waiting_over_threshold_above",
            raw.waiting_over_threshold_above.is_some(),
        ),
        ("stale_after", raw.stale_after.is_some()),
    ] {
        if set {
            given.push(field);
        }
    }
    let fields = match given.as_slice() {
        [condition] => Fields {
            rule: name,
            condition,
            raw: &raw,
        },
        [] => {
            return Err(invalid(format!(
                "alert '{name}': no condition: give one of service_level_below, \
                 longest_wait_above, waiting_over_threshold_above or stale_after"
            )));
        }
        several => {
            return Err(invalid(format!(
                "alert '{name}': {} are set: give one condition per rule",
                several.join(" and ")
            )));
        }
    };
    let condition = fields.condition()?;
    let pending_for = match &raw.pending_for {
        Some(text) => fields.duration("for", text)?,
        None => Duration::ZERO,
    };
    let resolve_after = match &raw.resolve_after {
        Some(text) => fields.duration("resolve_after", text)?,
        None => DEFAULT_RESOLVE_AFTER,
    };
    let no_margin = match &condition {
        AlertCondition::ServiceLevelBelow { margin, .. } => *margin == 0.0,
        AlertCondition::LongestWaitAbove { margin, .. } | AlertCondition::Stale { margin, .. } => {
            margin.is_zero()
        }
        AlertCondition::WaitingOverThresholdAbove { margin, .. } => *margin == 0,
    };
    if no_margin && resolve_after.is_zero() {
        return Err(fields.fail(
            "resolve_after is 0s and there is no resolve_margin: a value hovering at the bound \
             would fire and resolve on every refresh; set either",
        ));
    }
    let queues = match &raw.queues {
        Some(list) if list.iter().all(|q| q.trim().is_empty()) => {
            return Err(
                fields.fail("the queues list is empty (leave it out for every watched queue)")
            );
        }
        Some(list) => Some(list.iter().map(|q| q.trim().to_owned()).collect()),
        None => None,
    };
    let names = raw.webhooks.clone().unwrap_or_default();
    for webhook in &names {
        if !webhooks.iter().any(|w| &w.name == webhook) {
            return Err(fields.fail(&format!(
                "webhook '{webhook}' is not defined: add a [[webhook]] with name = \"{webhook}\""
            )));
        }
    }
    Ok(AlertRule {
        name: name.to_owned(),
        queues,
        condition,
        pending_for,
        resolve_after,
        webhooks: names,
    })
}

/// The fields of one `[[alert]]` table with exactly one condition, read into their types with
/// messages that name the rule and the field.
struct Fields<'a> {
    rule: &'a str,
    /// The condition's key.
    condition: &'static str,
    raw: &'a RawRule,
}

impl Fields<'_> {
    fn fail(&self, message: &str) -> SlaError {
        invalid(format!("alert '{}': {message}", self.rule))
    }

    fn duration(&self, field: &str, text: &str) -> Result<Duration, SlaError> {
        Threshold::parse(text)
            .map(|t| Duration::from_millis(t.as_millis()))
            .map_err(|e| self.fail(&format!("{field}: {e}")))
    }

    fn objective(&self) -> Result<String, SlaError> {
        match self.raw.objective.as_deref().map(str::trim) {
            Some("") => Err(self.fail("objective is empty")),
            Some(o) => Ok(o.to_owned()),
            None => Err(self.fail(&format!(
                "{} needs an objective, such as objective = \"20s\"",
                self.condition
            ))),
        }
    }

    fn no_objective(&self) -> Result<(), SlaError> {
        match &self.raw.objective {
            Some(o) => Err(self.fail(&format!(
                "objective '{o}' does not apply to {}",
                self.condition
            ))),
            None => Ok(()),
        }
    }

    /// A duration margin: at most the bound, since a wait or an age cannot go below zero.
    fn duration_margin(&self, bound: Duration) -> Result<Duration, SlaError> {
        let Some(margin) = &self.raw.resolve_margin else {
            return Ok(Duration::ZERO);
        };
        let NumberOrText::Text(text) = margin else {
            return Err(self.fail(&format!(
                "resolve_margin {margin} for {} must be a duration, like \"10s\"",
                self.condition
            )));
        };
        let margin = self.duration("resolve_margin", text)?;
        if margin > bound {
            return Err(self.fail(&format!(
                "resolve_margin '{text}' is larger than the {} bound: the alert could never resolve",
                self.condition
            )));
        }
        Ok(margin)
    }

    fn condition(&self) -> Result<AlertCondition, SlaError> {
        let raw = self.raw;
        match (
            &raw.service_level_below,
            &raw.longest_wait_above,
            raw.waiting_over_threshold_above,
            &raw.stale_after,
        ) {
            (Some(bound), ..) => self.service_level(bound),
            (_, Some(text), ..) => {
                self.no_objective()?;
                let above = self.duration("longest_wait_above", text)?;
                Ok(AlertCondition::LongestWaitAbove {
                    above,
                    margin: self.duration_margin(above)?,
                })
            }
            (.., Some(count), _) => self.waiting_over(count),
            (.., Some(text)) => self.stale(text),
            (None, None, None, None) => Err(self.fail("no condition")),
        }
    }

    fn service_level(&self, bound: &NumberOrText) -> Result<AlertCondition, SlaError> {
        let bound = match bound {
            NumberOrText::Text(t) if t.trim().eq_ignore_ascii_case("target") => LevelBound::Target,
            other => LevelBound::Percent(other.percent().ok_or_else(|| {
                self.fail(&format!(
                    "service_level_below {other}: expected \"target\" or a percent from 0 to 100"
                ))
            })?),
        };
        let margin = match &self.raw.resolve_margin {
            None => 0.0,
            Some(m) => m.percent().ok_or_else(|| {
                self.fail(&format!(
                    "resolve_margin {m} for service_level_below must be percentage points \
                     from 0 to 100, like 2"
                ))
            })?,
        };
        Ok(AlertCondition::ServiceLevelBelow {
            objective: self.objective()?,
            bound,
            margin,
        })
    }

    fn waiting_over(&self, count: i64) -> Result<AlertCondition, SlaError> {
        let above = u64::try_from(count).map_err(|_| {
            self.fail(&format!(
                "waiting_over_threshold_above {count}: expected a count of 0 or more"
            ))
        })?;
        let margin = match &self.raw.resolve_margin {
            None => Some(0),
            Some(NumberOrText::Integer(m)) => u64::try_from(*m).ok().filter(|m| *m <= above),
            Some(_) => None,
        };
        let Some(margin) = margin else {
            let m = self.raw.resolve_margin.as_ref().map(ToString::to_string);
            return Err(self.fail(&format!(
                "resolve_margin {} for waiting_over_threshold_above must be a whole count from 0 \
                 to the bound {above}",
                m.unwrap_or_default()
            )));
        };
        Ok(AlertCondition::WaitingOverThresholdAbove {
            objective: self.objective()?,
            above,
            margin,
        })
    }

    fn stale(&self, text: &str) -> Result<AlertCondition, SlaError> {
        self.no_objective()?;
        let after = self.duration("stale_after", text)?;
        if after.is_zero() {
            return Err(self.fail(&format!(
                "stale_after '{text}' is zero: every document is older than that"
            )));
        }
        if self.raw.queues.is_some() {
            return Err(self.fail(
                "queues does not apply to stale_after: the whole live document is fresh or stale",
            ));
        }
        Ok(AlertCondition::Stale {
            after,
            margin: self.duration_margin(after)?,
        })
    }
}

fn webhook_of(index: usize, table: toml::Table) -> Result<WebhookSpec, SlaError> {
    let label = table_name("webhook", index, &table);
    let raw: RawWebhook = table
        .try_into()
        .map_err(|e: toml::de::Error| invalid(format!("{label}: {}", e.to_string().trim())))?;
    let name = raw.name.trim().to_owned();
    if name.is_empty() {
        return Err(invalid(format!("{label}: the name is empty")));
    }
    let fail = |message: String| invalid(format!("webhook '{name}': {message}"));
    let env_name = |field: &str, var: &str| {
        let ok = !var.is_empty()
            && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !var.starts_with(|c: char| c.is_ascii_digit());
        if ok {
            Ok(var.to_owned())
        } else {
            Err(fail(format!(
                "{field} '{var}' is not an environment variable name (letters, digits and _)"
            )))
        }
    };
    let url = match (raw.url, raw.url_env) {
        (Some(url), None) => {
            let url = url.trim().to_owned();
            let lower = url.to_ascii_lowercase();
            let rest = lower
                .strip_prefix("https://")
                .or_else(|| lower.strip_prefix("http://"));
            // The URL itself is never echoed: chat webhooks carry their credential in it.
            if rest.is_none_or(|r| r.is_empty() || r.starts_with('/')) {
                return Err(fail(
                    "url must be an http:// or https:// URL with a host".to_owned(),
                ));
            }
            WebhookUrl::Literal(url)
        }
        (None, Some(var)) => WebhookUrl::Env(env_name("url_env", var.trim())?),
        (Some(_), Some(_)) => return Err(fail("give url or url_env, not both".to_owned())),
        (None, None) => return Err(fail("no url: give url or url_env".to_owned())),
    };
    let format = match raw.format.as_deref().map(str::trim) {
        None => WebhookFormat::Generic,
        Some(text) => *WebhookFormat::ALL
            .iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                fail(format!(
                    "unknown format '{text}': expected generic, slack or teams"
                ))
            })?,
    };
    let secret_env = raw
        .secret_env
        .map(|var| env_name("secret_env", var.trim()))
        .transpose()?;
    Ok(WebhookSpec {
        name,
        url,
        format,
        secret_env,
    })
}
