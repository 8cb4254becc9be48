//! AWS Signature Version 4 with S3's rules built in, as pure functions.
//!
//! In scope: the `Authorization` header form ([`sign`]) and the query-string (presigned) form
//! ([`presign`]), with S3's rules: the path is URI-encoded exactly once and never normalised,
//! `x-amz-content-sha256` is always added and signed (when [`Params::content_sha256_header`]),
//! session tokens are signed. Every intermediate (canonical request, string to sign) is returned
//! so tests and `-v` can show them.
//!
//! Out of scope, by design: I/O, the clock (the time is an argument), the environment, HTTP
//! types, chunked (`aws-chunked`) payload signing and SigV4a.

mod canonical;
mod key;

use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

pub use canonical::{canonical_query, uri_encode};

pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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

pub struct Request<'a> {
    pub method: &'a str,
    /// The raw (not yet encoded) path, e.g. `/bucket/my key+1/ü`.
    pub path: &'a str,
    /// Raw (decoded) query pairs, any order.
    pub query: &'a [(&'a str, &'a str)],
    /// Headers to sign; must include `host`. Names in any case.
    pub headers: &'a [(&'a str, &'a str)],
    /// Lowercase hex sha256 of the body, or [`UNSIGNED_PAYLOAD`].
    pub payload_hash: &'a str,
}

pub struct Params<'a> {
    pub credentials: &'a Credentials,
    pub region: &'a str,
    pub service: &'a str,
    pub time: SystemTime,
    /// S3: add and sign `x-amz-content-sha256: <payload_hash>`. The generic AWS suite uses false.
    pub content_sha256_header: bool,
}

pub struct Signed {
    /// Headers to add, lowercase names: x-amz-date, x-amz-content-sha256 (when enabled),
    /// x-amz-security-token (with a session token), authorization.
    pub headers: Vec<(&'static str, String)>,
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signature: String,
}

pub struct Presigned {
    /// Raw pairs to add to the query, including `X-Amz-Signature`.
    pub query: Vec<(String, String)>,
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signature: String,
}

/// The canonical URI, which is also what goes on the wire: encoded once, never normalised.
pub fn encode_path(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".into();
    }
    uri_encode(raw_path, false)
}

/// `20150830T123600Z` for a time (UTC), by Howard Hinnant's civil-from-days algorithm.
pub fn amz_date(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}{mo:02}{d:02}T{h:02}{m:02}{s:02}Z")
}

fn scope(date: &str, region: &str, service: &str) -> String {
    format!("{}/{region}/{service}/aws4_request", &date[..8])
}

fn string_to_sign(date: &str, scope: &str, canonical_request: &str) -> String {
    let hash = hex::encode(Sha256::digest(canonical_request.as_bytes()));
    format!("{ALGORITHM}\n{date}\n{scope}\n{hash}")
}

/// Signs a request for the `Authorization` header.
pub fn sign(req: &Request, p: &Params) -> Signed {
    let date = amz_date(p.time);
    let mut added: Vec<(&'static str, String)> = vec![("x-amz-date", date.clone())];
    if p.content_sha256_header {
        added.push(("x-amz-content-sha256", req.payload_hash.to_string()));
    }
    if let Some(t) = &p.credentials.session_token {
        added.push(("x-amz-security-token", t.clone()));
    }
    let mut all: Vec<(&str, &str)> = req.headers.to_vec();
    all.extend(added.iter().map(|(k, v)| (*k, v.as_str())));
    let (block, signed_headers) = canonical::canonical_headers(&all);
    let query = canonical_query(req.query);
    let creq = canonical::canonical_request(
        req.method,
        req.path,
        &query,
        &block,
        &signed_headers,
        req.payload_hash,
    );
    let scope = scope(&date, p.region, p.service);
    let sts = string_to_sign(&date, &scope, &creq);
    let k = key::signing_key(
        &p.credentials.secret_access_key,
        &date[..8],
        p.region,
        p.service,
    );
    let signature = key::signature(&k, &sts);
    added.push((
        "authorization",
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            p.credentials.access_key_id
        ),
    ));
    Signed {
        headers: added,
        canonical_request: creq,
        string_to_sign: sts,
        signature,
    }
}

