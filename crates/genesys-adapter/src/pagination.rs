//! Pure "is there another page?" for Genesys entity listings, the details query's numbered
//! pages and a details job's cursor.

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

/// Conversations per page of the details query: the most Genesys serves.
pub(crate) const DETAILS_PAGE_SIZE: u32 = 100;

/// The details query refuses to page past this many results.
pub(crate) const DETAILS_MAX_RESULTS: u64 = 100_000;

/// What follows a page of the details query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DetailsStep {
    /// Ask for this page.
    Next(u32),
    /// The page held no conversations: the listing is over.
    End,
    /// The next page would pass the result cap: the piece must be split.
    Capped,
}

/// The step after page `current` came back with `on_page` conversations. Only a page without
/// conversations ends a listing: `totalHits` may change between pages.
pub(crate) fn next_details_page(current: u32, on_page: usize) -> DetailsStep {
    if on_page == 0 {
        return DetailsStep::End;
    }
    let next = current.saturating_add(1);
    if u64::from(next) * u64::from(DETAILS_PAGE_SIZE) > DETAILS_MAX_RESULTS {
        return DetailsStep::Capped;
    }
    DetailsStep::Next(next)
}

/// How many pages to ask for at once from page `next`: up to `concurrency`, but no further than
/// the page after the last one `total_hits` promises (the empty page that ends the listing), and
/// never past the result cap. At least one.
pub(crate) fn details_batch(next: u32, total_hits: Option<u64>, concurrency: usize) -> u32 {
    let size = u64::from(DETAILS_PAGE_SIZE);
    let cap = DETAILS_MAX_RESULTS / size;
    let concurrency = u64::try_from(concurrency.max(1)).unwrap_or(u64::MAX);
    let mut last = (u64::from(next) + concurrency - 1).min(cap);
    if let Some(total) = total_hits {
        last = last.min(total.div_ceil(size) + 1);
    }
    u32::try_from(last.saturating_sub(u64::from(next)) + 1).unwrap_or(1)
}

/// What follows a page of a job's results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CursorStep {
    /// Ask for the page at this cursor.
    Next(String),
    /// No cursor: the results are exhausted.
    End,
    /// The same cursor again, which would never end.
    Repeated,
}

/// The step after a results page that came with `cursor`, the previous page having come from
/// `previous`.
pub(crate) fn next_cursor(previous: Option<&str>, cursor: Option<&str>) -> CursorStep {
    match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        None => CursorStep::End,
        Some(c) if previous == Some(c) => CursorStep::Repeated,
        Some(c) => CursorStep::Next(c.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_paging_table() {
        use DetailsStep::{Capped, End, Next};
        let table = [
            ((1, 100), Next(2)),
            ((2, 37), Next(3)),
            ((3, 0), End),
            ((1, 0), End),
            ((999, 100), Next(1000)),
            ((1000, 100), Capped),
            ((1000, 0), End),
        ];
        for ((current, on_page), expect) in table {
            assert_eq!(
                next_details_page(current, on_page),
                expect,
                "{current} {on_page}"
            );
        }
    }

    #[test]
    fn details_batches_stop_one_page_past_the_promised_end() {
        let table = [
            // (next, totalHits, concurrency) -> pages asked for at once
            // 150 hits: page 2 holds the last 50, page 3 is the empty one that ends it.
            ((2, Some(150), 4), 2),
            ((2, Some(250), 4), 3),
            ((2, Some(10_000), 4), 4),
            ((2, None, 4), 4),
            ((2, Some(10_000), 1), 1),
            ((2, Some(0), 4), 1),
            ((999, Some(150_000), 4), 2),
            ((1000, None, 4), 1),
            // totalHits shrank below what was already read: still one page.
            ((5, Some(100), 4), 1),
        ];
        for ((next, total, concurrency), expect) in table {
            assert_eq!(
                details_batch(next, total, concurrency),
                expect,
                "{next} {total:?} {concurrency}"
            );
        }
    }

    #[test]
    fn cursors_end_when_absent_and_never_repeat() {
        assert_eq!(
            next_cursor(None, Some("abc")),
            CursorStep::Next("abc".to_owned())
        );
        assert_eq!(
            next_cursor(Some("abc"), Some("def")),
            CursorStep::Next("def".to_owned())
        );
        assert_eq!(next_cursor(Some("abc"), None), CursorStep::End);
        assert_eq!(next_cursor(Some("abc"), Some(" ")), CursorStep::End);
        assert_eq!(next_cursor(Some("abc"), Some("abc")), CursorStep::Repeated);
    }

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
