//! The bodies a webhook is sent: generic `sla-alert/v1` JSON, a Slack message, or a Microsoft
//! Teams message carrying an Adaptive Card. Pure functions of the event.

use serde::Serialize;
use serde_json::{Value, json};
use sla_core::{Alert, AlertEvent, AlertEventKind, WebhookFormat};

/// The `schema` of a generic webhook body.
pub(crate) const ALERT_SCHEMA: &str = "sla-alert/v1";

/// The generic body: what happened, when, and the alert as `GET /api/v1/alerts` lists it.
#[derive(Serialize)]
struct Generic<'a> {
    schema: &'static str,
    event: &'static str,
    at: String,
    alert: &'a Alert,
}

/// The exact bytes sent (and signed) for `event` in `format`.
pub(crate) fn body(format: WebhookFormat, event: &AlertEvent) -> Vec<u8> {
    let value = match format {
        WebhookFormat::Generic => {
            return serde_json::to_vec(&Generic {
                schema: ALERT_SCHEMA,
                event: event.kind.as_str(),
                at: event.at.to_string(),
                alert: &event.alert,
            })
            .unwrap_or_default();
        }
        WebhookFormat::Slack => slack(event),
        WebhookFormat::Teams => teams(event),
    };
    serde_json::to_vec(&value).unwrap_or_default()
}

/// `FIRING` or `RESOLVED`.
fn headline(kind: AlertEventKind) -> &'static str {
    match kind {
        AlertEventKind::Fired => "FIRING",
        AlertEventKind::Resolved => "RESOLVED",
    }
}

/// One line: `[FIRING] rule: summary`.
fn text(event: &AlertEvent) -> String {
    format!(
        "[{}] {}: {}",
        headline(event.kind),
        event.alert.rule,
        event.alert.summary
    )
}

/// The facts both chat formats show: rule, queue, value, bound and times.
fn facts(event: &AlertEvent) -> Vec<(&'static str, String)> {
    let alert = &event.alert;
    let mut facts = vec![("Rule", alert.rule.clone())];
    if let Some(queue) = &alert.queue_name {
        let queue = match alert.media_type {
            Some(media) => format!("{queue} ({media})"),
            None => queue.clone(),
        };
        facts.push(("Queue", queue));
    }
    if let Some(objective) = &alert.objective {
        facts.push(("Objective", objective.clone()));
    }
    facts.push(("Value", alert.unit.text(alert.value)));
    facts.push(("Bound", alert.unit.text(alert.bound)));
    facts.push(("Since", alert.since.to_string()));
    if let Some(at) = alert.firing_since {
        facts.push(("Fired", at.to_string()));
    }
    if let Some(at) = alert.resolved_at {
        facts.push(("Resolved", at.to_string()));
    }
    facts
}

/// Slack's mrkdwn treats `&`, `<` and `>` as markup: a queue named `<!channel>` must not ping.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Slack incoming-webhook message: `text` for notifications and clients without blocks, and
/// blocks with the facts.
fn slack(event: &AlertEvent) -> Value {
    let fields: Vec<Value> = facts(event)
        .into_iter()
        .map(|(title, value)| {
            json!({"type": "mrkdwn", "text": format!("*{title}*\n{}", slack_escape(&value))})
        })
        .collect();
    let mut blocks = vec![json!({
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": format!(
                "*{}* `{}`\n{}",
                headline(event.kind),
                slack_escape(&event.alert.rule),
                slack_escape(&event.alert.summary)
            ),
        },
    })];
    // A section holds at most ten fields.
    for chunk in fields.chunks(10) {
        blocks.push(json!({"type": "section", "fields": chunk}));
    }
    json!({"text": slack_escape(&text(event)), "blocks": blocks})
}

/// A Teams message with one Adaptive Card attachment, the shape Teams incoming webhooks and
/// Workflows ("post to a channel when a webhook request is received") accept.
fn teams(event: &AlertEvent) -> Value {
    let color = match event.kind {
        AlertEventKind::Fired => "Attention",
        AlertEventKind::Resolved => "Good",
    };
    let facts: Vec<Value> = facts(event)
        .into_iter()
        .map(|(title, value)| json!({"title": title, "value": value}))
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {
                        "type": "TextBlock",
                        "text": format!("{}: {}", headline(event.kind), event.alert.rule),
                        "weight": "Bolder",
                        "size": "Medium",
                        "color": color,
                        "wrap": true,
                    },
                    {"type": "TextBlock", "text": event.alert.summary, "wrap": true},
                    {"type": "FactSet", "facts": facts},
                ],
            },
        }],
    })
}
