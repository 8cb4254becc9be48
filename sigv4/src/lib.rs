//! AWS Signature Version 4 with S3's rules built in, as pure functions.
//!
//! In scope: the `Authorization` header form ([`sign`]) and the query-string (presigned) form
//! ([`presign`]), plus the encoders the client must use for the wire ([`encode_path`],
//! [`canonical_query`]) so that what is signed is byte for byte what is sent. S3's rules, which
//! differ from the generic AWS ones: the path is URI-encoded exactly once and never normalised;
//! `x-amz-content-sha256` is added and signed ([`Params::content_sha256_header`]); a session token
//! is signed. Every intermediate (canonical request, string to sign) is returned, for tests and
//! `-v`. See <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html>.
//!
//! Out of scope, by design: I/O, the clock (the time is an argument), the environment, HTTP
//! types, chunked (`aws-chunked`) payload signing, trailing checksums and SigV4a. Nothing here
//! panics on any input.

mod canonical;
mod key;

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

pub use canonical::{canonical_query, encode_path, uri_encode};

/// The payload hash S3 accepts instead of the body's sha256 (header form over TLS, and always in
/// presigned URLs, whose body is not known when the URL is made).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// sha256 of the empty body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// An access key. `Debug` never prints the secret or the session token.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// What is signed of one HTTP request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The raw (not yet encoded) path, e.g. `/bucket/my key+1/ü`. Sent as [`encode_path`] of it.
    pub path: &'a str,
    /// Raw (decoded) query pairs, any order. Sent as [`canonical_query`] of them.
    pub query: &'a [(&'a str, &'a str)],
    /// Headers to sign; must include `host`; names in any case. The signer owns `authorization`
    /// and the headers it adds itself (see [`Signed::headers`]): caller copies of those are not
    /// signed, and the client must send the signer's values instead.
    pub headers: &'a [(&'a str, &'a str)],
    /// Lowercase hex sha256 of the body, or [`UNSIGNED_PAYLOAD`].
    pub payload_hash: &'a str,
}

/// Who signs, for which scope, when.
#[derive(Debug, Clone, Copy)]
pub struct Params<'a> {
    pub credentials: &'a Credentials,
    pub region: &'a str,
    /// `"s3"` for S3.
    pub service: &'a str,
    /// The signing time; the caller corrects it for clock skew.
    pub time: SystemTime,
    /// S3 rule: add and sign `x-amz-content-sha256: <payload_hash>` (S3 requires it on every
    /// header-signed request, and moto rejects requests without it). `true` for S3; the generic
    /// AWS suite uses `false`. [`presign`] ignores it: a URL cannot make the user agent send a
    /// header, and S3 presigned URLs carry the payload hash only in the canonical request.
    pub content_sha256_header: bool,
}

