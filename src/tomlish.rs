//! The config file's subset of TOML (SPEC §2): flat `name = value` lines where the value is a
//! "basic string", a 'literal string', `true`, `false` or a decimal integer; `#` comments on
//! their own line or after a value; blank lines. Everything else TOML has — tables, arrays,
//! inline tables, floats, dates, dotted or quoted names, multi-line strings — and any
//! duplicate name is an error carrying the 1-based line, so `cacher` can say `file:line: what`
//! instead of guessing. Every file this accepts is valid TOML meaning the same. Pure.

/// A setting's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Bool(bool),
    Int(i64),
}

/// One `name = value` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub value: Value,
    /// 1-based, for messages about this setting (an unknown name is only a warning).
    pub line: usize,
}

/// Parses a whole file. The error is (1-based line, what is wrong on it).
pub fn parse(text: &str) -> Result<Vec<Entry>, (usize, String)> {
    // Editors on some systems start a UTF-8 file with a byte-order mark; TOML allows none, but
    // refusing it would only puzzle the user.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut entries: Vec<Entry> = Vec::new();
    // lines() ends lines at "\n" and drops a "\r" before it, so CRLF files read the same.
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let Some((name, value)) = parse_line(raw).map_err(|e| (line, e))? else {
            continue;
        };
        if let Some(first) = entries.iter().find(|e| e.name == name) {
            return Err((
                line,
                format!("{name} is set twice (first on line {})", first.line),
            ));
        }
        entries.push(Entry {
            name: name.to_string(),
            value,
            line,
        });
    }
    Ok(entries)
}

/// TOML's whitespace: space and tab, nothing else.
fn skip_ws(s: &str) -> &str {
    s.trim_start_matches([' ', '\t'])
}

/// `None` for a blank or comment line.
fn parse_line(raw: &str) -> Result<Option<(&str, Value)>, String> {
    let s = skip_ws(raw);
    if s.is_empty() || s.starts_with('#') {
        return Ok(None);
    }
    if s.starts_with('[') {
        return Err(
            "tables ([section]) are not supported: write plain `name = value` lines".into(),
        );
    }
    let name_len = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(s.len());
    let (name, rest) = s.split_at(name_len);
    if name.is_empty() {
        return Err(match s.chars().next() {
            Some('"' | '\'') => {
                "quoted names are not supported: names are letters, digits, '_' and '-'".into()
            }
            _ => format!("expected `name = value`, found {:?}", s.trim_end()),
        });
    }
    let rest = skip_ws(rest);
    let Some(rest) = rest.strip_prefix('=') else {
        return Err(match rest.chars().next() {
            Some('.') => format!("dotted names ({name}.…) are not supported"),
            None => format!("{name}: expected `= value` after the name"),
            Some(_) => format!(
                "{name:?} is followed by {:?}: names are letters, digits, '_' and '-', then `= value`",
                rest.trim_end()
            ),
        });
    };
    let (value, after) = parse_value(skip_ws(rest)).map_err(|e| format!("{name}: {e}"))?;
    let after = skip_ws(after);
    if !after.is_empty() && !after.starts_with('#') {
        return Err(format!(
            "{name}: unexpected {:?} after the value (a comment starts with #)",
            after.trim_end()
        ));
    }
    Ok(Some((name, value)))
}

/// A value at the start of `s`, and what follows it.
fn parse_value(s: &str) -> Result<(Value, &str), String> {
    if s.starts_with("\"\"\"") || s.starts_with("'''") {
        return Err("multi-line strings are not supported".into());
    }
    if let Some(body) = s.strip_prefix('"') {
        return basic_string(body).map(|(v, rest)| (Value::Str(v), rest));
    }
    if let Some(body) = s.strip_prefix('\'') {
        // Literal strings: no escapes, up to the next quote.
        let end = body
            .find('\'')
            .ok_or("unterminated string: a ' string must end on the same line")?;
        let v = &body[..end];
        if let Some(c) = v.chars().find(|&c| is_forbidden_control(c)) {
            return Err(format!("control character {c:?} in a string"));
        }
        return Ok((Value::Str(v.to_string()), &body[end + 1..]));
    }
    match s.chars().next() {
        None | Some('#') => return Err("missing value after '='".into()),
        Some('[') => return Err("arrays are not supported".into()),
        Some('{') => return Err("inline tables are not supported".into()),
        Some(_) => {}
    }
    let end = s.find([' ', '\t', '#']).unwrap_or(s.len());
    let (word, rest) = s.split_at(end);
    let value = match word {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        w => Value::Int(integer(w)?),
    };
    Ok((value, rest))
}

