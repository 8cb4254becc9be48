//! The credential chain of SPEC §2, first source present wins:
//! `CACHER_S3_KEY_ID`+`CACHER_S3_SECRET` → key/secret files (flag, `CACHER_*_FILE`, config) →
//! `AWS_ACCESS_KEY_ID`+`AWS_SECRET_ACCESS_KEY` → the AWS shared `credentials`/`config` files.
//!
//! Half of a pair is an error naming the missing half; nothing at all is an error listing the
//! sources. Secrets never leave this module except inside `sigv4::Credentials`, whose `Debug`
//! redacts them; diagnostics describe them by length only ([`Loaded::describe`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::config::{Config, Env, Source};
use crate::error::{Error, Result};

/// Credentials plus what `doctor` may say about them. (`Debug` is safe: the secret's own
/// `Debug` redacts it.)
#[derive(Clone, Debug)]
pub struct Loaded {
    pub creds: sigv4::Credentials,
    pub source: String,
    /// Secret files whose content had surrounding whitespace that was trimmed.
    pub trimmed: Vec<PathBuf>,
}

impl Loaded {
    /// Diagnostics that never leak a secret: key id length and first 4 characters, secret length.
    pub fn describe(&self) -> Vec<String> {
        let id = &self.creds.access_key_id;
        let head: String = id.chars().take(4).collect();
        let mut out = vec![
            format!("credentials from {}", self.source),
            format!(
                "key id: {} characters, starts with '{head}'",
                id.chars().count()
            ),
            format!(
                "secret: {} characters",
                self.creds.secret_access_key.chars().count()
            ),
        ];
        if let Some(t) = &self.creds.session_token {
            out.push(format!("session token: {} characters", t.len()));
        }
        for p in &self.trimmed {
            out.push(format!(
                "{}: surrounding whitespace was trimmed",
                p.display()
            ));
        }
        out
    }
}

const SOURCES: &str = "CACHER_S3_KEY_ID + CACHER_S3_SECRET, --key-file + --secret-file (or CACHER_KEY_FILE + CACHER_SECRET_FILE, or key_file + secret_file in the config file), AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, or the AWS shared files (~/.aws/credentials, ~/.aws/config)";

pub fn load(cfg: &Config, env: &Env) -> Result<Loaded> {
    // 1. cacher's own env vars
    if let Some(l) = env_pair(
        env,
        "CACHER_S3_KEY_ID",
        "CACHER_S3_SECRET",
        "CACHER_S3_SESSION_TOKEN",
    )? {
        return Ok(l);
    }
    // 2. key/secret files
    match (&cfg.key_file, &cfg.secret_file) {
        (Some((kf, ks)), Some((sf, ss))) => {
            let mut trimmed = Vec::new();
            let id = read_secret_file(kf, "key id", &mut trimmed)?;
            let secret = read_secret_file(sf, "secret", &mut trimmed)?;
            return Ok(Loaded {
                creds: sigv4::Credentials { access_key_id: id, secret_access_key: secret, session_token: None },
                source: format!("files {} ({ks}) and {} ({ss})", kf.display(), sf.display()),
                trimmed,
            });
        }
        (Some((_, s)), None) => {
            return Err(Error::Config(format!(
                "a key file is set ({s}) but no secret file: set --secret-file, CACHER_SECRET_FILE or secret_file"
            )))
        }
        (None, Some((_, s))) => {
            return Err(Error::Config(format!(
                "a secret file is set ({s}) but no key file: set --key-file, CACHER_KEY_FILE or key_file"
            )))
        }
        (None, None) => {}
    }
    // 3. AWS env vars
    if let Some(l) = env_pair(
        env,
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    )? {
        return Ok(l);
    }
    // 4. AWS shared files
    if let Some(l) = shared_files(env)? {
        return Ok(l);
    }
    Err(Error::Config(format!(
        "no credentials found; set one of: {SOURCES}"
    )))
}

fn env_pair(
    env: &Env,
    id: &'static str,
    secret: &'static str,
    token: &'static str,
) -> Result<Option<Loaded>> {
    match (env.get(id), env.get(secret)) {
        (Some(i), Some(s)) => Ok(Some(Loaded {
            creds: sigv4::Credentials {
                access_key_id: i.trim().to_string(),
                secret_access_key: s.trim().to_string(),
                session_token: env.get(token).map(|t| t.trim().to_string()),
            },
            source: format!("env {id} + {secret}"),
            trimmed: Vec::new(),
        })),
        (Some(_), None) => Err(Error::Config(format!("{id} is set but {secret} is not"))),
        (None, Some(_)) => Err(Error::Config(format!("{secret} is set but {id} is not"))),
        (None, None) => Ok(None),
    }
}