/// Signs a request in the query string (a presigned URL valid for `expires_secs`).
pub fn presign(req: &Request, p: &Params, expires_secs: u64) -> Presigned {
    let date = amz_date(p.time);
    let scope = scope(&date, p.region, p.service);
    let (block, signed_headers) = canonical::canonical_headers(req.headers);
    let mut added: Vec<(String, String)> = vec![
        ("X-Amz-Algorithm".into(), ALGORITHM.into()),
        (
            "X-Amz-Credential".into(),
            format!("{}/{scope}", p.credentials.access_key_id),
        ),
        ("X-Amz-Date".into(), date.clone()),
        ("X-Amz-Expires".into(), expires_secs.to_string()),
        ("X-Amz-SignedHeaders".into(), signed_headers.clone()),
    ];
    if let Some(t) = &p.credentials.session_token {
        added.push(("X-Amz-Security-Token".into(), t.clone()));
    }
    let mut all: Vec<(&str, &str)> = req.query.to_vec();
    all.extend(added.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let query = canonical_query(&all);
    let creq = canonical::canonical_request(
        req.method,
        req.path,
        &query,
        &block,
        &signed_headers,
        req.payload_hash,
    );
    let sts = string_to_sign(&date, &scope, &creq);
    let k = key::signing_key(
        &p.credentials.secret_access_key,
        &date[..8],
        p.region,
        p.service,
    );
    let signature = key::signature(&k, &sts);
    added.push(("X-Amz-Signature".into(), signature.clone()));
    Presigned {
        query: added,
        canonical_request: creq,
        string_to_sign: sts,
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
        assert_eq!(amz_date(at(0)), "19700101T000000Z");
        assert_eq!(amz_date(at(1_440_938_160)), "20150830T123600Z");
        assert_eq!(amz_date(at(951_782_400)), "20000229T000000Z"); // leap day
        assert_eq!(amz_date(at(4_102_444_799)), "20991231T235959Z");
    }

    fn creds() -> Credentials {
        Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    /// The S3 documentation's "GET Object" example (Signature Calculations for the
    /// Authorization Header: Transferring Payload in a Single Chunk): S3 rules end to end.
    #[test]
    fn s3_documented_get_object() {
        let c = creds();
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
            &Params {
                credentials: &c,
                region: "us-east-1",
                service: "s3",
                time: at(1_369_353_600), // 20130524T000000Z
                content_sha256_header: true,
            },
        );
        assert_eq!(
            s.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            "{}",
            s.canonical_request
        );
        let auth = &s.headers.iter().find(|h| h.0 == "authorization").unwrap().1;
        assert!(
            auth.contains("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date"),
            "{auth}"
        );
    }

    /// The S3 documentation's "PUT Object" example (same page): a signed payload hash and
    /// a path with a `$`.
    #[test]
    fn s3_documented_put_object() {
        let c = creds();
        let body = "Welcome to Amazon S3.";
        let hash = hex::encode(Sha256::digest(body.as_bytes()));
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
            &Params {
                credentials: &c,
                region: "us-east-1",
                service: "s3",
                time: at(1_369_353_600),
                content_sha256_header: true,
            },
        );
        assert!(
            s.canonical_request.starts_with("PUT\n/test%24file.text\n"),
            "{}",
            s.canonical_request
        );
        assert_eq!(
            s.signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );
    }

    #[test]
    fn s3_rules_path_and_headers() {
        let c = Credentials {
            session_token: Some("TOKEN".into()),
            ..creds()
        };
        let s = sign(
            &Request {
                method: "GET",
                path: "/b/a b+c%/./x//y",
                query: &[("prefix", "a/b c")],
                headers: &[("host", "h")],
                payload_hash: UNSIGNED_PAYLOAD,
            },
            &Params {
                credentials: &c,
                region: "garage",
                service: "s3",
                time: at(0),
                content_sha256_header: true,
            },
        );
        let lines: Vec<&str> = s.canonical_request.lines().collect();
        assert_eq!(lines[1], "/b/a%20b%2Bc%25/./x//y");
        assert_eq!(lines[2], "prefix=a%2Fb%20c");
        assert!(s
            .canonical_request
            .contains("x-amz-content-sha256:UNSIGNED-PAYLOAD\n"));
        assert!(s.canonical_request.contains("x-amz-security-token:TOKEN\n"));
        assert!(s.canonical_request.ends_with(
            "host;x-amz-content-sha256;x-amz-date;x-amz-security-token\nUNSIGNED-PAYLOAD"
        ));
        assert_eq!(encode_path("/b/a b+c%/./x//y"), lines[1]);
        assert!(s
            .headers
            .iter()
            .any(|(k, v)| *k == "x-amz-security-token" && v == "TOKEN"));
        assert!(!format!("{c:?}").contains("wJalr") && !format!("{c:?}").contains("TOKEN"));
    }
}