/// TOML forbids control characters in strings, except tab.
fn is_forbidden_control(c: char) -> bool {
    c.is_control() && c != '\t'
}

/// A "basic string" after its opening quote: the unescaped text and what follows the
/// closing quote.
fn basic_string(body: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &body[i + 1..])),
            '\\' => {
                let Some((j, e)) = chars.next() else { break };
                match e {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'u' | 'U' => {
                        let n = if e == 'u' { 4 } else { 8 };
                        let hex = body
                            .get(j + 1..j + 1 + n)
                            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                            .ok_or_else(|| format!("\\{e} must be followed by {n} hex digits"))?;
                        let c = u32::from_str_radix(hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .ok_or_else(|| format!("\\{e}{hex} is not a Unicode scalar value"))?;
                        out.push(c);
                        // The digits are ASCII: skip exactly n chars.
                        for _ in 0..n {
                            chars.next();
                        }
                    }
                    other => {
                        return Err(format!(
                            "unknown escape \\{} (use \\\\ for a backslash, or a '…' string)",
                            other.escape_debug()
                        ))
                    }
                }
            }
            c if is_forbidden_control(c) => {
                return Err(format!("control character {c:?} in a string"))
            }
            c => out.push(c),
        }
    }
    Err("unterminated string: a \" string must end on the same line".into())
}

