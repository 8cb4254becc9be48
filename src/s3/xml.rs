//! S3's XML bodies: ListObjectsV2 pages, the CreateMultipartUpload and CompleteMultipartUpload
//! results, `<Error>` documents, and the one body cacher sends (CompleteMultipartUpload). Pure:
//! bytes in, values out.
//!
//! The parser streams the document once and hands every closing element, with its path of
//! local names from the root (`["ListBucketResult", "Contents", "Key"]`) and its own text, to
//! the caller, which picks what it knows by path. So namespaces (present or absent), element
//! order, indentation and unknown elements (Owner, StorageClass, ChecksumCRC32, …) do not
//! matter, and no tree is built whose recursive drop an adversarial depth could overflow.
//!
//! Keys arrive as plain XML text: cacher never asks for `encoding-type` (SPEC §5), because
//! servers disagree on what `encoding-type=url` covers. So text is entity-unescaped and
//! otherwise kept byte-exact — `+`, `%`, spaces, leading and trailing whitespace inside `<Key>`
//! and `<Prefix>` are part of the key. Only fields that are never keys (sizes, codes, tokens,
//! ETags) are trimmed.

use std::fmt;

use quick_xml::events::Event;
use quick_xml::Reader;

/// One `<Contents>` of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectEntry {
    pub key: String,
    pub size: u64,
    /// As sent, e.g. `2009-10-12T17:50:30.000Z`; `timefmt::parse_rfc3339` reads it.
    pub last_modified: String,
    /// Entity-decoded, without the surrounding quotes; `None` when absent or empty (s3s-fs
    /// listings carry no ETag).
    pub etag: Option<String>,
}

/// One ListObjectsV2 page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListPage {
    pub objects: Vec<ObjectEntry>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    pub next_continuation_token: Option<String>,
}

/// An S3 `<Error>` document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    /// Absent in Garage's errors.
    pub request_id: Option<String>,
    /// From `<Region>`: AuthorizationHeaderMalformed says which region the bucket wants, and
    /// Garage names its own.
    pub region: Option<String>,
}

/// What was wrong with a body, in words fit for an error line.
#[derive(Debug, Clone, PartialEq)]
pub struct XmlError(pub String);

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for XmlError {}

/// The answer to CompleteMultipartUpload. S3 can answer `200 OK` and still fail: the body is
/// then an `<Error>` (API reference, CompleteMultipartUpload, "Error specified in body").
#[derive(Debug, Clone, PartialEq)]
pub enum CompleteOutcome {
    Done { etag: Option<String> },
    Error(ErrorBody),
}

/// S3 documents nest four deep at most; a bound keeps a hostile body from growing the stack of
/// open element names without limit.
const MAX_DEPTH: usize = 32;

/// Streams `body`, calling `on_close(path, text)` for every element as it closes, where `path`
/// is the local names from the root down to it and `text` is its own character data (entities
/// and CDATA decoded, whitespace kept). Returns the root element's local name. Reading stops
/// when the root closes, so whatever trails it is ignored.
fn walk(
    body: &[u8],
    mut on_close: impl FnMut(&[&str], String) -> Result<(), XmlError>,
) -> Result<String, XmlError> {
    // AWS may send whitespace before the document while a CompleteMultipartUpload runs, and an
    // XML declaration is only legal at the very start: drop it.
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let mut reader = Reader::from_reader(&body[start..]);
    let config = reader.config_mut();
    // Keys may begin or end with spaces: never trim text.
    config.trim_text(false);
    // `<Prefix/>` and `<Prefix></Prefix>` must read the same.
    config.expand_empty_elements = true;
    config.check_end_names = true;

    let mut names: Vec<String> = Vec::new();
    let mut root: Option<String> = None;
    let mut text = String::new();
    loop {
        let event = reader.read_event().map_err(|e| {
            XmlError(format!(
                "malformed XML at byte {}: {e}",
                start as u64 + reader.error_position()
            ))
        })?;
        match event {
            Event::Start(e) => {
                if names.len() >= MAX_DEPTH {
                    return Err(XmlError(format!(
                        "elements nested more than {MAX_DEPTH} deep"
                    )));
                }
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if root.is_none() {
                    root = Some(name.clone());
                }
                names.push(name);
                text.clear();
            }
            // Text outside the root (whitespace, stray junk) belongs to no element.
            Event::Text(t) if !names.is_empty() => {
                let s = t
                    .unescape()
                    .map_err(|e| XmlError(format!("bad text in <{}>: {e}", path_of(&names))))?;
                text.push_str(&s);
            }
            Event::CData(c) if !names.is_empty() => {
                let s = c
                    .decode()
                    .map_err(|e| XmlError(format!("bad CDATA in <{}>: {e}", path_of(&names))))?;
                text.push_str(&s);
            }
            Event::End(_) => {
                let path: Vec<&str> = names.iter().map(String::as_str).collect();
                on_close(&path, std::mem::take(&mut text))?;
                names.pop();
                if names.is_empty() {
                    break;
                }
            }
            Event::Eof => {
                return Err(XmlError(if root.is_none() {
                    "the body holds no XML element".into()
                } else {
                    format!("the body ended inside <{}>", path_of(&names))
                }));
            }
            // Declarations, comments, processing instructions, DOCTYPE: nothing we read.
            // quick-xml never expands entities a DOCTYPE declares, so they fail in unescape().
            _ => {}
        }
    }
    root.ok_or_else(|| XmlError("the body holds no XML element".into()))
}

