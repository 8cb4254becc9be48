//! S3's XML bodies: ListObjectsV2 pages, CreateMultipartUpload and CompleteMultipartUpload
//! results, `<Error>` documents, and the CompleteMultipartUpload request body. Pure.
//!
//! Bodies are parsed into a small element tree first (they are at most one listing page), then
//! read by element name, ignoring namespaces, element order and unknown elements. Keys arrive
//! as plain XML text — cacher never sends `encoding-type`, because servers disagree on what
//! `encoding-type=url` covers (SPEC §5) — so entities are unescaped and nothing else is
//! touched: `+`, `%`, spaces and leading/trailing whitespace inside `<Key>` are kept exactly.

use quick_xml::events::Event;
use quick_xml::Reader;

#[derive(Debug, Clone, PartialEq)]
pub struct ObjectEntry {
    pub key: String,
    pub size: u64,
    /// As sent, e.g. `2009-10-12T17:50:30.000Z`.
    pub last_modified: String,
    /// Without the surrounding quotes.
    pub etag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListPage {
    pub objects: Vec<ObjectEntry>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    pub next_continuation_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    /// From `<Region>` (AuthorizationHeaderMalformed says which region the bucket wants).
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct XmlError(pub String);

#[derive(Debug, Clone, PartialEq)]
pub enum CompleteOutcome {
    Done { etag: Option<String> },
    Error(ErrorBody),
}

#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.clone())
    }
}

fn local(name: &[u8]) -> String {
    let n = match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    };
    String::from_utf8_lossy(n).into_owned()
}

/// Parses a document into its root element.
fn tree(body: &[u8]) -> Result<Node, XmlError> {
    let mut reader = Reader::from_reader(body);
    // Keep whitespace inside text exactly: keys may begin or end with spaces.
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Node> = Vec::new();
    let mut buf = Vec::new();
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| XmlError(format!("at byte {}: {e}", reader.buffer_position())))?;
        match ev {
            Event::Start(s) => stack.push(Node {
                name: local(s.name().as_ref()),
                ..Node::default()
            }),
            Event::Empty(s) => {
                let n = Node {
                    name: local(s.name().as_ref()),
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None => return Ok(n),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let s = t
                        .unescape()
                        .map_err(|e| XmlError(format!("bad text: {e}")))?;
                    top.text.push_str(&s);
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&c.into_inner()));
                }
            }
            Event::End(_) => {
                let done = stack
                    .pop()
                    .ok_or_else(|| XmlError("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(p) => p.children.push(done),
                    None => return Ok(done),
                }
            }
            Event::Eof => {
                return Err(XmlError(
                    "the document ended before its root element closed".into(),
                ))
            }
            _ => {}
        }
        buf.clear();
    }
}

fn strip_quotes(s: &str) -> String {
    s.trim().trim_matches('"').to_string()
}

fn error_from(root: &Node) -> ErrorBody {
    ErrorBody {
        code: root.text_of("Code").unwrap_or_default().trim().to_string(),
        message: root
            .text_of("Message")
            .unwrap_or_default()
            .trim()
            .to_string(),
        request_id: root
            .text_of("RequestId")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        region: root
            .text_of("Region")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
    }
}

pub fn parse_list_v2(body: &[u8]) -> Result<ListPage, XmlError> {
    let root = tree(body)?;
    if root.name == "Error" {
        let e = error_from(&root);
        return Err(XmlError(format!(
            "an error document instead of a listing: {} {}",
            e.code, e.message
        )));
    }
    if root.name != "ListBucketResult" {
        return Err(XmlError(format!(
            "expected <ListBucketResult>, found <{}>",
            root.name
        )));
    }
    let mut page = ListPage {
        is_truncated: root
            .text_of("IsTruncated")
            .is_some_and(|t| t.trim() == "true"),
        next_continuation_token: root
            .text_of("NextContinuationToken")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
        ..ListPage::default()
    };
    for c in root.all("Contents") {
        let key = c
            .text_of("Key")
            .ok_or_else(|| XmlError("<Contents> without <Key>".into()))?;
        let size = match c.text_of("Size") {
            Some(s) => s
                .trim()
                .parse()
                .map_err(|_| XmlError(format!("bad <Size> {s:?} for {key:?}")))?,
            None => 0,
        };
        page.objects.push(ObjectEntry {
            key,
            size,
            last_modified: c
                .text_of("LastModified")
                .unwrap_or_default()
                .trim()
                .to_string(),
            etag: c
                .text_of("ETag")
                .map(|e| strip_quotes(&e))
                .filter(|e| !e.is_empty()),
        });
    }
    for p in root.all("CommonPrefixes") {
        for pre in p.all("Prefix") {
            page.common_prefixes.push(pre.text.clone());
        }
    }
    Ok(page)
}

