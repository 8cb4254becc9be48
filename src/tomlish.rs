//! The config file's subset of TOML (SPEC §2): `name = "string" | 'literal' | true | false |
//! integer`, `#` comments, blank lines. Anything else — tables, arrays, floats, duplicate names —
//! is an error carrying its 1-based line, so `cacher` can say `file:line: what`. Pure.

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Bool(bool),
    Int(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub value: Value,
    pub line: usize,
}

pub fn parse(text: &str) -> Result<Vec<Entry>, (usize, String)> {
    let mut out: Vec<Entry> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if l.starts_with('[') {
            return Err((
                line,
                "tables are not supported: write plain `name = value` lines".into(),
            ));
        }
        let Some((name, rest)) = l.split_once('=') else {
            return Err((line, format!("expected `name = value`, found {l:?}")));
        };
        let name = name.trim();
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err((line, format!("bad setting name {name:?}")));
        }
        let (value, after) =
            parse_value(rest.trim()).map_err(|m| (line, format!("{name}: {m}")))?;
        let after = after.trim();
        if !after.is_empty() && !after.starts_with('#') {
            return Err((
                line,
                format!("{name}: unexpected {after:?} after the value"),
            ));
        }
        if out.iter().any(|e| e.name == name) {
            return Err((line, format!("{name} is set twice")));
        }
        out.push(Entry {
            name: name.to_string(),
            value,
            line,
        });
    }
    Ok(out)
}

/// A value and what follows it on the line.
fn parse_value(s: &str) -> Result<(Value, &str), String> {
    if let Some(rest) = s.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Ok((Value::Str(out), &rest[i + 1..])),
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, '"')) => out.push('"'),
                    Some((_, '\\')) => out.push('\\'),
                    Some((j, 'u')) => {
                        let hex = rest.get(j + 1..j + 5).ok_or("short \\u escape")?;
                        let cp = u32::from_str_radix(hex, 16).map_err(|_| "bad \\u escape")?;
                        out.push(char::from_u32(cp).ok_or("bad \\u escape")?);
                        for _ in 0..4 {
                            chars.next();
                        }
                    }
                    Some((_, e)) => return Err(format!("unknown escape \\{e}")),
                    None => return Err("unterminated string".into()),
                },
                c if c.is_control() && c != '\t' => {
                    return Err("control character in a string".into())
                }
                c => out.push(c),
            }
        }
        return Err("unterminated string".into());
    }
    if let Some(rest) = s.strip_prefix('\'') {
        let end = rest.find('\'').ok_or("unterminated string")?;
        return Ok((Value::Str(rest[..end].to_string()), &rest[end + 1..]));
    }
    let end = s
        .find(|c: char| c.is_whitespace() || c == '#')
        .unwrap_or(s.len());
    let (word, after) = s.split_at(end);
    match word {
        "true" => Ok((Value::Bool(true), after)),
        "false" => Ok((Value::Bool(false), after)),
        "" => Err("missing value".into()),
        w => {
            let digits = w.replace('_', "");
            digits
                .parse::<i64>()
                .map(|n| (Value::Int(n), after))
                .map_err(|_| format!("{w:?} is not a value: quote strings (\"...\"), or use true/false/an integer"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Value {
        parse(text).unwrap().remove(0).value
    }

    #[test]
    fn values() {
        assert_eq!(one("a = \"x y\""), Value::Str("x y".into()));
        assert_eq!(one("a = 'C:\\path'"), Value::Str("C:\\path".into()));
        assert_eq!(
            one("a = \"q\\\"\\\\\\n\\u00fc\" # c"),
            Value::Str("q\"\\\nü".into())
        );
        assert_eq!(one("a=true"), Value::Bool(true));
        assert_eq!(one("a = false  # no"), Value::Bool(false));
        assert_eq!(one("a = -42"), Value::Int(-42));
        assert_eq!(one("a = 1_000"), Value::Int(1000));
    }

    #[test]
    fn whole_file_with_lines() {
        let e = parse("# top\n\nbucket = \"b\"\n  prefix = \"p\" # trailing\n").unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].name.as_str(), e[0].line), ("bucket", 3));
        assert_eq!((e[1].name.as_str(), e[1].line), ("prefix", 4));
    }

    #[test]
    fn errors_carry_the_line() {
        for (text, line, word) in [
            ("a = 1\nb = unquoted", 2, "not a value"),
            ("[table]", 1, "tables"),
            ("a = \"open", 1, "unterminated"),
            ("x\n", 1, "name = value"),
            ("a = 1\na = 2", 2, "twice"),
            ("a = [1, 2]", 1, "not a value"),
            ("a = \"x\" y", 1, "unexpected"),
            ("bad name = 1", 1, "bad setting name"),
            ("a =", 1, "missing value"),
        ] {
            let (l, msg) = parse(text).unwrap_err();
            assert_eq!(l, line, "{text:?}");
            assert!(msg.contains(word), "{text:?}: {msg}");
        }
    }
}