fn path_of(names: &[String]) -> String {
    names.join("/")
}

/// The fields of an `<Error>` document, gathered while walking.
#[derive(Default)]
struct ErrorFields(ErrorBody);

impl ErrorFields {
    fn take(&mut self, path: &[&str], text: &str) {
        let v = text.trim();
        match path {
            ["Error", "Code"] => self.0.code = v.to_string(),
            ["Error", "Message"] => self.0.message = v.to_string(),
            ["Error", "RequestId"] => self.0.request_id = non_empty(v),
            ["Error", "Region"] => self.0.region = non_empty(v),
            _ => {}
        }
    }

    /// For a listing or an UploadId that came back as an error document.
    fn unexpected(&self, wanted: &str) -> XmlError {
        XmlError(format!(
            "expected <{wanted}>, got an error document: {}: {}",
            self.0.code, self.0.message
        ))
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// `"abc"` → `abc`. Exactly one pair is removed, and only when both ends carry one, so an
/// odd ETag is reported as it came rather than mangled.
fn strip_quotes(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(s);
    non_empty(s)
}

fn wrong_root(wanted: &str, got: &str) -> XmlError {
    XmlError(format!("expected <{wanted}>, got <{got}>"))
}

/// One `<Contents>` being read.
#[derive(Default)]
struct PartialEntry {
    key: Option<String>,
    size: Option<String>,
    last_modified: String,
    etag: Option<String>,
}

impl PartialEntry {
    fn finish(self) -> Result<ObjectEntry, XmlError> {
        let key = self
            .key
            .ok_or_else(|| XmlError("a <Contents> without a <Key>".into()))?;
        // S3 always sends <Size>; a server that leaves it out gets 0 rather than a failed
        // listing, but a size that is there and unreadable is an error.
        let size = match self.size {
            None => 0,
            Some(s) => s
                .trim()
                .parse()
                .map_err(|_| XmlError(format!("<Size> {s:?} of key {key:?} is not a size")))?,
        };
        Ok(ObjectEntry {
            key,
            size,
            last_modified: self.last_modified,
            etag: self.etag,
        })
    }
}

/// A ListObjectsV2 response (`ListBucketResult`). An `<Error>` document is an error carrying
/// its code and message.
///
/// Keys and common prefixes are returned as the XML text says, entities decoded and nothing
/// else: cacher never sends `encoding-type`, so a server that URL-encodes anyway (SPEC §5)
/// yields its encoded text, not a guessed decoding.
pub fn parse_list_v2(body: &[u8]) -> Result<ListPage, XmlError> {
    const ROOT: &str = "ListBucketResult";
    let mut page = ListPage::default();
    let mut entry = PartialEntry::default();
    let mut error = ErrorFields::default();
    let root = walk(body, |path, text| {
        match path {
            [ROOT, "IsTruncated"] => {
                // A misread flag would silently cut a listing (and a `delete --recursive`)
                // short, so anything but true/false is an error.
                page.is_truncated = match text.trim() {
                    t if t.eq_ignore_ascii_case("true") => true,
                    t if t.eq_ignore_ascii_case("false") => false,
                    t => return Err(XmlError(format!("<IsTruncated> is {t:?}"))),
                }
            }
            // Tokens are opaque base64-like strings; they never carry meaningful whitespace.
            [ROOT, "NextContinuationToken"] => {
                page.next_continuation_token = non_empty(text.trim())
            }
            [ROOT, "Contents", "Key"] => entry.key = Some(text),
            [ROOT, "Contents", "Size"] => entry.size = Some(text),
            [ROOT, "Contents", "LastModified"] => entry.last_modified = text.trim().to_string(),
            [ROOT, "Contents", "ETag"] => entry.etag = strip_quotes(&text),
            [ROOT, "Contents"] => page.objects.push(std::mem::take(&mut entry).finish()?),
            [ROOT, "CommonPrefixes", "Prefix"] => page.common_prefixes.push(text),
            _ => error.take(path, &text),
        }
        Ok(())
    })?;
    match root.as_str() {
        ROOT => Ok(page),
        "Error" => Err(error.unexpected(ROOT)),
        other => Err(wrong_root(ROOT, other)),
    }
}

/// The UploadId of a CreateMultipartUpload response (`InitiateMultipartUploadResult`).
pub fn parse_initiate(body: &[u8]) -> Result<String, XmlError> {
    const ROOT: &str = "InitiateMultipartUploadResult";
    let mut upload_id = None;
    let mut error = ErrorFields::default();
    let root = walk(body, |path, text| {
        match path {
            [ROOT, "UploadId"] => upload_id = non_empty(text.trim()),
            _ => error.take(path, &text),
        }
        Ok(())
    })?;
    match root.as_str() {
        ROOT => upload_id.ok_or_else(|| XmlError(format!("<{ROOT}> without an <UploadId>"))),
        "Error" => Err(error.unexpected(ROOT)),
        other => Err(wrong_root(ROOT, other)),
    }
}

/// A CompleteMultipartUpload response: the result, or the `<Error>` a `200 OK` may carry.
/// A body that is neither (empty, cut short, HTML from a proxy) is an `XmlError`: the upload's
/// fate is unknown, and the caller must not report success.
pub fn parse_complete(body: &[u8]) -> Result<CompleteOutcome, XmlError> {
    const ROOT: &str = "CompleteMultipartUploadResult";
    let mut etag = None;
    let mut error = ErrorFields::default();
    let root = walk(body, |path, text| {
        match path {
            [ROOT, "ETag"] => etag = strip_quotes(&text),
            _ => error.take(path, &text),
        }
        Ok(())
    })?;
    match root.as_str() {
        ROOT => Ok(CompleteOutcome::Done { etag }),
        "Error" => Ok(CompleteOutcome::Error(error.0)),
        other => Err(wrong_root(ROOT, other)),
    }
}

/// The `<Error>` document in a body, whatever the HTTP status; `None` when the body is not one
/// (empty, as HEAD answers are; HTML from a proxy; cut short).
pub fn parse_error(body: &[u8]) -> Option<ErrorBody> {
    let mut error = ErrorFields::default();
    let root = walk(body, |path, text| {
        error.take(path, &text);
        Ok(())
    })
    .ok()?;
    (root == "Error").then_some(error.0)
}

/// The CompleteMultipartUpload request body. `parts` are (part number, ETag exactly as
/// UploadPart returned it, quotes included), in ascending part order as S3 requires; the ETag
/// is XML-escaped, so its quotes go out as `&quot;`, which is what AWS and Garage send too.
pub fn complete_body(parts: &[(u32, String)]) -> String {
    let mut body = String::from(
        r#"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#,
    );
    for (number, etag) in parts {
        body.push_str("<Part><PartNumber>");
        body.push_str(&number.to_string());
        body.push_str("</PartNumber><ETag>");
        body.push_str(&quick_xml::escape::escape(etag.as_str()));
        body.push_str("</ETag></Part>");
    }
    body.push_str("</CompleteMultipartUpload>");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            &include_bytes!(concat!("../../fixtures/s3-xml/", $name))[..]
        };
    }

