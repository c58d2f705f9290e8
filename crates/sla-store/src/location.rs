//! Store URLs: which backend, where, and how to show the URL without its password.

use std::path::PathBuf;
use std::str::FromStr;

use tokio_postgres::config::SslMode;

use crate::error::StoreError;

/// Where a store lives.
#[derive(Debug)]
pub(crate) enum Location {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(Box<tokio_postgres::Config>),
}

/// Reads a store URL: `sqlite:PATH` (relative to the working directory), `sqlite:///PATH`
/// (absolute), or `postgres://` / `postgresql://` in libpq's URL form.
pub(crate) fn parse(url: &str) -> Result<Location, StoreError> {
    let invalid = |reason: &str| StoreError::InvalidUrl {
        url: redact(url),
        reason: reason.to_owned(),
    };
    let text = url.trim();
    let scheme_end = text.find(':').ok_or_else(|| invalid("it has no scheme"))?;
    let scheme = text[..scheme_end].to_ascii_lowercase();
    let rest = &text[scheme_end + 1..];
    match scheme.as_str() {
        "sqlite" => {
            // `sqlite:///abs/path` and `sqlite://rel/path` as well as `sqlite:rel/path`.
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(invalid("it names no file"));
            }
            if path.contains('?') {
                return Err(invalid("SQLite URLs take no parameters"));
            }
            if path == ":memory:" {
                return Err(invalid(
                    "an in-memory database would be lost when the program ends",
                ));
            }
            Ok(Location::Sqlite(PathBuf::from(path)))
        }
        "postgres" | "postgresql" => {
            if !rest.starts_with("//") {
                return Err(invalid("a PostgreSQL URL starts with postgres://"));
            }
            let config = tokio_postgres::Config::from_str(text)
                .map_err(|e| invalid(&format!("not a PostgreSQL URL: {e}")))?;
            if config.get_ssl_mode() == SslMode::Require {
                return Err(invalid(
                    "TLS (sslmode=require) is not supported: connect over a trusted network or a tunnel",
                ));
            }
            Ok(Location::Postgres(Box::new(config)))
        }
        "" => Err(invalid("it has no scheme")),
        _ => Err(invalid(&format!("unknown scheme '{scheme}'"))),
    }
}

/// The URL with the password of its user info and any `password` parameter replaced by `***`,
/// for messages and logs. Works on text that is not a valid URL too.
pub(crate) fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let from = scheme_end + 3;
        let authority_end = out[from..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| from + i);
        if let Some(at) = out[from..authority_end].rfind('@')
            && let Some(colon) = out[from..from + at].find(':')
        {
            out.replace_range(from + colon + 1..from + at, "***");
        }
    }
    if let Some(query) = out.find('?') {
        let mut rebuilt = out[..=query].to_owned();
        let pairs: Vec<String> = out[query + 1..]
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        rebuilt.push_str(&pairs.join("&"));
        out = rebuilt;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn sqlite_path(url: &str) -> String {
        match parse(url) {
            Ok(Location::Sqlite(path)) => path.display().to_string(),
            other => panic!("{url}: {other:?}"),
        }
    }

    #[track_caller]
    fn refused(url: &str) -> String {
        match parse(url) {
            Err(e) => e.to_string(),
            Ok(location) => panic!("{url} was accepted as {location:?}"),
        }
    }

    #[test]
    fn sqlite_urls_name_a_relative_or_absolute_file() {
        assert_eq!(sqlite_path("sqlite:sla.db"), "sla.db");
        assert_eq!(sqlite_path("SQLite:data/sla.db"), "data/sla.db");
        assert_eq!(
            sqlite_path("sqlite:///var/lib/sla/sla.db"),
            "/var/lib/sla/sla.db"
        );
        assert_eq!(sqlite_path("sqlite://rel/sla.db"), "rel/sla.db");
        assert_eq!(sqlite_path(" sqlite:sla.db\n"), "sla.db");
    }

    #[test]
    fn postgres_urls_are_read_as_libpq_reads_them() {
        let Ok(Location::Postgres(config)) =
            parse("postgresql://sla:pw@db.internal:5433/history?application_name=sla")
        else {
            panic!("refused");
        };
        assert_eq!(config.get_user(), Some("sla"));
        assert_eq!(config.get_dbname(), Some("history"));
        assert_eq!(config.get_ports(), [5433]);
        assert!(matches!(
            parse("postgres://localhost/sla"),
            Ok(Location::Postgres(_))
        ));
    }

    #[test]
    fn bad_urls_are_refused_naming_the_url_without_its_password() {
        let message = refused("mysql://root:hunter2@db/sla");
        assert_eq!(
            message,
            "invalid store URL 'mysql://root:***@db/sla': unknown scheme 'mysql' (expected \
             sqlite:PATH, sqlite:///ABSOLUTE/PATH or postgres://USER@HOST/DATABASE)"
        );
        for (url, reason) in [
            ("sla.db", "it has no scheme"),
            (":x", "it has no scheme"),
            ("sqlite:", "it names no file"),
            ("sqlite://", "it names no file"),
            ("sqlite:sla.db?mode=ro", "SQLite URLs take no parameters"),
            ("sqlite::memory:", "an in-memory database would be lost"),
            ("postgres:db", "a PostgreSQL URL starts with postgres://"),
            ("postgres://u:hunter2@h:notaport/db", "not a PostgreSQL URL"),
            (
                "postgres://h/db?sslmode=require",
                "TLS (sslmode=require) is not supported",
            ),
        ] {
            let message = refused(url);
            assert!(message.contains(reason), "{url}: {message}");
            assert!(!message.contains("hunter2"), "{message}");
        }
    }

    #[test]
    fn redaction_hides_passwords_in_user_info_and_parameters() {
        for (url, shown) in [
            (
                "postgres://sla:s3cret@db:5432/h",
                "postgres://sla:***@db:5432/h",
            ),
            ("postgres://sla@db/h", "postgres://sla@db/h"),
            ("postgres://a:b:c@db/h", "postgres://a:***@db/h"),
            (
                "postgres://db/h?user=x&password=s3cret",
                "postgres://db/h?user=x&password=***",
            ),
            (
                "postgres://db/h?PASSWORD=s3cret&a=1",
                "postgres://db/h?PASSWORD=***&a=1",
            ),
            ("postgres://u:p@w@db/h", "postgres://u:***@db/h"),
            ("sqlite:sla.db", "sqlite:sla.db"),
        ] {
            assert_eq!(redact(url), shown);
        }
    }
}
