//! The S3 client: the calls of SPEC §5 over one shared `ureq::Agent`, signed by `sigv4`.
//!
//! This module (with `http.rs` for plain URL fetches) is the only place that touches ureq.
//! Every request goes through [`Client::call`], which signs it, sends it with a
//! `Content-Length` (bodies are in-memory slices, so they are never chunked and can be replayed
//! on a retry), reads an S3 `<Error>` body whatever the status (ureq's status-as-error is off),
//! and retries what SPEC §5 says is retryable with exponential backoff and jitter.
//! `RequestTimeTooSkewed` is retried once with the clock offset taken from the server's `Date`.
//! Downloads are [`ObjectReader`]s that resume with a `Range` after a broken connection.

pub mod endpoint;
pub mod http;
pub mod xml;

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};
use ureq::http::{Request, Response};
use ureq::Body;

use crate::error::{Error, Result};
use crate::output;
pub use endpoint::Endpoint;
pub use xml::{ListPage, ObjectEntry};

/// Metadata header carrying the sha256 of the stored bytes (SPEC §6).
pub const META_SHA256: &str = "x-amz-meta-sha256";

/// Everything the client needs, resolved by `config.rs`.
#[derive(Clone)]
pub struct Settings {
    pub endpoint: Endpoint,
    pub region: String,
    pub bucket: String,
    pub path_style: bool,
    pub credentials: sigv4::Credentials,
    pub ca_file: Option<PathBuf>,
    /// Proxy URI chosen by `config.rs` from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`.
    pub proxy: Option<String>,
    /// Total attempts per request (SPEC §5 default 5).
    pub attempts: u32,
    /// Over HTTPS, send `UNSIGNED-PAYLOAD` instead of hashing every body (TLS protects it).
    pub unsigned_payload: bool,
    pub concurrency: usize,
}

/// What HEAD object tells.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectMeta {
    pub size: u64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// `x-amz-meta-sha256`, lowercase hex, when the object carries it.
    pub sha256: Option<String>,
}

pub struct Client {
    agent: ureq::Agent,
    s: Settings,
    /// Seconds to add to the local clock when signing (learnt from `RequestTimeTooSkewed`).
    skew: AtomicI64,
    /// The last `Date` header seen, as (server unix seconds, local unix seconds at receipt).
    last_date: Mutex<Option<(i64, i64)>>,
    rng: AtomicU64,
}

/// One request, before signing. `object` is the full object name (prefix already joined).
pub struct Call<'a> {
    pub op: &'static str,
    pub method: &'static str,
    pub object: Option<&'a str>,
    pub query: Vec<(&'static str, String)>,
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
    /// The body's sha256 when the caller already computed it (saves a pass over the bytes).
    pub body_sha256: Option<&'a str>,
}

