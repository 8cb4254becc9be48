//! `cache` mode: when the executable is named `cache` (a symlink or copy), cacher speaks the
//! command line of Semaphore's cache CLI (semaphoreci/toolbox `cache-cli`), so self-hosted
//! agents swap one binary and keep their pipelines. This module owns that dialect: its argv,
//! its `SEMAPHORE_*` environment (translated into cacher's own settings, which still apply
//! underneath), its output lines (printed on stdout, as Semaphore's are, so logs and greps keep
//! working), its exit codes (errors are 0 unless `CACHE_FAIL_ON_ERROR=true`), its key rules
//! (`/` → `-`; restore falls back to the newest key matching a regular expression) and its
//! lockfile detection. The archives are cacher's (tar.zst, streamed, atomic restore, safe
//! extraction); restore also reads the tar.gz archives the Go CLI wrote (`archive.rs`).

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use md5::Digest;

use crate::archive;
use crate::cli::Globals;
use crate::commands::{dir as dircmd, housekeeping, Ctx};
use crate::config::{Config, Env};
use crate::error::{Error, Result};
use crate::output::Progress;
use crate::s3::Client;
use crate::transfer;

/// Whether argv[0] asks for `cache` mode.
pub fn wanted(argv0: &std::ffi::OsStr) -> bool {
    Path::new(argv0).file_name().is_some_and(|n| n == "cache")
}

pub const HELP: &str = "\
Store and restore files from the cache (cacher in Semaphore `cache` mode).

Usage:
  cache [command]

Available Commands:
  clear        Clear all cache entries.
  delete       Delete a key from the cache.
  has_key      Check if a key is present in the cache.
  help         Help about any command
  is_not_empty Check if the cache is not empty.
  list         List all keys in the cache.
  restore      Restore keys from the cache.
  store        Store keys in the cache.
  usage        Get a summary of cache usage.

Flags:
  -h, --help   help for cache

Environment: SEMAPHORE_PROJECT_ID (object prefix), SEMAPHORE_CACHE_S3_BUCKET,
SEMAPHORE_CACHE_S3_URL (custom endpoint, path-style), SEMAPHORE_CACHE_S3_KEY and
SEMAPHORE_CACHE_S3_SECRET, SEMAPHORE_CACHE_AWS_PROFILE, else the AWS chain (~/.aws);
CACHE_FAIL_ON_ERROR=true makes errors exit 1. cacher's own CACHER_* settings and config
file apply underneath. This is cacher; `cacher --help` lists its native commands.";

/// A parsed `cache` command line.
#[derive(Debug, PartialEq)]
enum Cmd {
    Help,
    Store(Option<(String, String)>),
    Restore(Option<String>),
    HasKey(String),
    List(SortBy),
    Delete(String),
    Clear,
    Usage,
    IsNotEmpty,
}

#[derive(Debug, PartialEq, Clone, Copy)]
enum SortBy {
    Size,
    StoreTime,
    AccessTime,
}