    fn obj(key: &str, size: u64, last_modified: &str, etag: Option<&str>) -> ObjectEntry {
        ObjectEntry {
            key: key.into(),
            size,
            last_modified: last_modified.into(),
            etag: etag.map(Into::into),
        }
    }

    /// Parses a listing and compares it whole, printing both sides on a mismatch.
    fn check_list(
        body: &[u8],
        objects: &[ObjectEntry],
        prefixes: &[&str],
        truncated: bool,
        token: Option<&str>,
    ) {
        let want = ListPage {
            objects: objects.to_vec(),
            common_prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
            is_truncated: truncated,
            next_continuation_token: token.map(Into::into),
        };
        match parse_list_v2(body) {
            Ok(got) => assert_eq!(got, want, "\nbody: {}", String::from_utf8_lossy(body)),
            Err(e) => panic!("{e}\nbody: {}", String::from_utf8_lossy(body)),
        }
    }

    /// A listing parse that must fail, with `needle` in the message.
    fn check_list_err(body: &[u8], needle: &str) {
        match parse_list_v2(body) {
            Ok(p) => panic!("parsed {p:?}\nbody: {}", String::from_utf8_lossy(body)),
            Err(e) => assert!(e.0.contains(needle), "{e:?} lacks {needle:?}"),
        }
    }