impl<'a> Call<'a> {
    pub fn new(op: &'static str, method: &'static str, object: Option<&'a str>) -> Call<'a> {
        Call {
            op,
            method,
            object,
            query: Vec::new(),
            headers: Vec::new(),
            body: &[],
            body_sha256: None,
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Client {
    pub fn new(s: Settings) -> Result<Client> {
        let agent = http::agent(
            s.ca_file.as_deref(),
            s.proxy.as_deref(),
            s.concurrency + 2,
            0,
        )?;
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1;
        Ok(Client {
            agent,
            s,
            skew: AtomicI64::new(0),
            last_date: Mutex::new(None),
            rng: AtomicU64::new(seed),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.s
    }

    /// Server clock minus local clock, in seconds, from the last `Date` header seen.
    pub fn server_skew(&self) -> Option<i64> {
        self.last_date
            .lock()
            .ok()
            .and_then(|d| d.map(|(server, local)| server - local))
    }

    fn jitter(&self, max_ms: u64) -> u64 {
        // xorshift: good enough to spread retries; no rand crate needed.
        let mut x = self.rng.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.store(x, Ordering::Relaxed);
        if max_ms == 0 {
            0
        } else {
            x % max_ms
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        // Exponential with "equal jitter": half fixed, half random, capped at 4 s.
        let cap = (200u64 << attempt.min(5)).min(4000);
        Duration::from_millis(cap / 2 + self.jitter(cap / 2))
    }

    /// Sends a call with retries (SPEC §5). Returns the response of a 2xx (or 3xx/304, which
    /// callers treat themselves); any other status becomes an `Error::S3`.
    pub fn call(&self, c: &Call) -> Result<Response<Body>> {
        let mut skew_retried = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.once(c, attempt) {
                Ok(r) => return Ok(r),
                Err(e) if e.s3_code() == Some("RequestTimeTooSkewed") && !skew_retried => {
                    skew_retried = true;
                    if let Some(skew) = self.server_skew() {
                        output::warn(&format!(
                            "{}: the server's clock differs from ours by {skew} s; retrying with its time",
                            c.op
                        ));
                        self.skew.store(skew, Ordering::Relaxed);
                    }
                    continue;
                }
                Err(e) if e.is_retryable() && attempt < self.s.attempts => {
                    let wait = self.backoff(attempt);
                    output::debug(|| {
                        format!("retrying {} after {} ms: {e}", c.op, wait.as_millis())
                    });
                    std::thread::sleep(wait);
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn payload_hash(&self, c: &Call) -> String {
        if let Some(h) = c.body_sha256 {
            return h.to_string();
        }
        if self.s.endpoint.https && self.s.unsigned_payload {
            return sigv4::UNSIGNED_PAYLOAD.to_string();
        }
        if c.body.is_empty() {
            return sigv4::EMPTY_SHA256.to_string();
        }
        hex::encode(Sha256::digest(c.body))
    }

    /// The URL and the signed headers of one attempt.
    fn sign(&self, c: &Call) -> (String, Vec<(String, String)>) {
        let (authority, raw_path) = endpoint::address(
            &self.s.endpoint,
            &self.s.bucket,
            self.s.path_style,
            c.object,
        );
        let payload_hash = self.payload_hash(c);
        let query: Vec<(&str, &str)> = c.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut to_sign: Vec<(&str, &str)> = vec![("host", authority.as_str())];
        for (k, v) in &c.headers {
            // Sign the headers that carry meaning for S3; leave transport headers (Range,
            // If-Match) unsigned so that a proxy or ureq touching them cannot break the signature.
            if k.starts_with("x-amz-") || k == "content-type" {
                to_sign.push((k.as_str(), v.as_str()));
            }
        }
        let skew = self.skew.load(Ordering::Relaxed);
        let now = SystemTime::now();
        let time = if skew >= 0 {
            now + Duration::from_secs(skew as u64)
        } else {
            now - Duration::from_secs(skew.unsigned_abs())
        };
        let signed = sigv4::sign(
            &sigv4::Request {
                method: c.method,
                path: &raw_path,
                query: &query,
                headers: &to_sign,
                payload_hash: &payload_hash,
            },
            &sigv4::Params {
                credentials: &self.s.credentials,
                region: &self.s.region,
                service: "s3",
                time,
                content_sha256_header: true,
            },
        );
        let mut url = format!(
            "{}://{authority}{}",
            self.s.endpoint.scheme(),
            sigv4::encode_path(&raw_path)
        );
        if !query.is_empty() {
            url.push('?');
            url.push_str(&sigv4::canonical_query(&query));
        }
        let mut headers = c.headers.clone();
        headers.extend(signed.headers.into_iter().map(|(k, v)| (k.to_string(), v)));
        (url, headers)
    }

    fn target(&self, c: &Call) -> String {
        match c.object {
            Some(o) => format!("'{o}'"),
            None => format!("bucket '{}'", self.s.bucket),
        }
    }

    fn once(&self, c: &Call, attempt: u32) -> Result<Response<Body>> {
        let (url, headers) = self.sign(c);
        let mut b = Request::builder().method(c.method).uri(&url);
        for (k, v) in &headers {
            b = b.header(k.as_str(), v.as_str());
        }
        let started = Instant::now();
        let req = b
            .body(c.body)
            .map_err(|e| Error::Other(format!("{}: bad request: {e}", c.op)))?;
        let res = self.agent.run(req);
        let path_for_log = || url.split('?').next().unwrap_or("").to_string();
        let resp = match res {
            Ok(r) => r,
            Err(e) => {
                output::debug(|| {
                    format!(
                        "{} {} -> error (attempt {attempt}, {} ms): {e}",
                        c.method,
                        path_for_log(),
                        started.elapsed().as_millis()
                    )
                });
                return Err(http::network_error(c.op, self.target(c), e));
            }
        };
        let status = resp.status().as_u16();
        output::debug(|| {
            format!(
                "{} {}{} -> {status} (attempt {attempt}, {} ms)",
                c.method,
                path_for_log(),
                if url.contains('?') {
                    format!(
                        "?{}",
                        redact_query(url.split_once('?').map(|x| x.1).unwrap_or(""))
                    )
                } else {
                    String::new()
                },
                started.elapsed().as_millis()
            )
        });
        if let Some(d) = resp
            .headers()
            .get("date")
            .and_then(|v| v.to_str().ok())
            .and_then(crate::timefmt::parse_http_date)
        {
            if let Ok(mut g) = self.last_date.lock() {
                *g = Some((d, unix_now()));
            }
        }
        if status < 300 || status == 304 {
            return Ok(resp);
        }
        Err(self.error_from(c, resp))
    }

    fn error_from(&self, c: &Call, resp: Response<Body>) -> Error {
        let status = resp.status().as_u16();
        let request_id = resp
            .headers()
            .get("x-amz-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = if c.method == "HEAD" {
            Vec::new()
        } else {
            read_limited(resp)
        };
        let parsed = xml::parse_error(&body);
        let (code, message, rid, region) = match parsed {
            Some(e) => (e.code, e.message, e.request_id.or(request_id), e.region),
            None => {
                // HEAD answers have no body: name the status as S3 would.
                let code = match (status, c.object.is_some()) {
                    (404, true) => "NoSuchKey",
                    (404, false) => "NoSuchBucket",
                    (403, _) => "AccessDenied",
                    (301, _) => "PermanentRedirect",
                    (400, _) => "BadRequest",
                    _ => "",
                };
                (code.to_string(), String::new(), request_id, None)
            }
        };
        Error::S3 {
            op: c.op,
            key: c.object.map(str::to_string),
            status,
            code,
            message,
            request_id: rid,
            region,
        }
    }

    // ---- the calls ----

    pub fn head_bucket(&self) -> Result<()> {
        self.call(&Call::new("HEAD bucket", "HEAD", None)).map(drop)
    }

    /// HEAD object: `None` when it does not exist.
    pub fn head_object(&self, name: &str) -> Result<Option<ObjectMeta>> {
        match self.call(&Call::new("HEAD", "HEAD", Some(name))) {
            Ok(r) => Ok(Some(meta_from(&r, None))),
            Err(Error::S3 { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GetObject of `range` (inclusive byte bounds; `None` = whole object). The reader resumes
    /// with a Range request when the connection breaks (SPEC §5). `None` when the key is missing.
    pub fn get_object(
        &self,
        name: &str,
        range: Option<(u64, u64)>,
    ) -> Result<Option<ObjectReader<'_>>> {
        self.get_object_if(name, range, None)
    }

    /// GetObject with `If-Match`, so the ranges of one download all come from one version.
    pub fn get_object_if(
        &self,
        name: &str,
        range: Option<(u64, u64)>,
        if_match: Option<&str>,
    ) -> Result<Option<ObjectReader<'_>>> {
        let mut c = Call::new("GET", "GET", Some(name));
        if let Some((a, b)) = range {
            c.headers.push(("range".into(), format!("bytes={a}-{b}")));
        }
        if let Some(e) = if_match {
            c.headers.push(("if-match".into(), e.to_string()));
        }
        let resp = match self.call(&c) {
            Ok(r) => r,
            Err(Error::S3 {
                status: 404, code, ..
            }) if code != "NoSuchBucket" => return Ok(None),
            Err(e) => return Err(e),
        };
        let meta = meta_from(&resp, range);
        let start = range.map(|r| r.0).unwrap_or(0);
        let len = resp
            .body()
            .content_length()
            .unwrap_or(meta.size.saturating_sub(start));
        Ok(Some(ObjectReader {
            client: self,
            name: name.to_string(),
            meta,
            pos: start,
            end: start + len,
            body: Some(resp.into_body().into_reader()),
            retries_left: self.s.attempts.saturating_sub(1),
        }))
    }

    /// PutObject of an in-memory body. `sha256` is the body's hex sha256 when known; it is also
    /// stored as `x-amz-meta-sha256` when `meta_sha256` is set.
    pub fn put_object(
        &self,
        name: &str,
        body: &[u8],
        body_sha256: Option<&str>,
        meta_sha256: Option<&str>,
    ) -> Result<()> {
        let mut c = Call::new("PUT", "PUT", Some(name));
        c.body = body;
        c.body_sha256 = body_sha256.filter(|_| !self.unsigned());
        if let Some(h) = meta_sha256 {
            c.headers.push((META_SHA256.into(), h.to_string()));
        }
        self.call(&c).map(drop)
    }

    fn unsigned(&self) -> bool {
        self.s.endpoint.https && self.s.unsigned_payload
    }

    pub fn create_multipart(&self, name: &str, meta_sha256: Option<&str>) -> Result<String> {
        let mut c = Call::new("CreateMultipartUpload", "POST", Some(name));
        c.query.push(("uploads", String::new()));
        if let Some(h) = meta_sha256 {
            c.headers.push((META_SHA256.into(), h.to_string()));
        }
        let body = read_body(self.call(&c)?, c.op, name)?;
        xml::parse_initiate(&body).map_err(|e| bad_xml(c.op, name, e))
    }

    /// UploadPart; returns the ETag the server gave (quotes kept, as Complete wants them).
    pub fn upload_part(
        &self,
        name: &str,
        upload_id: &str,
        number: u32,
        body: &[u8],
        body_sha256: Option<&str>,
    ) -> Result<String> {
        let mut c = Call::new("UploadPart", "PUT", Some(name));
        c.query.push(("partNumber", number.to_string()));
        c.query.push(("uploadId", upload_id.to_string()));
        c.body = body;
        c.body_sha256 = body_sha256.filter(|_| !self.unsigned());
        let r = self.call(&c)?;
        r.headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| {
                Error::Other(format!(
                    "UploadPart '{name}' part {number}: the server sent no ETag"
                ))
            })
    }

    pub fn complete_multipart(
        &self,
        name: &str,
        upload_id: &str,
        parts: &[(u32, String)],
    ) -> Result<()> {
        let body = xml::complete_body(parts);
        let mut c = Call::new("CompleteMultipartUpload", "POST", Some(name));
        c.query.push(("uploadId", upload_id.to_string()));
        c.body = body.as_bytes();
        c.headers
            .push(("content-type".into(), "application/xml".into()));
        let resp = self.call(&c)?;
        let status = resp.status().as_u16();
        let out = read_body(resp, c.op, name)?;
        // A 200 whose body is <Error> is an error (S3 API reference, CompleteMultipartUpload).
        match xml::parse_complete(&out) {
            Ok(xml::CompleteOutcome::Done { .. }) => Ok(()),
            Ok(xml::CompleteOutcome::Error(e)) => Err(Error::S3 {
                op: c.op,
                key: Some(name.to_string()),
                status,
                code: e.code,
                message: e.message,
                request_id: e.request_id,
                region: e.region,
            }),
            Err(e) => Err(bad_xml(c.op, name, e)),
        }
    }

    pub fn abort_multipart(&self, name: &str, upload_id: &str) -> Result<()> {
        let mut c = Call::new("AbortMultipartUpload", "DELETE", Some(name));
        c.query.push(("uploadId", upload_id.to_string()));
        self.call(&c).map(drop)
    }

    /// One ListObjectsV2 page. `prefix` is a full object-name prefix.
    pub fn list_page(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        token: Option<&str>,
        max_keys: Option<u32>,
    ) -> Result<ListPage> {
        let mut c = Call::new("ListObjectsV2", "GET", None);
        c.query.push(("list-type", "2".into()));
        if !prefix.is_empty() {
            c.query.push(("prefix", prefix.to_string()));
        }
        if let Some(d) = delimiter {
            c.query.push(("delimiter", d.to_string()));
        }
        if let Some(t) = token {
            c.query.push(("continuation-token", t.to_string()));
        }
        if let Some(m) = max_keys {
            c.query.push(("max-keys", m.to_string()));
        }
        let body = read_body(self.call(&c)?, c.op, prefix)?;
        xml::parse_list_v2(&body).map_err(|e| bad_xml(c.op, prefix, e))
    }

    /// Every page of a listing, calling `each` per page (so huge listings stream).
    pub fn list_each(
        &self,
        prefix: &str,
        delimiter: Option<&str>,
        mut each: impl FnMut(ListPage) -> Result<()>,
    ) -> Result<()> {
        let mut token: Option<String> = None;
        loop {
            let page = self.list_page(prefix, delimiter, token.as_deref(), None)?;
            let next = page.next_continuation_token.clone();
            let truncated = page.is_truncated;
            each(page)?;
            match (truncated, next) {
                (true, Some(t)) if Some(&t) != token.as_ref() => token = Some(t),
                (true, _) => {
                    return Err(Error::Other(format!(
                        "ListObjectsV2 '{prefix}': the server said the listing is truncated but gave no new continuation token"
                    )))
                }
                _ => return Ok(()),
            }
        }
    }

    pub fn delete_object(&self, name: &str) -> Result<()> {
        self.call(&Call::new("DELETE", "DELETE", Some(name)))
            .map(drop)
    }
}

/// Query values that are secrets in presigned URLs never reach a log line.
fn redact_query(q: &str) -> String {
    q.split('&')
        .map(|kv| {
            let k = kv.split('=').next().unwrap_or("");
            if k.eq_ignore_ascii_case("X-Amz-Signature")
                || k.eq_ignore_ascii_case("X-Amz-Credential")
                || k.eq_ignore_ascii_case("X-Amz-Security-Token")
            {
                format!("{k}=<redacted>")
            } else {
                kv.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn bad_xml(op: &'static str, key: &str, e: xml::XmlError) -> Error {
    Error::Other(format!(
        "{op} '{key}': the server's answer is not valid S3 XML: {}",
        e.0
    ))
}

fn read_limited(resp: Response<Body>) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = resp
        .into_body()
        .into_reader()
        .take(1 << 20)
        .read_to_end(&mut out);
    out
}

fn read_body(resp: Response<Body>, op: &'static str, key: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    resp.into_body()
        .into_reader()
        .take(64 << 20)
        .read_to_end(&mut out)
        .map_err(|e| Error::Network {
            op,
            target: format!("'{key}'"),
            detail: format!("reading the answer: {e}"),
        })?;
    Ok(out)
}

fn header<'r>(r: &'r Response<Body>, name: &str) -> Option<&'r str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

fn meta_from(r: &Response<Body>, range: Option<(u64, u64)>) -> ObjectMeta {
    // On a ranged GET the object size is the part after '/' in Content-Range.
    let size = header(r, "content-range")
        .and_then(|cr| cr.rsplit('/').next())
        .and_then(|s| s.parse().ok())
        .or_else(|| {
            if range.is_none() {
                header(r, "content-length").and_then(|s| s.parse().ok())
            } else {
                None
            }
        })
        .unwrap_or(0);
    ObjectMeta {
        size,
        etag: header(r, "etag").map(str::to_string),
        last_modified: header(r, "last-modified").map(str::to_string),
        sha256: header(r, META_SHA256).map(|s| s.to_ascii_lowercase()),
    }
}

/// A GetObject body that resumes where it stopped. A broken connection or a body that ends early
/// is retried with `Range: bytes=<pos>-<end>` and `If-Match: <etag>`, so a resumed download
/// never splices two versions of an object.
pub struct ObjectReader<'c> {
    client: &'c Client,
    name: String,
    pub meta: ObjectMeta,
    pos: u64,
    end: u64,
    body: Option<ureq::BodyReader<'static>>,
    retries_left: u32,
}

impl ObjectReader<'_> {
    /// Bytes this reader will deliver in all.
    pub fn remaining(&self) -> u64 {
        self.end - self.pos
    }

    fn reopen(&mut self, why: &str) -> io::Result<()> {
        loop {
            if self.retries_left == 0 {
                return Err(io::Error::other(Error::Network {
                    op: "GET",
                    target: format!("'{}'", self.name),
                    detail: format!(
                        "{why} at byte {} of {} and retries are exhausted",
                        self.pos, self.end
                    ),
                }));
            }
            self.retries_left -= 1;
            let attempt = self.client.s.attempts - self.retries_left;
            std::thread::sleep(self.client.backoff(attempt));
            output::debug(|| {
                format!(
                    "GET '{}': {why} at byte {}; resuming with a Range",
                    self.name, self.pos
                )
            });
            let mut c = Call::new("GET", "GET", Some(&self.name));
            c.headers.push((
                "range".into(),
                format!("bytes={}-{}", self.pos, self.end - 1),
            ));
            if let Some(e) = &self.meta.etag {
                c.headers.push(("if-match".into(), e.clone()));
            }
            match self.client.once(&c, attempt) {
                Ok(r) if r.status().as_u16() == 206 => {
                    self.body = Some(r.into_body().into_reader());
                    return Ok(());
                }
                Ok(r) => {
                    return Err(io::Error::other(Error::Other(format!(
                        "GET '{}': resuming at byte {} got HTTP {} instead of 206",
                        self.name,
                        self.pos,
                        r.status().as_u16()
                    ))))
                }
                Err(e) if e.is_retryable() => continue,
                Err(e) => return Err(io::Error::other(e)),
            }
        }
    }
}

impl Read for ObjectReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.end || buf.is_empty() {
            return Ok(0);
        }
        loop {
            let want = buf
                .len()
                .min((self.end - self.pos).min(usize::MAX as u64) as usize);
            let res = match self.body.as_mut() {
                Some(b) => b.read(&mut buf[..want]),
                None => Err(io::Error::other("no body")),
            };
            match res {
                Ok(0) => {
                    self.body = None;
                    self.reopen("the body ended early")?;
                }
                Ok(n) => {
                    self.pos += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.body = None;
                    self.reopen(&format!("the connection broke ({e})"))?;
                }
            }
        }
    }
}

/// Turns an `io::Error` from a read chain back into the cacher `Error` it carries, if any
/// (errors raised inside `ObjectReader` travel through `Read` wrapped in `io::Error::other`).
pub fn unwrap_io(op: &str, path: impl Into<PathBuf>, e: io::Error) -> Error {
    if e.get_ref().is_some_and(|i| i.is::<Error>()) {
        if let Some(inner) = e.into_inner() {
            if let Ok(err) = inner.downcast::<Error>() {
                return *err;
            }
        }
        return Error::Other(format!("{op}: read failed"));
    }
    Error::io(op, path, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_redaction() {
        let q = "X-Amz-Credential=AKID%2F2015&X-Amz-Signature=abc&partNumber=1";
        let r = redact_query(q);
        assert!(!r.contains("AKID") && !r.contains("abc"), "{r}");
        assert!(r.contains("partNumber=1"));
    }
}