fn parse(args: &[String]) -> std::result::Result<Cmd, String> {
    let mut it = args.iter().map(String::as_str);
    let Some(cmd) = it.next() else {
        return Ok(Cmd::Help);
    };
    let rest: Vec<&str> = it.collect();
    if rest.iter().any(|a| *a == "-h" || *a == "--help") {
        return Ok(Cmd::Help);
    }
    let one = |what: &str| -> std::result::Result<String, String> {
        match rest.as_slice() {
            [k] => Ok(k.to_string()),
            _ => Err(format!(
                "Incorrect number of arguments! ({cmd} takes {what})"
            )),
        }
    };
    let none = || {
        if rest.is_empty() {
            Ok(())
        } else {
            Err(format!("Incorrect number of arguments! ({cmd} takes none)"))
        }
    };
    Ok(match cmd {
        "-h" | "--help" | "help" => Cmd::Help,
        "store" => match rest.as_slice() {
            [] => Cmd::Store(None),
            [k, p] => Cmd::Store(Some((k.to_string(), p.to_string()))),
            _ => {
                return Err("Incorrect number of arguments! (store takes KEY PATH, or none)".into())
            }
        },
        "restore" => match rest.as_slice() {
            [] => Cmd::Restore(None),
            [k] => Cmd::Restore(Some(k.to_string())),
            _ => {
                return Err(
                    "Incorrect number of arguments! (restore takes KEY[,KEY...], or none)".into(),
                )
            }
        },
        "has_key" => Cmd::HasKey(one("KEY")?),
        "delete" => Cmd::Delete(one("KEY")?),
        "clear" => none().map(|_| Cmd::Clear)?,
        "usage" => none().map(|_| Cmd::Usage)?,
        "is_not_empty" => none().map(|_| Cmd::IsNotEmpty)?,
        "list" => {
            let mut sort = SortBy::StoreTime;
            let mut i = 0;
            while i < rest.len() {
                let (flag, inline) = match rest[i].split_once('=') {
                    Some((f, v)) => (f, Some(v)),
                    None => (rest[i], None),
                };
                if flag != "-s" && flag != "--sort-by" {
                    return Err(format!("unknown flag: {}", rest[i]));
                }
                let v = match inline {
                    Some(v) => v,
                    None => {
                        i += 1;
                        rest.get(i)
                            .copied()
                            .ok_or("flag needs an argument: --sort-by")?
                    }
                };
                sort = match v.to_ascii_uppercase().as_str() {
                    "SIZE" => SortBy::Size,
                    "STORE_TIME" => SortBy::StoreTime,
                    "ACCESS_TIME" => SortBy::AccessTime,
                    _ => {
                        return Err(format!(
                            "Invalid sort-by value '{v}': use SIZE, STORE_TIME or ACCESS_TIME"
                        ))
                    }
                };
                i += 1;
            }
            Cmd::List(sort)
        }
        other => return Err(format!("unknown command \"{other}\" for \"cache\"")),
    })
}

/// Semaphore's key normalisation: `/` is not allowed in keys, it becomes `-`.
fn normalize(key: &str) -> String {
    let n = key.replace('/', "-");
    if n != key {
        say(&format!("Key '{key}' is normalized to '{n}'."));
    }
    n
}

/// One line of the dialect's output, on stdout as Semaphore prints it.
fn say(line: &str) {
    println!("{line}");
}

/// Sizes as Semaphore prints them: `512B`, `1.5K`, `12.0M`, `3.2G` (powers of 1024).
pub fn human(n: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    match crate::output::scale_1024(n) {
        None => format!("{n}B"),
        Some((v, i)) => format!("{v:.1}{}", UNITS[i]),
    }
}