    #[test]
    fn aws_doc_listings() {
        check_list(
            fixture!("aws-doc-ListObjectsV2-ex1-listing-keys.xml"),
            &[obj(
                "my-image.jpg",
                434234,
                "2009-10-12T17:50:30.000Z",
                Some("fba9dede5f27731c9771645a39863328"),
            )],
            &[],
            false,
            None,
        );
        check_list(
            fixture!("aws-doc-ListObjectsV2-ex2-max-keys-prefix-start-after.xml"),
            &[obj(
                "ExampleObject.txt",
                857,
                "2013-09-17T18:07:53.000Z",
                Some("599bab3ed2c697f1d26842727561fd94"),
            )],
            &[],
            false,
            None,
        );
        check_list(
            fixture!("aws-doc-ListObjectsV2-ex3-prefix-delimiter-commonprefixes.xml"),
            &[obj(
                "photos/2006/",
                0,
                "2016-04-30T23:51:29.000Z",
                Some("d41d8cd98f00b204e9800998ecf8427e"),
            )],
            &["photos/2006/February/", "photos/2006/January/"],
            false,
            None,
        );
        check_list(
            fixture!("aws-doc-ListObjectsV2-ex4-continuation-token.xml"),
            &[obj(
                "happyface.jpg",
                11,
                "2014-11-21T19:40:05.000Z",
                Some("70ee1738b6b21e2c8a43f3a5ab0eee71"),
            )],
            &[],
            true,
            Some("1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="),
        );
    }

    #[test]
    fn recorded_and_sdk_listings() {
        check_list(
            fixture!("aws-recorded-ListObjectsV2-truncated-real-s3.xml"),
            &[
                obj(
                    "0431cddc-a418-4a79-a34d-6c041394e8e4/a6ddcc84-8e4d-4c68-885c-2d51168eec97.FPKM-UQ.txt.gz",
                    386910,
                    "2020-01-27T20:56:51.000Z",
                    Some("446fc665f99183cd0540d7656a79d3ed"),
                ),
                obj(
                    "04a0a508-459a-4758-ac40-c3e8cb966683/30520ecd-c6bd-4039-9b1a-d3f999235598.FPKM-UQ.txt.gz",
                    388349,
                    "2020-01-27T20:56:50.000Z",
                    Some("a2c6997aa0c6a9fd697af3e0517d96be"),
                ),
                obj(
                    "0541851c-ac0c-496e-93d2-3c03921fa6bd/c92f3dc4-24ea-457b-b90a-d6d599b14a73.rna_seq.star_gene_counts.tsv.gz",
                    396626,
                    "2020-01-27T20:56:51.000Z",
                    Some("f2c4e159c9b2f4233c4c0c27f4c25472"),
                ),
            ],
            &[],
            true,
            Some("1SL9nYFaimMAwnR9dJnF4M5NMfm3Em6/ClPUVLEH3GOSw5yjeI+wCBLj3THB8DuJSUFhKNy5cGK5QBb/SvE+MKMZurarr0ZhOhQae2SQ8B4QQPkqQHKp9MeJXsYe4UH8/okpqJUZNS2AQt7gXrz7mFdIJXPuSckj02e06tvxZAOkHu7ER4xTJ+odI774K2xB+pcD3H0pqTUt+TebzB83BzA=="),
        );
        // No xmlns, tabs, literal quotes in ETag, an <Owner> inside <Contents>, <Delimiter>
        // after the contents.
        check_list(
            fixture!("aws-sdk-fixture-ListObjectsV2-all-fields.xml"),
            &[
                obj(
                    "ExampleObject.txt",
                    857,
                    "2013-09-17T18:07:53.000Z",
                    Some("599bab3ed2c697f1d26842727561fd94"),
                ),
                obj(
                    "my-image.jpg",
                    434234,
                    "2009-10-12T17:50:30.000Z",
                    Some("fba9dede5f27731c9771645a39863328"),
                ),
            ],
            &["photos/2006/February/", "photos/2006/January/"],
            false,
            Some("Next1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="),
        );
        // A ListObjects v1 body (empty, <Marker>, <EncodingType>url echoed) reads as an empty
        // page.
        check_list(
            fixture!("aws-sdk-fixture-ListObjects-v1-encoding-type-url-echo.xml"),
            &[],
            &[],
            false,
            None,
        );
    }