/// The result of [`sign`].
#[derive(Debug, Clone)]
pub struct Signed {
    /// Headers to add to the request, lowercase names, in this order: `x-amz-date`,
    /// `x-amz-content-sha256` (when enabled), `x-amz-security-token` (when a session token is
    /// present), `authorization`.
    pub headers: Vec<(&'static str, String)>,
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signature: String,
}

/// The result of [`presign`].
#[derive(Debug, Clone)]
pub struct Presigned {
    /// The whole query to send, as raw pairs: the request's own pairs, then `X-Amz-Algorithm`,
    /// `-Credential`, `-Date`, `-Expires`, `-SignedHeaders`, [`-Security-Token`] and
    /// `-Signature`. Put it on the URL with [`canonical_query`].
    pub query: Vec<(String, String)>,
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signature: String,
}

/// A UTC instant broken down by hand (no date crate), as `YYYYMMDD` and `YYYYMMDDTHHMMSSZ`.
struct Stamp {
    date: String,
    datetime: String,
}

impl Stamp {
    fn new(t: SystemTime) -> Stamp {
        // i128 and floor division: any SystemTime, even before 1970 or absurdly far away,
        // formats without overflow or panic.
        let secs: i128 = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i128::from(d.as_secs()),
            Err(e) => {
                let d = e.duration();
                -i128::from(d.as_secs()) - i128::from(d.subsec_nanos() > 0)
            }
        };
        let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        let date = format!("{y:04}{m:02}{d:02}");
        let datetime = format!(
            "{date}T{:02}{:02}{:02}Z",
            sod / 3600,
            sod % 3600 / 60,
            sod % 60
        );
        Stamp { date, datetime }
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar: Howard
/// Hinnant's `civil_from_days` (<https://howardhinnant.github.io/date_algorithms.html>), which
/// counts in 400-year eras starting on March 1 so that the leap day is the last day of a year.
fn civil_from_days(days: i128) -> (i128, i128, i128) {
    let z = days + 719_468; // shift the epoch to 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // month from March, [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i128::from(m <= 2);
    (y, m, d)
}

/// `20150830T123600Z`: the `x-amz-date` of an instant (UTC).
pub fn amz_date(t: SystemTime) -> String {
    Stamp::new(t).datetime
}

/// Scope, string to sign and signature of a canonical request.
fn finish(stamp: &Stamp, params: &Params, canonical_request: &str) -> (String, String, String) {
    let scope = credential_scope(stamp, params);
    let hash = hex::encode(Sha256::digest(canonical_request.as_bytes()));
    let string_to_sign = format!("{ALGORITHM}\n{}\n{scope}\n{hash}", stamp.datetime);
    let k = key::signing_key(
        &params.credentials.secret_access_key,
        &stamp.date,
        params.region,
        params.service,
    );
    let signature = key::signature(&k, &string_to_sign);
    (scope, string_to_sign, signature)
}

fn credential_scope(stamp: &Stamp, params: &Params) -> String {
    format!(
        "{}/{}/{}/aws4_request",
        stamp.date, params.region, params.service
    )
}

/// Signs a request for the `Authorization` header.
pub fn sign(req: &Request, params: &Params) -> Signed {
    let stamp = Stamp::new(params.time);
    let mut added: Vec<(&'static str, String)> = Vec::with_capacity(4);
    added.push(("x-amz-date", stamp.datetime.clone()));
    if params.content_sha256_header {
        added.push(("x-amz-content-sha256", req.payload_hash.to_owned()));
    }
    if let Some(token) = &params.credentials.session_token {
        added.push(("x-amz-security-token", token.clone()));
    }
    // The signer's own headers replace caller copies (a second x-amz-date would be signed as
    // "a,b" and never match what a server sees once the client sends ours); `authorization`
    // can never be signed.
    let owned = |name: &str| {
        let name = name.trim();
        name.eq_ignore_ascii_case("authorization")
            || added.iter().any(|(a, _)| name.eq_ignore_ascii_case(a))
    };
    let mut to_sign: Vec<(&str, &str)> = Vec::with_capacity(req.headers.len() + added.len());
    to_sign.extend(req.headers.iter().copied().filter(|(k, _)| !owned(k)));
    to_sign.extend(added.iter().map(|(k, v)| (*k, v.as_str())));
    let (block, signed_headers) = canonical::canonical_headers(&to_sign);
    let canonical_request = canonical::canonical_request(
        req.method,
        &encode_path(req.path),
        &canonical_query(req.query),
        &block,
        &signed_headers,
        req.payload_hash,
    );
    let (scope, string_to_sign, signature) = finish(&stamp, params, &canonical_request);
    added.push((
        "authorization",
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            params.credentials.access_key_id
        ),
    ));
    Signed {
        headers: added,
        canonical_request,
        string_to_sign,
        signature,
    }
}

/// The query parameters [`presign`] adds; caller pairs with these names are dropped.
const PRESIGN_PARAMS: [&str; 7] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Security-Token",
    "X-Amz-Signature",
];

/// Signs a request in the query string: a presigned URL valid for `expires_secs` (S3 accepts
/// 1..=604800). The payload hash is `req.payload_hash`: S3 presigned URLs use
/// [`UNSIGNED_PAYLOAD`]; the session token goes in the signed query (`X-Amz-Security-Token`),
/// not in a header. See <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>.
pub fn presign(req: &Request, params: &Params, expires_secs: u64) -> Presigned {
    let stamp = Stamp::new(params.time);
    let (block, signed_headers) = canonical::canonical_headers(req.headers);
    let mut query: Vec<(String, String)> = req
        .query
        .iter()
        .filter(|(k, _)| !PRESIGN_PARAMS.iter().any(|p| k.eq_ignore_ascii_case(p)))
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let credential = format!(
        "{}/{}",
        params.credentials.access_key_id,
        credential_scope(&stamp, params)
    );
    query.push(("X-Amz-Algorithm".into(), ALGORITHM.into()));
    query.push(("X-Amz-Credential".into(), credential));
    query.push(("X-Amz-Date".into(), stamp.datetime.clone()));
    query.push(("X-Amz-Expires".into(), expires_secs.to_string()));
    query.push(("X-Amz-SignedHeaders".into(), signed_headers.clone()));
    if let Some(token) = &params.credentials.session_token {
        query.push(("X-Amz-Security-Token".into(), token.clone()));
    }
    let pairs: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let canonical_request = canonical::canonical_request(
        req.method,
        &encode_path(req.path),
        &canonical_query(&pairs),
        &block,
        &signed_headers,
        req.payload_hash,
    );
    let (_, string_to_sign, signature) = finish(&stamp, params, &canonical_request);
    query.push(("X-Amz-Signature".into(), signature.clone()));
    Presigned {
        query,
        canonical_request,
        string_to_sign,
        signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn amz_dates() {
        for (t, want) in [
            (at(0), "19700101T000000Z"),
            (at(1_440_938_160), "20150830T123600Z"),
            (at(951_782_400), "20000229T000000Z"), // leap day of a 400-year century
            (at(1_709_251_199), "20240229T235959Z"), // last second of a leap day
            (at(1_709_251_200), "20240301T000000Z"),
            (at(4_107_542_399), "21000228T235959Z"), // 2100 is not a leap year...
            (at(4_107_542_400), "21000301T000000Z"), // ...so March follows February 28
            (at(253_402_300_799), "99991231T235959Z"),
            (UNIX_EPOCH - Duration::from_secs(1), "19691231T235959Z"),
            (UNIX_EPOCH - Duration::from_millis(1), "19691231T235959Z"),
            (
                UNIX_EPOCH - Duration::from_secs(2_203_891_200),
                "19000301T000000Z",
            ),
            (
                at(1_440_938_160) + Duration::from_millis(999),
                "20150830T123600Z",
            ),
        ] {
            assert_eq!(amz_date(t), want, "{t:?}");
        }
    }

    fn doc_creds() -> Credentials {
        Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    fn s3_params(c: &Credentials, time: SystemTime) -> Params<'_> {
        Params {
            credentials: c,
            region: "us-east-1",
            service: "s3",
            time,
            content_sha256_header: true,
        }
    }

    fn header<'a>(s: &'a Signed, name: &str) -> Option<&'a str> {
        s.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    const DOC_TIME: u64 = 1_369_353_600; // 20130524T000000Z

    /// "Signature Calculations for the Authorization Header: Transferring Payload in a Single
    /// Chunk", Example: GET Object
    /// (<https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>):
    /// S3 rules end to end, every step as published.
    #[test]
    fn s3_documented_get_object() {
        let c = doc_creds();
        let s = sign(
            &Request {
                method: "GET",
                path: "/test.txt",
                query: &[],
                headers: &[
                    ("Host", "examplebucket.s3.amazonaws.com"),
                    ("Range", "bytes=0-9"),
                ],
                payload_hash: EMPTY_SHA256,
            },
            &s3_params(&c, at(DOC_TIME)),
        );
        assert_eq!(
            s.canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n\
             x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
             x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            s.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\
             7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
        );
        assert_eq!(
            s.signature,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
        assert_eq!(
            header(&s, "authorization"),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
                 SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
                 Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
            )
        );
        let names: Vec<&str> = s.headers.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            ["x-amz-date", "x-amz-content-sha256", "authorization"]
        );
    }