/// Durations as Go prints a `time.Duration` at this scale: `1.234s`, `250ms`.
fn go_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        let s = format!("{:.3}", d.as_secs_f64());
        format!("{}s", s.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// Runs `cache ARGS...`; returns the exit code.
pub fn main(args: Vec<OsString>, mut env: Env) -> i32 {
    let fail_on_error = env
        .get("CACHE_FAIL_ON_ERROR")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let failed = |msg: &str| {
        eprintln!("cache: {msg}");
        i32::from(fail_on_error)
    };
    let cmd = match parse(&args) {
        Ok(c) => c,
        Err(m) => return failed(&m),
    };
    if cmd == Cmd::Help {
        say(HELP);
        return 0;
    }
    translate_env(&mut env);
    let ctx = match Config::load(&Globals::default(), &env) {
        Ok(cfg) => Ctx {
            cfg,
            env,
            globals: Globals::default(),
        },
        Err(e) => return failed(&e.to_string()),
    };
    match run(&ctx, cmd) {
        Ok(code) => code,
        Err(e) => failed(&e.to_string()),
    }
}

/// The Semaphore variables, as the cacher settings they stand for. They win over the
/// corresponding CACHER_* values (an agent sets them per job); everything else — the config
/// file, CACHER_CONCURRENCY, the AWS chain — applies as usual.
fn translate_env(env: &mut Env) {
    let pairs = [
        ("SEMAPHORE_CACHE_S3_BUCKET", "CACHER_BUCKET"),
        ("SEMAPHORE_CACHE_S3_URL", "CACHER_ENDPOINT"),
        ("SEMAPHORE_CACHE_S3_KEY", "CACHER_S3_KEY_ID"),
        ("SEMAPHORE_CACHE_S3_SECRET", "CACHER_S3_SECRET"),
        ("SEMAPHORE_CACHE_AWS_PROFILE", "AWS_PROFILE"),
        ("SEMAPHORE_PROJECT_ID", "CACHER_PREFIX"),
    ];
    for (from, to) in pairs {
        if let Some(v) = env.get(from).map(str::to_string) {
            env.set(to, &v);
        }
    }
    // Semaphore addresses a custom S3 URL path-style (MinIO, Garage).
    if env.get("SEMAPHORE_CACHE_S3_URL").is_some() && env.get("CACHER_PATH_STYLE").is_none() {
        env.set("CACHER_PATH_STYLE", "true");
    }
}

fn run(ctx: &Ctx, cmd: Cmd) -> Result<i32> {
    let client = ctx.client()?;
    match cmd {
        Cmd::Help => Ok(0),
        Cmd::Store(Some((key, path))) => store(ctx, &client, &key, &path).map(|_| 0),
        Cmd::Store(None) => per_lockfile(lookup(ctx, false)?, "Nothing to store in cache.", |l| {
            store(ctx, &client, &l.keys[0], &l.path)
        }),
        Cmd::Restore(Some(keys)) => {
            let keys: Vec<String> = keys.split(',').map(str::to_string).collect();
            restore(ctx, &client, &keys).map(|_| 0)
        }
        Cmd::Restore(None) => {
            per_lockfile(lookup(ctx, true)?, "Nothing to restore from cache.", |l| {
                say(&format!(
                    "Fetching '{}' directory with cache keys '{}'...",
                    l.path,
                    l.keys.join(",")
                ));
                restore(ctx, &client, &l.keys)
            })
        }
        Cmd::HasKey(key) => {
            let key = normalize(&key);
            if client.head_object(&ctx.object(&key)?)?.is_some() {
                say(&format!("Key '{key}' exists in the cache store."));
                Ok(0)
            } else {
                say(&format!("Key '{key}' doesn't exist in the cache store."));
                Ok(1)
            }
        }
        Cmd::Delete(key) => {
            let key = normalize(&key);
            let name = ctx.object(&key)?;
            if client.head_object(&name)?.is_some() {
                client.delete_object(&name)?;
                say(&format!("Key '{key}' is deleted."));
            } else {
                say(&format!("Key '{key}' doesn't exist in the cache store."));
            }
            Ok(0)
        }
        Cmd::Clear => {
            let names: Vec<String> = entries(ctx, &client)?.into_iter().map(|e| e.name).collect();
            housekeeping::delete_many(ctx, &client, &names, false)?;
            say("Deleted all caches.");
            Ok(0)
        }
        Cmd::Usage => {
            let used: u64 = entries(ctx, &client)?.iter().map(|e| e.size).sum();
            // An S3 bucket has no quota to report.
            say("FREE SPACE: (unlimited)");
            say(&format!("USED SPACE: {}", human(used)));
            Ok(0)
        }
        Cmd::IsNotEmpty => {
            let mut any = false;
            client.list_each(&project_prefix(ctx), None, |page| {
                any |= !page.objects.is_empty();
                Ok(())
            })?;
            Ok(if any { 0 } else { 1 })
        }
        Cmd::List(sort) => list(ctx, &client, sort),
    }
}

/// Runs `each` for every detected path, saying `Detected FILE.` once per lockfile first, or
/// `none` when no lockfile was found.
fn per_lockfile(
    found: Vec<Lookup>,
    none: &str,
    mut each: impl FnMut(&Lookup) -> Result<()>,
) -> Result<i32> {
    if found.is_empty() {
        say(none);
    }
    let mut last = "";
    for l in &found {
        if l.detected != last {
            say(&format!("Detected {}.", l.detected));
            last = l.detected;
        }
        each(l)?;
    }
    Ok(0)
}

/// `<project>/`: the folder every key of this project lives in.
fn project_prefix(ctx: &Ctx) -> String {
    if ctx.cfg.prefix.is_empty() {
        String::new()
    } else {
        format!("{}/", ctx.cfg.prefix)
    }
}

fn entries(ctx: &Ctx, client: &Client) -> Result<Vec<housekeeping::Entry>> {
    housekeeping::entries(client, &project_prefix(ctx))
}

fn list(ctx: &Ctx, client: &Client, sort: SortBy) -> Result<i32> {
    let mut all = entries(ctx, client)?;
    if all.is_empty() {
        say("Cache is empty.");
        return Ok(0);
    }
    // S3 keeps no access time: ACCESS_TIME sorts as the store time.
    match sort {
        SortBy::Size => all.sort_by(|a, b| b.size.cmp(&a.size).then(a.name.cmp(&b.name))),
        SortBy::StoreTime | SortBy::AccessTime => {
            all.sort_by(|a, b| b.written.cmp(&a.written).then(a.name.cmp(&b.name)))
        }
    }
    // Semaphore's layout: `%-60s %-12s %-12s`, times as Go's RFC822.
    say(format!("{:<60} {:<12} {:<12}", "NAME", "SIZE", "STORED AT").trim_end());
    for e in &all {
        let t = e
            .written
            .map(crate::timefmt::rfc822)
            .unwrap_or_else(|| "-".into());
        let line = format!(
            "{:<60} {:<12} {t:<12}",
            ctx.relative(&e.name),
            human(e.size)
        );
        say(line.trim_end());
    }
    Ok(0)
}

fn store(ctx: &Ctx, client: &Client, key: &str, path: &str) -> Result<()> {
    let key = normalize(key);
    let name = ctx.object(&key)?;
    let p = PathBuf::from(path);
    if fs::symlink_metadata(&p).is_err() {
        say(&format!("Path {path} does not exist."));
        return Ok(());
    }
    if client.head_object(&name)?.is_some() {
        say(&format!("Key '{key}' already exists."));
        return Ok(());
    }
    // Semaphore compresses to a temporary file, then uploads it, and reports each step. Here
    // both happen at once (streamed, no temporary file), so the same lines come in the same
    // order, with the one duration of the whole transfer.
    say(&format!("Compressing {path}..."));
    let start = Instant::now();
    let progress = Progress::new(format!("uploading '{key}'"), None);
    let level = ctx.cfg.level;
    let (_stats, up) = dircmd::pack_and_upload(ctx, client, &name, &p, &progress, |w| {
        archive::pack_path(&p, w, level, dircmd::threads())
    })?;
    let took = go_duration(start.elapsed());
    say(&format!(
        "Compression complete. Duration: {took}. Size: {} bytes.",
        human(up.bytes)
    ));
    say(&format!("Uploading '{path}' with cache key '{key}'..."));
    say(&format!("Upload complete. Duration: {took}."));
    Ok(())
}

/// Tries each key in order: the exact key, else the newest key matching it as a regular
/// expression (unanchored, RE2 syntax). A miss is not an error.
fn restore(ctx: &Ctx, client: &Client, keys: &[String]) -> Result<()> {
    let mut listing: Option<Vec<housekeeping::Entry>> = None;
    for raw in keys {
        let key = normalize(raw);
        let exact = ctx.object(&key)?;
        if client.head_object(&exact)?.is_some() {
            say(&format!("HIT: '{key}', using key '{key}'."));
            return fetch(ctx, client, &key);
        }
        if listing.is_none() {
            let mut all = entries(ctx, client)?;
            all.sort_by(|a, b| b.written.cmp(&a.written).then(b.name.cmp(&a.name)));
            listing = Some(all);
        }
        let re = regex_lite::Regex::new(&key).ok();
        let found = re.and_then(|re| {
            listing
                .iter()
                .flatten()
                .map(|e| ctx.relative(&e.name))
                .find(|k| re.is_match(k))
                .map(str::to_string)
        });
        match found {
            Some(k) => {
                say(&format!("HIT: '{key}', using key '{k}'."));
                return fetch(ctx, client, &k);
            }
            None => say(&format!("MISS: '{key}'.")),
        }
    }
    Ok(())
}

/// Downloads and unpacks `key`, replacing the stored path atomically.
fn fetch(ctx: &Ctx, client: &Client, key: &str) -> Result<()> {
    let name = ctx.object(key)?;
    say(&format!("Downloading key '{key}'..."));
    let start = Instant::now();
    let home = ctx.env.home();
    let mut staging: Option<PathBuf> = None;
    let mut undo = None;
    let outcome = transfer::read_object(
        client,
        &name,
        ctx.cfg.part_size,
        ctx.cfg.concurrency,
        |found| {
            let Some((r, meta)) = found else {
                return Err(Error::Other(format!(
                    "key '{key}' vanished before it was read"
                )));
            };
            let progress = Progress::new(format!("restoring '{key}'"), Some(meta.size));
            let mut counted = dircmd::Counted {
                inner: r,
                progress: &progress,
            };
            let mut staging_for = |root: &Path| -> Result<PathBuf> {
                archive::check_replaceable(root, home.as_deref())?;
                crate::leftovers::clean_stale(root, &["staging", "old"]);
                let s = crate::leftovers::sibling(root, "staging")?;
                if let Some(parent) = s.parent().filter(|p| !p.as_os_str().is_empty()) {
                    fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
                }
                fs::create_dir(&s).map_err(|e| Error::io("creating", &s, e))?;
                let doomed = s.clone();
                undo = Some(crate::interrupt::on_interrupt(move || {
                    let _ = fs::remove_dir_all(doomed);
                }));
                staging = Some(s.clone());
                Ok(s)
            };
            let r =
                archive::unpack_rooted(&mut counted, dircmd::running_as_root(), &mut staging_for);
            progress.finish();
            r.map(|(root, _)| (root, meta.size))
        },
    );
    let (root, size) = match outcome {
        Ok(v) => v,
        Err(e) => {
            if let Some(s) = &staging {
                let _ = fs::remove_dir_all(s);
            }
            return Err(e);
        }
    };
    let staging = staging.expect("unpack_rooted created the staging directory");
    // Downloading and unpacking were one streamed step: Semaphore's lines, one duration.
    let took = go_duration(start.elapsed());
    say(&format!(
        "Download complete. Duration: {took}. Size: {} bytes.",
        human(size)
    ));
    say(&format!("Unpacking '{key}'..."));
    say(&format!("Unpack complete. Duration: {took}."));
    let swapped = archive::replace_dir(&staging.join("data"), &root);
    let _ = fs::remove_dir_all(&staging);
    drop(undo);
    swapped?;
    say(&format!("Restored: {}.", root.display()));
    Ok(())
}

/// A lockfile found in the working directory: its keys (the first is the one `store` uses;
/// `restore` tries them in order) and the path they cache.
struct Lookup {
    detected: &'static str,
    keys: Vec<String>,
    path: String,
}

/// The lockfiles Semaphore's CLI detects, in its order, with the key stem and path of each
/// thing it caches (`~` is the home directory).
const LOCKFILES: &[(&str, &[(&str, &str)])] = &[
    (".nvmrc", &[("nvm", "~/.nvm")]),
    ("Gemfile.lock", &[("gems", "vendor/bundle")]),
    ("package-lock.json", &[("node-modules", "node_modules")]),
    (
        "yarn.lock",
        &[
            ("yarn-cache", "~/.cache/yarn"),
            ("node-modules", "node_modules"),
        ],
    ),
    ("mix.lock", &[("mix-deps", "deps"), ("mix-build", "_build")]),
    ("requirements.txt", &[("requirements", ".pip_cache")]),
    ("composer.lock", &[("composer", "vendor")]),
    ("pom.xml", &[("maven", ".m2"), ("maven-target", "target")]),
    ("Podfile.lock", &[("pods", "Pods")]),
    ("go.sum", &[("go", "~/go/pkg/mod")]),
];

/// Semaphore's automatic keys: `STEM-BRANCH-MD5(lockfile)`, and for restore the fallbacks
/// `STEM-BRANCH`, `STEM-master`, `STEM-main`. MD5 because that is what the existing entries
/// in a bucket were named with; it is a name here, not a security check.
fn lookup(ctx: &Ctx, restore: bool) -> Result<Vec<Lookup>> {
    let branch = ctx
        .env
        .get("SEMAPHORE_GIT_PR_BRANCH")
        .or_else(|| ctx.env.get("SEMAPHORE_GIT_BRANCH"))
        .unwrap_or("master")
        .to_string();
    let mut out = Vec::new();
    for (file, cached) in LOCKFILES {
        let Ok(bytes) = fs::read(file) else { continue };
        let sum = hex::encode(md5::Md5::digest(&bytes));
        for (stem, path) in *cached {
            let mut keys = vec![format!("{stem}-{branch}-{sum}").replace('/', "-")];
            if restore {
                for k in [
                    format!("{stem}-{branch}"),
                    format!("{stem}-master"),
                    format!("{stem}-main"),
                ] {
                    let k = k.replace('/', "-");
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
            }
            out.push(Lookup {
                detected: file,
                keys,
                path: ctx.env.expand_tilde(path).display().to_string(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> std::result::Result<Cmd, String> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn command_lines() {
        assert_eq!(p(&[]), Ok(Cmd::Help));
        assert_eq!(p(&["store"]), Ok(Cmd::Store(None)));
        assert_eq!(
            p(&["store", "k", "node_modules"]),
            Ok(Cmd::Store(Some(("k".into(), "node_modules".into()))))
        );
        assert!(p(&["store", "k"]).is_err());
        assert_eq!(p(&["restore", "a,b"]), Ok(Cmd::Restore(Some("a,b".into()))));
        assert_eq!(p(&["has_key", "k"]), Ok(Cmd::HasKey("k".into())));
        assert_eq!(p(&["list"]), Ok(Cmd::List(SortBy::StoreTime)));
        assert_eq!(p(&["list", "-s", "size"]), Ok(Cmd::List(SortBy::Size)));
        assert_eq!(
            p(&["list", "--sort-by=ACCESS_TIME"]),
            Ok(Cmd::List(SortBy::AccessTime))
        );
        assert!(p(&["list", "-s", "name"]).is_err());
        assert_eq!(p(&["clear"]), Ok(Cmd::Clear));
        assert!(p(&["clear", "x"]).is_err());
        assert_eq!(p(&["restore", "--help"]), Ok(Cmd::Help));
        assert!(p(&["frobnicate"]).is_err());
    }

    #[test]
    fn sizes_and_durations() {
        assert_eq!(human(0), "0B");
        assert_eq!(human(1023), "1023B");
        assert_eq!(human(1536), "1.5K");
        assert_eq!(human(3 << 20), "3.0M");
        assert_eq!(human(5 << 30), "5.0G");
        assert_eq!(go_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_millis(2000)), "2s");
    }

    #[test]
    fn the_name_decides_the_mode() {
        assert!(wanted("cache".as_ref()));
        assert!(wanted("/usr/local/bin/cache".as_ref()));
        assert!(!wanted("cacher".as_ref()));
        assert!(!wanted("/opt/cache/cacher".as_ref()));
    }
}
