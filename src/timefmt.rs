//! Times as S3 and HTTP write them and as cacher prints them, all UTC, all unix seconds:
//! S3's `LastModified` (RFC 3339), the HTTP `Date` header (read for clock skew), the
//! `YYYY-MM-DD HH:MM:SS` of `aws s3 ls`, and RFC 3339 for `list --json`. Pure: the clock is
//! never read here.

use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// `2009-10-12T17:50:30.000Z` → unix seconds; the fraction is optional and dropped, any
/// offset is honoured. A time with no offset at all (`2009-10-12T17:50:30`, or a space for the
/// `T`) is taken as UTC, since every S3 time is UTC and a listing is better sorted a little
/// off than not at all.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let naive = format_description!(
        "[year]-[month]-[day][first [T][t][ ]][hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(s, &naive)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// An HTTP `Date` header → unix seconds. Reads the three forms RFC 9110 §5.6.7 says a
/// recipient must accept — IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850
/// `Sunday, 06-Nov-94 08:49:37 GMT` and asctime `Sun Nov  6 08:49:37 1994` — and RFC 2822 with
/// a numeric zone. Lenient where being strict would only lose the skew measurement: runs of
/// spaces, a one-digit day (the S3 API reference's own sample says `Mon, 1 Nov 2010`), the
/// case of names, and the weekday, which is skipped rather than checked.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let words: Vec<&str> = s.split_ascii_whitespace().collect();
    let collapsed = words.join(" ");
    // Skip the weekday ("Sun," "Sunday," or asctime's "Sun").
    let rest = match words.first() {
        Some(w)
            if w.trim_end_matches(',')
                .bytes()
                .all(|b| b.is_ascii_alphabetic()) =>
        {
            words[1..].join(" ")
        }
        _ => collapsed.clone(),
    };
    imf_fixdate(&rest)
        .or_else(|| rfc850(&rest))
        .or_else(|| asctime(&rest))
        .or_else(|| {
            OffsetDateTime::parse(&collapsed, &Rfc2822)
                .ok()
                .map(|t| t.unix_timestamp())
        })
}

