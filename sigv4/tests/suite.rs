//! The official AWS SigV4 test suite (fixtures/sigv4/v4), run through the signer with S3's
//! rules: one runner reads a case directory and checks each step (canonical request, string to
//! sign, signature) with its own message; one `#[test]` per case and form.
//!
//! The 6 cases that need path normalisation are ignored (S3 never normalises), and a test
//! checks that list against `s3-applicability.json`. `SIGV4_EXTRA_CASES=DIR` runs every case
//! directory under DIR through the same runner, so vectors can be added without code changes.

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use sha2::{Digest, Sha256};

#[derive(Clone, Copy, Debug)]
enum Form {
    Header,
    Query,
}

struct Parsed {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// request.txt: request line, headers (folded continuation lines start with whitespace;
/// repeated names stay separate), a blank line, the body.
fn parse_request(text: &str) -> Parsed {
    let (head, body) = match text.split_once("\n\n") {
        Some((h, b)) => (h, b.as_bytes().to_vec()),
        None => (text, Vec::new()),
    };
    let mut lines = head.lines();
    let first = lines.next().expect("request line");
    let method = first.split(' ').next().unwrap().to_string();
    // The target may hold spaces (get-space-*): everything between the method and " HTTP/".
    let target = &first[method.len() + 1..first.rfind(" HTTP/").expect("HTTP version")];
    let (path, q) = target.split_once('?').unwrap_or((target, ""));
    let query = q
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect();
    let mut headers: Vec<(String, String)> = Vec::new();
    for l in lines {
        if l.starts_with(' ') || l.starts_with('\t') {
            let last = headers.last_mut().expect("continuation after a header");
            last.1.push('\n');
            last.1.push_str(l);
        } else {
            let (k, v) = l.split_once(':').expect("header line");
            headers.push((k.to_string(), v.to_string()));
        }
    }
    Parsed {
        method,
        path: path.to_string(),
        query,
        headers,
        body,
    }
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

fn check_step(case: &Path, form: Form, step: &str, got: &str, want: &str) -> Result<(), String> {
    if got.trim_end() == want.trim_end() {
        Ok(())
    } else {
        Err(format!(
            "{} ({form:?}): {step} differs\n--- expected\n{}\n--- got\n{}\n",
            case.display(),
            want.trim_end(),
            got.trim_end()
        ))
    }
}

fn run_case(dir: &Path, form: Form) -> Result<(), String> {
    let ctx: serde_json::Value = serde_json::from_str(&read(dir, "context.json"))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let c = &ctx["credentials"];
    let omit_token = ctx["omit_session_token"].as_bool().unwrap_or(false);
    let creds = sigv4::Credentials {
        access_key_id: c["access_key_id"].as_str().unwrap_or_default().into(),
        secret_access_key: c["secret_access_key"].as_str().unwrap_or_default().into(),
        // omit_session_token: the token is added after signing, so it is not signed.
        session_token: c["token"]
            .as_str()
            .filter(|_| !omit_token)
            .map(str::to_string),
    };
    let ts = ctx["timestamp"].as_str().unwrap_or_default();
    // The suite uses one instant; parse "YYYY-MM-DDTHH:MM:SSZ" by hand (no date crate).
    let n = |a: usize, b: usize| ts[a..b].parse::<u64>().unwrap();
    let (y, mo, d, h, mi, s) = (n(0, 4), n(5, 7), n(8, 10), n(11, 13), n(14, 16), n(17, 19));
    let days_before_month =
        [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334][(mo - 1) as usize];
    let leap = |y: u64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut days = (1970..y)
        .map(|yy| if leap(yy) { 366 } else { 365 })
        .sum::<u64>()
        + days_before_month
        + d
        - 1;
    if mo > 2 && leap(y) {
        days += 1;
    }
    let time = UNIX_EPOCH + Duration::from_secs(days * 86400 + h * 3600 + mi * 60 + s);

    let req = parse_request(&read(dir, "request.txt"));
    let payload_hash = hex::encode(Sha256::digest(&req.body));
    let query: Vec<(&str, &str)> = req
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let request = sigv4::Request {
        method: &req.method,
        path: &req.path,
        query: &query,
        headers: &headers,
        payload_hash: &payload_hash,
    };
    let params = sigv4::Params {
        credentials: &creds,
        region: ctx["region"].as_str().unwrap_or_default(),
        service: ctx["service"].as_str().unwrap_or_default(),
        time,
        content_sha256_header: ctx["sign_body"].as_bool().unwrap_or(false),
    };
    let expires = ctx["expiration_in_seconds"].as_u64().unwrap_or(3600);
    let (prefix, creq, sts, sig) = match form {
        Form::Header => {
            let s = sigv4::sign(&request, &params);
            ("header", s.canonical_request, s.string_to_sign, s.signature)
        }
        Form::Query => {
            let params = sigv4::Params {
                content_sha256_header: false,
                ..params
            };
            let s = sigv4::presign(&request, &params, expires);
            ("query", s.canonical_request, s.string_to_sign, s.signature)
        }
    };
    check_step(
        dir,
        form,
        "canonical request",
        &creq,
        &read(dir, &format!("{prefix}-canonical-request.txt")),
    )?;
    check_step(
        dir,
        form,
        "string to sign",
        &sts,
        &read(dir, &format!("{prefix}-string-to-sign.txt")),
    )?;
    check_step(
        dir,
        form,
        "signature",
        &sig,
        &read(dir, &format!("{prefix}-signature.txt")),
    )
}

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sigv4/v4")
}

macro_rules! cases {
    ($($(#[$attr:meta])* $name:ident => $dir:literal;)*) => {
        mod header {
            $( $(#[$attr])* #[test] fn $name() { if let Err(e) = super::run_case(&super::suite_dir().join($dir), super::Form::Header) { panic!("{e}") } } )*
        }
        mod query {
            $( $(#[$attr])* #[test] fn $name() { if let Err(e) = super::run_case(&super::suite_dir().join($dir), super::Form::Query) { panic!("{e}") } } )*
        }
        const ALL: &[&str] = &[$($dir),*];
    };
}

cases! {
    get_header_key_duplicate => "get-header-key-duplicate";
    get_header_value_multiline => "get-header-value-multiline";
    get_header_value_order => "get-header-value-order";
    get_header_value_trim => "get-header-value-trim";
    #[ignore = "S3 never normalises paths: expects /example/.. collapsed to /"]
    get_relative_normalized => "get-relative-normalized";
    #[ignore = "S3 never normalises paths: expects /example1/example2/../.. collapsed to /"]
    get_relative_relative_normalized => "get-relative-relative-normalized";
    get_relative_relative_unnormalized => "get-relative-relative-unnormalized";
    get_relative_unnormalized => "get-relative-unnormalized";
    #[ignore = "S3 never normalises paths: expects /./ removed"]
    get_slash_dot_slash_normalized => "get-slash-dot-slash-normalized";
    get_slash_dot_slash_unnormalized => "get-slash-dot-slash-unnormalized";
    #[ignore = "S3 never normalises paths: expects // merged into /"]
    get_slash_normalized => "get-slash-normalized";
    #[ignore = "S3 never normalises paths: expects /./ segments removed"]
    get_slash_pointless_dot_normalized => "get-slash-pointless-dot-normalized";
    get_slash_pointless_dot_unnormalized => "get-slash-pointless-dot-unnormalized";
    get_slash_unnormalized => "get-slash-unnormalized";
    #[ignore = "S3 never normalises paths: expects runs of slashes merged"]
    get_slashes_normalized => "get-slashes-normalized";
    get_slashes_unnormalized => "get-slashes-unnormalized";
    get_space_normalized => "get-space-normalized";
    get_space_unnormalized => "get-space-unnormalized";
    get_unreserved => "get-unreserved";
    get_utf8 => "get-utf8";
    get_vanilla => "get-vanilla";
    get_vanilla_empty_query_key => "get-vanilla-empty-query-key";
    get_vanilla_query => "get-vanilla-query";
    get_vanilla_query_order_encoded => "get-vanilla-query-order-encoded";
    get_vanilla_query_order_key_case => "get-vanilla-query-order-key-case";
    get_vanilla_query_unreserved => "get-vanilla-query-unreserved";
    get_vanilla_utf8_query => "get-vanilla-utf8-query";
    get_vanilla_with_session_token => "get-vanilla-with-session-token";
    post_header_key_case => "post-header-key-case";
    post_header_key_sort => "post-header-key-sort";
    post_header_value_case => "post-header-value-case";
    post_sts_header_after => "post-sts-header-after";
    post_sts_header_before => "post-sts-header-before";
    post_vanilla => "post-vanilla";
    post_vanilla_empty_query_value => "post-vanilla-empty-query-value";
    post_vanilla_query => "post-vanilla-query";
    post_x_www_form_urlencoded => "post-x-www-form-urlencoded";
    post_x_www_form_urlencoded_parameters => "post-x-www-form-urlencoded-parameters";
}

/// The ignored cases are exactly those s3-applicability.json marks invalid under S3 rules, and
/// every case directory of the suite has a test.
#[test]
fn ignore_list_matches_applicability_file() {
    let text = std::fs::read_to_string(suite_dir().join("../s3-applicability.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let table = v
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.starts_with("aws-signing-test-suite"))
        .unwrap()
        .1;
    let mut invalid: Vec<&str> = table
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, c)| c["valid_for_s3_rules"] == false)
        .map(|(k, _)| k.as_str())
        .collect();
    invalid.sort();
    let src = include_str!("suite.rs");
    // An ignored case is a `#[ignore = …]` line followed by its `name => "dir";` line.
    let lines: Vec<&str> = src.lines().collect();
    let mut ignored: Vec<&str> = lines
        .windows(2)
        .filter(|w| w[0].trim_start().starts_with("#[ignore = \"S3"))
        .filter_map(|w| w[1].split("=> \"").nth(1)?.split('"').next())
        .collect();
    ignored.sort();
    assert_eq!(ignored, invalid);
    let mut dirs: Vec<String> = std::fs::read_dir(suite_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    dirs.sort();
    let mut all: Vec<&str> = ALL.to_vec();
    all.sort();
    assert_eq!(all, dirs);
}

/// Every case directory under $SIGV4_EXTRA_CASES, header form always, query form where
/// `query-*` files exist.
#[test]
fn extra_cases_from_env() {
    let Some(root) = std::env::var_os("SIGV4_EXTRA_CASES") else {
        println!("SIGV4_EXTRA_CASES is not set: no extra cases to run");
        return;
    };
    let mut failures = Vec::new();
    let mut ran = 0;
    let mut stack = vec![PathBuf::from(root)];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for e in entries.flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            }
        }
        if dir.join("context.json").exists() && dir.join("request.txt").exists() {
            ran += 1;
            if let Err(e) = run_case(&dir, Form::Header) {
                failures.push(e);
            }
            if dir.join("query-canonical-request.txt").exists() {
                if let Err(e) = run_case(&dir, Form::Query) {
                    failures.push(e);
                }
            }
        }
    }
    assert!(ran > 0, "SIGV4_EXTRA_CASES holds no case directory");
    assert!(
        failures.is_empty(),
        "{} failing:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