    /// Same page, Example: PUT Object: a signed body hash, and a `$` in the key.
    #[test]
    fn s3_documented_put_object() {
        let c = doc_creds();
        let hash = hex::encode(Sha256::digest(b"Welcome to Amazon S3."));
        let s = sign(
            &Request {
                method: "PUT",
                path: "/test$file.text",
                query: &[],
                headers: &[
                    ("Host", "examplebucket.s3.amazonaws.com"),
                    ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
                    ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ],
                payload_hash: &hash,
            },
            &s3_params(&c, at(DOC_TIME)),
        );
        assert!(
            s.canonical_request
                .starts_with("PUT\n/test%24file.text\n\n"),
            "{}",
            s.canonical_request
        );
        assert!(s
            .string_to_sign
            .ends_with("\n9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"));
        assert_eq!(
            s.signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );
    }

    /// "Authenticating Requests: Using Query Parameters", the presigned GET example
    /// (<https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>):
    /// UNSIGNED-PAYLOAD, host the only signed header, valid 86400 s.
    #[test]
    fn s3_documented_presigned_get() {
        let c = doc_creds();
        let p = presign(
            &Request {
                method: "GET",
                path: "/test.txt",
                query: &[],
                headers: &[("host", "examplebucket.s3.amazonaws.com")],
                payload_hash: UNSIGNED_PAYLOAD,
            },
            &s3_params(&c, at(DOC_TIME)),
            86_400,
        );
        assert_eq!(
            p.canonical_request,
            "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&\
             X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&\
             X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n\
             host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD"
        );
        assert_eq!(
            p.signature,
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
        assert_eq!(
            p.query.last(),
            Some(&("X-Amz-Signature".to_string(), p.signature.clone()))
        );
        // content_sha256_header is true in these params: a URL cannot carry it.
        assert!(!p.canonical_request.contains("x-amz-content-sha256"));
    }

    fn lines(s: &str) -> Vec<&str> {
        s.split('\n').collect()
    }

    #[test]
    fn content_sha256_header_follows_the_flag() {
        let c = doc_creds();
        let req = Request {
            method: "GET",
            path: "/b/k",
            query: &[],
            headers: &[("host", "h")],
            payload_hash: EMPTY_SHA256,
        };
        let on = sign(&req, &s3_params(&c, at(0)));
        assert_eq!(header(&on, "x-amz-content-sha256"), Some(EMPTY_SHA256));
        assert!(on
            .canonical_request
            .contains(&format!("\nx-amz-content-sha256:{EMPTY_SHA256}\n")));
        assert_eq!(
            lines(&on.canonical_request)[7],
            "host;x-amz-content-sha256;x-amz-date"
        );
        let off = sign(
            &req,
            &Params {
                content_sha256_header: false,
                ..s3_params(&c, at(0))
            },
        );
        assert_eq!(header(&off, "x-amz-content-sha256"), None);
        assert!(!off.canonical_request.contains("x-amz-content-sha256"));
        assert_eq!(lines(&off.canonical_request)[6], "host;x-amz-date");
    }

    #[test]
    fn unsigned_payload() {
        let c = doc_creds();
        let s = sign(
            &Request {
                method: "PUT",
                path: "/b/k",
                query: &[],
                headers: &[("host", "h")],
                payload_hash: UNSIGNED_PAYLOAD,
            },
            &s3_params(&c, at(0)),
        );
        assert_eq!(header(&s, "x-amz-content-sha256"), Some(UNSIGNED_PAYLOAD));
        assert!(s
            .canonical_request
            .contains("\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n"));
        assert!(s.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
    }

    #[test]
    fn s3_paths_and_queries_are_encoded_once() {
        let c = doc_creds();
        let path = "/b/a b+c%/./x//y/../=&~ü";
        let query = [
            ("prefix", "a/b c+d=e"),
            ("delimiter", "/"),
            ("continuation-token", "1/abc+def=="),
            ("uploads", ""),
        ];
        let s = sign(
            &Request {
                method: "GET",
                path,
                query: &query,
                headers: &[("host", "h")],
                payload_hash: EMPTY_SHA256,
            },
            &s3_params(&c, at(0)),
        );
        let l = lines(&s.canonical_request);
        assert_eq!(l[1], "/b/a%20b%2Bc%25/./x//y/../%3D%26~%C3%BC");
        assert_eq!(
            l[2],
            "continuation-token=1%2Fabc%2Bdef%3D%3D&delimiter=%2F&prefix=a%2Fb%20c%2Bd%3De&uploads="
        );
        // What is signed is what the client puts on the wire.
        assert_eq!(encode_path(path), l[1]);
        assert_eq!(canonical_query(&query), l[2]);
        assert_eq!(encode_path("/b/a b+c%/./x"), "/b/a%20b%2Bc%25/./x");
    }

    #[test]
    fn session_token_is_signed_in_both_forms() {
        let c = Credentials {
            session_token: Some("TOKEN/+=".into()),
            ..doc_creds()
        };
        let req = Request {
            method: "GET",
            path: "/b/k",
            query: &[("versionId", "1")],
            headers: &[("host", "h")],
            payload_hash: UNSIGNED_PAYLOAD,
        };
        let s = sign(&req, &s3_params(&c, at(0)));
        assert_eq!(header(&s, "x-amz-security-token"), Some("TOKEN/+="));
        assert!(s
            .canonical_request
            .contains("\nx-amz-security-token:TOKEN/+=\n"));
        assert!(header(&s, "authorization").is_some_and(|a| a
            .contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,")));

        let p = presign(&req, &s3_params(&c, at(0)), 60);
        assert!(p
            .canonical_request
            .contains("&X-Amz-Security-Token=TOKEN%2F%2B%3D&"));
        assert!(!p.canonical_request.contains("x-amz-security-token"));
        let keys: Vec<&str> = p.query.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "versionId",
                "X-Amz-Algorithm",
                "X-Amz-Credential",
                "X-Amz-Date",
                "X-Amz-Expires",
                "X-Amz-SignedHeaders",
                "X-Amz-Security-Token",
                "X-Amz-Signature"
            ]
        );
    }

    #[test]
    fn caller_copies_of_signer_headers_are_not_signed() {
        let c = doc_creds();
        let s = sign(
            &Request {
                method: "GET",
                path: "/b/k",
                query: &[],
                headers: &[
                    ("host", "h"),
                    ("X-Amz-Date", "19990101T000000Z"),
                    ("Authorization", "stale"),
                    ("x-amz-meta-a", "1"),
                ],
                payload_hash: EMPTY_SHA256,
            },
            &s3_params(&c, at(0)),
        );
        assert!(s
            .canonical_request
            .contains("\nx-amz-date:19700101T000000Z\n"));
        assert!(!s.canonical_request.contains("19990101"));
        assert!(!s.canonical_request.contains("stale"));
        assert!(s.canonical_request.contains("\nx-amz-meta-a:1\n"));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = Credentials {
            session_token: Some("SESSIONTOKEN".into()),
            ..doc_creds()
        };
        let d = format!("{c:?}");
        assert!(
            d.contains("AKIAIOSFODNN7EXAMPLE") && d.contains("<redacted>"),
            "{d}"
        );
        assert!(!d.contains("wJalr") && !d.contains("SESSIONTOKEN"), "{d}");
        let p = s3_params(&c, at(0));
        let d = format!("{p:?}");
        assert!(!d.contains("wJalr") && !d.contains("SESSIONTOKEN"), "{d}");
    }

    /// Degenerate input signs without panicking (the server will judge it).
    #[test]
    fn odd_input_does_not_panic() {
        let c = Credentials {
            access_key_id: String::new(),
            secret_access_key: "\u{0}ü".repeat(100),
            session_token: Some(String::new()),
        };
        let weird = "\u{0}\n\r\t %ü\u{10FFFF}";
        let query = [(weird, weird), ("", "")];
        let headers = [(weird, weird), ("", ""), ("HOST", "  ")];
        let req = Request {
            method: "",
            path: weird,
            query: &query,
            headers: &headers,
            payload_hash: "",
        };
        for time in [
            UNIX_EPOCH,
            UNIX_EPOCH - Duration::from_secs(1 << 40),
            UNIX_EPOCH + Duration::from_secs(1 << 40),
        ] {
            let params = Params {
                credentials: &c,
                region: weird,
                service: "",
                time,
                content_sha256_header: true,
            };
            assert_eq!(sign(&req, &params).signature.len(), 64);
            assert_eq!(presign(&req, &params, u64::MAX).signature.len(), 64);
        }
    }
}