/// `06 Nov 1994 08:49:37 GMT` (weekday already gone).
fn imf_fixdate(s: &str) -> Option<i64> {
    let fmt = format_description!(
        "[day padding:none] [month repr:short case_sensitive:false] [year] [hour]:[minute]:[second] [first [GMT][gmt][UTC][utc]]"
    );
    PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// `06-Nov-94 08:49:37 GMT`: the two-digit year is widened (RFC 9110 says a year that looks
/// more than 50 years ahead is in the past; with no clock here, 70..99 → 19xx, else 20xx),
/// then read as IMF-fixdate.
fn rfc850(s: &str) -> Option<i64> {
    let (date, time) = s.split_once(' ')?;
    let mut parts = date.split('-');
    let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 2 {
        return None;
    }
    let yy: u16 = year.parse().ok()?;
    let year = if yy >= 70 { 1900 + yy } else { 2000 + yy };
    imf_fixdate(&format!("{day} {month} {year} {time}"))
}

/// `Nov 6 08:49:37 1994` (weekday gone, spaces collapsed).
fn asctime(s: &str) -> Option<i64> {
    let fmt = format_description!(
        "[month repr:short case_sensitive:false] [day padding:none] [hour]:[minute]:[second] [year]"
    );
    PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// `unix` as a UTC time. `time` covers the years -9999..=9999; a value beyond is clamped to
/// that range rather than printed as something unrelated (no S3 time gets there: they come
/// from `parse_rfc3339`).
fn utc(unix: i64) -> OffsetDateTime {
    let min = PrimitiveDateTime::MIN.assume_utc().unix_timestamp();
    let max = PrimitiveDateTime::MAX.assume_utc().unix_timestamp();
    OffsetDateTime::from_unix_timestamp(unix.clamp(min, max)).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `YYYY-MM-DD HH:MM:SS` in UTC, as `aws s3 ls` prints it.
pub fn list_time(unix: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    utc(unix).format(&fmt).unwrap_or_default()
}

/// `YYYY-MM-DDTHH:MM:SSZ`, for `list --json`.
pub fn rfc3339(unix: i64) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    utc(unix).format(&fmt).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1994-11-06T08:49:37Z, RFC 9110's example.
    const RFC9110: i64 = 784_111_777;
    /// 2009-10-12T17:50:30Z, the S3 listing example.
    const S3_DOC: i64 = 1_255_369_830;

    fn check(parse: fn(&str) -> Option<i64>, cases: &[(&str, Option<i64>)]) {
        for &(input, want) in cases {
            assert_eq!(parse(input), want, "input {input:?}");
        }
    }

    #[test]
    fn rfc3339_in() {
        check(
            parse_rfc3339,
            &[
                ("2009-10-12T17:50:30.000Z", Some(S3_DOC)),
                ("2009-10-12T17:50:30Z", Some(S3_DOC)),
                ("2009-10-12T17:50:30.999999999Z", Some(S3_DOC)),
                ("2009-10-12t17:50:30.5z", Some(S3_DOC)),
                ("  2009-10-12T17:50:30.000Z\n", Some(S3_DOC)),
                ("2009-10-12T19:50:30+02:00", Some(S3_DOC)),
                ("2009-10-12T17:50:30", Some(S3_DOC)),
                ("2009-10-12 17:50:30.123", Some(S3_DOC)),
                ("1970-01-01T00:00:00.000Z", Some(0)),
                ("1969-12-31T23:59:59Z", Some(-1)),
                ("9999-12-31T23:59:59Z", Some(253_402_300_799)),
                ("", None),
                ("garbage", None),
                ("2009-10-12", None),
                ("2009-13-12T17:50:30Z", None),
                ("2009-02-30T17:50:30Z", None),
                ("2009-10-12T25:50:30Z", None),
                ("2009-10-12T17:50:30.Z", None),
                ("2009-10-12T17:50:30ZZ", None),
                ("١٢٣٤-10-12T17:50:30Z", None),
            ],
        );
    }

    #[test]
    fn http_date_in() {
        check(
            parse_http_date,
            &[
                ("Sun, 06 Nov 1994 08:49:37 GMT", Some(RFC9110)),
                ("Sunday, 06-Nov-94 08:49:37 GMT", Some(RFC9110)),
                ("Sun Nov  6 08:49:37 1994", Some(RFC9110)),
                ("Sun, 06 Nov 1994 08:49:37 +0000", Some(RFC9110)),
                ("Sun, 06 Nov 1994 09:49:37 +0100", Some(RFC9110)),
                ("  Sun,  06 Nov 1994   08:49:37 GMT \r\n", Some(RFC9110)),
                ("sun, 06 nov 1994 08:49:37 gmt", Some(RFC9110)),
                ("06 Nov 1994 08:49:37 GMT", Some(RFC9110)),
                ("Sun, 06 Nov 1994 08:49:37 UTC", Some(RFC9110)),
                // Wrong weekday: still the right moment for a skew measurement.
                ("Fri, 06 Nov 1994 08:49:37 GMT", Some(RFC9110)),
                ("Sun, 6 Nov 1994 08:49:37 GMT", Some(RFC9110)),
                ("Thu, 01 Jan 1970 00:00:00 GMT", Some(0)),
                ("Thursday, 01-Jan-70 00:00:00 GMT", Some(0)),
                ("Friday, 01-Jan-38 00:00:00 GMT", Some(2_145_916_800)),
                ("", None),
                ("yesterday", None),
                ("Sun, 06 Nov 1994", None),
                ("Sun, 32 Nov 1994 08:49:37 GMT", None),
                ("Sun, 06 Nov 1994 08:49:37 PST8PDT", None),
                ("Sun, 06 Nov 1994 08:49:61 GMT", None),
                ("Sunday, 06-Nov-1994 08:49:37 GMT", None),
                ("Sun, 06 Foo 1994 08:49:37 GMT", None),
                ("Sun, 06 Nov 1994 08:49:37 GMT trailing", None),
                ("Sun, ", None),
                (",", None),
            ],
        );
    }

    #[test]
    fn http_date_of_the_fixture_response() {
        // The S3 API reference's 200-OK-with-error sample: two spaces after the colon and a
        // one-digit day.
        let raw = include_str!(
            "../fixtures/s3-xml/aws-doc-CompleteMultipartUpload-200-OK-error-in-body.http"
        );
        let date = raw
            .lines()
            .find_map(|l| l.strip_prefix("Date:"))
            .expect("the sample has a Date header");
        assert_eq!(parse_http_date(date), Some(1_288_643_696)); // 2010-11-01T20:34:56Z
    }

    #[test]
    fn formats_out() {
        for (unix, list, json) in [
            (S3_DOC, "2009-10-12 17:50:30", "2009-10-12T17:50:30Z"),
            (0, "1970-01-01 00:00:00", "1970-01-01T00:00:00Z"),
            (-1, "1969-12-31 23:59:59", "1969-12-31T23:59:59Z"),
            (951_825_600, "2000-02-29 12:00:00", "2000-02-29T12:00:00Z"),
            (
                253_402_300_799,
                "9999-12-31 23:59:59",
                "9999-12-31T23:59:59Z",
            ),
            // Beyond what `time` can represent: clamped, never a panic.
            (i64::MAX, "9999-12-31 23:59:59", "9999-12-31T23:59:59Z"),
            (i64::MIN, "-9999-01-01 00:00:00", "-9999-01-01T00:00:00Z"),
        ] {
            assert_eq!(list_time(unix), list, "list_time({unix})");
            assert_eq!(rfc3339(unix), json, "rfc3339({unix})");
        }
    }

    #[test]
    fn round_trips() {
        for unix in [0, 1, S3_DOC, RFC9110, 1_700_000_000, 4_102_444_800] {
            assert_eq!(parse_rfc3339(&rfc3339(unix)), Some(unix));
        }
    }
}
