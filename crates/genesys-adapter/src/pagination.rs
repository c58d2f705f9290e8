//! Pure "is there another page?" for Genesys entity listings.

/// A listing never has more pages than this; reaching it means a server that keeps saying
/// "more", and the loop stops rather than run forever.
pub(crate) const MAX_PAGES: u32 = 10_000;

/// The page after `current`, if any: by `pageCount` when Genesys sends it, else by the presence
/// of `nextUri`. An empty page ends the listing whatever the counters say.
pub(crate) fn next_page(
    current: u32,
    page_count: Option<u32>,
    next_uri: Option<&str>,
    entities_on_page: usize,
) -> Option<u32> {
    if entities_on_page == 0 || current >= MAX_PAGES {
        return None;
    }
    let more = match page_count {
        Some(count) => current < count,
        None => next_uri.is_some_and(|uri| !uri.trim().is_empty()),
    };
    more.then_some(current + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_page_table() {
        let table = [
            // (current, pageCount, nextUri, entities) -> next
            ((1, Some(3), None, 100), Some(2)),
            ((2, Some(3), Some("/x?pageNumber=3"), 100), Some(3)),
            ((3, Some(3), None, 20), None),
            // pageCount wins over a stale nextUri.
            ((3, Some(3), Some("/x?pageNumber=4"), 20), None),
            ((1, Some(1), None, 0), None),
            (
                (1, None, Some("/api/v2/routing/queues?pageNumber=2"), 100),
                Some(2),
            ),
            ((1, None, Some(""), 100), None),
            ((1, None, None, 100), None),
            // An empty page ends it.
            ((1, Some(5), Some("/x"), 0), None),
            ((MAX_PAGES, Some(MAX_PAGES + 1), None, 1), None),
        ];
        for ((current, count, uri, entities), expect) in table {
            assert_eq!(
                next_page(current, count, uri, entities),
                expect,
                "{current} {count:?} {uri:?} {entities}"
            );
        }
    }
}