fn read_secret_file(path: &Path, what: &str, trimmed: &mut Vec<PathBuf>) -> Result<String> {
    let raw = std::fs::read(path)
        .map_err(|e| Error::Config(format!("reading the {what} file {}: {e}", path.display())))?;
    let text = String::from_utf8(raw)
        .map_err(|_| Error::Config(format!("the {what} file {} is not UTF-8", path.display())))?;
    let t = text.trim();
    if t.is_empty() {
        return Err(Error::Config(format!(
            "the {what} file {} is empty",
            path.display()
        )));
    }
    if t.len() != text.len() {
        trimmed.push(path.to_path_buf());
    }
    Ok(t.to_string())
}

/// `[default]` in `config` is `[default]`; any other profile is `[profile NAME]`.
pub fn config_section_name(profile: &str) -> String {
    if profile == "default" {
        "default".to_string()
    } else {
        format!("profile {profile}")
    }
}

/// The key/values of one `[section]` of an INI file (the AWS shared files' format).
pub fn ini_section(text: &str, name: &str) -> Option<HashMap<String, String>> {
    let mut found = None;
    let mut current = false;
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        if let Some(sec) = l.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            current = sec.split_whitespace().collect::<Vec<_>>().join(" ") == name;
            if current && found.is_none() {
                found = Some(HashMap::new());
            }
            continue;
        }
        if current {
            if let (Some(map), Some((k, v))) = (found.as_mut(), l.split_once('=')) {
                map.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
    }
    found
}

