//! Settings: flags + `CACHER_*` env + config file + `AWS_*`/shared-file fallbacks + defaults,
//! resolved once into a validated [`Config`] (SPEC §2), remembering where each value came from
//! so `doctor` can say.
//!
//! Precedence for every setting: flag, then `CACHER_<NAME>`, then the config file, then
//! `AWS_*`/AWS shared files, then the default. Only this module and `credentials.rs` read the environment, and they read it
//! through an [`Env`] snapshot so tests can hand in their own.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::cli::Globals;
use crate::error::{Error, Result};
use crate::s3::endpoint::{dns_safe_bucket, Endpoint};
use crate::tomlish::{self, Value};

/// A snapshot of the process environment. Empty values count as unset, as most tools treat them.
#[derive(Debug, Clone, Default)]
pub struct Env(HashMap<String, String>);

impl Env {
    pub fn from_process() -> Env {
        Env(std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect())
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Env {
        Env(pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    /// Sets a variable in the snapshot (never in the process): `cache` mode translates the
    /// SEMAPHORE_* variables into the settings they stand for.
    pub fn set(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_string(), value.to_string());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn home(&self) -> Option<PathBuf> {
        self.get("HOME").map(PathBuf::from)
    }

    /// `~/x` → `$HOME/x` (config files written by hand use it, as in the seed docs).
    pub fn expand_tilde(&self, p: &str) -> PathBuf {
        match (p.strip_prefix("~/"), self.home()) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => PathBuf::from(p),
        }
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    File(PathBuf, usize),
    Aws(String),
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(n) => write!(f, "flag {n}"),
            Source::Env(n) => write!(f, "env {n}"),
            Source::File(p, l) => write!(f, "config {}:{l}", p.display()),
            Source::Aws(s) => write!(f, "{s}"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// The config file, parsed: name → (value, line).
#[derive(Debug, Default)]
pub struct FileValues {
    pub path: Option<PathBuf>,
    values: HashMap<String, (Value, usize)>,
}

const KNOWN: &[&str] = &[
    "endpoint",
    "region",
    "bucket",
    "prefix",
    "arch_suffix",
    "path_style",
    "key_file",
    "secret_file",
    "ca_file",
    "concurrency",
    "part_size",
    "level",
];

impl FileValues {
    /// Finds and parses the config file. A file named by `--config`/`CACHER_CONFIG` must exist;
    /// the default one may be absent.
    pub fn load(globals: &Globals, env: &Env) -> Result<FileValues> {
        let (path, must_exist) = if let Some(p) = &globals.config {
            (Some(p.clone()), true)
        } else if let Some(p) = env.get("CACHER_CONFIG") {
            (Some(PathBuf::from(p)), true)
        } else {
            (default_config_path(env), false)
        };
        let Some(path) = path else {
            return Ok(FileValues::default());
        };
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                return Ok(FileValues::default())
            }
            Err(e) => {
                return Err(Error::Config(format!(
                    "reading config file {}: {e}",
                    path.display()
                )))
            }
        };
        let text = String::from_utf8(text).map_err(|_| {
            Error::Config(format!("{}: the config file is not UTF-8", path.display()))
        })?;
        let entries = tomlish::parse(&text)
            .map_err(|(line, msg)| Error::Config(format!("{}:{line}: {msg}", path.display())))?;
        let mut values = HashMap::new();
        for e in entries {
            if !KNOWN.contains(&e.name.as_str()) {
                crate::output::warn(&format!(
                    "{}:{}: unknown setting '{}' ignored",
                    path.display(),
                    e.line,
                    e.name
                ));
                continue;
            }
            values.insert(e.name, (e.value, e.line));
        }
        Ok(FileValues {
            path: Some(path),
            values,
        })
    }

    fn get(&self, name: &str) -> Option<(&Value, Source)> {
        let (v, line) = self.values.get(name)?;
        Some((
            v,
            Source::File(self.path.clone().unwrap_or_default(), *line),
        ))
    }
}

pub fn default_config_path(env: &Env) -> Option<PathBuf> {
    if let Some(x) = env.get("XDG_CONFIG_HOME") {
        return Some(Path::new(x).join("cacher/config.toml"));
    }
    env.home().map(|h| h.join(".config/cacher/config.toml"))
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub endpoint: Endpoint,
    pub region: String,
    pub bucket: Option<String>,
    pub prefix: String,
    pub arch_suffix: bool,
    pub path_style: bool,
    pub key_file: Option<(PathBuf, Source)>,
    pub secret_file: Option<(PathBuf, Source)>,
    pub ca_file: Option<PathBuf>,
    pub concurrency: usize,
    pub part_size: u64,
    pub level: i32,
    pub proxy: Option<String>,
    pub config_file: Option<PathBuf>,
    /// The docker executable for `cacher docker` (`CACHER_DOCKER`, e.g. `podman`; default
    /// `docker`, looked up on PATH).
    pub docker: String,
    /// (setting, value as shown, where it came from), for `doctor`.
    pub origins: Vec<(&'static str, String, Source)>,
}

/// A raw value with its source, before parsing.
struct Raw {
    text: String,
    source: Source,
}

fn pick(
    flag: Option<String>,
    flag_name: &'static str,
    env: &Env,
    env_name: &'static str,
    file: &FileValues,
    file_name: &str,
) -> Result<Option<Raw>> {
    if let Some(v) = flag {
        return Ok(Some(Raw {
            text: v,
            source: Source::Flag(flag_name),
        }));
    }
    if let Some(v) = env.get(env_name) {
        return Ok(Some(Raw {
            text: v.to_string(),
            source: Source::Env(env_name),
        }));
    }
    if let Some((v, src)) = file.get(file_name) {
        let text = match v {
            Value::Str(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
        };
        return Ok(Some(Raw { text, source: src }));
    }
    Ok(None)
}

pub fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `16MiB`, `8M`, `5242880`, `64KiB`, `1GiB` → bytes. Decimal units (`MB`) are powers of 1000.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return None,
    };
    n.checked_mul(mult)
}

fn bad(raw: &Raw, name: &str, want: &str) -> Error {
    Error::Config(format!(
        "{name} '{}' (from {}) must be {want}",
        raw.text, raw.source
    ))
}

/// The region from the AWS shared config file for the active profile (SPEC §2 fallback).
fn aws_config_region(env: &Env) -> Option<(String, String)> {
    let path = env
        .get("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| env.home().map(|h| h.join(".aws/config")))?;
    let profile = env.get("AWS_PROFILE").unwrap_or("default");
    let text = std::fs::read_to_string(&path).ok()?;
    let section =
        crate::credentials::ini_section(&text, &crate::credentials::config_section_name(profile))?;
    let region = section.get("region")?.clone();
    Some((region, format!("{} [{profile}]", path.display())))
}

impl Config {
    pub fn load(g: &Globals, env: &Env) -> Result<Config> {
        let file = FileValues::load(g, env)?;
        Config::resolve(g, env, file)
    }

    pub fn resolve(g: &Globals, env: &Env, file: FileValues) -> Result<Config> {
        let mut origins = Vec::new();

        // endpoint (and its AWS fallbacks)
        let mut endpoint_raw = pick(
            g.endpoint.clone(),
            "--endpoint",
            env,
            "CACHER_ENDPOINT",
            &file,
            "endpoint",
        )?;
        if endpoint_raw.is_none() {
            for name in ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"] {
                if let Some(v) = env.get(name) {
                    endpoint_raw = Some(Raw {
                        text: v.to_string(),
                        source: Source::Env(name),
                    });
                    break;
                }
            }
        }

        // region: needs to know whether the endpoint is AWS for its default
        let mut region = pick(
            g.region.clone(),
            "--region",
            env,
            "CACHER_REGION",
            &file,
            "region",
        )?;
        if region.is_none() {
            for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
                if let Some(v) = env.get(name) {
                    region = Some(Raw {
                        text: v.to_string(),
                        source: Source::Env(name),
                    });
                    break;
                }
            }
        }
        if region.is_none() {
            if let Some((r, from)) = aws_config_region(env) {
                region = Some(Raw {
                    text: r,
                    source: Source::Aws(from),
                });
            }
        }
        let endpoint_is_aws = match &endpoint_raw {
            Some(r) => Endpoint::parse(&r.text)
                .map(|e| e.is_aws())
                .unwrap_or(false),
            None => true,
        };
        let region = region.unwrap_or_else(|| Raw {
            text: if endpoint_is_aws {
                "us-east-1"
            } else {
                "garage"
            }
            .to_string(),
            source: Source::Default,
        });
        if region.text.is_empty()
            || region
                .text
                .contains(|c: char| c.is_whitespace() || c == '/')
        {
            return Err(bad(&region, "region", "a region name"));
        }
        let endpoint_raw = endpoint_raw.unwrap_or_else(|| Raw {
            text: format!("https://s3.{}.amazonaws.com", region.text),
            source: Source::Default,
        });
        let endpoint = Endpoint::parse(&endpoint_raw.text)
            .map_err(|e| Error::Config(format!("{e} (from {})", endpoint_raw.source)))?;
        origins.push(("endpoint", endpoint_raw.text.clone(), endpoint_raw.source));
        origins.push(("region", region.text.clone(), region.source));

        let bucket = pick(
            g.bucket.clone(),
            "--bucket",
            env,
            "CACHER_BUCKET",
            &file,
            "bucket",
        )?;
        if let Some(b) = &bucket {
            if b.text.is_empty() || b.text.contains(['/', ' ']) {
                return Err(bad(b, "bucket", "a bucket name"));
            }
            origins.push(("bucket", b.text.clone(), b.source.clone()));
        }
        let bucket = bucket.map(|b| b.text);

        let prefix = pick(
            g.prefix.clone(),
            "--prefix",
            env,
            "CACHER_PREFIX",
            &file,
            "prefix",
        )?
        .unwrap_or(Raw {
            text: String::new(),
            source: Source::Default,
        });
        // A prefix is a path inside the bucket: no leading/trailing '/' needed or kept.
        let prefix_text = prefix.text.trim_matches('/').to_string();
        if prefix_text.chars().any(char::is_control) {
            return Err(bad(&prefix, "prefix", "free of control characters"));
        }
        origins.push(("prefix", prefix_text.clone(), prefix.source));

        let arch = pick(
            g.arch_suffix.map(|b| b.to_string()),
            "--arch-suffix",
            env,
            "CACHER_ARCH_SUFFIX",
            &file,
            "arch_suffix",
        )?
        .unwrap_or(Raw {
            text: "false".into(),
            source: Source::Default,
        });
        let arch_suffix =
            parse_bool(&arch.text).ok_or_else(|| bad(&arch, "arch_suffix", "true or false"))?;
        origins.push(("arch_suffix", arch_suffix.to_string(), arch.source));

        let ps = pick(
            g.path_style.map(|b| b.to_string()),
            if g.path_style == Some(false) {
                "--virtual-hosted"
            } else {
                "--path-style"
            },
            env,
            "CACHER_PATH_STYLE",
            &file,
            "path_style",
        )?;
        let path_style = match ps {
            Some(raw) => {
                let v = parse_bool(&raw.text)
                    .ok_or_else(|| bad(&raw, "path_style", "true or false"))?;
                origins.push(("path_style", v.to_string(), raw.source));
                v
            }
            None => {
                let v = !(endpoint.is_aws() && bucket.as_deref().is_some_and(dns_safe_bucket));
                origins.push(("path_style", v.to_string(), Source::Default));
                v
            }
        };

        let path_setting = |flag: &Option<PathBuf>,
                            flag_name: &'static str,
                            env_name: &'static str,
                            file_name: &str|
         -> Result<Option<(PathBuf, Source)>> {
            Ok(pick(
                flag.as_ref().map(|p| p.to_string_lossy().into_owned()),
                flag_name,
                env,
                env_name,
                &file,
                file_name,
            )?
            .map(|r| (env.expand_tilde(&r.text), r.source)))
        };
        let key_file = path_setting(&g.key_file, "--key-file", "CACHER_KEY_FILE", "key_file")?;
        let secret_file = path_setting(
            &g.secret_file,
            "--secret-file",
            "CACHER_SECRET_FILE",
            "secret_file",
        )?;
        let mut ca = path_setting(&g.ca_file, "--ca-file", "CACHER_CA_FILE", "ca_file")?;
        if ca.is_none() {
            ca = env
                .get("SSL_CERT_FILE")
                .map(|p| (PathBuf::from(p), Source::Env("SSL_CERT_FILE")));
        }
        for (name, v) in [
            ("key_file", &key_file),
            ("secret_file", &secret_file),
            ("ca_file", &ca),
        ] {
            if let Some((p, s)) = v {
                origins.push((name, p.display().to_string(), s.clone()));
            }
        }

        let conc = pick(
            g.concurrency.clone(),
            "--concurrency",
            env,
            "CACHER_CONCURRENCY",
            &file,
            "concurrency",
        )?
        .unwrap_or(Raw {
            text: "4".into(),
            source: Source::Default,
        });
        let concurrency: usize = conc
            .text
            .parse()
            .ok()
            .filter(|n| (1..=64).contains(n))
            .ok_or_else(|| bad(&conc, "concurrency", "a whole number from 1 to 64"))?;
        origins.push(("concurrency", concurrency.to_string(), conc.source));

        let ps = pick(
            g.part_size.clone(),
            "--part-size",
            env,
            "CACHER_PART_SIZE",
            &file,
            "part_size",
        )?
        .unwrap_or(Raw {
            text: "16MiB".into(),
            source: Source::Default,
        });
        let part_size = parse_size(&ps.text)
            .filter(|n| (5 << 20..=5 << 30).contains(n))
            .ok_or_else(|| bad(&ps, "part_size", "a size from 5MiB to 5GiB (e.g. 16MiB)"))?;
        origins.push(("part_size", ps.text.clone(), ps.source));

        let lv = pick(None, "--level", env, "CACHER_LEVEL", &file, "level")?.unwrap_or(Raw {
            text: "3".into(),
            source: Source::Default,
        });
        let level: i32 = lv
            .text
            .parse()
            .ok()
            .filter(|n| (1..=19).contains(n))
            .ok_or_else(|| bad(&lv, "level", "a whole number from 1 to 19"))?;
        origins.push(("level", level.to_string(), lv.source));

        let proxy = proxy_for(env, &endpoint);

        Ok(Config {
            endpoint,
            region: region.text,
            bucket,
            prefix: prefix_text,
            arch_suffix,
            path_style,
            key_file,
            secret_file,
            ca_file: ca.map(|c| c.0),
            concurrency,
            part_size,
            level,
            proxy,
            config_file: file.path,
            docker: env.get("CACHER_DOCKER").unwrap_or("docker").to_string(),
            origins,
        })
    }

    pub fn bucket(&self) -> Result<&str> {
        self.bucket.as_deref().ok_or_else(|| {
            Error::Config(
                "no bucket configured: pass --bucket, set CACHER_BUCKET, or run 'cacher init --bucket B'".into(),
            )
        })
    }
}

/// The proxy for a URL per the curl conventions ureq also follows: `https_proxy`/`HTTPS_PROXY`
/// for https, `http_proxy`/`HTTP_PROXY` for http, `ALL_PROXY` for both, unless the host matches
/// `NO_PROXY` (exact host, a domain suffix, or `*`).
pub fn proxy_for(env: &Env, ep: &Endpoint) -> Option<String> {
    let names: &[&str] = if ep.https {
        &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
    } else {
        &["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
    };
    let proxy = names.iter().find_map(|n| env.get(n))?;
    let no_proxy = env
        .get("no_proxy")
        .or_else(|| env.get("NO_PROXY"))
        .unwrap_or("");
    if no_proxy_matches(no_proxy, &ep.host) {
        return None;
    }
    Some(proxy.to_string())
}

/// The proxy for an arbitrary URL (`download --url`), by the same rules.
pub fn proxy_for_url(env: &Env, url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map(|x| x.1).unwrap_or(authority);
    let host = match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.ends_with(':') => h,
        _ => host,
    };
    let ep = Endpoint {
        https: scheme.eq_ignore_ascii_case("https"),
        host: host.to_ascii_lowercase(),
        port: None,
    };
    proxy_for(env, &ep)
}

pub fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|e| {
            let e = e.to_ascii_lowercase();
            // Entries may carry a port (host:port); cacher's decision is per host.
            let e = e
                .rsplit_once(':')
                .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
                .map(|(h, _)| h.to_string())
                .unwrap_or(e);
            let e = e.trim_start_matches("*.").trim_start_matches('.');
            e == "*" || host == e || host.ends_with(&format!(".{e}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(pairs: &[(&str, Value)]) -> FileValues {
        FileValues {
            path: Some(PathBuf::from("/c.toml")),
            values: pairs
                .iter()
                .enumerate()
                .map(|(i, (k, v))| (k.to_string(), (v.clone(), i + 1)))
                .collect(),
        }
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        let env = Env::from_pairs([
            ("CACHER_BUCKET", "from-env"),
            ("CACHER_PREFIX", "env-p"),
            ("HOME", "/nonexistent"),
        ]);
        let f = file(&[
            ("bucket", Value::Str("from-file".into())),
            ("prefix", Value::Str("file-p".into())),
            ("region", Value::Str("file-r".into())),
            ("endpoint", Value::Str("http://127.0.0.1:9".into())),
        ]);
        let g = Globals {
            bucket: Some("from-flag".into()),
            ..Default::default()
        };
        let c = Config::resolve(&g, &env, f).unwrap();
        assert_eq!(c.bucket.as_deref(), Some("from-flag"));
        assert_eq!(c.prefix, "env-p");
        assert_eq!(c.region, "file-r");
        assert_eq!(c.concurrency, 4);
        assert_eq!(c.part_size, 16 << 20);
        assert!(c.path_style);
    }

    #[test]
    fn defaults_for_aws_and_elsewhere() {
        let env = Env::from_pairs([("HOME", "/nonexistent")]);
        let g = Globals {
            bucket: Some("my-bucket".into()),
            ..Default::default()
        };
        let c = Config::resolve(&g, &env, FileValues::default()).unwrap();
        assert_eq!(c.region, "us-east-1");
        assert_eq!(
            c.endpoint,
            Endpoint::parse("https://s3.us-east-1.amazonaws.com").unwrap()
        );
        assert!(!c.path_style, "AWS + DNS-safe bucket → virtual-hosted");
        let g = Globals {
            bucket: Some("my.bucket".into()),
            ..Default::default()
        };
        assert!(
            Config::resolve(&g, &env, FileValues::default())
                .unwrap()
                .path_style
        );
        let g = Globals {
            endpoint: Some("http://127.0.0.1:3900".into()),
            ..Default::default()
        };
        let c = Config::resolve(&g, &env, FileValues::default()).unwrap();
        assert_eq!(c.region, "garage");
        assert!(c.path_style);
    }

    #[test]
    fn aws_env_ranks_below_the_file() {
        let env = Env::from_pairs([
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://aws-env:1"),
            ("HOME", "/nonexistent"),
        ]);
        let c = Config::resolve(
            &Globals::default(),
            &env,
            file(&[("region", Value::Str("file-r".into()))]),
        )
        .unwrap();
        assert_eq!(c.region, "file-r");
        assert_eq!(c.endpoint.host, "aws-env");
        let c = Config::resolve(&Globals::default(), &env, FileValues::default()).unwrap();
        assert_eq!(c.region, "eu-west-1");
    }

    #[test]
    fn bad_values_name_their_source() {
        let env = Env::from_pairs([("CACHER_CONCURRENCY", "zero"), ("HOME", "/nonexistent")]);
        let e = Config::resolve(&Globals::default(), &env, FileValues::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("concurrency") && e.contains("CACHER_CONCURRENCY"),
            "{e}"
        );
        let g = Globals {
            part_size: Some("1MiB".into()),
            ..Default::default()
        };
        let e = Config::resolve(&g, &Env::default(), FileValues::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("part_size") && e.contains("--part-size"), "{e}");
    }

    #[test]
    fn sizes_and_bools() {
        for (s, n) in [
            ("16MiB", Some(16 << 20)),
            ("8M", Some(8 << 20)),
            ("5242880", Some(5242880)),
            ("1GiB", Some(1 << 30)),
            ("10MB", Some(10_000_000)),
            ("x", None),
            ("5 parsecs", None),
        ] {
            assert_eq!(parse_size(s), n, "{s}");
        }
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn proxies() {
        let ep = Endpoint::parse("https://s3.example.com").unwrap();
        let env = Env::from_pairs([
            ("HTTPS_PROXY", "http://p:3128"),
            ("HTTP_PROXY", "http://q:3128"),
        ]);
        assert_eq!(proxy_for(&env, &ep).as_deref(), Some("http://p:3128"));
        let plain = Endpoint::parse("http://s3.example.com").unwrap();
        assert_eq!(proxy_for(&env, &plain).as_deref(), Some("http://q:3128"));
        let env = Env::from_pairs([
            ("HTTPS_PROXY", "http://p:3128"),
            ("NO_PROXY", "localhost,.example.com"),
        ]);
        assert_eq!(proxy_for(&env, &ep), None);
        for (list, host, want) in [
            ("*", "x", true),
            ("example.com", "s3.example.com", true),
            ("127.0.0.1:9000", "127.0.0.1", true),
            ("other.com", "s3.example.com", false),
            ("", "x", false),
        ] {
            assert_eq!(no_proxy_matches(list, host), want, "{list} {host}");
        }
    }
}
