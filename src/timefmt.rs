//! Times as S3 and HTTP write them, and as cacher prints them: S3's `LastModified`
//! (RFC 3339), the HTTP `Date` header (IMF-fixdate, for clock skew), `aws s3 ls`'s
//! `YYYY-MM-DD HH:MM:SS` and RFC 3339 for `--json`. All UTC, all unix seconds. Pure.

use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// `2009-10-12T17:50:30.000Z` (fraction optional) → unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` → unix seconds.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc2822) {
        return Some(t.unix_timestamp());
    }
    // RFC 2822 parsing in `time` wants a numeric zone; HTTP always says GMT.
    let fmt = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

fn utc(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `YYYY-MM-DD HH:MM:SS` (UTC), as `aws s3 ls` prints.
pub fn list_time(unix: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    utc(unix).format(&fmt).unwrap_or_default()
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(unix: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    utc(unix).format(&fmt).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        assert_eq!(
            parse_rfc3339("2009-10-12T17:50:30.000Z"),
            Some(1_255_369_830)
        );
        assert_eq!(parse_rfc3339("2009-10-12T17:50:30Z"), Some(1_255_369_830));
        assert_eq!(parse_rfc3339("garbage"), None);
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 +0000"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(list_time(1_255_369_830), "2009-10-12 17:50:30");
        assert_eq!(rfc3339(1_255_369_830), "2009-10-12T17:50:30Z");
    }
}
