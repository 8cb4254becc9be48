//! The canonical request of SigV4 under S3's rules: URI encoding (each byte outside the RFC 3986
//! unreserved set as `%XX`, once; `/` kept in paths), the path never normalised (S3 keys may
//! hold `//`, `.` and `..` segments, and S3 signs them as sent), the sorted canonical query, and
//! canonical headers (lowercase names, trimmed values, inner whitespace runs collapsed,
//! repeated names joined with `,`).
//!
//! See <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>.

use std::fmt::Write;

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `%XX`-encodes every byte of `s` (as UTF-8) except the unreserved ones, and `/` when
/// `encode_slash` is false.
pub fn uri_encode(s: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for &b in s.as_bytes() {
        if unreserved(b) || (b == b'/' && !encode_slash) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Keys and values encoded, sorted by encoded key then encoded value, `k=` for empty values.
pub fn canonical_query(pairs: &[(&str, &str)]) -> String {
    let mut enc: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (uri_encode(k, true), uri_encode(v, true)))
        .collect();
    enc.sort();
    let mut out = String::new();
    for (i, (k, v)) in enc.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// A header value as SigV4 wants it: trimmed, runs of whitespace (including the line breaks of
/// folded multi-line values) collapsed to one space.
fn canonical_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// (canonical header block with trailing newline per header, signed-headers list).
pub fn canonical_headers(headers: &[(&str, &str)]) -> (String, String) {
    let mut named: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (k, v) in headers {
        let name = k.trim().to_ascii_lowercase();
        let value = canonical_value(v);
        // Repeated names are joined with ',' in the order given.
        match named.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            None => named.push((name, value)),
        }
    }
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let mut block = String::new();
    let mut signed = String::new();
    for (i, (n, v)) in named.iter().enumerate() {
        block.push_str(n);
        block.push(':');
        block.push_str(v);
        block.push('\n');
        if i > 0 {
            signed.push(';');
        }
        signed.push_str(n);
    }
    (block, signed)
}

/// The six lines of the canonical request.
pub fn canonical_request(
    method: &str,
    raw_path: &str,
    query: &str,
    headers_block: &str,
    signed_headers: &str,
    payload_hash: &str,
) -> String {
    let path = if raw_path.is_empty() {
        "/".to_string()
    } else {
        uri_encode(raw_path, false)
    };
    format!("{method}\n{path}\n{query}\n{headers_block}\n{signed_headers}\n{payload_hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding() {
        for (raw, slash, want) in [
            ("/b/a b+c%/./x", false, "/b/a%20b%2Bc%25/./x"),
            ("a/b", true, "a%2Fb"),
            ("~-._AZaz09", true, "~-._AZaz09"),
            ("ü", true, "%C3%BC"),
            ("=&", true, "%3D%26"),
            ("//x/../y", false, "//x/../y"),
        ] {
            assert_eq!(uri_encode(raw, slash), want, "{raw}");
        }
    }

    #[test]
    fn query_is_sorted_and_encoded() {
        let q = canonical_query(&[("prefix", "a b/c+d"), ("list-type", "2"), ("uploads", "")]);
        assert_eq!(q, "list-type=2&prefix=a%20b%2Fc%2Bd&uploads=");
    }

    #[test]
    fn headers_are_canonical() {
        let (block, signed) = canonical_headers(&[
            ("Host", "example.com"),
            ("My-Header1", "  a   b \n   c "),
            ("my-header1", "d"),
        ]);
        assert_eq!(block, "host:example.com\nmy-header1:a b c,d\n");
        assert_eq!(signed, "host;my-header1");
    }
}
