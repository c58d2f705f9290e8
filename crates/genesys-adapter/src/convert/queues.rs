//! Queue listings into queues with their configured service levels.

use std::collections::BTreeMap;

use sla_core::{MediaType, QueueId, QueueInfo, QueueRef, ServiceLevelTarget, Threshold};

use crate::wire::{MediaSettings, Queue};

/// A queue as the core sees it; `None` for an entry without an id.
pub(crate) fn queue_info(queue: Queue) -> Option<QueueInfo> {
    let id = queue.id.filter(|id| !id.is_empty())?;
    let mut service_levels = BTreeMap::new();
    if let Some(settings) = queue.media_settings {
        // Queue settings call voice `call`; the other keys match analytics media types.
        let per_media = [
            (MediaType::Voice, settings.call),
            (MediaType::Callback, settings.callback),
            (MediaType::Chat, settings.chat),
            (MediaType::Email, settings.email),
            (MediaType::Message, settings.message),
        ];
        for (media, setting) in per_media {
            if let Some(target) = setting.as_ref().and_then(service_level) {
                service_levels.insert(media, target);
            }
        }
    }
    Some(QueueInfo {
        queue: QueueRef {
            id: QueueId::new(id),
            name: queue.name.unwrap_or_default(),
        },
        division: queue.division.and_then(|d| d.name),
        service_levels,
    })
}

/// A configured target, when both halves are present and sensible.
fn service_level(settings: &MediaSettings) -> Option<ServiceLevelTarget> {
    let level = settings.service_level.as_ref()?;
    let fraction = level.percentage.filter(|p| p.is_finite() && *p >= 0.0)?;
    let duration = u64::try_from(level.duration_ms?).ok()?;
    // 0.8 × 100 is 80.00000000000001 in binary floating point; round to a millionth of a
    // percent so reports show the 80 that was configured.
    let target_percent = (fraction * 100.0 * 1e6).round() / 1e6;
    Some(ServiceLevelTarget {
        threshold: Threshold::from_millis(duration),
        target_percent,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::tests::assert_valid;

    #[test]
    fn queues_map_with_their_service_levels() {
        let listing = json!({"entities": [
            {"id": "q-1", "name": "Support", "division": {"id": "d1", "name": "Home"},
             "mediaSettings": {
                "call": {"alertingTimeoutSeconds": 8, "serviceLevel": {"percentage": 0.8, "durationMs": 20000}},
                "email": {"alertingTimeoutSeconds": 300, "serviceLevel": {"percentage": 0.8, "durationMs": 86_400_000}},
                "chat": {"serviceLevel": {"percentage": 0.7}},
                "message": {"serviceLevel": {"percentage": 0.95, "durationMs": 60000}},
                "callback": {"serviceLevel": {"percentage": 0.5, "durationMs": -1}}}},
            {"id": "q-2", "name": "Sales"},
            {"name": "no id"},
        ], "pageSize": 25, "pageNumber": 1, "total": 3, "pageCount": 1});
        assert_valid("QueueEntityListing", &listing);
        let parsed: crate::wire::QueueListing = serde_json::from_value(listing).unwrap();
        let got: Vec<QueueInfo> = parsed
            .entities
            .unwrap()
            .into_iter()
            .filter_map(queue_info)
            .collect();
        assert_eq!(got.len(), 2);
        let support = &got[0];
        assert_eq!(support.queue.name, "Support");
        assert_eq!(support.division.as_deref(), Some("Home"));
        let levels: Vec<(MediaType, u64, f64)> = support
            .service_levels
            .iter()
            .map(|(m, t)| (*m, t.threshold.as_millis(), t.target_percent))
            .collect();
        assert_eq!(
            levels,
            [
                (MediaType::Voice, 20_000, 80.0),
                (MediaType::Email, 86_400_000, 80.0),
                (MediaType::Message, 60_000, 95.0),
            ]
        );
        assert_eq!(got[1].queue.id.as_str(), "q-2");
        assert!(got[1].division.is_none() && got[1].service_levels.is_empty());
    }
}
