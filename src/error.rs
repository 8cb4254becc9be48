//! The one error type of cacher, and the one place that maps an error to an exit code
//! (SPEC §3) and decides whether it is worth retrying (SPEC §5).
//!
//! Variants carry what a user needs to act: the operation, the key, the HTTP status, the S3
//! error code and request id, the OS error. `Display` renders the single stderr line (without
//! the `cacher: ` prefix, which `main` adds). No variant ever holds a secret: credentials are
//! only ever described by length and first characters (see `credentials.rs`).

use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// Bad flags or arguments (also what `cli::UsageError` becomes).
    Usage(String),
    /// Bad configuration: settings, config file, credentials, key rules.
    Config(String),
    /// `download`/`dir download`/`docker download`: the key is not in the cache and there is no
    /// fallback. Exit 3.
    Miss { key: String },
    /// The server answered with an S3 error (status, and the XML `<Error>` body when there was one).
    S3 {
        op: &'static str,
        key: Option<String>,
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
        /// Extra detail kept for hints, e.g. the region from `AuthorizationHeaderMalformed`.
        region: Option<String>,
    },
    /// A plain HTTP error from a non-S3 URL (`download --url`).
    Http {
        op: &'static str,
        url: String,
        status: u16,
    },
    /// Could not talk to the server at all, or the connection broke mid-body.
    Network {
        op: &'static str,
        target: String,
        detail: String,
    },
    /// A local file system error.
    Io {
        op: String,
        path: PathBuf,
        err: io::Error,
    },
    /// Content did not match the expected sha256.
    Checksum {
        what: String,
        expected: String,
        actual: String,
    },
    /// Anything else, already phrased for the user.
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// SPEC §3: 2 for every operational error, 3 for a cache miss. (1 is never an error: it is
    /// the `exists` answer, decided by the command itself.)
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Miss { .. } => 3,
            _ => 2,
        }
    }

    /// SPEC §5: connection errors, timeouts, 500/502/503/504, 429 and the S3 codes SlowDown,
    /// InternalError, RequestTimeout are retried; other 4xx are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Network { .. } => true,
            Error::S3 { status, code, .. } => {
                matches!(status, 429 | 500 | 502 | 503 | 504)
                    || matches!(
                        code.as_str(),
                        "SlowDown" | "InternalError" | "RequestTimeout" | "ServiceUnavailable"
                    )
            }
            Error::Http { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// The S3 error code, when the server gave one.
    pub fn s3_code(&self) -> Option<&str> {
        match self {
            Error::S3 { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Error::S3 { status, .. } | Error::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn io(op: impl Into<String>, path: impl Into<PathBuf>, err: io::Error) -> Error {
        Error::Io {
            op: op.into(),
            path: path.into(),
            err,
        }
    }

    /// True when a broken pipe on stdout caused this: `main` then exits quietly, as
    /// `cacher list | head` should (ripgrep does the same).
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { err, .. } if err.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// A hint for the S3 codes users meet when setting up a bucket (SPEC §1 doctor).
pub fn hint_for(code: &str, status: u16, region: Option<&str>) -> Option<String> {
    let h = match code {
        "AuthorizationHeaderMalformed" => match region {
            Some(r) => format!("the bucket is in region '{r}': set --region {r} (Garage: the s3_region of garage.toml)"),
            None => "wrong region? set --region (Garage wants its s3_region, often 'garage')".into(),
        },
        "SignatureDoesNotMatch" => {
            "the secret does not match the key id: check the secret file (trailing characters?)".into()
        }
        "InvalidAccessKeyId" => "the key id is unknown to this server: check the key file / CACHER_S3_KEY_ID".into(),
        "RequestTimeTooSkewed" => "this machine's clock is off: sync it (NTP)".into(),
        "NoSuchBucket" => "the bucket does not exist: check --bucket (and --endpoint)".into(),
        "AccessDenied" => "the credentials lack a permission on this bucket (needs s3:PutObject, s3:GetObject, s3:ListBucket, s3:DeleteObject)".into(),
        "PermanentRedirect" => "the bucket is in another region or needs another endpoint: set --region/--endpoint".into(),
        "ExpiredToken" => "the session token expired: refresh the credentials".into(),
        _ if status == 403 => "permission denied: check the credentials and the bucket policy".into(),
        _ => return None,
    };
    Some(h)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::Config(m) | Error::Other(m) => f.write_str(m),
            Error::Miss { key } => write!(f, "miss: '{key}' is not in the cache"),
            Error::S3 {
                op,
                key,
                status,
                code,
                message,
                request_id,
                region,
            } => {
                write!(f, "{op}")?;
                if let Some(k) = key {
                    write!(f, " '{k}'")?;
                }
                write!(f, ": HTTP {status}")?;
                if !code.is_empty() {
                    write!(f, " {code}")?;
                }
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                if let Some(id) = request_id {
                    write!(f, " (request id {id})")?;
                }
                if let Some(h) = hint_for(code, *status, region.as_deref()) {
                    write!(f, "; hint: {h}")?;
                }
                Ok(())
            }
            Error::Http { op, url, status } => write!(f, "{op} {url}: HTTP {status}"),
            Error::Network { op, target, detail } => write!(f, "{op} {target}: {detail}"),
            Error::Io { op, path, err } => write!(f, "{op} {}: {err}", path.display()),
            Error::Checksum {
                what,
                expected,
                actual,
            } => {
                write!(
                    f,
                    "{what}: sha256 mismatch (expected {expected}, got {actual})"
                )
            }
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(status: u16, code: &str) -> Error {
        Error::S3 {
            op: "GET",
            key: Some("k".into()),
            status,
            code: code.into(),
            message: String::new(),
            request_id: None,
            region: None,
        }
    }

    #[test]
    fn retryable_follows_spec() {
        for (status, code, want) in [
            (500, "InternalError", true),
            (502, "", true),
            (503, "SlowDown", true),
            (504, "", true),
            (429, "", true),
            (400, "RequestTimeout", true),
            (200, "SlowDown", true),
            (403, "AccessDenied", false),
            (404, "NoSuchKey", false),
            (400, "InvalidArgument", false),
            (403, "SignatureDoesNotMatch", false),
        ] {
            assert_eq!(s3(status, code).is_retryable(), want, "{status} {code}");
        }
        let net = Error::Network {
            op: "GET",
            target: "x".into(),
            detail: "reset".into(),
        };
        assert!(net.is_retryable());
        assert!(!Error::Usage("x".into()).is_retryable());
    }

    #[test]
    fn exit_codes() {
        assert_eq!(Error::Miss { key: "k".into() }.exit_code(), 3);
        assert_eq!(s3(404, "NoSuchKey").exit_code(), 2);
        assert_eq!(Error::Usage("x".into()).exit_code(), 2);
    }

    #[test]
    fn display_names_operation_status_code_and_hint() {
        let e = Error::S3 {
            op: "PUT",
            key: Some("a b".into()),
            status: 400,
            code: "AuthorizationHeaderMalformed".into(),
            message: "region is wrong".into(),
            request_id: Some("R1".into()),
            region: Some("garage".into()),
        };
        let s = e.to_string();
        for part in [
            "PUT 'a b'",
            "HTTP 400",
            "AuthorizationHeaderMalformed",
            "R1",
            "--region garage",
        ] {
            assert!(s.contains(part), "{s:?} lacks {part:?}");
        }
        assert!(!s.contains('\n'));
    }
}
