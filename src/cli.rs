//! argv → ([`Globals`], [`Command`]): lexopt's honest loop, one `match` per argument, help texts
//! as constants. Pure: no I/O, no environment; tested with fake argv.
//!
//! Global options (the settings of SPEC §2, `--config`, `-q`, `-v`) are accepted before or after
//! the subcommand. Values stay raw strings here; `config.rs` validates settings, because it
//! must also validate the same settings coming from env vars and the config file.

use std::ffi::OsString;
use std::path::PathBuf;

use lexopt::prelude::*;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Globals {
    pub config: Option<PathBuf>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub bucket: Option<String>,
    pub prefix: Option<String>,
    pub arch_suffix: Option<bool>,
    pub path_style: Option<bool>,
    pub key_file: Option<PathBuf>,
    pub secret_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    pub concurrency: Option<String>,
    pub part_size: Option<String>,
    pub quiet: bool,
    pub verbose: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Init,
    Doctor,
    Download {
        key: String,
        dest: String,
        url: Option<String>,
        sha256: Option<String>,
        restore_keys: Vec<String>,
    },
    Upload {
        key: String,
        path: String,
        force: bool,
    },
    Exists {
        key: String,
    },
    List {
        prefix: Option<String>,
        recursive: bool,
        root: bool,
        json: bool,
        human: bool,
    },
    Delete {
        keys: Vec<String>,
        recursive: Option<String>,
        dry_run: bool,
    },
    DirUpload {
        key: String,
        dir: PathBuf,
        force: bool,
        level: Option<String>,
    },
    DirDownload {
        key: String,
        dir: PathBuf,
        restore_keys: Vec<String>,
    },
    DockerUpload {
        key: String,
        image: String,
        force: bool,
    },
    DockerDownload {
        key: String,
        image: String,
        pull: bool,
    },
    DockerExists {
        key: String,
    },
    Key {
        template: String,
        hash_from: Vec<PathBuf>,
        hash_length: usize,
        arch_suffix: bool,
    },
    Version,
    Help(&'static str),
}

/// One line naming the problem (main adds `cacher: `).
#[derive(Debug, Clone, PartialEq)]
pub struct UsageError(pub String);

impl From<lexopt::Error> for UsageError {
    fn from(e: lexopt::Error) -> UsageError {
        UsageError(e.to_string())
    }
}

pub const TOP_HELP: &str = "\
cacher: keep CI build inputs in an S3-compatible bucket

usage: cacher COMMAND [ARGS] [OPTIONS]

commands:
  download KEY DEST   hit: stream the object to DEST; miss: --url fetch and store, else exit 3
  upload KEY PATH     store a file (- = stdin); skipped if present unless --force
  exists KEY          exit 0 if present, 1 if not
  list [PREFIX]       list keys like `aws s3 ls`
  delete KEY...       remove keys (or --recursive PREFIX)
  dir upload|download KEY DIR      a directory as tar.zst
  docker upload|download|exists    docker images, streamed
  key TEMPLATE        print a key: {hash} {os} {arch}
  init --bucket B     write the config file, then run doctor
  doctor              check settings, credentials and the bucket
  version             print the version

global options (flag > CACHER_<NAME> env > config file > default):
  --config PATH         config file (CACHER_CONFIG; default ~/.config/cacher/config.toml)
  --endpoint URL        S3 endpoint (CACHER_ENDPOINT)
  --region R            region (CACHER_REGION)
  --bucket B            bucket (CACHER_BUCKET)
  --prefix P            prefix joined to every key (CACHER_PREFIX)
  --arch-suffix         append -<os>-<arch> to every key (CACHER_ARCH_SUFFIX)
  --path-style | --virtual-hosted   addressing (CACHER_PATH_STYLE)
  --key-file F --secret-file F      credential files (CACHER_KEY_FILE, CACHER_SECRET_FILE)
  --ca-file F           trust this CA bundle instead of the bundled roots (CACHER_CA_FILE)
  --concurrency N       parallel parts (CACHER_CONCURRENCY, 4)
  --part-size SIZE      multipart part size, e.g. 16MiB (CACHER_PART_SIZE)
  -q, --quiet           errors only
  -v, --verbose         log every HTTP request (credentials redacted)
  -h, --help            help (also `cacher COMMAND --help`)

credentials: CACHER_S3_KEY_ID + CACHER_S3_SECRET, key/secret files, AWS_ACCESS_KEY_ID +
AWS_SECRET_ACCESS_KEY, or ~/.aws/credentials (AWS_PROFILE).

exit codes: 0 success, 1 exists: missing, 2 error, 3 download: cache miss.";

pub const DOWNLOAD_HELP: &str = "\
usage: cacher download KEY DEST [--url URL] [--sha256 HEX] [--restore-key PREFIX]...

Hit: stream the object to DEST (- = stdout). Miss with --url: GET the URL (redirects followed),
verify --sha256, write DEST, then store it so the next run hits. Miss without --url: exit 3.
DEST is written through a temporary file beside it and renamed only when every check passed;
its parent directories are created.

options:
  --url URL             fetch from here on a miss (a failing URL is exit 2)
  --sha256 HEX          expected sha256, checked on a hit too: a cached object that does not
                        match is never written (with --url it is refetched and replaced)
  --restore-key PREFIX  on a miss, use the newest object whose key starts with PREFIX
                        (repeatable, tried in order; not with --url)

exit codes: 0 hit or fetched, 2 error or checksum mismatch, 3 miss.

examples:
  cacher download go-1.26.3.tar.gz /tmp/go.tar.gz \\
    --url https://go.dev/dl/go1.26.3.linux-amd64.tar.gz --sha256 abc123...
  cacher download \"gomod/$(sha256sum go.sum | cut -c1-16).tar.gz\" /tmp/gomod.tar.gz || build
  cacher download deps-$HASH.tar /tmp/deps.tar --restore-key deps-";

pub const UPLOAD_HELP: &str = "\
usage: cacher upload KEY PATH [--force]

Store the file PATH (- = stdin) under KEY. If KEY exists it is skipped (exit 0, one line
saying so) unless --force. Large inputs go up as concurrent multipart parts; the object
carries x-amz-meta-sha256. A directory is an error: use `cacher dir upload`.

examples:
  cacher upload my-key /path/to/artifact
  cacher upload my-key /path/to/artifact --force
  tar -cf - build | cacher upload build.tar -";

pub const EXISTS_HELP: &str = "\
usage: cacher exists KEY

Exit 0 if KEY is in the cache, 1 if not (2 on errors). Prints nothing on stdout.

example:
  if cacher exists \"$key\"; then echo cached; else echo missing; fi";

pub const LIST_HELP: &str = "\
usage: cacher list [PREFIX] [--recursive] [--root] [--json] [--human]

Like `aws s3 ls`: without --recursive, '/'-delimited with names relative to PREFIX
(`PRE name/` lines, then `YYYY-MM-DD HH:MM:SS SIZE name`, UTC).

options:
  --recursive   flat listing; keys relative to the configured prefix (pass them back)
  --root        ignore the configured prefix
  --json        one JSON object per line: {\"key\",\"size\",\"last_modified\",\"etag\"} or {\"prefix\"}
  --human       sizes like 12.3 MiB

examples:
  cacher list
  cacher list gomod/ --recursive --human";

pub const DELETE_HELP: &str = "\
usage: cacher delete KEY...
       cacher delete --recursive PREFIX [--dry-run]

Remove keys (a missing key is not an error), or every object under PREFIX.
--dry-run prints on stdout what would be removed, and removes nothing.

examples:
  cacher delete my-key
  cacher delete --recursive old-branch/ --dry-run";

pub const DIR_HELP: &str = "\
usage: cacher dir upload KEY DIR [--force] [--level N]
       cacher dir download KEY DIR [--restore-key PREFIX]...

A directory's contents as a zstd-compressed tar stream (level 1..19, default 3), streamed both
ways. download replaces DIR atomically; a miss is exit 3.

example:
  KEY=$(cacher key \"go-mod/{hash}.tar.zst\" --hash-from go.sum)
  cacher dir download \"$KEY\" ~/go/pkg/mod ||
    { go mod download; cacher dir upload \"$KEY\" ~/go/pkg/mod; }";

pub const DOCKER_HELP: &str = "\
usage: cacher docker upload KEY IMAGE [--force]
       cacher docker download KEY IMAGE [--pull]
       cacher docker exists KEY

`docker save IMAGE | zstd | S3` and the inverse into `docker load`, streamed. download --pull:
on a miss, docker pull IMAGE and seed the cache. The docker executable is `docker` or
$CACHER_DOCKER.

example:
  cacher docker download docker/postgres-16.tar.zst postgres:16 --pull";

pub const KEY_HELP: &str = "\
usage: cacher key TEMPLATE [--hash-from PATH]... [--hash-length N] [--arch-suffix]

Print the resolved key on stdout (never the prefix) and do nothing else. {hash} is the sha256
of --hash-from (one file: its content, = sha256sum FILE; otherwise a manifest of every file
under the paths, = find DIR -type f | LC_ALL=C sort | xargs sha256sum | sha256sum), cut to
--hash-length (1..64, default 16). {os} and {arch} are Go's names (linux, amd64). With a hash
and no {hash}, the hash is inserted before the archive extension; --arch-suffix inserts
-<os>-<arch> the same way.

examples:
  cacher key \"images/{hash}.tar.zst\" --hash-from Dockerfile
  cacher key img/build.tar.zst --hash-from Dockerfile      # img/build-<hash>.tar.zst
  cacher key bin/cacher --arch-suffix                       # bin/cacher-linux-amd64";

pub const INIT_HELP: &str = "\
usage: cacher init --bucket B [--endpoint URL] [--region R] [--prefix P]
                   [--key-file F --secret-file F] [--arch-suffix]

Write the config file (--config, $CACHER_CONFIG or ~/.config/cacher/config.toml; mode 0600)
with the values given — never a secret, only the absolute paths of the secret files — then
run the doctor checks. Exit 2 if they fail.

example:
  cacher init --endpoint https://s3.example.com --region garage --bucket ci-cache \\
    --prefix my-project --key-file ~/.s3-cache-key-id --secret-file ~/.s3-cache-key-secret";

pub const DOCTOR_HELP: &str = "\
usage: cacher doctor

Print where every setting came from, credential diagnostics that never show the secret (key id
length and first 4 characters, secret length, trimmed whitespace), the server's clock skew,
then check HEAD bucket (or a 1-key listing where that is denied) and a 1-byte canary
PUT/GET/DELETE under the prefix. Each failure names the S3 error and a hint. Exit 0 or 2.";

pub const VERSION_HELP: &str = "\
usage: cacher version

Print `cacher X.Y.Z (os-arch, commit abcdef1)`.";

/// Everything `parse` collects before deciding the command.
#[derive(Default)]
struct Raw {
    positionals: Vec<OsString>,
    force: bool,
    url: Option<String>,
    sha256: Option<String>,
    restore_keys: Vec<String>,
    recursive_flag: bool,
    recursive_value: Option<String>,
    root: bool,
    json: bool,
    human: bool,
    dry_run: bool,
    level: Option<String>,
    pull: bool,
    hash_from: Vec<PathBuf>,
    hash_length: Option<String>,
    key_arch_suffix: bool,
    help: bool,
    version_flag: bool,
    /// Options given, for "not valid for this command" checks.
    seen: Vec<&'static str>,
}

fn string(v: OsString, what: &str) -> Result<String, UsageError> {
    v.into_string()
        .map_err(|v| UsageError(format!("{what} {:?} is not valid UTF-8", v)))
}

/// Options each command accepts (globals are accepted everywhere).
fn allowed(cmd: &str) -> &'static [&'static str] {
    match cmd {
        "download" => &["--url", "--sha256", "--restore-key"],
        "upload" => &["--force"],
        "list" => &["--recursive", "--root", "--json", "--human"],
        "delete" => &["--recursive", "--dry-run"],
        "dir upload" => &["--force", "--level"],
        "dir download" => &["--restore-key"],
        "docker upload" => &["--force"],
        "docker download" => &["--pull"],
        "key" => &["--hash-from", "--hash-length", "--arch-suffix"],
        _ => &[],
    }
}

fn help_for(cmd: &str) -> &'static str {
    match cmd {
        "download" => DOWNLOAD_HELP,
        "upload" => UPLOAD_HELP,
        "exists" => EXISTS_HELP,
        "list" => LIST_HELP,
        "delete" => DELETE_HELP,
        "dir" | "dir upload" | "dir download" => DIR_HELP,
        "docker" | "docker upload" | "docker download" | "docker exists" => DOCKER_HELP,
        "key" => KEY_HELP,
        "init" => INIT_HELP,
        "doctor" => DOCTOR_HELP,
        "version" => VERSION_HELP,
        _ => TOP_HELP,
    }
}

const COMMANDS: &[&str] = &[
    "download", "upload", "exists", "list", "delete", "dir", "docker", "key", "init", "doctor",
    "version", "help",
];

/// Parses argv (without argv[0]).
pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<(Globals, Command), UsageError> {
    let mut p = lexopt::Parser::from_args(args);
    let mut g = Globals::default();
    let mut r = Raw::default();
    let mut cmd: Option<String> = None;
    // lexopt itself turns everything after `--` into values, and `-` alone is a value.
    while let Some(arg) = p.next()? {
        let opt_name: Option<&'static str> = match &arg {
            Long("url") => Some("--url"),
            Long("sha256") => Some("--sha256"),
            Long("restore-key") => Some("--restore-key"),
            Long("force") => Some("--force"),
            Long("recursive") => Some("--recursive"),
            Long("root") => Some("--root"),
            Long("json") => Some("--json"),
            Long("human") => Some("--human"),
            Long("dry-run") => Some("--dry-run"),
            Long("level") => Some("--level"),
            Long("pull") => Some("--pull"),
            Long("hash-from") => Some("--hash-from"),
            Long("hash-length") => Some("--hash-length"),
            _ => None,
        };
        if let Some(n) = opt_name {
            r.seen.push(n);
        }
        match arg {
            Short('h') | Long("help") => r.help = true,
            Long("version") => r.version_flag = true,
            Short('q') | Long("quiet") => g.quiet = true,
            Short('v') | Long("verbose") => g.verbose = true,
            Long("config") => g.config = Some(p.value()?.into()),
            Long("endpoint") => g.endpoint = Some(string(p.value()?, "--endpoint")?),
            Long("region") => g.region = Some(string(p.value()?, "--region")?),
            Long("bucket") => g.bucket = Some(string(p.value()?, "--bucket")?),
            Long("prefix") => g.prefix = Some(string(p.value()?, "--prefix")?),
            Long("arch-suffix") => {
                // `key` has its own --arch-suffix (SPEC §4); others set the global setting.
                if cmd.as_deref() == Some("key") {
                    r.key_arch_suffix = true;
                } else {
                    g.arch_suffix = Some(true);
                }
            }
            Long("path-style") => g.path_style = Some(true),
            Long("virtual-hosted") => g.path_style = Some(false),
            Long("key-file") => g.key_file = Some(p.value()?.into()),
            Long("secret-file") => g.secret_file = Some(p.value()?.into()),
            Long("ca-file") => g.ca_file = Some(p.value()?.into()),
            Long("concurrency") => g.concurrency = Some(string(p.value()?, "--concurrency")?),
            Long("part-size") => g.part_size = Some(string(p.value()?, "--part-size")?),
            Long("url") => r.url = Some(string(p.value()?, "--url")?),
            Long("sha256") => r.sha256 = Some(string(p.value()?, "--sha256")?),
            Long("restore-key") => r.restore_keys.push(string(p.value()?, "--restore-key")?),
            Long("force") => r.force = true,
            Long("recursive") => {
                // `delete --recursive PREFIX` takes a value; `list --recursive` does not.
                if cmd.as_deref() == Some("delete") {
                    r.recursive_value = Some(string(p.value()?, "--recursive")?);
                } else {
                    r.recursive_flag = true;
                }
            }
            Long("root") => r.root = true,
            Long("json") => r.json = true,
            Long("human") => r.human = true,
            Long("dry-run") => r.dry_run = true,
            Long("level") => r.level = Some(string(p.value()?, "--level")?),
            Long("pull") => r.pull = true,
            Long("hash-from") => r.hash_from.push(p.value()?.into()),
            Long("hash-length") => r.hash_length = Some(string(p.value()?, "--hash-length")?),
            Value(v) => {
                if cmd.is_none() {
                    let name = string(v, "command")?;
                    if !COMMANDS.contains(&name.as_str()) {
                        return Err(UsageError(format!(
                            "unknown command '{name}' (see `cacher --help`)"
                        )));
                    }
                    cmd = Some(name);
                } else {
                    r.positionals.push(v);
                }
            }
            other => {
                let shown = match &other {
                    Long(l) => format!("--{l}"),
                    Short(c) => format!("-{c}"),
                    Value(v) => v.to_string_lossy().into_owned(),
                };
                let ctx = cmd
                    .as_deref()
                    .map(|c| format!(" for '{c}'"))
                    .unwrap_or_default();
                return Err(UsageError(format!(
                    "unexpected argument '{shown}'{ctx} (see --help)"
                )));
            }
        }
    }
    build(g, r, cmd)
}

fn take_key(v: OsString, cmd: &str) -> Result<String, UsageError> {
    v.into_string()
        .map_err(|_| UsageError(format!("{cmd}: KEY must be valid UTF-8")))
}

fn build(g: Globals, mut r: Raw, cmd: Option<String>) -> Result<(Globals, Command), UsageError> {
    let Some(mut cmd) = cmd else {
        if r.help {
            return Ok((g, Command::Help(TOP_HELP)));
        }
        if r.version_flag {
            return Ok((g, Command::Version));
        }
        return Err(UsageError("no command given (see `cacher --help`)".into()));
    };
    if cmd == "help" {
        let topic = r.positionals.first().and_then(|p| p.to_str()).unwrap_or("");
        return Ok((g, Command::Help(help_for(topic))));
    }
    // dir and docker take a sub-subcommand.
    if cmd == "dir" || cmd == "docker" {
        let valid: &[&str] = if cmd == "dir" {
            &["upload", "download"]
        } else {
            &["upload", "download", "exists"]
        };
        if r.positionals.is_empty() {
            if r.help {
                return Ok((g, Command::Help(help_for(&cmd))));
            }
            return Err(UsageError(format!(
                "{cmd}: missing subcommand ({})",
                valid.join(", ")
            )));
        }
        let sub = r.positionals.remove(0).to_string_lossy().into_owned();
        if !valid.contains(&sub.as_str()) {
            return Err(UsageError(format!(
                "{cmd}: unknown subcommand '{sub}' (valid: {})",
                valid.join(", ")
            )));
        }
        cmd = format!("{cmd} {sub}");
    }
    if r.help {
        return Ok((g, Command::Help(help_for(&cmd))));
    }
    let ok = allowed(&cmd);
    if let Some(bad) = r.seen.iter().find(|s| !ok.contains(s)) {
        return Err(UsageError(format!(
            "{cmd}: option {bad} does not apply here (see `cacher {cmd} --help`)"
        )));
    }
    let n = r.positionals.len();
    let want = |names: &[&str]| -> Result<(), UsageError> {
        if n < names.len() {
            Err(UsageError(format!("{cmd}: missing {}", names[n])))
        } else if n > names.len() {
            Err(UsageError(format!(
                "{cmd}: unexpected argument '{}'",
                r.positionals[names.len()].to_string_lossy()
            )))
        } else {
            Ok(())
        }
    };
    let mut pos = r.positionals.clone().into_iter();
    let mut next = || pos.next().unwrap_or_default();
    let command = match cmd.as_str() {
        "version" => {
            want(&[])?;
            Command::Version
        }
        "doctor" => {
            want(&[])?;
            Command::Doctor
        }
        "init" => {
            want(&[])?;
            if g.bucket.is_none() {
                return Err(UsageError("init: --bucket is required".into()));
            }
            Command::Init
        }
        "download" => {
            want(&["KEY", "DEST"])?;
            if r.url.is_some() && !r.restore_keys.is_empty() {
                return Err(UsageError(
                    "download: --url and --restore-key cannot be used together".into(),
                ));
            }
            let sha256 = match r.sha256 {
                Some(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    Some(s.to_ascii_lowercase())
                }
                Some(s) => {
                    return Err(UsageError(format!(
                        "download: --sha256 '{s}' must be 64 hex characters"
                    )))
                }
                None => None,
            };
            let key = take_key(next(), "download")?;
            let dest = string(next(), "download: DEST")?;
            Command::Download {
                key,
                dest,
                url: r.url,
                sha256,
                restore_keys: r.restore_keys,
            }
        }
        "upload" => {
            want(&["KEY", "PATH"])?;
            let key = take_key(next(), "upload")?;
            let path = string(next(), "upload: PATH")?;
            Command::Upload {
                key,
                path,
                force: r.force,
            }
        }
        "exists" => {
            want(&["KEY"])?;
            Command::Exists {
                key: take_key(next(), "exists")?,
            }
        }
        "list" => {
            if n > 1 {
                return Err(UsageError(format!(
                    "list: unexpected argument '{}'",
                    r.positionals[1].to_string_lossy()
                )));
            }
            let prefix = if n == 1 {
                Some(take_key(next(), "list")?)
            } else {
                None
            };
            Command::List {
                prefix,
                recursive: r.recursive_flag,
                root: r.root,
                json: r.json,
                human: r.human,
            }
        }
        "delete" => {
            if r.recursive_value.is_some() && n > 0 {
                return Err(UsageError(
                    "delete: give KEY... or --recursive PREFIX, not both".into(),
                ));
            }
            if r.recursive_value.is_none() && n == 0 {
                return Err(UsageError(
                    "delete: missing KEY (or --recursive PREFIX)".into(),
                ));
            }
            if r.dry_run && r.recursive_value.is_none() {
                return Err(UsageError(
                    "delete: --dry-run goes with --recursive PREFIX".into(),
                ));
            }
            let keys = r
                .positionals
                .into_iter()
                .map(|k| take_key(k, "delete"))
                .collect::<Result<_, _>>()?;
            Command::Delete {
                keys,
                recursive: r.recursive_value,
                dry_run: r.dry_run,
            }
        }
        "dir upload" => {
            want(&["KEY", "DIR"])?;
            if let Some(l) = &r.level {
                if !l.parse::<u32>().is_ok_and(|v| (1..=19).contains(&v)) {
                    return Err(UsageError(format!(
                        "dir upload: --level '{l}' must be 1..19"
                    )));
                }
            }
            let key = take_key(next(), "dir upload")?;
            Command::DirUpload {
                key,
                dir: next().into(),
                force: r.force,
                level: r.level,
            }
        }
        "dir download" => {
            want(&["KEY", "DIR"])?;
            let key = take_key(next(), "dir download")?;
            Command::DirDownload {
                key,
                dir: next().into(),
                restore_keys: r.restore_keys,
            }
        }
        "docker upload" => {
            want(&["KEY", "IMAGE"])?;
            let key = take_key(next(), "docker upload")?;
            Command::DockerUpload {
                key,
                image: string(next(), "IMAGE")?,
                force: r.force,
            }
        }
        "docker download" => {
            want(&["KEY", "IMAGE"])?;
            let key = take_key(next(), "docker download")?;
            Command::DockerDownload {
                key,
                image: string(next(), "IMAGE")?,
                pull: r.pull,
            }
        }
        "docker exists" => {
            want(&["KEY"])?;
            Command::DockerExists {
                key: take_key(next(), "docker exists")?,
            }
        }
        "key" => {
            want(&["TEMPLATE"])?;
            let hash_length = match r.hash_length {
                Some(s) => s
                    .parse::<usize>()
                    .ok()
                    .filter(|v| (1..=64).contains(v))
                    .ok_or_else(|| UsageError(format!("key: --hash-length '{s}' must be 1..64")))?,
                None => 16,
            };
            let template = take_key(next(), "key")?;
            Command::Key {
                template,
                hash_from: r.hash_from,
                hash_length,
                arch_suffix: r.key_arch_suffix,
            }
        }
        other => return Err(UsageError(format!("unknown command '{other}'"))),
    };
    Ok((g, command))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    fn run(args: &[&str]) -> Result<(Globals, Command), UsageError> {
        parse(args.iter().map(OsString::from))
    }

    #[track_caller]
    fn check(args: &[&str], want: Command) {
        match run(args) {
            Ok((_, got)) => assert_eq!(got, want, "{args:?}"),
            Err(e) => panic!("{args:?}: {}", e.0),
        }
    }

    #[track_caller]
    fn fails(args: &[&str], needle: &str) {
        match run(args) {
            Ok(r) => panic!("{args:?} parsed: {r:?}"),
            Err(e) => assert!(e.0.contains(needle), "{args:?}: {:?} lacks {needle:?}", e.0),
        }
    }

    #[test]
    fn commands() {
        check(
            &[
                "download",
                "k",
                "d",
                "--url",
                "u",
                "--sha256",
                &"A".repeat(64),
            ],
            Command::Download {
                key: "k".into(),
                dest: "d".into(),
                url: Some("u".into()),
                sha256: Some("a".repeat(64)),
                restore_keys: vec![],
            },
        );
        check(
            &[
                "download",
                "k",
                "-",
                "--restore-key",
                "a",
                "--restore-key=b",
            ],
            Command::Download {
                key: "k".into(),
                dest: "-".into(),
                url: None,
                sha256: None,
                restore_keys: vec!["a".into(), "b".into()],
            },
        );
        check(
            &["upload", "k", "-", "--force"],
            Command::Upload {
                key: "k".into(),
                path: "-".into(),
                force: true,
            },
        );
        check(&["exists", "k"], Command::Exists { key: "k".into() });
        check(
            &["list"],
            Command::List {
                prefix: None,
                recursive: false,
                root: false,
                json: false,
                human: false,
            },
        );
        check(
            &["list", "p/", "--recursive", "--root", "--json", "--human"],
            Command::List {
                prefix: Some("p/".into()),
                recursive: true,
                root: true,
                json: true,
                human: true,
            },
        );
        check(
            &["delete", "a", "b"],
            Command::Delete {
                keys: vec!["a".into(), "b".into()],
                recursive: None,
                dry_run: false,
            },
        );
        check(
            &["delete", "--recursive", "p/", "--dry-run"],
            Command::Delete {
                keys: vec![],
                recursive: Some("p/".into()),
                dry_run: true,
            },
        );
        check(
            &["dir", "upload", "k", "d", "--level", "19", "--force"],
            Command::DirUpload {
                key: "k".into(),
                dir: "d".into(),
                force: true,
                level: Some("19".into()),
            },
        );
        check(
            &["dir", "download", "k", "d", "--restore-key", "p"],
            Command::DirDownload {
                key: "k".into(),
                dir: "d".into(),
                restore_keys: vec!["p".into()],
            },
        );
        check(
            &["docker", "upload", "k", "img:1"],
            Command::DockerUpload {
                key: "k".into(),
                image: "img:1".into(),
                force: false,
            },
        );
        check(
            &["docker", "download", "k", "img", "--pull"],
            Command::DockerDownload {
                key: "k".into(),
                image: "img".into(),
                pull: true,
            },
        );
        check(
            &["docker", "exists", "k"],
            Command::DockerExists { key: "k".into() },
        );
        check(
            &[
                "key",
                "t/{hash}",
                "--hash-from",
                "a",
                "--hash-from",
                "b",
                "--hash-length",
                "8",
                "--arch-suffix",
            ],
            Command::Key {
                template: "t/{hash}".into(),
                hash_from: vec!["a".into(), "b".into()],
                hash_length: 8,
                arch_suffix: true,
            },
        );
        check(
            &["key", "t"],
            Command::Key {
                template: "t".into(),
                hash_from: vec![],
                hash_length: 16,
                arch_suffix: false,
            },
        );
        check(&["version"], Command::Version);
        check(&["--version"], Command::Version);
        check(&["doctor"], Command::Doctor);
        check(&["init", "--bucket", "b"], Command::Init);
        check(
            &["exists", "--", "-k"],
            Command::Exists { key: "-k".into() },
        );
    }

    #[test]
    fn globals_anywhere() {
        let (g, _) = run(&[
            "-q",
            "--bucket",
            "b",
            "exists",
            "k",
            "--prefix=p",
            "-v",
            "--arch-suffix",
            "--virtual-hosted",
            "--concurrency",
            "8",
            "--part-size",
            "8MiB",
            "--config",
            "/c",
            "--key-file",
            "/k",
            "--secret-file",
            "/s",
            "--ca-file",
            "/ca",
            "--endpoint",
            "http://e",
            "--region",
            "r",
        ])
        .unwrap();
        assert_eq!(
            g,
            Globals {
                config: Some("/c".into()),
                endpoint: Some("http://e".into()),
                region: Some("r".into()),
                bucket: Some("b".into()),
                prefix: Some("p".into()),
                arch_suffix: Some(true),
                path_style: Some(false),
                key_file: Some("/k".into()),
                secret_file: Some("/s".into()),
                ca_file: Some("/ca".into()),
                concurrency: Some("8".into()),
                part_size: Some("8MiB".into()),
                quiet: true,
                verbose: true,
            }
        );
        // `key --arch-suffix` is the key command's own flag, not the global setting
        let (g, _) = run(&["key", "t", "--arch-suffix"]).unwrap();
        assert_eq!(g.arch_suffix, None);
    }

    #[test]
    fn usage_errors_name_the_problem() {
        fails(&[], "no command");
        fails(&["frob"], "unknown command 'frob'");
        fails(&["download", "k"], "missing DEST");
        fails(&["download"], "missing KEY");
        fails(
            &["upload", "k", "p", "extra"],
            "unexpected argument 'extra'",
        );
        fails(&["exists", "k", "--bogus"], "--bogus");
        fails(
            &["download", "k", "d", "--url", "u", "--restore-key", "p"],
            "--url and --restore-key",
        );
        fails(&["download", "k", "d", "--sha256", "abc"], "64 hex");
        fails(
            &["download", "k", "d", "--sha256", &"g".repeat(64)],
            "64 hex",
        );
        fails(&["delete"], "missing KEY");
        fails(&["delete", "a", "--recursive", "p"], "not both");
        fails(&["delete", "a", "--dry-run"], "--dry-run");
        fails(&["dir"], "missing subcommand");
        fails(&["dir", "sideways", "k", "d"], "valid: upload, download");
        fails(&["docker", "frob"], "valid: upload, download, exists");
        fails(&["dir", "upload", "k", "d", "--level", "20"], "1..19");
        fails(&["key", "t", "--hash-length", "65"], "1..64");
        fails(&["key", "t", "--hash-length", "0"], "1..64");
        fails(&["upload", "k", "p", "--url", "u"], "--url does not apply");
        fails(&["exists", "k", "--force"], "--force does not apply");
        fails(&["init"], "--bucket is required");
        fails(&["upload", "k", "p", "--endpoint"], "--endpoint");
    }

    #[test]
    fn help_everywhere() {
        check(&["--help"], Command::Help(TOP_HELP));
        check(&["help"], Command::Help(TOP_HELP));
        check(&["help", "download"], Command::Help(DOWNLOAD_HELP));
        for (args, text) in [
            (&["download", "-h"][..], DOWNLOAD_HELP),
            (&["upload", "--help"], UPLOAD_HELP),
            (&["exists", "-h"], EXISTS_HELP),
            (&["list", "-h"], LIST_HELP),
            (&["delete", "-h"], DELETE_HELP),
            (&["dir", "-h"], DIR_HELP),
            (&["dir", "upload", "-h"], DIR_HELP),
            (&["docker", "download", "-h"], DOCKER_HELP),
            (&["key", "-h"], KEY_HELP),
            (&["init", "-h"], INIT_HELP),
            (&["doctor", "-h"], DOCTOR_HELP),
            (&["version", "-h"], VERSION_HELP),
        ] {
            check(args, Command::Help(text));
        }
        for text in [
            TOP_HELP,
            DOWNLOAD_HELP,
            UPLOAD_HELP,
            LIST_HELP,
            KEY_HELP,
            DIR_HELP,
        ] {
            assert!(
                text.lines().all(|l| l.len() <= 100),
                "a help line is over 100 columns"
            );
        }
    }

    #[test]
    fn non_utf8() {
        let bad = OsString::from_vec(vec![b'f', 0xff]);
        let (_, c) = parse(vec!["upload".into(), "k".into(), "-".into()]).unwrap();
        assert!(matches!(c, Command::Upload { .. }));
        // a non-UTF-8 DIR is fine, a non-UTF-8 KEY is not
        let r = parse(vec!["dir".into(), "upload".into(), "k".into(), bad.clone()]).unwrap();
        assert!(matches!(r.1, Command::DirUpload { .. }));
        let e = parse(vec!["exists".into(), bad]).unwrap_err();
        assert!(e.0.contains("UTF-8"), "{}", e.0);
    }
}