/// A TOML decimal integer: optional sign, no leading zeros, `_` only between digits.
fn integer(w: &str) -> Result<i64, String> {
    let not_a_value = || {
        format!("{w:?} is not a value: quote strings (\"…\"), or write true, false or an integer")
    };
    let digits = w.strip_prefix(['+', '-']).unwrap_or(w);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return Err(
            if digits.contains('.') && digits.bytes().any(|b| b.is_ascii_digit()) {
                format!("{w:?}: floats are not supported")
            } else {
                not_a_value()
            },
        );
    }
    if digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return Err(format!("{w:?}: '_' may only stand between digits"));
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(format!("{w:?}: leading zeros are not allowed"));
    }
    w.replace('_', "")
        .parse()
        .map_err(|_| format!("{w:?} is out of range for an integer"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    /// `name = <value>` parses to `want`.
    fn check_value(value: &str, want: Value) {
        let text = format!("name = {value}");
        match parse(&text) {
            Ok(entries) => assert_eq!(
                entries,
                vec![Entry {
                    name: "name".into(),
                    value: want,
                    line: 1
                }],
                "{text:?}"
            ),
            Err(e) => panic!("{text:?}: {e:?}"),
        }
    }

    /// `text` fails on `line` with `needle` in the message.
    fn check_error(text: &str, line: usize, needle: &str) {
        match parse(text) {
            Ok(entries) => panic!("{text:?} parsed: {entries:?}"),
            Err((l, msg)) => {
                assert_eq!(l, line, "{text:?}: {msg}");
                assert!(msg.contains(needle), "{text:?}: {msg:?} lacks {needle:?}");
            }
        }
    }

    #[test]
    fn values() {
        for (value, want) in [
            (r#""x y""#, s("x y")),
            (r#""""#, s("")),
            ("''", s("")),
            (r"'C:\path\n'", s(r"C:\path\n")),
            (r#"'say "hi"'"#, s(r#"say "hi""#)),
            (r#""it's""#, s("it's")),
            (r#""q\"\\\n\t\r\b\f""#, s("q\"\\\n\t\r\u{8}\u{c}")),
            (r#""\u00fc\u65E5\U0001F600""#, s("ü日😀")),
            (r#""a # not a comment""#, s("a # not a comment")),
            ("'a # not a comment'", s("a # not a comment")),
            ("\"tab\there\"", s("tab\there")),
            ("\"ü日本😀\"", s("ü日本😀")),
            (
                r#""https://s3.example.com:9000/""#,
                s("https://s3.example.com:9000/"),
            ),
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("0", Value::Int(0)),
            ("+0", Value::Int(0)),
            ("-0", Value::Int(0)),
            ("42", Value::Int(42)),
            ("+42", Value::Int(42)),
            ("-42", Value::Int(-42)),
            ("1_000_000", Value::Int(1_000_000)),
            ("9223372036854775807", Value::Int(i64::MAX)),
            ("-9223372036854775808", Value::Int(i64::MIN)),
            // Comments and whitespace after values.
            ("true # yes", Value::Bool(true)),
            ("true#yes", Value::Bool(true)),
            ("7\t# tab before", Value::Int(7)),
            ("\"x\"# tight", s("x")),
            ("'x' \t ", s("x")),
        ] {
            check_value(value, want);
        }
    }

    #[test]
    fn whole_file() {
        let text = "\u{feff}# cacher config\n\
                    \n\
                    bucket = \"ci-cache\"\r\n\
                    \t  prefix='team/a'   # trailing\n\
                    arch_suffix=true\n\
                    # concurrency = 8\n\
                    concurrency = 8\n\
                    key-file = \"/run/secrets/k\"\n\
                    \n";
        let got: Vec<(String, Value, usize)> = parse(text)
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.value, e.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("bucket".into(), s("ci-cache"), 3),
                ("prefix".into(), s("team/a"), 4),
                ("arch_suffix".into(), Value::Bool(true), 5),
                ("concurrency".into(), Value::Int(8), 7),
                ("key-file".into(), s("/run/secrets/k"), 8),
            ]
        );
        assert_eq!(parse(""), Ok(vec![]));
        assert_eq!(parse("\n\n# only comments\n   \n\t\n"), Ok(vec![]));
    }

    #[test]
    fn errors_carry_the_line() {
        for (text, line, needle) in [
            ("a = 1\nb = unquoted", 2, "\"unquoted\" is not a value"),
            ("a = True", 1, "not a value"),
            ("[table]", 1, "tables"),
            ("a = 1\n  [[array.of.tables]]", 2, "tables"),
            ("a = [1, 2]", 1, "arrays are not supported"),
            ("a = {x = 1}", 1, "inline tables"),
            ("a = \"open", 1, "unterminated"),
            ("a = 'open", 1, "unterminated"),
            ("a = \"open\\\"", 1, "unterminated"),
            ("a = \"x\\", 1, "unterminated"),
            ("a = \"\"\"\nmulti\n\"\"\"", 1, "multi-line"),
            ("a = '''x'''", 1, "multi-line"),
            ("just words\n", 1, "followed by \"words\""),
            ("x", 1, "expected `= value`"),
            ("=1", 1, "expected `name = value`"),
            ("\"quoted\" = 1", 1, "quoted names"),
            ("a.b = 1", 1, "dotted names"),
            ("bad name = 1", 1, "names are letters"),
            ("naïve = 1", 1, "names are letters"),
            ("a = 1\n\n# c\na = 2", 4, "a is set twice (first on line 1)"),
            ("a = \"x\" y", 1, "unexpected \"y\" after the value"),
            ("a = 1 2", 1, "unexpected \"2\""),
            ("a = true false", 1, "unexpected"),
            ("a =", 1, "missing value"),
            ("a = # comment", 1, "missing value"),
            ("a = 1.5", 1, "floats are not supported"),
            ("a = 1e3", 1, "not a value"),
            ("a = 0x10", 1, "not a value"),
            ("a = 1979-05-27", 1, "not a value"),
            ("a = inf", 1, "not a value"),
            ("a = 007", 1, "leading zeros"),
            ("a = 1__0", 1, "between digits"),
            ("a = _1", 1, "between digits"),
            ("a = 1_", 1, "between digits"),
            ("a = +", 1, "not a value"),
            ("a = 9223372036854775808", 1, "out of range"),
            ("a = \"\\x41\"", 1, "unknown escape \\x"),
            ("a = \"\\u12\"", 1, "4 hex digits"),
            ("a = \"\\u+041\"", 1, "4 hex digits"),
            ("a = \"\\uD800\"", 1, "not a Unicode scalar value"),
            ("a = \"\\U00110000\"", 1, "not a Unicode scalar value"),
            ("a = \"\\u00e\u{fc}\"", 1, "4 hex digits"),
            ("a = \"nul\0\"", 1, "control character"),
            ("a = 'bell\u{7}'", 1, "control character"),
            ("a = \"cr\rinside\"", 1, "control character"),
        ] {
            check_error(text, line, needle);
        }
    }

    #[test]
    fn no_panics_on_any_prefix() {
        // Every cut of a file with multi-byte characters and escapes: errors are fine, panics
        // are not.
        let text = "a = \"\\u00fc\\U0001F600 ü日\" # ü\nb = 'ü' \nc = -1_000\n";
        for (i, _) in text.char_indices() {
            let _ = parse(&text[..i]);
        }
    }
}