    #[test]
    fn garage_listing() {
        // Garage sends a NextContinuationToken even when the listing is not truncated; the
        // page reports both as they are (the caller only follows a token when truncated).
        check_list(
            fixture!("garage-ListObjectsV2.xml"),
            &[obj(
                "happyfacex.jpg",
                1111,
                "1970-01-01T00:00:00.000Z",
                Some("70ee1738b6b21e2c8a43f3a5ab0eee71"),
            )],
            &[],
            false,
            Some("qsdfjklm"),
        );
    }

    #[test]
    fn encoding_type_url_listings_come_back_raw() {
        // cacher never sends encoding-type (SPEC §5: servers disagree on what it covers), so
        // nothing is URL-decoded here. These two bodies are what Garage and MinIO would send
        // if it had been asked for; their keys come back exactly as the text says.
        let etags = (
            Some("599bab3ed2c697f1d26842727561fd94"),
            Some("70ee1738b6b21e2c8a43f3a5ab0eee71"),
        );
        let t = "2013-09-17T18:07:53.000Z";
        check_list(
            fixture!("constructed-garage-ListObjectsV2-encoding-type-url.xml"),
            &[
                obj("photos%2F2006%2Fa%20b%2Bc~d%26e.jpg", 857, t, etags.0),
                obj("photos%2F2006%2F%E1%88%B4.txt", 11, t, etags.1),
            ],
            &["photos%2F2006%2FFeb%20ruary%2F"],
            false,
            None,
        );
        // MinIO writes quotes as &#34; (Go's encoding/xml) and puts <EncodingType> last.
        check_list(
            fixture!("constructed-minio-ListObjectsV2-encoding-type-url.xml"),
            &[
                obj("photos/2006/a+b%2Bc%7Ed%26e.jpg", 857, t, etags.0),
                obj("photos/2006/%E1%88%B4.txt", 11, t, etags.1),
            ],
            &["photos/2006/Feb+ruary/"],
            false,
            None,
        );
    }

