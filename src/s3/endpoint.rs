//! Endpoint URLs and S3 addressing: which host and which raw path a request for (bucket, key)
//! goes to, path-style (`http://host/bucket/key`) or virtual-hosted (`http://bucket.host/key`).
//!
//! Pure. The raw path returned here is encoded exactly once, by `sigv4::encode_path`, and the
//! same string is both signed and sent (SPEC §5).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub https: bool,
    pub host: String,
    /// Only a non-default port is kept, so that the signed `host` header equals what is sent.
    pub port: Option<u16>,
}

impl Endpoint {
    /// Parses `http(s)://host[:port][/]`. A path (other than `/`), a query or user info is an
    /// error: S3 endpoints have none, and silently dropping them would sign the wrong request.
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(format!(
                "endpoint '{url}' must start with http:// or https://"
            ));
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
            return Err(format!(
                "endpoint '{url}' must be scheme://host[:port] with no path, query or user"
            ));
        }
        let (host, port) =
            split_host_port(authority).ok_or_else(|| format!("endpoint '{url}' has a bad port"))?;
        let default = if https { 443 } else { 80 };
        Ok(Endpoint {
            https,
            host: host.to_ascii_lowercase(),
            port: port.filter(|p| *p != default),
        })
    }

    /// AWS's own endpoints get AWS defaults (virtual-hosted addressing, `us-east-1`).
    pub fn is_aws(&self) -> bool {
        self.host == "amazonaws.com" || self.host.ends_with(".amazonaws.com")
    }

    pub fn authority(&self, host_prefix: Option<&str>) -> String {
        let mut s = String::new();
        if let Some(p) = host_prefix {
            s.push_str(p);
            s.push('.');
        }
        s.push_str(&self.host);
        if let Some(p) = self.port {
            s.push(':');
            s.push_str(&p.to_string());
        }
        s
    }

    pub fn scheme(&self) -> &'static str {
        if self.https {
            "https"
        } else {
            "http"
        }
    }
}

fn split_host_port(a: &str) -> Option<(&str, Option<u16>)> {
    // IPv6 literal: [::1]:9000
    if let Some(rest) = a.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &a[..end + 2];
        let after = &rest[end + 1..];
        return match after.strip_prefix(':') {
            Some(p) => Some((host, Some(p.parse().ok()?))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match a.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => Some((h, Some(p.parse().ok()?))),
        Some(_) => None,
        None => Some((a, None)),
    }
}

/// A bucket name that can be a DNS label under the endpoint (and under TLS wildcard
/// certificates, so no dots): what AWS requires for virtual-hosted addressing.
pub fn dns_safe_bucket(b: &str) -> bool {
    (3..=63).contains(&b.len())
        && b.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !b.starts_with('-')
        && !b.ends_with('-')
}

/// Where a request goes: the authority for the URL and the `host` header, and the raw
/// (unencoded) path.
pub fn address(
    ep: &Endpoint,
    bucket: &str,
    path_style: bool,
    object: Option<&str>,
) -> (String, String) {
    let obj = object.unwrap_or("");
    if path_style {
        let path = if object.is_some() {
            format!("/{bucket}/{obj}")
        } else {
            format!("/{bucket}")
        };
        (ep.authority(None), path)
    } else {
        (ep.authority(Some(bucket)), format!("/{obj}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_endpoints() {
        let e = Endpoint::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!(
            (e.https, e.host.as_str(), e.port),
            (false, "127.0.0.1", Some(9000))
        );
        let e = Endpoint::parse("https://S3.example.com:443/").unwrap();
        assert_eq!(
            (e.https, e.host.as_str(), e.port),
            (true, "s3.example.com", None)
        );
        let e = Endpoint::parse("http://[::1]:9000").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("[::1]", Some(9000)));
        assert!(Endpoint::parse("https://s3.us-west-2.amazonaws.com")
            .unwrap()
            .is_aws());
        assert!(!Endpoint::parse("https://garage.example.com")
            .unwrap()
            .is_aws());
        for bad in [
            "s3.example.com",
            "ftp://x",
            "http://",
            "http://h/path",
            "http://h:x",
            "http://u@h",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addressing() {
        let e = Endpoint::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!(
            address(&e, "b", true, Some("p/k")),
            ("127.0.0.1:9000".to_string(), "/b/p/k".to_string())
        );
        assert_eq!(
            address(&e, "b", true, None),
            ("127.0.0.1:9000".to_string(), "/b".to_string())
        );
        let e = Endpoint::parse("https://s3.amazonaws.com").unwrap();
        assert_eq!(
            address(&e, "b", false, Some("k")),
            ("b.s3.amazonaws.com".to_string(), "/k".to_string())
        );
        assert_eq!(address(&e, "b", false, None).1, "/");
    }

    #[test]
    fn dns_safe() {
        assert!(dns_safe_bucket("my-bucket-1"));
        for bad in ["my.bucket", "My", "ab", "-a-", "a_b"] {
            assert!(!dns_safe_bucket(bad), "{bad}");
        }
    }
}
