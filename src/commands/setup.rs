//! `init` (write the config file, then run the doctor checks) and `doctor` (where every setting
//! came from, credential diagnostics that never leak a secret, clock skew, and the bucket checks
//! of SPEC §1 with a hint per failure).

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use super::Ctx;
use crate::cli::Globals;
use crate::config::{default_config_path, Config, Env};
use crate::credentials;
use crate::error::{Error, Result};
use crate::output;

fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The config file text for the values given to `init`: never a secret, only file paths.
fn config_text(g: &Globals) -> String {
    let mut t =
        String::from("# written by `cacher init`; flags and CACHER_* env vars override these\n");
    let mut put = |name: &str, v: Option<String>| {
        if let Some(v) = v {
            t.push_str(&format!("{name} = {v}\n"));
        }
    };
    put("endpoint", g.endpoint.as_deref().map(toml_str));
    put("region", g.region.as_deref().map(toml_str));
    put("bucket", g.bucket.as_deref().map(toml_str));
    put("prefix", g.prefix.as_deref().map(toml_str));
    put("arch_suffix", g.arch_suffix.map(|b| b.to_string()));
    put("path_style", g.path_style.map(|b| b.to_string()));
    let abs = |p: &Option<PathBuf>| {
        p.as_deref()
            .map(|p| toml_str(&credentials::absolute(p).to_string_lossy()))
    };
    put("key_file", abs(&g.key_file));
    put("secret_file", abs(&g.secret_file));
    put("ca_file", abs(&g.ca_file));
    put("concurrency", g.concurrency.as_deref().map(toml_str));
    put("part_size", g.part_size.as_deref().map(toml_str));
    t
}

pub fn init(g: &Globals, env: &Env) -> Result<i32> {
    if g.bucket.is_none() {
        return Err(Error::Usage("init: --bucket is required".into()));
    }
    if g.key_file.is_some() != g.secret_file.is_some() {
        return Err(Error::Usage(
            "init: --key-file and --secret-file go together".into(),
        ));
    }
    let path = g
        .config
        .clone()
        .or_else(|| env.get("CACHER_CONFIG").map(PathBuf::from))
        .or_else(|| default_config_path(env))
        .ok_or_else(|| {
            Error::Config(
                "init: no HOME or XDG_CONFIG_HOME to put the config file in; pass --config".into(),
            )
        })?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| Error::io("init: creating", dir, e))?;
    }
    // Written whole to a 0600 temporary file, then renamed: never a half-written config.
    let tmp = path.with_extension(format!("toml.cacher-tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(config_text(g).as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, &path)
    };
    if let Err(e) = write() {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io("init: writing", &path, e));
    }
    output::info(&format!("wrote {}", path.display()));
    let mut g2 = g.clone();
    g2.config = Some(path);
    let cfg = Config::load(&g2, env)?;
    doctor(&Ctx {
        cfg,
        env: env.clone(),
        globals: g2,
    })
}

fn hint_for_check(check: &str, e: &Error) -> String {
    let perm = match check {
        "PUT canary" => "s3:PutObject",
        "GET canary" => "s3:GetObject",
        "DELETE canary" => "s3:DeleteObject",
        _ => "s3:ListBucket",
    };
    if e.s3_code() == Some("AccessDenied")
        || e.status() == Some(403)
            && e.s3_code() != Some("SignatureDoesNotMatch")
            && e.s3_code() != Some("InvalidAccessKeyId")
    {
        format!(" (missing permission {perm}?)")
    } else {
        String::new()
    }
}

