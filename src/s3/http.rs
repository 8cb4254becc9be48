//! The HTTP side shared by the S3 client and plain URL fetches (`download --url`): building the
//! `ureq::Agent` (rustls, bundled Mozilla roots or a private CA file, an explicit proxy, no
//! status-as-error), turning transport errors into one-line `Error::Network`s, and GETting a
//! URL with redirects followed.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use ureq::tls::{Certificate, RootCerts, TlsConfig};

use crate::error::{Error, Result};

/// One agent per process and purpose. `max_redirects` is 0 for S3 (a redirect from S3 is an
/// error to report, not to follow with a signature made for another host).
pub fn agent(
    ca_file: Option<&Path>,
    proxy: Option<&str>,
    pool: usize,
    max_redirects: u32,
) -> Result<ureq::Agent> {
    let mut tls = TlsConfig::builder();
    if let Some(path) = ca_file {
        // Like curl's --cacert: the file replaces the bundled roots (a private CA setup usually
        // wants exactly its own CA trusted).
        let pem = std::fs::read(path).map_err(|e| Error::io("reading CA file", path, e))?;
        let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            return Err(Error::Config(format!(
                "CA file {} holds no PEM certificate",
                path.display()
            )));
        }
        tls = tls.root_certs(RootCerts::new_with_certs(&certs));
    }
    let proxy =
        match proxy {
            Some(p) => Some(ureq::Proxy::new(p).map_err(|e| {
                Error::Config(format!("bad proxy URL '{}': {e}", redact_userinfo(p)))
            })?),
            None => None,
        };
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls.build())
        .proxy(proxy)
        .max_redirects(max_redirects)
        .max_redirects_will_error(false)
        .max_idle_connections_per_host(pool.max(2))
        .max_idle_connections(pool.max(2) * 2)
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_resolve(Some(Duration::from_secs(10)))
        .timeout_recv_response(Some(Duration::from_secs(120)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .timeout_per_write(Some(Duration::from_secs(60)))
        .user_agent(format!("cacher/{}", env!("CARGO_PKG_VERSION")))
        .build();
    Ok(config.into())
}

fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}<redacted>{}", &url[..s + 3], &url[at..]),
        _ => url.to_string(),
    }
}

/// A transport error as one line: what failed and the cause (TLS errors keep the word
/// "certificate" from rustls, which is what a user greps for).
pub fn network_error(op: &'static str, target: String, e: ureq::Error) -> Error {
    let detail = match &e {
        ureq::Error::Timeout(t) => format!("timed out ({t:?})"),
        ureq::Error::HostNotFound => "host not found".to_string(),
        ureq::Error::ConnectionFailed => "connection failed".to_string(),
        other => {
            let mut s = other.to_string();
            let mut src = std::error::Error::source(other);
            while let Some(inner) = src {
                let t = inner.to_string();
                if !s.contains(&t) {
                    s.push_str(": ");
                    s.push_str(&t);
                }
                src = inner.source();
            }
            s
        }
    };
    let retryable = !matches!(&e, ureq::Error::BadUri(_) | ureq::Error::InvalidProxyUrl)
        && !detail.contains("certificate")
        && !detail.to_ascii_lowercase().contains("tls");
    let detail = match certificate_hint(&detail) {
        Some(hint) => format!("{detail} ({hint})"),
        None => detail,
    };
    if retryable {
        Error::Network { op, target, detail }
    } else {
        Error::Other(format!("{op} {target}: {detail}"))
    }
}

/// What a rustls verification failure means for the user, and what to do about it: rustls
/// names these failures (`UnknownIssuer`…) but not the fix. (A wrong host name or an expired
/// certificate it already explains in words.)
fn certificate_hint(detail: &str) -> Option<&'static str> {
    if !detail.contains("certificate") {
        return None;
    }
    let hints = [
        ("UnknownIssuer", "the certificate is signed by a CA cacher does not trust; for a private CA pass --ca-file or set CACHER_CA_FILE"),
        ("CaUsedAsEndEntity", "the server presents a CA certificate as its own; give it a certificate signed by that CA"),
    ];
    hints
        .iter()
        .find(|(k, _)| detail.contains(k))
        .map(|(_, h)| *h)
}

/// A plain GET of `url` (redirects followed), for `download --url`. Returns the body reader
/// and its length when the server said.
pub fn fetch(agent: &ureq::Agent, url: &str) -> Result<(Box<dyn Read + Send>, Option<u64>)> {
    let resp = agent
        .get(url)
        .call()
        .map_err(|e| network_error("GET", url.to_string(), e))?;
    let status = resp.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(Error::Http {
            op: "GET",
            url: url.to_string(),
            status,
        });
    }
    let len = resp.body().content_length();
    Ok((Box::new(resp.into_body().into_reader()), len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_failures_say_what_to_do() {
        let h = certificate_hint("io: invalid peer certificate: UnknownIssuer").unwrap();
        assert!(h.contains("--ca-file"), "{h}");
        assert_eq!(certificate_hint("connection refused"), None);
    }

    #[test]
    fn proxy_userinfo_is_redacted() {
        assert_eq!(
            redact_userinfo("http://u:pw@proxy:3128"),
            "http://<redacted>@proxy:3128"
        );
        assert_eq!(redact_userinfo("http://proxy:3128"), "http://proxy:3128");
    }
}