pub fn parse_initiate(body: &[u8]) -> Result<String, XmlError> {
    let root = tree(body)?;
    root.text_of("UploadId")
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| XmlError(format!("<{}> without an <UploadId>", root.name)))
}

/// A 200 answer to CompleteMultipartUpload may still carry `<Error>` (S3 API reference).
pub fn parse_complete(body: &[u8]) -> Result<CompleteOutcome, XmlError> {
    let root = tree(body)?;
    match root.name.as_str() {
        "Error" => Ok(CompleteOutcome::Error(error_from(&root))),
        "CompleteMultipartUploadResult" => Ok(CompleteOutcome::Done {
            etag: root.text_of("ETag").map(|e| strip_quotes(&e)),
        }),
        other => Err(XmlError(format!(
            "expected <CompleteMultipartUploadResult>, found <{other}>"
        ))),
    }
}

/// `None` when the body is not an `<Error>` document (empty, HTML from a proxy, …).
pub fn parse_error(body: &[u8]) -> Option<ErrorBody> {
    let root = tree(body).ok()?;
    (root.name == "Error").then(|| error_from(&root))
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The CompleteMultipartUpload request body; ETags as the server returned them.
pub fn complete_body(parts: &[(u32, String)]) -> String {
    let mut s =
        String::from("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (n, etag) in parts {
        s.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{}</ETag></Part>",
            escape(etag)
        ));
    }
    s.push_str("</CompleteMultipartUpload>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_bytes!(concat!("../../fixtures/s3-xml/", $name))
        };
    }

    #[test]
    fn aws_doc_listings() {
        let p = parse_list_v2(fixture!("aws-doc-ListObjectsV2-ex1-listing-keys.xml")).unwrap();
        assert!(!p.objects.is_empty());
        assert!(p
            .objects
            .iter()
            .all(|o| !o.key.is_empty() && !o.last_modified.is_empty()));
        assert!(p
            .objects
            .iter()
            .all(|o| o.etag.as_deref().is_some_and(|e| !e.contains('"'))));

        let p = parse_list_v2(fixture!(
            "aws-doc-ListObjectsV2-ex3-prefix-delimiter-commonprefixes.xml"
        ))
        .unwrap();
        assert!(!p.common_prefixes.is_empty());

        let p =
            parse_list_v2(fixture!("aws-doc-ListObjectsV2-ex4-continuation-token.xml")).unwrap();
        assert!(p.next_continuation_token.is_some() || !p.is_truncated);

        for f in [
            &fixture!("aws-doc-ListObjectsV2-ex2-max-keys-prefix-start-after.xml")[..],
            &fixture!("aws-sdk-fixture-ListObjectsV2-all-fields.xml")[..],
            &fixture!("constructed-garage-ListObjectsV2-encoding-type-url.xml")[..],
            &fixture!("constructed-minio-ListObjectsV2-encoding-type-url.xml")[..],
        ] {
            parse_list_v2(f).unwrap();
        }
    }

    #[test]
    fn recorded_truncated_listing() {
        let p =
            parse_list_v2(fixture!("aws-recorded-ListObjectsV2-truncated-real-s3.xml")).unwrap();
        assert!(p.is_truncated);
        assert!(p
            .next_continuation_token
            .as_deref()
            .is_some_and(|t| t.len() > 20));
        assert_eq!(p.objects.len(), 3);
    }

    #[test]
    fn garage_listing() {
        let p = parse_list_v2(fixture!("garage-ListObjectsV2.xml")).unwrap();
        assert_eq!(
            p.objects,
            vec![ObjectEntry {
                key: "happyfacex.jpg".into(),
                size: 1111,
                last_modified: "1970-01-01T00:00:00.000Z".into(),
                etag: Some("70ee1738b6b21e2c8a43f3a5ab0eee71".into()),
            }]
        );
        assert!(!p.is_truncated);
    }

    #[test]
    fn all_fields_fixture_has_two_common_prefixes() {
        let p = parse_list_v2(fixture!("aws-sdk-fixture-ListObjectsV2-all-fields.xml")).unwrap();
        assert_eq!(p.common_prefixes.len(), 2, "{p:?}");
    }

    #[test]
    fn encoding_type_url_keys_are_returned_raw() {
        // We never ask for encoding-type (SPEC §5); if a server encodes anyway, the text is
        // returned as it is, not decoded.
        let p = parse_list_v2(fixture!(
            "constructed-minio-ListObjectsV2-encoding-type-url.xml"
        ))
        .unwrap();
        assert!(
            p.objects
                .iter()
                .any(|o| o.key.contains('%') || o.key.contains('+')),
            "{p:?}"
        );
    }

    #[test]
    fn awkward_keys_exactly() {
        let keys = [
            " lead and trail ",
            "a+b",
            "a%2Bb",
            "100%",
            "x&y",
            "a=b",
            "t~",
            "[b](c)",
            "ü日本😀",
            "a<b>",
        ];
        let mut xml = String::from("<?xml version=\"1.0\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n  <IsTruncated>false</IsTruncated>\n");
        for k in keys {
            xml.push_str(&format!(
                "  <Contents>\n    <Key>{}</Key>\n    <Size>1</Size>\n  </Contents>\n",
                escape(k)
            ));
        }
        xml.push_str("  <CommonPrefixes><Prefix>dir with space/</Prefix></CommonPrefixes>\n</ListBucketResult>");
        let p = parse_list_v2(xml.as_bytes()).unwrap();
        let got: Vec<&str> = p.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(got, keys);
        assert_eq!(p.common_prefixes, vec!["dir with space/"]);
        // numeric character references too
        let p = parse_list_v2(b"<ListBucketResult><Contents><Key>&#x41;&#66;&amp;&quot;</Key></Contents></ListBucketResult>").unwrap();
        assert_eq!(p.objects[0].key, "AB&\"");
    }

    #[test]
    fn initiate() {
        assert!(
            !parse_initiate(fixture!("aws-doc-InitiateMultipartUploadResult.xml"))
                .unwrap()
                .is_empty()
        );
        assert!(
            !parse_initiate(fixture!("garage-InitiateMultipartUploadResult.xml"))
                .unwrap()
                .is_empty()
        );
        assert!(
            parse_initiate(b"<InitiateMultipartUploadResult></InitiateMultipartUploadResult>")
                .is_err()
        );
    }

    #[test]
    fn complete() {
        assert!(matches!(
            parse_complete(fixture!("aws-doc-CompleteMultipartUploadResult.xml")).unwrap(),
            CompleteOutcome::Done { etag: Some(_) }
        ));
        assert!(matches!(
            parse_complete(fixture!("garage-CompleteMultipartUploadResult.xml")).unwrap(),
            CompleteOutcome::Done { .. }
        ));
        match parse_complete(fixture!(
            "aws-doc-CompleteMultipartUpload-200-OK-error-in-body.xml"
        ))
        .unwrap()
        {
            CompleteOutcome::Error(e) => {
                assert_eq!(e.code, "InternalError");
                assert_eq!(
                    e.request_id.as_deref(),
                    Some("656c76696e6727732072657175657374")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors() {
        let e = parse_error(fixture!("aws-doc-Error-NoSuchKey.xml")).unwrap();
        assert_eq!(e.code, "NoSuchKey");
        let e = parse_error(fixture!("aws-sdk-fixture-Error-200-SlowDown.xml")).unwrap();
        assert_eq!(e.code, "SlowDown");
        let e = parse_error(fixture!(
            "aws-sdk-fixture-Error-AuthorizationHeaderMalformed-wrong-region.xml"
        ))
        .unwrap();
        assert_eq!(
            (e.code.as_str(), e.region.as_deref()),
            ("AuthorizationHeaderMalformed", Some("eu-central-1"))
        );
        assert!(!parse_error(fixture!("garage-Error.xml"))
            .unwrap()
            .code
            .is_empty());
        assert!(parse_error(fixture!(
            "aws-doc-CompleteMultipartUpload-error-in-header-403.xml"
        ))
        .is_some());
        assert_eq!(parse_error(b""), None);
        assert_eq!(parse_error(b"<html>bad gateway</html>"), None);
        assert_eq!(parse_error(b"<Error><Code>X"), None);
        assert!(parse_list_v2(b"<Error><Code>AccessDenied</Code></Error>")
            .unwrap_err()
            .0
            .contains("AccessDenied"));
    }

    #[test]
    fn complete_body_shape_and_round_trip() {
        let b = complete_body(&[(1, "\"abc\"".into()), (2, "\"d&e\"".into())]);
        assert_eq!(
            b,
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Part><PartNumber>1</PartNumber><ETag>&quot;abc&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;d&amp;e&quot;</ETag></Part></CompleteMultipartUpload>"
        );
        let root = tree(b.as_bytes()).unwrap();
        let parts: Vec<(String, String)> = root
            .all("Part")
            .map(|p| (p.text_of("PartNumber").unwrap(), p.text_of("ETag").unwrap()))
            .collect();
        assert_eq!(
            parts,
            vec![
                ("1".into(), "\"abc\"".into()),
                ("2".into(), "\"d&e\"".into())
            ]
        );
        // same element names as the AWS documentation's request example
        let doc = tree(fixture!("aws-doc-CompleteMultipartUpload-request.xml")).unwrap();
        assert_eq!(doc.name, root.name);
        assert!(doc
            .all("Part")
            .all(|p| p.child("PartNumber").is_some() && p.child("ETag").is_some()));
    }
}
