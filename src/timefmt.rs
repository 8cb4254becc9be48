//! Times as S3 and HTTP write them and as cacher prints them, all UTC, all unix seconds:
//! S3's `LastModified` (RFC 3339), the HTTP `Date` header (read for clock skew), the
//! `YYYY-MM-DD HH:MM:SS` of `aws s3 ls`, and RFC 3339 for `list --json`. Pure: the clock is
//! never read here.

// Hand-written rather than the `time` crate: these few fixed formats are all cacher reads and
// writes, and the crate cost ~50 KB of the 3 MiB binary budget (issue 6).

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`]: (year, month, day).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// A checked UTC date and time → unix seconds.
fn unix_of(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<i64> {
    let dim = match mo {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if !(1..=dim).contains(&d)
        || !(0..24).contains(&h)
        || !(0..60).contains(&mi)
        || !(0..60).contains(&s)
    {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s)
}

/// Exactly `n` ASCII digits (or 1..=n with `loose`) at the start of `s`: (value, rest).
fn digits(s: &str, n: usize, loose: bool) -> Option<(i64, &str)> {
    let len = s.bytes().take(n).take_while(u8::is_ascii_digit).count();
    if len == 0 || (!loose && len != n) {
        return None;
    }
    Some((s[..len].parse().ok()?, &s[len..]))
}

/// `HH:MM:SS` at the start of `s`: (h, m, s, rest).
fn clock(s: &str) -> Option<(i64, i64, i64, &str)> {
    let (h, s) = digits(s, 2, false)?;
    let (m, s) = digits(s.strip_prefix(':')?, 2, false)?;
    let (sec, s) = digits(s.strip_prefix(':')?, 2, false)?;
    Some((h, m, sec, s))
}

/// `2009-10-12T17:50:30.000Z` → unix seconds; the fraction is optional and dropped, any
/// offset is honoured. A time with no offset at all (`2009-10-12T17:50:30`, or a space for the
/// `T`) is taken as UTC, since every S3 time is UTC and a listing is better sorted a little
/// off than not at all.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    let (y, s) = digits(s, 4, false)?;
    let (mo, s) = digits(s.strip_prefix('-')?, 2, false)?;
    let (d, s) = digits(s.strip_prefix('-')?, 2, false)?;
    let s = s.strip_prefix(['T', 't', ' '])?;
    let (h, mi, sec, mut s) = clock(s)?;
    if let Some(frac) = s.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        s = &frac[n..];
    }
    let offset = match s {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match s.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, r) = digits(&s[1..], 2, false)?;
            let (om, r) = digits(r.strip_prefix(':')?, 2, false)?;
            if !r.is_empty() || oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(unix_of(y, mo, d, h, mi, sec)? - offset)
}

/// An HTTP `Date` header → unix seconds. Reads the three forms RFC 9110 §5.6.7 says a
/// recipient must accept — IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850
/// `Sunday, 06-Nov-94 08:49:37 GMT` and asctime `Sun Nov  6 08:49:37 1994` — and RFC 2822 with
/// a numeric zone. Lenient where being strict would only lose the skew measurement: runs of
/// spaces, a one-digit day (the S3 API reference's own sample says `Mon, 1 Nov 2010`), the
/// case of names, and the weekday, which is skipped rather than checked.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let mut words: Vec<&str> = s.split_ascii_whitespace().collect();
    // Skip the weekday ("Sun," "Sunday," or asctime's "Sun").
    if words.first().is_some_and(|w| {
        w.trim_end_matches(',')
            .bytes()
            .all(|b| b.is_ascii_alphabetic())
    }) {
        words.remove(0);
    }
    match words.as_slice() {
        // IMF-fixdate / RFC 2822: `06 Nov 1994 08:49:37 GMT|UTC|+0100`
        [d, mo, y, t, zone] => {
            let offset = zone_offset(zone)?;
            let y = whole(y, 4)?;
            Some(at(y, mo, d, t)? - offset)
        }
        // asctime: `Nov 6 08:49:37 1994`
        [mo, d, t, y] => at(whole(y, 4)?, mo, d, t),
        // RFC 850: `06-Nov-94 08:49:37 GMT`; a two-digit year (RFC 9110: one more than 50
        // years ahead is in the past; with no clock here, 70..99 → 19xx, else 20xx).
        [date, t, zone] => {
            let offset = zone_offset(zone)?;
            let mut parts = date.split('-');
            let (d, mo, yy) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() {
                return None;
            }
            let yy = whole(yy, 2)?;
            let y = if yy >= 70 { 1900 + yy } else { 2000 + yy };
            Some(at(y, mo, d, t)? - offset)
        }
        _ => None,
    }
}

/// All of `s` as exactly `n` digits.
fn whole(s: &str, n: usize) -> Option<i64> {
    match digits(s, n, false)? {
        (v, "") => Some(v),
        _ => None,
    }
}

/// Day (one or two digits), month name, `HH:MM:SS` → unix seconds in year `y`.
fn at(y: i64, month: &str, day: &str, time: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let mo = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as i64 + 1;
    let d = match digits(day, 2, true)? {
        (v, "") => v,
        _ => return None,
    };
    match clock(time)? {
        (h, mi, s, "") => unix_of(y, mo, d, h, mi, s),
        _ => None,
    }
}

/// `GMT`, `UTC` (any case) or `+HHMM`/`-HHMM` → seconds east of UTC.
fn zone_offset(z: &str) -> Option<i64> {
    if z.eq_ignore_ascii_case("gmt") || z.eq_ignore_ascii_case("utc") {
        return Some(0);
    }
    let sign = match z.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let v = whole(&z[1..], 4)?;
    let (h, m) = (v / 100, v % 100);
    (h < 24 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

/// `unix` as a UTC (date, seconds of day), clamped to the years -9999..=9999 (no S3 time
/// gets near: they come from `parse_rfc3339`), so nothing unrelated is ever printed.
fn utc(unix: i64) -> ((i64, i64, i64), i64) {
    let min = days_from_civil(-9999, 1, 1) * 86_400;
    let max = days_from_civil(10_000, 1, 1) * 86_400 - 1;
    let t = unix.clamp(min, max);
    (civil_from_days(t.div_euclid(86_400)), t.rem_euclid(86_400))
}

fn format(unix: i64, sep: char, z: &str) -> String {
    let ((y, mo, d), secs) = utc(unix);
    let year = if y < 0 {
        format!("-{:04}", -y)
    } else {
        format!("{y:04}")
    };
    format!(
        "{year}-{mo:02}-{d:02}{sep}{:02}:{:02}:{:02}{z}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `YYYY-MM-DD HH:MM:SS` in UTC, as `aws s3 ls` prints it.
pub fn list_time(unix: i64) -> String {
    format(unix, ' ', "")
}

/// `02 Jan 06 15:04 UTC`, Go's `time.RFC822` as Semaphore's `cache list` prints it.
pub fn rfc822(unix: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let ((y, mo, d), secs) = utc(unix);
    format!(
        "{d:02} {} {:02} {:02}:{:02} UTC",
        MONTHS[(mo - 1) as usize],
        y.rem_euclid(100),
        secs / 3600,
        secs / 60 % 60
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ`, for `list --json`.
pub fn rfc3339(unix: i64) -> String {
    format(unix, 'T', "Z")
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
            // Beyond the years -9999..=9999: clamped, never a panic.
            (i64::MAX, "9999-12-31 23:59:59", "9999-12-31T23:59:59Z"),
            (i64::MIN, "-9999-01-01 00:00:00", "-9999-01-01T00:00:00Z"),
        ] {
            assert_eq!(list_time(unix), list, "list_time({unix})");
            assert_eq!(rfc3339(unix), json, "rfc3339({unix})");
        }
    }

    #[test]
    fn go_rfc822() {
        assert_eq!(rfc822(S3_DOC), "12 Oct 09 17:50 UTC");
        assert_eq!(rfc822(0), "01 Jan 70 00:00 UTC");
    }

    #[test]
    fn round_trips() {
        for unix in [0, 1, S3_DOC, RFC9110, 1_700_000_000, 4_102_444_800] {
            assert_eq!(parse_rfc3339(&rfc3339(unix)), Some(unix));
        }
    }
}