pub fn doctor(ctx: &Ctx) -> Result<i32> {
    let cfg = &ctx.cfg;
    match &cfg.config_file {
        Some(p) => output::info(&format!("config file: {}", p.display())),
        None => output::info("config file: none found (using flags, env and defaults)"),
    }
    for (name, value, source) in &cfg.origins {
        output::info(&format!("  {name} = {value:?} ({source})"));
    }
    let bucket = cfg.bucket()?.to_string();
    let creds = credentials::load(cfg, &ctx.env)?;
    for line in creds.describe() {
        output::info(&format!("  {line}"));
    }
    let client = crate::s3::Client::new(ctx.settings(bucket.clone(), creds.creds.clone()))?;

    let mut failures = Vec::new();
    let mut check = |name: &str, r: Result<String>| match r {
        Ok(msg) => output::info(&format!(
            "ok    {name}{}",
            if msg.is_empty() {
                String::new()
            } else {
                format!(": {msg}")
            }
        )),
        Err(e) => {
            output::error(&format!("FAIL  {name}: {e}{}", hint_for_check(name, &e)));
            failures.push(name.to_string());
        }
    };

    let head = client.head_bucket();
    let skew = client.server_skew();
    match skew {
        Some(s) if s.abs() > 300 => output::error(&format!(
            "FAIL  clock: the server's clock is {s} s from ours (S3 rejects more than 900 s): sync this machine's clock"
        )),
        Some(s) => output::info(&format!("ok    clock: skew {s} s against the server's Date")),
        None => output::info("??    clock: the server sent no Date header"),
    }
    match head {
        Ok(()) => check("HEAD bucket", Ok(format!("'{bucket}' reachable"))),
        Err(e) if e.status() == Some(403) && e.s3_code() == Some("AccessDenied") => {
            // Where HEAD bucket is denied (moto authorises it as s3:HeadBucket), a 1-key listing
            // under the prefix stands in: on AWS both need only s3:ListBucket.
            let r = client
                .list_page(&ctx.list_prefix("", false), None, None, Some(1))
                .map(|_| "HEAD bucket denied, but a 1-key ListObjectsV2 works".to_string());
            check("list bucket", r);
        }
        Err(e) => check("HEAD bucket", Err(e)),
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let canary = crate::keys::object_name(
        &cfg.prefix,
        &format!(".cacher-doctor-{}-{nanos}", std::process::id()),
    );
    let put = client.put_object(&canary, b"c", None, None);
    let put_ok = put.is_ok();
    check("PUT canary", put.map(|_| format!("wrote '{canary}'")));
    if put_ok {
        let got = client.get_object(&canary, None).and_then(|o| {
            let mut o = o.ok_or_else(|| {
                Error::Other("the canary vanished right after it was written".into())
            })?;
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut o, &mut buf)
                .map_err(|e| crate::s3::unwrap_io("reading canary", &canary, e))?;
            if buf == b"c" {
                Ok("read back the same byte".to_string())
            } else {
                Err(Error::Other(format!(
                    "read back {} bytes that differ from the 1 written",
                    buf.len()
                )))
            }
        });
        check("GET canary", got);
        check(
            "DELETE canary",
            client.delete_object(&canary).map(|_| String::new()),
        );
    }
    if failures.is_empty() {
        output::info("all checks passed");
        Ok(0)
    } else {
        Err(Error::Other(format!(
            "doctor: {} check(s) failed: {}",
            failures.len(),
            failures.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_text_holds_paths_not_secrets_and_parses_back() {
        let g = Globals {
            endpoint: Some("http://127.0.0.1:9000".into()),
            bucket: Some("b".into()),
            prefix: Some("my \"p\"".into()),
            key_file: Some("/k".into()),
            secret_file: Some("/s".into()),
            arch_suffix: Some(true),
            ..Default::default()
        };
        let t = config_text(&g);
        let entries = crate::tomlish::parse(&t).unwrap();
        let get = |n: &str| {
            entries
                .iter()
                .find(|e| e.name == n)
                .map(|e| e.value.clone())
        };
        assert_eq!(
            get("prefix"),
            Some(crate::tomlish::Value::Str("my \"p\"".into()))
        );
        assert_eq!(
            get("secret_file"),
            Some(crate::tomlish::Value::Str("/s".into()))
        );
        assert_eq!(get("arch_suffix"), Some(crate::tomlish::Value::Bool(true)));
        assert_eq!(get("region"), None);
    }
}