    /// Escapes a key the way a server's XML writer would.
    fn listing_of(keys: &[&str], pretty: bool) -> String {
        let (nl, ind) = if pretty { ("\n", "  ") } else { ("", "") };
        let mut x = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>{nl}<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{nl}"#
        );
        for k in keys {
            let k = quick_xml::escape::escape(*k);
            x.push_str(&format!(
                "{ind}<Contents>{nl}{ind}{ind}<Key>{k}</Key>{nl}{ind}{ind}<Size>1</Size>{nl}{ind}</Contents>{nl}"
            ));
            x.push_str(&format!(
                "{ind}<CommonPrefixes><Prefix>{k}/</Prefix></CommonPrefixes>{nl}"
            ));
        }
        x.push_str("<IsTruncated>false</IsTruncated></ListBucketResult>");
        x
    }

    #[test]
    fn awkward_keys_come_back_exactly() {
        let keys = [
            "a+b",
            "a%2Bb",
            "100%",
            "%",
            "with space",
            " leading and trailing ",
            "  ",
            "tab\there",
            "x&y",
            "&amp;",
            "a=b==",
            "t~il~de",
            "[b]{c}(d)<e>",
            "\"quoted\" 'single'",
            "ü/日本/😀/ሴ",
            "deep/dir/file.tar.zst",
        ];
        for pretty in [false, true] {
            let body = listing_of(&keys, pretty);
            let want: Vec<ObjectEntry> = keys.iter().map(|k| obj(k, 1, "", None)).collect();
            let prefixes: Vec<String> = keys.iter().map(|k| format!("{k}/")).collect();
            let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
            check_list(body.as_bytes(), &want, &prefixes, false, None);
        }
    }

    #[test]
    fn entities_cdata_and_comments_in_keys() {
        for (key_xml, want) in [
            ("&#x41;&#66;&amp;&quot;&apos;&lt;&gt;", "AB&\"'<>"),
            ("&#x1F600;", "😀"),
            ("<![CDATA[a&b <c>]]>", "a&b <c>"),
            ("a<!-- comment -->b", "ab"),
            ("a+b%2B", "a+b%2B"),
            ("", ""),
        ] {
            let body = format!(
                "<ListBucketResult><Contents><Key>{key_xml}</Key><Size>0</Size></Contents></ListBucketResult>"
            );
            check_list(body.as_bytes(), &[obj(want, 0, "", None)], &[], false, None);
        }
    }

    #[test]
    fn listing_shapes() {
        // Self-closing elements, namespace prefixes, element order, unknown elements nested
        // anywhere, whitespace before the declaration, a BOM.
        let t = "2024-01-02T03:04:05.000Z";
        for body in [
            format!("<ListBucketResult><Contents><Size>5</Size><ETag>\"e\"</ETag><LastModified>{t}</LastModified><Key>k</Key></Contents><IsTruncated>true</IsTruncated><NextContinuationToken>n</NextContinuationToken></ListBucketResult>"),
            format!("<s3:ListBucketResult xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\"><s3:NextContinuationToken>n</s3:NextContinuationToken><s3:IsTruncated>TRUE</s3:IsTruncated><s3:Contents><s3:Key>k</s3:Key><s3:Size>5</s3:Size><s3:LastModified>{t}</s3:LastModified><s3:ETag>&quot;e&quot;</s3:ETag></s3:Contents></s3:ListBucketResult>"),
            format!("  \r\n<?xml version=\"1.0\"?>\n<ListBucketResult><Unknown><Key>not this</Key><Contents><Key>nor this</Key></Contents></Unknown><Contents><Key>k</Key><Owner><ID>x</ID><Key>nor this</Key></Owner><Size> 5\n</Size><LastModified>\n{t}\n</LastModified><ETag> \"e\" </ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm></Contents><IsTruncated>\ntrue\n</IsTruncated><NextContinuationToken>\n n \n</NextContinuationToken></ListBucketResult>"),
            format!("\u{feff}<ListBucketResult><Contents><Key>k</Key><Size>5</Size><LastModified>{t}</LastModified><ETag>e</ETag></Contents><IsTruncated>true</IsTruncated><NextContinuationToken>n</NextContinuationToken></ListBucketResult>trailing <junk"),
        ] {
            check_list(body.as_bytes(), &[obj("k", 5, t, Some("e"))], &[], true, Some("n"));
        }
        // Empty <Prefix/> in CommonPrefixes, empty token, empty ETag, no Size.
        check_list(
            b"<ListBucketResult><CommonPrefixes><Prefix/></CommonPrefixes><Contents><Key>k</Key><ETag/></Contents><NextContinuationToken/></ListBucketResult>",
            &[obj("k", 0, "", None)],
            &[""],
            false,
            None,
        );
    }

    #[test]
    fn bad_listings() {
        for (body, needle) in [
            ("", "no XML element"),
            ("   ", "no XML element"),
            ("not xml at all", "no XML element"),
            ("<ListBucketResult><Contents><Key>k</Key>", "ended inside <ListBucketResult/Contents>"),
            ("<ListBucketResult><Contents></Key></ListBucketResult>", "malformed XML"),
            ("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>", "without a <Key>"),
            ("<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>", "\"-1\" of key \"k\""),
            ("<ListBucketResult><Contents><Key>k</Key><Size>99999999999999999999</Size></Contents></ListBucketResult>", "not a size"),
            ("<ListBucketResult><IsTruncated>yes</IsTruncated></ListBucketResult>", "<IsTruncated> is \"yes\""),
            ("<ListBucketResult><IsTruncated/></ListBucketResult>", "<IsTruncated>"),
            ("<ListBucketResult><Contents><Key>&bogus;</Key></Contents></ListBucketResult>", "bad text in <ListBucketResult/Contents/Key>"),
            ("<ListBucketResult><Contents><Key>&#0;</Key></Contents></ListBucketResult>", "bad text"),
            ("<!DOCTYPE x [<!ENTITY e \"boom\">]><ListBucketResult><Contents><Key>&e;</Key></Contents></ListBucketResult>", "bad text"),
            ("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>", "error document: AccessDenied: Access Denied"),
            ("<html><body>502 Bad Gateway</body></html>", "expected <ListBucketResult>, got <html>"),
            ("<ListAllMyBucketsResult/>", "got <ListAllMyBucketsResult>"),
        ] {
            check_list_err(body.as_bytes(), needle);
        }
        // Invalid UTF-8 inside a key is an error, not a panic.
        check_list_err(
            b"<ListBucketResult><Contents><Key>\xff\xfe</Key></Contents></ListBucketResult>",
            "bad text",
        );
        let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
        check_list_err(deep.as_bytes(), "nested more than");
    }

    #[test]
    fn no_panics_on_cut_bodies() {
        // Every prefix of every fixture: parse errors are fine, panics are not.
        for body in [
            fixture!("aws-sdk-fixture-ListObjectsV2-all-fields.xml"),
            fixture!("aws-recorded-ListObjectsV2-truncated-real-s3.xml"),
            fixture!("constructed-minio-ListObjectsV2-encoding-type-url.xml"),
            fixture!("aws-doc-CompleteMultipartUpload-200-OK-error-in-body.xml"),
        ] {
            for n in 0..body.len() {
                let cut = &body[..n];
                let _ = parse_list_v2(cut);
                let _ = parse_complete(cut);
                let _ = parse_initiate(cut);
                let _ = parse_error(cut);
            }
        }
    }

    fn check_initiate(body: &[u8], want: Result<&str, &str>) {
        match (parse_initiate(body), want) {
            (Ok(got), Ok(w)) => assert_eq!(got, w),
            (Err(e), Err(needle)) => assert!(e.0.contains(needle), "{e:?} lacks {needle:?}"),
            (got, want) => panic!("got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn initiate() {
        check_initiate(
            fixture!("aws-doc-InitiateMultipartUploadResult.xml"),
            Ok("VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"),
        );
        check_initiate(
            fixture!("garage-InitiateMultipartUploadResult.xml"),
            Ok("azerty"),
        );
        check_initiate(
            b"<InitiateMultipartUploadResult><UploadId>\n  a/b+c=  \n</UploadId></InitiateMultipartUploadResult>",
            Ok("a/b+c="),
        );
        check_initiate(
            b"<InitiateMultipartUploadResult><Bucket>b</Bucket></InitiateMultipartUploadResult>",
            Err("without an <UploadId>"),
        );
        check_initiate(
            b"<InitiateMultipartUploadResult><UploadId/></InitiateMultipartUploadResult>",
            Err("without an <UploadId>"),
        );
        check_initiate(
            fixture!("garage-Error.xml"),
            Err("TestError: A dummy error message"),
        );
        check_initiate(b"", Err("no XML element"));
    }

    fn check_complete(body: &[u8], want: Result<CompleteOutcome, &str>) {
        match (parse_complete(body), want) {
            (Ok(got), Ok(w)) => assert_eq!(got, w),
            (Err(e), Err(needle)) => assert!(e.0.contains(needle), "{e:?} lacks {needle:?}"),
            (got, want) => panic!("got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn complete() {
        let done = |e: &str| {
            Ok(CompleteOutcome::Done {
                etag: Some(e.into()),
            })
        };
        check_complete(
            fixture!("aws-doc-CompleteMultipartUploadResult.xml"),
            done("3858f62230ac3c915f300c664312c11f-9"),
        );
        check_complete(
            fixture!("garage-CompleteMultipartUploadResult.xml"),
            done("3858f62230ac3c915f300c664312c11f-9"),
        );
        let internal = ErrorBody {
            code: "InternalError".into(),
            message: "We encountered an internal error. Please try again.".into(),
            request_id: Some("656c76696e6727732072657175657374".into()),
            region: None,
        };
        // 200 OK with an <Error> body (note the blank line after the declaration).
        check_complete(
            fixture!("aws-doc-CompleteMultipartUpload-200-OK-error-in-body.xml"),
            Ok(CompleteOutcome::Error(internal.clone())),
        );
        // The same body as the raw HTTP response carries it.
        let http = fixture!("aws-doc-CompleteMultipartUpload-200-OK-error-in-body.http");
        let head_end = http.windows(2).position(|w| w == b"\n\n").unwrap();
        let body = &http[head_end + 2..];
        check_complete(body, Ok(CompleteOutcome::Error(internal)));
        // AWS keeps the connection alive with whitespace while it assembles the parts.
        let mut padded = b"\n \n \n ".to_vec();
        padded.extend_from_slice(fixture!("garage-CompleteMultipartUploadResult.xml"));
        check_complete(&padded, done("3858f62230ac3c915f300c664312c11f-9"));
        check_complete(
            b"<CompleteMultipartUploadResult/>",
            Ok(CompleteOutcome::Done { etag: None }),
        );
        // Neither a result nor an error: the upload's fate is unknown.
        check_complete(b"", Err("no XML element"));
        check_complete(b"   ", Err("no XML element"));
        check_complete(
            b"<CompleteMultipartUploadResult><ETag>",
            Err("ended inside"),
        );
        check_complete(b"<html/>", Err("got <html>"));
    }

    fn check_error(body: &[u8], want: Option<(&str, &str, Option<&str>, Option<&str>)>) {
        let want = want.map(|(code, message, request_id, region)| ErrorBody {
            code: code.into(),
            message: message.into(),
            request_id: request_id.map(Into::into),
            region: region.map(Into::into),
        });
        assert_eq!(
            parse_error(body),
            want,
            "\nbody: {}",
            String::from_utf8_lossy(body)
        );
    }

    #[test]
    fn errors() {
        check_error(
            fixture!("aws-doc-Error-NoSuchKey.xml"),
            Some((
                "NoSuchKey",
                "The resource you requested does not exist",
                Some("4442587FB7D0A2F9"),
                None,
            )),
        );
        check_error(
            fixture!("aws-sdk-fixture-Error-200-SlowDown.xml"),
            Some((
                "SlowDown",
                "Please reduce your request rate.",
                Some("K2H6N7ZGQT6WHCEG"),
                None,
            )),
        );
        check_error(
            fixture!("aws-sdk-fixture-Error-AuthorizationHeaderMalformed-wrong-region.xml"),
            Some((
                "AuthorizationHeaderMalformed",
                "the region us-west-2 is wrong; expecting eu-central-1",
                Some("BD9AA1730D454E39"),
                Some("eu-central-1"),
            )),
        );
        check_error(
            fixture!("garage-Error.xml"),
            Some(("TestError", "A dummy error message", None, Some("garage"))),
        );
        check_error(
            fixture!("aws-doc-CompleteMultipartUpload-error-in-header-403.xml"),
            Some((
                "AccessDenied",
                "Access Denied",
                Some("656c76696e6727732072657175657374"),
                None,
            )),
        );
        check_error(
            b"<Error><Code>X</Code><Message>a &amp; b</Message><RequestId/><Region> </Region><Type>Server</Type></Error>",
            Some(("X", "a & b", None, None)),
        );
        check_error(
            b"<Error xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Message>m</Message><Code>C</Code></Error>",
            Some(("C", "m", None, None)),
        );
        check_error(b"<Error/>", Some(("", "", None, None)));
        // Not an error document.
        for body in [
            &b""[..],
            b"<html>bad gateway</html>",
            b"<Error><Code>X",
            b"plain text",
            fixture!("garage-ListObjectsV2.xml"),
            fixture!("aws-doc-CompleteMultipartUploadResult.xml"),
        ] {
            check_error(body, None);
        }
    }

    /// (part number, ETag) pairs of a CompleteMultipartUpload request body, in order.
    fn parts_of(body: &[u8]) -> Vec<(String, String)> {
        let mut parts = Vec::new();
        let mut part = (String::new(), String::new());
        let root = walk(body, |path, text| {
            match path {
                ["CompleteMultipartUpload", "Part", "PartNumber"] => part.0 = text.trim().into(),
                ["CompleteMultipartUpload", "Part", "ETag"] => part.1 = text.trim().into(),
                ["CompleteMultipartUpload", "Part"] => parts.push(std::mem::take(&mut part)),
                _ => {}
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(root, "CompleteMultipartUpload");
        parts
    }

    #[test]
    fn complete_body_shape_and_round_trip() {
        assert_eq!(
            complete_body(&[(1, "\"abc\"".into()), (2, "\"d&e<f>'\"".into())]),
            concat!(
                r#"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#,
                "<Part><PartNumber>1</PartNumber><ETag>&quot;abc&quot;</ETag></Part>",
                "<Part><PartNumber>2</PartNumber><ETag>&quot;d&amp;e&lt;f&gt;&apos;&quot;</ETag></Part>",
                "</CompleteMultipartUpload>"
            )
        );
        assert_eq!(
            complete_body(&[]),
            r#"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></CompleteMultipartUpload>"#
        );
        // The AWS documentation's request example, rebuilt from its own parts, reads back the
        // same: same root, same Part/PartNumber/ETag shape and order.
        let doc = parts_of(fixture!("aws-doc-CompleteMultipartUpload-request.xml"));
        assert_eq!(
            doc,
            [
                ("1", "\"a54357aff0632cce46d942af68356b38\""),
                ("2", "\"0c78aef83f66abc1fa1e8477f296d394\""),
                ("3", "\"acbd18db4cc2f85cedef654fccc4a4d8\""),
            ]
            .map(|(n, e)| (n.to_string(), e.to_string()))
        );
        let ours: Vec<(u32, String)> = doc
            .iter()
            .map(|(n, e)| (n.parse().unwrap(), e.clone()))
            .collect();
        assert_eq!(parts_of(complete_body(&ours).as_bytes()), doc);
        // The SDK's body (ETag before PartNumber, extra checksum elements) has the same shape.
        assert_eq!(
            parts_of(fixture!(
                "aws-sdk-fixture-CompleteMultipartUpload-request-with-checksums.xml"
            )),
            [("1", "etag1"), ("2", "etag2")].map(|(n, e)| (n.to_string(), e.to_string()))
        );
        let odd = vec![
            (10_000, "\"x&y\"".to_string()),
            (7, "no-quotes".to_string()),
        ];
        let back: Vec<(u32, String)> = parts_of(complete_body(&odd).as_bytes())
            .into_iter()
            .map(|(n, e)| (n.parse().unwrap(), e))
            .collect();
        assert_eq!(back, odd);
    }
}