fn shared_files(env: &Env) -> Result<Option<Loaded>> {
    let profile = env.get("AWS_PROFILE").unwrap_or("default");
    let creds_path = env
        .get("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| env.home().map(|h| h.join(".aws/credentials")));
    let config_path = env
        .get("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| env.home().map(|h| h.join(".aws/config")));
    let candidates = [
        (creds_path, profile.to_string()),
        (config_path, config_section_name(profile)),
    ];
    for (path, section) in candidates {
        let Some(path) = path else { continue };
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Some(sec) = ini_section(&text, &section) else {
            continue;
        };
        let id = sec.get("aws_access_key_id").filter(|v| !v.is_empty());
        let secret = sec.get("aws_secret_access_key").filter(|v| !v.is_empty());
        match (id, secret) {
            (Some(i), Some(s)) => {
                return Ok(Some(Loaded {
                    creds: sigv4::Credentials {
                        access_key_id: i.clone(),
                        secret_access_key: s.clone(),
                        session_token: sec
                            .get("aws_session_token")
                            .filter(|v| !v.is_empty())
                            .cloned(),
                    },
                    source: format!("{} [{section}]", path.display()),
                    trimmed: Vec::new(),
                }))
            }
            (Some(_), None) => {
                return Err(Error::Config(format!(
                    "{} [{section}] has aws_access_key_id but no aws_secret_access_key",
                    path.display()
                )))
            }
            (None, Some(_)) => {
                return Err(Error::Config(format!(
                    "{} [{section}] has aws_secret_access_key but no aws_access_key_id",
                    path.display()
                )))
            }
            (None, None) => {}
        }
    }
    Ok(None)
}

/// For `init`: secret-file paths are stored absolute.
pub fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// Used by `doctor` to show where the key/secret file settings came from.
pub fn file_sources(cfg: &Config) -> Vec<(String, Source)> {
    [&cfg.key_file, &cfg.secret_file]
        .into_iter()
        .flatten()
        .map(|(p, s)| (p.display().to_string(), s.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Globals;
    use crate::config::FileValues;

    fn cfg(env: &Env, g: Globals) -> Config {
        Config::resolve(&g, env, FileValues::default()).unwrap()
    }

    fn tmp(name: &str, content: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("cacher-cred-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    #[test]
    fn chain_order() {
        let kf = tmp("k", "FILEKEY\n");
        let sf = tmp("s", "  filesecret \n");
        let g = Globals {
            key_file: Some(kf.clone()),
            secret_file: Some(sf.clone()),
            ..Default::default()
        };
        // cacher env beats files
        let env = Env::from_pairs([
            ("CACHER_S3_KEY_ID", "ENVKEY"),
            ("CACHER_S3_SECRET", "envsecret"),
            ("HOME", "/nonexistent"),
        ]);
        assert_eq!(
            load(&cfg(&env, g.clone()), &env)
                .unwrap()
                .creds
                .access_key_id,
            "ENVKEY"
        );
        // files beat AWS env, and are trimmed
        let env = Env::from_pairs([
            ("AWS_ACCESS_KEY_ID", "AWSKEY"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
            ("HOME", "/nonexistent"),
        ]);
        let l = load(&cfg(&env, g), &env).unwrap();
        assert_eq!(
            (
                l.creds.access_key_id.as_str(),
                l.creds.secret_access_key.as_str()
            ),
            ("FILEKEY", "filesecret")
        );
        assert_eq!(l.trimmed.len(), 2);
        // AWS env
        let l = load(&cfg(&env, Globals::default()), &env).unwrap();
        assert_eq!(l.creds.access_key_id, "AWSKEY");
    }

    #[test]
    fn halves_and_nothing() {
        let env = Env::from_pairs([("CACHER_S3_KEY_ID", "K"), ("HOME", "/nonexistent")]);
        let e = load(&cfg(&env, Globals::default()), &env)
            .unwrap_err()
            .to_string();
        assert!(e.contains("CACHER_S3_SECRET"), "{e}");
        let env = Env::from_pairs([("HOME", "/nonexistent")]);
        let e = load(&cfg(&env, Globals::default()), &env)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no credentials")
                && e.contains("AWS_ACCESS_KEY_ID")
                && e.contains("--key-file"),
            "{e}"
        );
        let g = Globals {
            key_file: Some(tmp("k2", "K")),
            ..Default::default()
        };
        let e = load(&cfg(&env, g.clone()), &env).unwrap_err().to_string();
        assert!(e.contains("no secret file"), "{e}");
    }

    #[test]
    fn shared_files_with_profiles() {
        let c = tmp("credentials", "[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n\n[ci]\naws_access_key_id=CI\naws_secret_access_key=cisecret\naws_session_token = tok\n");
        let conf = tmp("config", "[default]\nregion = us-west-2\n[profile other]\naws_access_key_id = OTH\naws_secret_access_key = othsecret\nregion = eu-central-1\n");
        let cs = c.to_str().unwrap();
        let fs = conf.to_str().unwrap();
        let env = Env::from_pairs([
            ("AWS_SHARED_CREDENTIALS_FILE", cs),
            ("AWS_CONFIG_FILE", fs),
            ("HOME", "/nonexistent"),
        ]);
        let l = load(&cfg(&env, Globals::default()), &env).unwrap();
        assert_eq!(l.creds.access_key_id, "DEF");
        assert_eq!(cfg(&env, Globals::default()).region, "us-west-2");
        let env = Env::from_pairs([
            ("AWS_SHARED_CREDENTIALS_FILE", cs),
            ("AWS_CONFIG_FILE", fs),
            ("AWS_PROFILE", "ci"),
            ("HOME", "/nonexistent"),
        ]);
        let l = load(&cfg(&env, Globals::default()), &env).unwrap();
        assert_eq!(
            (
                l.creds.access_key_id.as_str(),
                l.creds.session_token.as_deref()
            ),
            ("CI", Some("tok"))
        );
        let env = Env::from_pairs([
            ("AWS_SHARED_CREDENTIALS_FILE", cs),
            ("AWS_CONFIG_FILE", fs),
            ("AWS_PROFILE", "other"),
            ("HOME", "/nonexistent"),
        ]);
        let l = load(&cfg(&env, Globals::default()), &env).unwrap();
        assert_eq!(l.creds.access_key_id, "OTH");
        assert_eq!(cfg(&env, Globals::default()).region, "eu-central-1");
    }

    #[test]
    fn describe_never_shows_the_secret() {
        let l = Loaded {
            creds: sigv4::Credentials {
                access_key_id: "AKIAEXAMPLE".into(),
                secret_access_key: "s3cr3t-value".into(),
                session_token: Some("tokentoken".into()),
            },
            source: "test".into(),
            trimmed: vec![],
        };
        let all = l.describe().join("\n");
        assert!(
            all.contains("11 characters") && all.contains("'AKIA'"),
            "{all}"
        );
        assert!(
            !all.contains("s3cr3t") && !all.contains("tokentoken"),
            "{all}"
        );
    }
}
