//! The canonical request of SigV4 under S3's rules: URI encoding (every byte outside the RFC 3986
//! unreserved set becomes `%XX`, exactly once), the path never normalised, the sorted canonical
//! query, and canonical headers (lowercase names, trimmed values, inner whitespace runs
//! collapsed, repeated names joined with `,`). Pure string work; nothing here knows about keys,
//! time or HMAC.
//!
//! The generic rules are in <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>;
//! S3's deviations (no path normalisation, no double encoding) are in
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html>.

/// RFC 3986 unreserved characters: the only bytes SigV4 leaves unencoded.
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `%XX`-encodes (uppercase hex) every byte of `s`'s UTF-8 except `A-Za-z0-9-._~`, and except `/`
/// when `encode_slash` is false (paths). This is S3's `UriEncode()`; note it encodes space as
/// `%20`, never `+`, and `+` itself as `%2B` (a `+` left raw is read as a space by S3).
pub fn uri_encode(s: &str, encode_slash: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    for &b in s.as_bytes() {
        if unreserved(b) || (b == b'/' && !encode_slash) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

/// The canonical URI, which is also exactly what goes on the wire.
///
/// Encoded once and never normalised: S3 object keys may legitimately contain `//`, `.` and `..`
/// segments, and S3 computes the signature over the path as received, so removing dot segments
/// (as the generic AWS rules do) would both change the key and break the signature. A path that
/// does not start with `/` gets one, since that is what any HTTP server will see.
pub fn encode_path(raw_path: &str) -> String {
    let encoded = uri_encode(raw_path, false);
    if encoded.starts_with('/') {
        encoded
    } else {
        format!("/{encoded}")
    }
}

/// Keys and values encoded (`/` too), sorted by encoded key then encoded value, `k=` for empty
/// values, joined with `&`. The same string is what the client sends after `?`, so the wire
/// query and the signed query can never differ.
pub fn canonical_query(pairs: &[(&str, &str)]) -> String {
    let mut enc: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (uri_encode(k, true), uri_encode(v, true)))
        .collect();
    // Sort the encoded forms, as the spec says: the order can differ from the raw one
    // (`é` sorts after `~` raw, but `%C3%A9` sorts before `~`).
    enc.sort_unstable();
    let mut out = String::with_capacity(enc.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
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

/// A header value as SigV4 wants it: trimmed, every run of ASCII whitespace inside collapsed to
/// one space. Line breaks count as whitespace, which is how an obs-folded multi-line value
/// (`a\n  b`) becomes `a b`. Only ASCII whitespace: servers canonicalise bytes, not Unicode.
fn push_canonical_value(out: &mut String, v: &str) {
    let mut first = true;
    for word in v.split(|c: char| c.is_ascii_whitespace()) {
        if word.is_empty() {
            continue;
        }
        if !first {
            out.push(' ');
        }
        out.push_str(word);
        first = false;
    }
}

/// The canonical headers block (`name:value\n` per distinct name, sorted by name) and the
/// signed-headers list (`a;b;c`). Repeated names are joined with `,` in the order given.
pub fn canonical_headers(headers: &[(&str, &str)]) -> (String, String) {
    let mut named: Vec<(String, &str)> = headers
        .iter()
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), *v))
        .collect();
    // Stable sort: values of a repeated name keep the caller's order.
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let mut block = String::with_capacity(headers.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    let mut signed = String::new();
    let mut prev: Option<&str> = None;
    for (name, value) in &named {
        if prev == Some(name.as_str()) {
            block.push(',');
        } else {
            if prev.is_some() {
                block.push('\n');
                signed.push(';');
            }
            block.push_str(name);
            block.push(':');
            signed.push_str(name);
        }
        push_canonical_value(&mut block, value);
        prev = Some(name.as_str());
    }
    if prev.is_some() {
        block.push('\n');
    }
    (block, signed)
}

/// The six lines of the canonical request. `encoded_path` is the output of [`encode_path`].
pub fn canonical_request(
    method: &str,
    encoded_path: &str,
    query: &str,
    headers_block: &str,
    signed_headers: &str,
    payload_hash: &str,
) -> String {
    format!("{method}\n{encoded_path}\n{query}\n{headers_block}\n{signed_headers}\n{payload_hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_encoding() {
        for (raw, slash, want) in [
            ("/b/a b+c%/./x", false, "/b/a%20b%2Bc%25/./x"),
            ("a/b", true, "a%2Fb"),
            ("~-._AZaz09", true, "~-._AZaz09"),
            ("ü", true, "%C3%BC"),
            ("=&?#", true, "%3D%26%3F%23"),
            ("//x/../y", false, "//x/../y"),
            ("", true, ""),
        ] {
            assert_eq!(uri_encode(raw, slash), want, "{raw:?}");
        }
    }

    #[test]
    fn paths_are_encoded_once_and_never_normalised() {
        for (raw, want) in [
            ("/b/a b+c%/./x", "/b/a%20b%2Bc%25/./x"),
            ("/b/k=1&j~2", "/b/k%3D1%26j~2"),
            ("/b/ü/ä", "/b/%C3%BC/%C3%A4"),
            ("/b//x/../y/.", "/b//x/../y/."),
            ("/b/already%20encoded", "/b/already%2520encoded"),
            ("", "/"),
            ("b/k", "/b/k"),
        ] {
            assert_eq!(encode_path(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn query_is_sorted_and_encoded() {
        let q = canonical_query(&[
            ("prefix", "a b/c+d=e"),
            ("list-type", "2"),
            ("uploads", ""),
            ("k", "2"),
            ("k", "1"),
        ]);
        assert_eq!(q, "k=1&k=2&list-type=2&prefix=a%20b%2Fc%2Bd%3De&uploads=");
        assert_eq!(canonical_query(&[]), "");
    }

    #[test]
    fn headers_are_canonical() {
        let (block, signed) = canonical_headers(&[
            ("Host", "example.com"),
            ("My-Header1", "  a   b \n   c\t"),
            ("x-z", ""),
            ("my-header1", "d"),
            ("A", "\"q   q\""),
        ]);
        assert_eq!(
            block,
            "a:\"q q\"\nhost:example.com\nmy-header1:a b c,d\nx-z:\n"
        );
        assert_eq!(signed, "a;host;my-header1;x-z");
        assert_eq!(canonical_headers(&[]), (String::new(), String::new()));
    }
}
