//! The command line: argv (without argv[0]) → [`Globals`] + [`Command`], and the `--help` texts.
//! Parsing is pure — no I/O, no environment, no defaults beyond the ones a flag itself implies —
//! so it is tested with fake argv; resolving flags against env vars and the config file is the
//! job of `config`. It is lexopt's "honest loop": one `match` per argument, every command hands
//! the parser to its own function, and anything not matched is a [`UsageError`] that names the
//! command and the argument. Global options (SPEC §2) are accepted before or after the command.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::PathBuf;

/// The global options of SPEC §2, as given on the command line. `None` means "not given", so the
/// config stage can fall back to env / config file / default.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Globals {
    pub config: Option<PathBuf>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub bucket: Option<String>,
    pub prefix: Option<String>,
    /// `--arch-suffix` → `Some(true)`. Never set for `cacher key`: there the flag is the
    /// command's own ([`Command::Key`]), because SPEC §4 keeps the configured suffix off `key`.
    pub arch_suffix: Option<bool>,
    /// `--path-style` → `Some(true)`, `--virtual-hosted` → `Some(false)`; the last one wins.
    pub path_style: Option<bool>,
    pub key_file: Option<PathBuf>,
    pub secret_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    /// Kept raw: validated by the config stage, which also validates the env/file values and
    /// can then name where a bad value came from.
    pub concurrency: Option<String>,
    pub part_size: Option<String>,
    /// `-q` and `-v` cancel each other: the last one given wins.
    pub quiet: bool,
    pub verbose: bool,
}

/// What to do. Values that are checked here (`--level`, `--hash-length`, `--sha256`) arrive
/// validated and normalised; keys are only known to be UTF-8 (`keys` checks the rest).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Its values come through [`Globals`]; `--bucket` is required.
    Init,
    Doctor,
    Download {
        key: String,
        dest: String,
        url: Option<String>,
        /// 64 lowercase hex digits.
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
    /// Object count and bytes under a prefix.
    Usage {
        prefix: Option<String>,
        root: bool,
        json: bool,
    },
    /// At least one of `older_than` (seconds) and `max_size` (bytes) is given.
    Prune {
        prefix: Option<String>,
        root: bool,
        older_than: Option<u64>,
        max_size: Option<u64>,
        dry_run: bool,
    },
    /// Exactly one of `keys` (non-empty) and `recursive` is given; `dry_run` only with the latter.
    Delete {
        keys: Vec<String>,
        recursive: Option<String>,
        dry_run: bool,
    },
    DirUpload {
        key: String,
        dir: PathBuf,
        force: bool,
        /// 1..=19, as a canonical decimal string.
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
        /// 1..=64, default 16.
        hash_length: usize,
        arch_suffix: bool,
    },
    Version,
    /// `-h`/`--help` anywhere, or `cacher help [COMMAND]`: print this text on stdout, exit 0.
    Help(&'static str),
}

/// A bad command line: one line, without the `cacher: ` prefix (main adds it); exit code 2.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

const DEFAULT_HASH_LENGTH: usize = 16;

const COMMANDS: &str = "init, doctor, download, upload, exists, list, delete, usage, prune, dir, \
                        docker, key, version, help";

/// Parses the arguments after argv[0].
pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<(Globals, Command), UsageError> {
    let mut cx = Cx {
        parser: lexopt::Parser::from_args(args),
        globals: Globals::default(),
        cmd: "",
        help: TOP_HELP,
    };
    match command(&mut cx) {
        Ok(cmd) => Ok((cx.globals, cmd)),
        Err(Stop::Help(text)) => Ok((cx.globals, Command::Help(text))),
        Err(Stop::Usage(msg)) => Err(UsageError(msg)),
    }
}

/// Why parsing stopped before the end: help was asked for (which wins over anything after it),
/// or the command line is wrong. Both travel up with `?`.
enum Stop {
    Help(&'static str),
    Usage(String),
}

type R<T> = Result<T, Stop>;

/// An argument that owns its text, so it can be passed around while the parser is used again
/// (lexopt's `Arg::Long` borrows the parser).
enum A {
    Short(char),
    Long(String),
    Value(OsString),
}

/// The parser plus what it has learnt so far: the globals, and which command it is in (for
/// messages and for which help `-h` shows).
struct Cx {
    parser: lexopt::Parser,
    globals: Globals,
    /// "download", "dir upload"…; empty before the command is known.
    cmd: &'static str,
    help: &'static str,
}

impl Cx {
    fn usage(&self, msg: impl fmt::Display) -> Stop {
        if self.cmd.is_empty() {
            Stop::Usage(msg.to_string())
        } else {
            Stop::Usage(format!("{}: {msg}", self.cmd))
        }
    }

    fn next(&mut self) -> R<Option<A>> {
        match self.parser.next() {
            Ok(None) => Ok(None),
            Ok(Some(lexopt::Arg::Short(c))) => Ok(Some(A::Short(c))),
            Ok(Some(lexopt::Arg::Long(l))) => Ok(Some(A::Long(l.to_owned()))),
            Ok(Some(lexopt::Arg::Value(v))) => Ok(Some(A::Value(v))),
            Err(e) => Err(self.lexopt_error(e)),
        }
    }

    /// lexopt's own messages, reworded to name the command and the fix.
    fn lexopt_error(&self, e: lexopt::Error) -> Stop {
        match e {
            lexopt::Error::MissingValue { option } => self.usage(format!(
                "missing value for '{}'",
                option.unwrap_or_default()
            )),
            lexopt::Error::UnexpectedValue { option, value } => {
                self.usage(format!("'{option}' takes no value (got {})", show(&value)))
            }
            other => self.usage(other),
        }
    }

    /// The value of the option just seen: `--name value` or `--name=value`. A value may start
    /// with `-` (`--prefix -x` works), as in lexopt.
    fn value_os(&mut self) -> R<OsString> {
        self.parser.value().map_err(|e| self.lexopt_error(e))
    }

    fn value_str(&mut self, flag: &str) -> R<String> {
        let v = self.value_os()?;
        self.utf8(v, &format!("the value of '--{flag}'"))
    }

    fn value_path(&mut self) -> R<PathBuf> {
        self.value_os().map(PathBuf::from)
    }

    /// Keys, URLs and names must be UTF-8 (SPEC §4); only paths may be arbitrary bytes.
    fn utf8(&self, v: OsString, what: &str) -> R<String> {
        v.into_string()
            .map_err(|v| self.usage(format!("{what} is not valid UTF-8: {v:?}")))
    }

    /// The arguments every command accepts: help and the global options. Returns whether `arg`
    /// was one of them.
    fn common(&mut self, arg: &A) -> R<bool> {
        let g = &mut self.globals;
        match arg {
            A::Short('h') => return Err(Stop::Help(self.help)),
            A::Short('q') => (g.quiet, g.verbose) = (true, false),
            A::Short('v') => (g.quiet, g.verbose) = (false, true),
            A::Short(_) | A::Value(_) => return Ok(false),
            A::Long(name) => match name.as_str() {
                "help" => return Err(Stop::Help(self.help)),
                "quiet" => (g.quiet, g.verbose) = (true, false),
                "verbose" => (g.quiet, g.verbose) = (false, true),
                "arch-suffix" => g.arch_suffix = Some(true),
                "path-style" => g.path_style = Some(true),
                "virtual-hosted" => g.path_style = Some(false),
                "config" => self.globals.config = Some(self.value_path()?),
                "key-file" => self.globals.key_file = Some(self.value_path()?),
                "secret-file" => self.globals.secret_file = Some(self.value_path()?),
                "ca-file" => self.globals.ca_file = Some(self.value_path()?),
                "endpoint" => self.globals.endpoint = Some(self.value_str(name)?),
                "region" => self.globals.region = Some(self.value_str(name)?),
                "bucket" => self.globals.bucket = Some(self.value_str(name)?),
                "prefix" => self.globals.prefix = Some(self.value_str(name)?),
                "concurrency" => self.globals.concurrency = Some(self.value_str(name)?),
                "part-size" => self.globals.part_size = Some(self.value_str(name)?),
                _ => return Ok(false),
            },
        }
        Ok(true)
    }

    fn unexpected(&self, arg: A) -> Stop {
        let see = match self.cmd {
            "" => "see 'cacher --help'".to_owned(),
            cmd => format!("see 'cacher {cmd} --help'"),
        };
        match arg {
            A::Long(l) if l == "level" => self.usage("'--level' only applies to 'dir upload'"),
            A::Long(l) => self.usage(format!("unknown option '--{l}' ({see})")),
            // `-foo` reaches us as `-f`: say how to pass a value that starts with `-`.
            A::Short(c) => self.usage(format!(
                "unknown option '-{c}' ({see}; put a KEY or PATH starting with '-' after '--')"
            )),
            A::Value(v) => self.usage(format!("unexpected argument {}", show(&v))),
        }
    }

    /// The argument loop of one command: `own` handles the command's own long options (and
    /// returns false for names it does not know), help and globals are handled here, and the
    /// positional arguments are returned in order.
    fn args(&mut self, mut own: impl FnMut(&mut Cx, &str) -> R<bool>) -> R<Vec<OsString>> {
        let mut positionals = Vec::new();
        while let Some(arg) = self.next()? {
            if let A::Value(v) = arg {
                positionals.push(v);
                continue;
            }
            if let A::Long(name) = &arg {
                if own(self, name)? {
                    continue;
                }
            }
            if !self.common(&arg)? {
                return Err(self.unexpected(arg));
            }
        }
        Ok(positionals)
    }

    /// Exactly `names.len()` positionals, or an error naming the first missing or extra one.
    fn exactly<const N: usize>(&self, pos: Vec<OsString>, names: [&str; N]) -> R<[OsString; N]> {
        if let Some(missing) = names.get(pos.len()) {
            return Err(self.usage(format!("missing {missing}")));
        }
        if let Some(extra) = pos.get(N) {
            return Err(self.usage(format!("unexpected extra argument {}", show(extra))));
        }
        pos.try_into()
            .map_err(|_| self.usage("wrong number of arguments"))
    }

    fn no_positionals(&self, pos: Vec<OsString>) -> R<()> {
        self.exactly(pos, []).map(|[]| ())
    }

    fn key(&self, v: OsString) -> R<String> {
        self.utf8(v, "KEY")
    }

    /// Commands with a sub-subcommand (`dir`, `docker`): the first positional picks it; globals
    /// and `-h` (showing the command's help) may come before it.
    fn sub(&mut self, valid: &'static [&'static str]) -> R<&'static str> {
        let list = valid.join(", ");
        loop {
            match self.next()? {
                None => return Err(self.usage(format!("missing subcommand (one of: {list})"))),
                Some(A::Value(v)) => {
                    return match valid.iter().find(|s| OsStr::new(s) == v) {
                        Some(s) => Ok(s),
                        None => {
                            Err(self
                                .usage(format!("unknown subcommand {} (one of: {list})", show(&v))))
                        }
                    };
                }
                Some(arg) => {
                    if !self.common(&arg)? {
                        return Err(self.unexpected(arg));
                    }
                }
            }
        }
    }
}

/// An argument quoted for a one-line message: lossy UTF-8, control characters escaped.
fn show(v: &OsStr) -> String {
    let mut out = String::from("'");
    for c in v.to_string_lossy().chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

fn command(cx: &mut Cx) -> R<Command> {
    let name = loop {
        match cx.next()? {
            // A bare `cacher` is a mistake in a script, not a request for help: exit 2, one line.
            None => return Err(cx.usage(format!("missing command (one of: {COMMANDS})"))),
            Some(A::Value(v)) => break v,
            Some(A::Long(l)) if l == "version" => return Ok(Command::Version),
            Some(arg) => {
                if !cx.common(&arg)? {
                    return Err(cx.unexpected(arg));
                }
            }
        }
    };
    let Some((cmd, text)) = lookup(&name) else {
        return Err(cx.usage(format!(
            "unknown command {} (one of: {COMMANDS})",
            show(&name)
        )));
    };
    cx.cmd = cmd;
    cx.help = text;
    match cmd {
        "init" => init(cx),
        "doctor" => {
            let pos = cx.args(|_, _| Ok(false))?;
            cx.no_positionals(pos)?;
            Ok(Command::Doctor)
        }
        "download" => download(cx),
        "upload" => upload(cx),
        "exists" => {
            let pos = cx.args(|_, _| Ok(false))?;
            let [key] = cx.exactly(pos, ["KEY"])?;
            Ok(Command::Exists { key: cx.key(key)? })
        }
        "list" => list(cx),
        "delete" => delete(cx),
        "usage" => usage(cx),
        "prune" => prune(cx),
        "dir" => dir(cx),
        "docker" => docker(cx),
        "key" => key(cx),
        "version" => {
            let pos = cx.args(|_, _| Ok(false))?;
            cx.no_positionals(pos)?;
            Ok(Command::Version)
        }
        _ => help(cx),
    }
}

/// A command's canonical name and help text.
fn lookup(name: &OsStr) -> Option<(&'static str, &'static str)> {
    Some(match name.to_str()? {
        "init" => ("init", INIT_HELP),
        "doctor" => ("doctor", DOCTOR_HELP),
        "download" => ("download", DOWNLOAD_HELP),
        "upload" => ("upload", UPLOAD_HELP),
        "exists" => ("exists", EXISTS_HELP),
        "list" => ("list", LIST_HELP),
        "delete" => ("delete", DELETE_HELP),
        "usage" => ("usage", USAGE_HELP),
        "prune" => ("prune", PRUNE_HELP),
        "dir" => ("dir", DIR_HELP),
        "docker" => ("docker", DOCKER_HELP),
        "key" => ("key", KEY_HELP),
        "version" => ("version", VERSION_HELP),
        "help" => ("help", TOP_HELP),
        _ => return None,
    })
}

/// `cacher help [COMMAND [SUBCOMMAND]]`.
fn help(cx: &mut Cx) -> R<Command> {
    let pos = cx.args(|_, _| Ok(false))?;
    let mut pos = pos.into_iter();
    let Some(name) = pos.next() else {
        return Ok(Command::Help(TOP_HELP));
    };
    let Some((cmd, text)) = lookup(&name) else {
        return Err(cx.usage(format!(
            "unknown command {} (one of: {COMMANDS})",
            show(&name)
        )));
    };
    // `cacher help dir upload` reads naturally; `dir`/`docker` share one text per command.
    let subs: &[&str] = match cmd {
        "dir" => &["upload", "download"],
        "docker" => &["upload", "download", "exists"],
        _ => &[],
    };
    if let Some(extra) = pos.next() {
        if !subs.iter().any(|s| OsStr::new(s) == extra) {
            return Err(cx.usage(format!("unexpected argument {}", show(&extra))));
        }
    }
    if let Some(extra) = pos.next() {
        return Err(cx.usage(format!("unexpected argument {}", show(&extra))));
    }
    Ok(Command::Help(text))
}

fn init(cx: &mut Cx) -> R<Command> {
    let pos = cx.args(|_, _| Ok(false))?;
    cx.no_positionals(pos)?;
    // Checked here too (not only when writing) so a bad `init` fails before touching anything.
    if cx.globals.bucket.as_deref().is_none_or(str::is_empty) {
        return Err(cx.usage("missing --bucket B"));
    }
    // Half a credential pair is an error wherever it is found (SPEC §2): do not write one.
    if cx.globals.key_file.is_some() != cx.globals.secret_file.is_some() {
        return Err(cx.usage("--key-file and --secret-file go together (give both or neither)"));
    }
    Ok(Command::Init)
}

fn download(cx: &mut Cx) -> R<Command> {
    let (mut url, mut sha256, mut restore_keys) = (None, None, Vec::new());
    let pos = cx.args(|cx, name| {
        match name {
            "url" => url = Some(cx.value_str(name)?),
            "sha256" => sha256 = Some(checksum(cx)?),
            "restore-key" => restore_keys.push(cx.value_str(name)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let [key, dest] = cx.exactly(pos, ["KEY", "DEST"])?;
    // A miss either fetches from the URL or falls back to an older entry, never both: SPEC §1.
    if url.is_some() && !restore_keys.is_empty() {
        return Err(cx.usage("--url and --restore-key do not go together"));
    }
    Ok(Command::Download {
        key: cx.key(key)?,
        dest: cx.utf8(dest, "DEST")?,
        url,
        sha256,
        restore_keys,
    })
}

/// `--sha256`: exactly 64 hex digits, normalised to lowercase so it compares with our hex.
fn checksum(cx: &mut Cx) -> R<String> {
    let v = cx.value_str("sha256")?;
    if v.len() != 64 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(cx.usage(format!(
            "--sha256 wants 64 hex digits, got {} ({} characters)",
            show(OsStr::new(&v)),
            v.chars().count()
        )));
    }
    Ok(v.to_ascii_lowercase())
}

fn upload(cx: &mut Cx) -> R<Command> {
    let mut force = false;
    let pos = cx.args(|_, name| {
        Ok(match name {
            "force" => {
                force = true;
                true
            }
            _ => false,
        })
    })?;
    let [key, path] = cx.exactly(pos, ["KEY", "PATH"])?;
    Ok(Command::Upload {
        key: cx.key(key)?,
        path: cx.utf8(path, "PATH")?,
        force,
    })
}

fn list(cx: &mut Cx) -> R<Command> {
    let (mut recursive, mut root, mut json, mut human) = (false, false, false, false);
    let pos = cx.args(|_, name| {
        match name {
            "recursive" => recursive = true,
            "root" => root = true,
            "json" => json = true,
            "human" => human = true,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    // JSON sizes are numbers for programs; a flag that would be silently ignored is refused.
    if json && human {
        return Err(cx.usage("--json and --human do not go together"));
    }
    Ok(Command::List {
        prefix: optional_prefix(cx, pos)?,
        recursive,
        root,
        json,
        human,
    })
}

fn delete(cx: &mut Cx) -> R<Command> {
    let (mut recursive, mut dry_run) = (None, false);
    let pos = cx.args(|cx, name| {
        match name {
            "recursive" => recursive = Some(cx.value_str(name)?),
            "dry-run" => dry_run = true,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let keys = pos.into_iter().map(|k| cx.key(k)).collect::<R<Vec<_>>>()?;
    match (&recursive, keys.is_empty()) {
        (None, true) => return Err(cx.usage("missing KEY (or --recursive PREFIX)")),
        (Some(_), false) => return Err(cx.usage("give KEYs or --recursive PREFIX, not both")),
        // `--recursive "$UNSET"` would empty the whole configured prefix (or bucket): a CI
        // variable that failed to expand must not do that.
        (Some(p), true) if p.is_empty() => {
            return Err(cx.usage("--recursive needs a non-empty PREFIX"))
        }
        _ => {}
    }
    if dry_run && recursive.is_none() {
        return Err(cx.usage("--dry-run only applies to --recursive PREFIX"));
    }
    Ok(Command::Delete {
        keys,
        recursive,
        dry_run,
    })
}

/// At most one positional: the PREFIX of `list`, `usage` and `prune`.
fn optional_prefix(cx: &Cx, pos: Vec<OsString>) -> R<Option<String>> {
    let mut pos = pos.into_iter();
    let prefix = pos.next().map(|p| cx.utf8(p, "PREFIX")).transpose()?;
    if let Some(extra) = pos.next() {
        return Err(cx.usage(format!("unexpected extra argument {}", show(&extra))));
    }
    Ok(prefix)
}

fn usage(cx: &mut Cx) -> R<Command> {
    let (mut root, mut json) = (false, false);
    let pos = cx.args(|_, name| {
        match name {
            "root" => root = true,
            "json" => json = true,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(Command::Usage {
        prefix: optional_prefix(cx, pos)?,
        root,
        json,
    })
}

fn prune(cx: &mut Cx) -> R<Command> {
    let (mut root, mut dry_run, mut older_than, mut max_size) = (false, false, None, None);
    let pos = cx.args(|cx, name| {
        match name {
            "root" => root = true,
            "dry-run" => dry_run = true,
            "older-than" => {
                let v = cx.value_str(name)?;
                older_than = Some(parse_duration(&v).ok_or_else(|| {
                    cx.usage(format!(
                        "--older-than wants a duration like 30d, 12h, 90m, 1w2d or 0s, got {}",
                        show(OsStr::new(&v))
                    ))
                })?);
            }
            "max-size" => {
                let v = cx.value_str(name)?;
                max_size = Some(crate::config::parse_size(&v).ok_or_else(|| {
                    cx.usage(format!(
                        "--max-size wants a size like 20GiB, 500MiB or 0, got {}",
                        show(OsStr::new(&v))
                    ))
                })?);
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    if older_than.is_none() && max_size.is_none() {
        return Err(cx.usage("give --older-than DURATION, --max-size SIZE, or both"));
    }
    Ok(Command::Prune {
        prefix: optional_prefix(cx, pos)?,
        root,
        older_than,
        max_size,
        dry_run,
    })
}

/// `30d`, `12h`, `90m`, `45s`, `2w`, `1d12h`, `0s` → seconds. A bare number is refused: is
/// `30` seconds or days? A unit is always written.
pub fn parse_duration(s: &str) -> Option<u64> {
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let n: u64 = rest[..digits].parse().ok()?;
        let unit = rest[digits..].chars().next()?;
        let mult = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(mult)?)?;
        rest = &rest[digits + 1..];
    }
    Some(total)
}

fn dir(cx: &mut Cx) -> R<Command> {
    match cx.sub(&["upload", "download"])? {
        "upload" => {
            cx.cmd = "dir upload";
            let (mut force, mut level) = (false, None);
            let pos = cx.args(|cx, name| {
                match name {
                    "force" => force = true,
                    "level" => level = Some(ranged(cx, name, 1, 19)?.to_string()),
                    _ => return Ok(false),
                }
                Ok(true)
            })?;
            let [key, dir] = cx.exactly(pos, ["KEY", "DIR"])?;
            Ok(Command::DirUpload {
                key: cx.key(key)?,
                dir: dir.into(),
                force,
                level,
            })
        }
        _ => {
            cx.cmd = "dir download";
            let mut restore_keys = Vec::new();
            let pos = cx.args(|cx, name| {
                Ok(match name {
                    "restore-key" => {
                        restore_keys.push(cx.value_str(name)?);
                        true
                    }
                    _ => false,
                })
            })?;
            let [key, dir] = cx.exactly(pos, ["KEY", "DIR"])?;
            Ok(Command::DirDownload {
                key: cx.key(key)?,
                dir: dir.into(),
                restore_keys,
            })
        }
    }
}

fn docker(cx: &mut Cx) -> R<Command> {
    let sub = cx.sub(&["upload", "download", "exists"])?;
    let mut flag = false;
    let (cmd, flag_name) = match sub {
        "upload" => ("docker upload", "force"),
        "download" => ("docker download", "pull"),
        _ => ("docker exists", ""),
    };
    cx.cmd = cmd;
    let pos = cx.args(|_, name| {
        if !flag_name.is_empty() && name == flag_name {
            flag = true;
            return Ok(true);
        }
        Ok(false)
    })?;
    if sub == "exists" {
        let [key] = cx.exactly(pos, ["KEY"])?;
        return Ok(Command::DockerExists { key: cx.key(key)? });
    }
    let [key, image] = cx.exactly(pos, ["KEY", "IMAGE"])?;
    let (key, image) = (cx.key(key)?, cx.utf8(image, "IMAGE")?);
    Ok(if sub == "upload" {
        Command::DockerUpload {
            key,
            image,
            force: flag,
        }
    } else {
        Command::DockerDownload {
            key,
            image,
            pull: flag,
        }
    })
}

fn key(cx: &mut Cx) -> R<Command> {
    let (mut hash_from, mut hash_length, mut arch_suffix) = (Vec::new(), None, false);
    let pos = cx.args(|cx, name| {
        match name {
            "hash-from" => hash_from.push(cx.value_path()?),
            "hash-length" => hash_length = Some(ranged(cx, name, 1, 64)?),
            // The command's own flag: SPEC §4 applies the configured suffix later, in the command
            // that uses the key, so it must not reach Globals here.
            "arch-suffix" => arch_suffix = true,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    // `cacher --arch-suffix key T` is the same request as `cacher key T --arch-suffix`.
    arch_suffix |= cx.globals.arch_suffix.take() == Some(true);
    let [template] = cx.exactly(pos, ["TEMPLATE"])?;
    Ok(Command::Key {
        template: cx.utf8(template, "TEMPLATE")?,
        hash_from,
        hash_length: hash_length.unwrap_or(DEFAULT_HASH_LENGTH),
        arch_suffix,
    })
}

/// An integer option value in `lo..=hi`.
fn ranged(cx: &mut Cx, flag: &str, lo: usize, hi: usize) -> R<usize> {
    let v = cx.value_str(flag)?;
    match v.parse::<usize>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => Err(cx.usage(format!(
            "--{flag} wants a whole number from {lo} to {hi}, got {}",
            show(OsStr::new(&v))
        ))),
    }
}

pub const TOP_HELP: &str = "\
cacher: keep CI build inputs (toolchains, dependency trees, images) in an S3-compatible bucket.

Usage: cacher [OPTIONS] COMMAND [ARGS]...    (options may also come after the command)

Commands:
  init      write the config file, then run the doctor checks
  doctor    show where each setting came from; test credentials and the bucket
  download  KEY DEST: from the cache, else from --url (and seed the cache)
  upload    KEY PATH: store a file (skipped if KEY exists, unless --force)
  exists    KEY: exit 0 if cached, 1 if not
  list      [PREFIX]: list keys, like `aws s3 ls`
  delete    KEY... | --recursive PREFIX: remove entries
  usage     [PREFIX]: how many objects and bytes the cache holds
  prune     [PREFIX] --older-than D [--max-size S]: remove old entries
  dir       upload|download KEY DIR: a directory as a streamed tar.zst
  docker    upload|download|exists KEY IMAGE: an image through docker save/load
  key       TEMPLATE: print a key with {hash}, {os}, {arch} filled in
  version   print the version (also --version)
  help      [COMMAND]: this text, or a command's (also COMMAND -h/--help)

Options (each: flag > CACHER_* env var > config file > AWS_*, SSL_CERT_FILE > default):
  --config PATH      [CACHER_CONFIG] default ${XDG_CONFIG_HOME:-~/.config}/cacher/config.toml
  --endpoint URL     [CACHER_ENDPOINT, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL] default AWS S3
  --region R         [CACHER_REGION, AWS_REGION, AWS_DEFAULT_REGION] us-east-1 (AWS) or garage
  --bucket B         [CACHER_BUCKET] required
  --prefix P         [CACHER_PREFIX] joined before every key
  --arch-suffix      [CACHER_ARCH_SUFFIX] add -<os>-<arch> to every key (not `key`'s output)
  --path-style       [CACHER_PATH_STYLE] https://endpoint/bucket/key; default except on AWS
  --virtual-hosted   https://bucket.endpoint/key
  --key-file F       [CACHER_KEY_FILE] file holding the access key id
  --secret-file F    [CACHER_SECRET_FILE] file holding the secret key (whitespace trimmed)
  --ca-file F        [CACHER_CA_FILE, SSL_CERT_FILE] PEM roots; default: bundled Mozilla roots
  --concurrency N    [CACHER_CONCURRENCY] parallel parts / ranges, default 4
  --part-size SIZE   [CACHER_PART_SIZE] multipart part size, default 16MiB
  -q, --quiet        errors only          -v, --verbose   log every HTTP request (redacted)
Credentials: CACHER_S3_KEY_ID + CACHER_S3_SECRET, else the key/secret files, else
AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, else ~/.aws/credentials (AWS_PROFILE).

Exit codes: 0 success (hit, stored, skipped, deleted)   1 exists: KEY is missing   3 cache miss
            (download commands, no fallback)   2 error (usage, config, credentials, network...)";

pub const INIT_HELP: &str = "\
Usage: cacher init --bucket B [--endpoint URL] [--region R] [--prefix P]
                   [--key-file F --secret-file F] [--arch-suffix] [other global options]

Write the config file with the global options given, then run the `cacher doctor` checks.
The file is --config PATH, else $CACHER_CONFIG, else $XDG_CONFIG_HOME/cacher/config.toml,
else ~/.config/cacher/config.toml; it is replaced whole and has mode 0600. No secret is ever
written to it: only the absolute paths of --key-file and --secret-file, which go together.
Run it once per CI job, after the secrets are mounted; later commands need no flags.

Options: the global options of `cacher --help`; --bucket is required.

Exit codes: 0 written and every check passed; 2 bad usage, the file could not be written,
or a check failed (the message names the S3 error and a hint).

Examples:
  # instead of installing awscli and writing ~/.aws/config with the Garage tweaks:
  cacher init --endpoint https://s3.example.com --region garage --bucket ci-cache \\
      --prefix my-project --key-file ~/.s3-cache-key-id --secret-file ~/.s3-cache-key-secret
  # AWS S3, credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY:
  cacher init --bucket ci-cache --region eu-central-1 --prefix my-project";

pub const DOCTOR_HELP: &str = "\
Usage: cacher doctor [global options]

Check the setup without changing anything but a 1-byte canary object:
  - where each setting came from (flag, env var, config file, default);
  - credential diagnostics that never show a secret: key id length and first 4 characters,
    secret length, whether a secret file had surrounding whitespace that was trimmed;
  - the server's clock skew (from its Date header);
  - HEAD bucket (or, where that is denied, a 1-key listing under the prefix), then a canary
    PUT, GET (compared) and DELETE under the prefix.
Each failure names the S3 error code and a hint (wrong region for Garage, clock skew, missing
permission s3:PutObject...). `cacher init` runs the same checks after writing the config.

Exit codes: 0 every check passed; 2 a check failed or the configuration is incomplete.

Examples:
  # instead of `aws s3api head-bucket` and a hand-rolled cp/rm canary:
  cacher doctor
  # the same, against another endpoint, with every HTTP request logged:
  cacher doctor --endpoint http://127.0.0.1:3900 --verbose";

pub const DOWNLOAD_HELP: &str = "\
Usage: cacher download KEY DEST [--url URL] [--sha256 HEX] [--restore-key PREFIX]...

Fetch KEY from the cache into DEST (`-`: stdout). DEST's parent directories are created and
DEST is written through a temporary file beside it: it is never left half-written.
  hit              stream the object to DEST
  miss, --url      GET URL (redirects followed), check --sha256, write DEST, then upload it
                   so the next run hits (a failed upload is only a warning)
  miss, --restore-key
                   use the newest key starting with PREFIX (tried in order; ties: the
                   greatest key); exit 3 if none matches
  miss             exit 3

Options:
  --url URL              where to fetch from on a miss
  --sha256 HEX           expected sha256 (64 hex digits), checked on a hit too: a cached object
                         that does not match is never written (with --url it is refetched and
                         the entry replaced; without, exit 2)
  --restore-key PREFIX   fallback for a miss; repeatable; not together with --url
  and the global options of `cacher --help`.

Exit codes: 0 DEST written; 2 error (the --url fetch failed, checksum mismatch, ...);
3 cache miss and no fallback. With DEST `-`, a failed check is exit 2 after the stream.

Examples:
  # instead of: aws s3api head-object ... && aws s3 cp ... || { curl -o ...; aws s3 cp ...; }
  cacher download go1.26.3.tar.gz /tmp/go.tar.gz \\
      --url https://go.dev/dl/go1.26.3.linux-amd64.tar.gz --sha256 <64 hex digits>
  # a plain lookup: exit 3 means \"build it, then cacher upload\"
  cacher download \"gomod/$(sha256sum go.sum | cut -c1-16).tar.gz\" /tmp/gomod.tar.gz
  # straight into tar; on a miss, fall back to the newest deps/ entry:
  cacher download \"deps/$SHA.tar.gz\" - --restore-key deps/ | tar -xz";

pub const UPLOAD_HELP: &str = "\
Usage: cacher upload KEY PATH [--force]

Store the file PATH (`-`: stdin) as KEY; a file's sha256 goes with it, so downloads verify it.
If KEY already exists, nothing is sent and one line says it was skipped (exit 0), unless
--force. Large files go up in concurrent multipart parts (--part-size, --concurrency); a
failed upload never leaves a visible object. A directory PATH is an error: use
`cacher dir upload` for directories.

Options:
  --force   overwrite KEY if it exists
  and the global options of `cacher --help`.

Exit codes: 0 stored or skipped; 2 error.

Examples:
  # instead of: aws s3api head-object --key \"$K\" || aws s3 cp \"$out\" \"s3://$B/$K\"
  cacher upload \"gomod/$(sha256sum go.sum | cut -c1-16).tar.gz\" /tmp/gomod.tar.gz
  # replace an entry, from a pipe:
  tar -cz node_modules | cacher upload node_modules.tar.gz - --force";

pub const EXISTS_HELP: &str = "\
Usage: cacher exists KEY

Exit 0 if KEY is in the cache, 1 if it is not. Prints nothing on stdout, so a shell `if` can
branch on it directly.

Options: the global options of `cacher --help`.

Exit codes: 0 KEY exists; 1 KEY is missing; 2 error (credentials, network, permission...).

Examples:
  # instead of: aws s3api head-object --bucket \"$B\" --key \"$K\" >/dev/null 2>&1
  if cacher exists \"$KEY\"; then echo cached; else echo \"missing: build it\"; fi";

pub const LIST_HELP: &str = "\
Usage: cacher list [PREFIX] [--recursive] [--root] [--json] [--human]

List keys under PREFIX (joined to the configured prefix) on stdout, like `aws s3 ls`:
`/`-delimited, names relative to PREFIX: `PRE name/` lines for common prefixes, then
`YYYY-MM-DD HH:MM:SS SIZE name` (UTC).

Options:
  --recursive   flat listing of every key below PREFIX, relative to the configured prefix,
                so each line can be passed back to other commands
  --root        ignore the configured prefix
  --json        one JSON object per line: {\"key\", \"size\", \"last_modified\", \"etag\"} for
                objects (etag may be absent), {\"prefix\"} for common prefixes
  --human       sizes like 12.3 MiB (not with --json)
  and the global options of `cacher --help`.

Exit codes: 0 listed (an empty listing too); 2 error.

Examples:
  # instead of: aws s3 ls \"s3://$B/my-project/gomod/\"
  cacher list gomod/
  # every key, flat, sizes readable:
  cacher list --recursive --human
  # keys of the whole bucket, for a script:
  cacher list --root --recursive --json";

pub const DELETE_HELP: &str = "\
Usage: cacher delete KEY...
       cacher delete --recursive PREFIX [--dry-run]

Remove cache entries. Deleting a key that does not exist is not an error.

Options:
  --recursive PREFIX   remove every object whose key starts with PREFIX (non-empty; joined to
                       the configured prefix); not together with KEYs
  --dry-run            with --recursive: only print on stdout what would be removed
  and the global options of `cacher --help`.

Exit codes: 0 deleted (or already absent); 2 error.

Examples:
  # instead of: aws s3 rm \"s3://$B/my-project/$KEY\"
  cacher delete \"gomod/$OLD.tar.gz\"
  # instead of: aws s3 rm --recursive --dryrun \"s3://$B/my-project/images/\"
  cacher delete --recursive images/ --dry-run";

pub const USAGE_HELP: &str = "\
Usage: cacher usage [PREFIX] [--root] [--json]

Count the objects under PREFIX (joined to the configured prefix; all of it when omitted) and
their total size, on stdout:  `OBJECTS objects, BYTES bytes (HUMAN) under 'PREFIX'`.

Options:
  --root   ignore the configured prefix (PREFIX is then from the bucket's root)
  --json   one JSON object: {\"prefix\", \"objects\", \"bytes\"}
  and the global options of `cacher --help`.

Exit codes: 0 counted (an empty prefix too); 2 error.

Examples:
  cacher usage                 # the whole configured prefix
  cacher usage gomod/ --json   # {\"prefix\":\"ci/gomod/\",\"objects\":12,\"bytes\":3489012}";

pub const PRUNE_HELP: &str = "\
Usage: cacher prune [PREFIX] [--older-than DURATION] [--max-size SIZE] [--dry-run] [--root]

Remove old cache entries under PREFIX (joined to the configured prefix; all of it when
omitted). First every object last written before now minus DURATION; then, with --max-size,
the oldest remaining ones until the total is at most SIZE. Each removed key is printed on
stdout as it goes (relative to the configured prefix); a summary goes to stderr. \"Now\" is the
server's clock (from its Date header), so a skewed runner does not prune too much.
Needs only s3:ListBucket and s3:DeleteObject.

Options:
  --older-than D   30d, 12h, 90m, 45s, 2w, 1d12h; 0s means everything written until now
  --max-size S     keep at most S bytes: 20GiB, 500MiB, 10GB, 0
  --dry-run        print what would be removed; remove nothing
  --root           ignore the configured prefix
  and the global options of `cacher --help`. At least one of --older-than, --max-size.

Exit codes: 0 pruned (nothing to prune too); 2 error (objects removed before the error
stay removed, and were printed).

Examples:
  # nightly: entries written over two weeks ago go, and the prefix stays under 50 GiB
  cacher prune --older-than 14d --max-size 50GiB
  cacher prune docker/ --older-than 7d --dry-run";

pub const DIR_HELP: &str = "\
Usage: cacher dir upload KEY DIR [--force] [--level N]
       cacher dir download KEY DIR [--restore-key PREFIX]...

A directory's contents as a zstd-compressed tar stream, streamed both ways: no temporary
archive on disk. Files, directories, symlinks (targets as they are) and hard links keep their
modes and mtimes; owners are restored only when running as root.
  upload     skip (exit 0) if KEY exists, unless --force
  download   extract into a staging directory beside DIR and, once the whole archive was read
             and verified, replace DIR with it; on any failure DIR is as it was. Refuses `/`,
             the home directory, and the current directory or its ancestors. An archive entry
             that would land outside DIR rejects the whole archive.

Options:
  --force                upload: overwrite KEY if it exists
  --level N              upload: zstd level 1..19 (default 3)
  --restore-key PREFIX   download: on a miss, use the newest key starting with PREFIX
                         (repeatable, tried in order)
  and the global options of `cacher --help`.

Exit codes: 0 stored, skipped or extracted; 2 error; 3 download: miss, no fallback found.

Examples:
  # instead of: aws s3 cp s3://... - | tar -xz -C ~/go  ||  { go mod download; tar -cz ...; }
  KEY=$(cacher key \"go-mod/{hash}.tar.zst\" --hash-from go.sum)
  cacher dir download \"$KEY\" ~/go/pkg/mod || {
      go mod download && cacher dir upload \"$KEY\" ~/go/pkg/mod; }
  # Lua rocks tree, keyed by its rockspec:
  cacher dir upload \"rocks/$(sha256sum x-scm-1.rockspec | cut -c1-16).tar.zst\" .rocks";

pub const DOCKER_HELP: &str = "\
Usage: cacher docker upload KEY IMAGE [--force]
       cacher docker download KEY IMAGE [--pull]
       cacher docker exists KEY

Images as `docker save IMAGE | zstd | S3` and back into `docker load`, streamed: no temporary
file. The docker executable is `docker` on PATH, or $CACHER_DOCKER (e.g. podman).
  upload     skip (exit 0) if KEY exists, unless --force
  download   on a miss with --pull: `docker pull IMAGE`, then seed the cache from it
  exists     exit 0 if KEY is cached, 1 if not

Options:
  --force   upload: overwrite KEY if it exists
  --pull    download: on a miss, pull the image and store it under KEY
  and the global options of `cacher --help`.

Exit codes: 0 done; 1 exists: KEY is missing; 2 error (a --pull that fails too);
3 download: cache miss without --pull.

Examples:
  # instead of: aws s3 cp s3://.../garage.tar.zst - | zstd -d | docker load || docker pull ...
  cacher docker download docker/garage-v2.3.0.tar.zst dxflrs/garage:v2.3.0 --pull
  # an image built locally, keyed by its Dockerfile:
  KEY=$(cacher key \"images/{hash}.tar.zst\" --hash-from Dockerfile)
  if cacher docker exists \"$KEY\"; then cacher docker download \"$KEY\" myimage:latest
  else docker build -t myimage:latest . && cacher docker upload \"$KEY\" myimage:latest; fi";

pub const KEY_HELP: &str = "\
Usage: cacher key TEMPLATE [--hash-from PATH]... [--hash-length N] [--arch-suffix]

Print the key TEMPLATE resolves to on stdout, and do nothing else (no config, no network).
{hash}, {os} and {arch} are substituted (Go spellings: linux/darwin, amd64/arm64); another
{name}, or {hash} without --hash-from, is an error. Without {hash} in TEMPLATE, --hash-from
inserts -<hash> before the extension: img/build.tar.zst -> img/build-<hash>.tar.zst.
The hash (lowercase hex) of a single regular file is its sha256, so it equals
`sha256sum FILE | cut -c1-16`; otherwise it is the sha256 of `<sha256>  <path>` lines for
every regular file under the PATHs, sorted (= `find DIR -type f | LC_ALL=C sort |
xargs sha256sum | sha256sum`). The printed key never includes the configured prefix.

Options:
  --hash-from PATH   file or directory to hash (repeatable)
  --hash-length N    hex digits of the hash to keep, 1..64 (default 16)
  --arch-suffix      insert -<os>-<arch>, after the hash: bin/cacher -> bin/cacher-linux-amd64
                     (the configured arch_suffix does not apply here: the command that
                     uses the key adds it)

Exit codes: 0 printed; 2 error (unknown {name}, missing PATH...).

Examples:
  # instead of: KEY=\"go-mod/$(sha256sum go.sum | cut -c1-16).tar.zst\"
  KEY=$(cacher key \"go-mod/{hash}.tar.zst\" --hash-from go.sum)
  # a whole directory, and the machine's arch:
  KEY=$(cacher key img/build.tar.zst --hash-from docker/ --arch-suffix)";

pub const VERSION_HELP: &str = "\
Usage: cacher version    (or cacher --version)

Print `cacher X.Y.Z (OS-ARCH, commit abcdef1)` on stdout.

Exit codes: 0.

Examples:
  # check which build a CI image carries, instead of guessing from a download URL:
  cacher version
  # pin a script to a release:
  cacher --version | grep -q '^cacher 0\\.1\\.' || echo \"unexpected cacher version\" >&2";

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    /// Parses `args` and compares both halves with what is expected, printing the argv on a
    /// mismatch so a failing row of a table is easy to find.
    fn check(args: &[&str], globals: &Globals, cmd: Command) {
        match parse(os(args)) {
            Ok((g, c)) => {
                assert_eq!(c, cmd, "command for {args:?}");
                assert_eq!(&g, globals, "globals for {args:?}");
            }
            Err(e) => panic!("{args:?}: unexpected error: {e}"),
        }
    }

    #[test]
    fn usage_and_prune() {
        let g = Globals::default();
        check(
            &["usage"],
            &g,
            Command::Usage {
                prefix: None,
                root: false,
                json: false,
            },
        );
        check(
            &["usage", "gomod/", "--json", "--root"],
            &g,
            Command::Usage {
                prefix: Some("gomod/".into()),
                root: true,
                json: true,
            },
        );
        check(
            &[
                "prune",
                "d/",
                "--older-than",
                "1w2d",
                "--max-size=2GiB",
                "--dry-run",
            ],
            &g,
            Command::Prune {
                prefix: Some("d/".into()),
                root: false,
                older_than: Some(9 * 86_400),
                max_size: Some(2 << 30),
                dry_run: true,
            },
        );
        fails(&["prune"], "prune: ", "--older-than");
        fails(&["prune", "--older-than", "30"], "prune: ", "duration");
        fails(&["prune", "--max-size", "lots"], "prune: ", "size");
        fails(&["usage", "a", "b"], "usage: ", "extra");
    }

    #[test]
    fn durations() {
        for (s, want) in [
            ("0s", Some(0)),
            ("45s", Some(45)),
            ("90m", Some(5400)),
            ("12h", Some(43_200)),
            ("30d", Some(2_592_000)),
            ("2w", Some(1_209_600)),
            ("1d12h", Some(129_600)),
            ("30", None),
            ("", None),
            ("d", None),
            ("5y", None),
            ("-1d", None),
            ("99999999999999999999w", None),
        ] {
            assert_eq!(parse_duration(s), want, "{s:?}");
        }
    }

    /// `args` must fail, with a message that starts with `start` and contains `needle`.
    fn fails(args: &[&str], start: &str, needle: &str) {
        match parse(os(args)) {
            Ok(r) => panic!("{args:?}: expected an error, got {r:?}"),
            Err(UsageError(m)) => {
                assert!(
                    m.starts_with(start) && m.contains(needle),
                    "{args:?}: message {m:?} should start with {start:?} and name {needle:?}"
                );
                assert!(
                    !m.contains('\n'),
                    "{args:?}: message is not one line: {m:?}"
                );
                assert!(
                    !m.starts_with("cacher:"),
                    "{args:?}: main adds the prefix: {m:?}"
                );
            }
        }
    }

    fn s(v: &str) -> String {
        v.to_owned()
    }

    fn download(key: &str, dest: &str) -> Command {
        Command::Download {
            key: s(key),
            dest: s(dest),
            url: None,
            sha256: None,
            restore_keys: vec![],
        }
    }

    const HEX: &str = "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789";
    const SHA256_EQ: &str =
        "--sha256=ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789";

    #[test]
    fn every_command_and_flag() {
        let none = Globals::default();
        let cases: Vec<(&[&str], Command)> = vec![
            (&["doctor"], Command::Doctor),
            (&["version"], Command::Version),
            (&["--version"], Command::Version),
            (&["download", "k", "d"], download("k", "d")),
            (
                &["download", "k", "d", "--url", "u", "--sha256", HEX],
                Command::Download {
                    key: s("k"),
                    dest: s("d"),
                    url: Some(s("u")),
                    sha256: Some(HEX.to_ascii_lowercase()),
                    restore_keys: vec![],
                },
            ),
            (
                &["download", "--url=u", "k", SHA256_EQ, "d"],
                Command::Download {
                    key: s("k"),
                    dest: s("d"),
                    url: Some(s("u")),
                    sha256: Some(HEX.to_ascii_lowercase()),
                    restore_keys: vec![],
                },
            ),
            (
                &[
                    "download",
                    "k",
                    "--restore-key",
                    "a/",
                    "d",
                    "--restore-key=b/",
                ],
                Command::Download {
                    key: s("k"),
                    dest: s("d"),
                    url: None,
                    sha256: None,
                    restore_keys: vec![s("a/"), s("b/")],
                },
            ),
            // `-` is a positional (stdout / stdin), and `--` ends the options.
            (&["download", "k", "-"], download("k", "-")),
            (&["download", "--", "-k", "--url"], download("-k", "--url")),
            // An option value may start with `-`.
            (
                &["download", "k", "d", "--url", "-"],
                Command::Download {
                    key: s("k"),
                    dest: s("d"),
                    url: Some(s("-")),
                    sha256: None,
                    restore_keys: vec![],
                },
            ),
            (
                &["upload", "k", "p"],
                Command::Upload {
                    key: s("k"),
                    path: s("p"),
                    force: false,
                },
            ),
            (
                &["upload", "--force", "k", "-"],
                Command::Upload {
                    key: s("k"),
                    path: s("-"),
                    force: true,
                },
            ),
            (&["exists", "k"], Command::Exists { key: s("k") }),
            (
                &["list"],
                Command::List {
                    prefix: None,
                    recursive: false,
                    root: false,
                    json: false,
                    human: false,
                },
            ),
            (
                &["list", "p/", "--recursive", "--root", "--json"],
                Command::List {
                    prefix: Some(s("p/")),
                    recursive: true,
                    root: true,
                    json: true,
                    human: false,
                },
            ),
            (
                &["list", "--human"],
                Command::List {
                    prefix: None,
                    recursive: false,
                    root: false,
                    json: false,
                    human: true,
                },
            ),
            (
                &["delete", "a", "b"],
                Command::Delete {
                    keys: vec![s("a"), s("b")],
                    recursive: None,
                    dry_run: false,
                },
            ),
            (
                &["delete", "--recursive", "old/", "--dry-run"],
                Command::Delete {
                    keys: vec![],
                    recursive: Some(s("old/")),
                    dry_run: true,
                },
            ),
            (
                &["delete", "--recursive=old/"],
                Command::Delete {
                    keys: vec![],
                    recursive: Some(s("old/")),
                    dry_run: false,
                },
            ),
            (
                &["dir", "upload", "k", "d"],
                Command::DirUpload {
                    key: s("k"),
                    dir: "d".into(),
                    force: false,
                    level: None,
                },
            ),
            (
                &["dir", "upload", "k", "d", "--force", "--level", "19"],
                Command::DirUpload {
                    key: s("k"),
                    dir: "d".into(),
                    force: true,
                    level: Some(s("19")),
                },
            ),
            (
                &["dir", "upload", "--level=01", "k", "d"],
                Command::DirUpload {
                    key: s("k"),
                    dir: "d".into(),
                    force: false,
                    level: Some(s("1")),
                },
            ),
            (
                &["dir", "download", "k", "d"],
                Command::DirDownload {
                    key: s("k"),
                    dir: "d".into(),
                    restore_keys: vec![],
                },
            ),
            (
                &[
                    "dir",
                    "download",
                    "k",
                    "d",
                    "--restore-key",
                    "a",
                    "--restore-key=b",
                ],
                Command::DirDownload {
                    key: s("k"),
                    dir: "d".into(),
                    restore_keys: vec![s("a"), s("b")],
                },
            ),
            (
                &["docker", "upload", "k", "img:1"],
                Command::DockerUpload {
                    key: s("k"),
                    image: s("img:1"),
                    force: false,
                },
            ),
            (
                &["docker", "upload", "k", "img:1", "--force"],
                Command::DockerUpload {
                    key: s("k"),
                    image: s("img:1"),
                    force: true,
                },
            ),
            (
                &["docker", "download", "k", "img:1"],
                Command::DockerDownload {
                    key: s("k"),
                    image: s("img:1"),
                    pull: false,
                },
            ),
            (
                &["docker", "download", "--pull", "k", "img:1"],
                Command::DockerDownload {
                    key: s("k"),
                    image: s("img:1"),
                    pull: true,
                },
            ),
            (
                &["docker", "exists", "k"],
                Command::DockerExists { key: s("k") },
            ),
            (
                &["key", "img/{hash}.tar.zst"],
                Command::Key {
                    template: s("img/{hash}.tar.zst"),
                    hash_from: vec![],
                    hash_length: 16,
                    arch_suffix: false,
                },
            ),
            (
                &[
                    "key",
                    "t",
                    "--hash-from",
                    "a",
                    "--hash-from=b/",
                    "--hash-length",
                    "64",
                ],
                Command::Key {
                    template: s("t"),
                    hash_from: vec!["a".into(), "b/".into()],
                    hash_length: 64,
                    arch_suffix: false,
                },
            ),
            (
                &["key", "--hash-length=1", "--arch-suffix", "t"],
                Command::Key {
                    template: s("t"),
                    hash_from: vec![],
                    hash_length: 1,
                    arch_suffix: true,
                },
            ),
            // Before the command it means the same thing, and still stays out of Globals.
            (
                &["--arch-suffix", "key", "t"],
                Command::Key {
                    template: s("t"),
                    hash_from: vec![],
                    hash_length: 16,
                    arch_suffix: true,
                },
            ),
        ];
        for (args, cmd) in cases {
            check(args, &none, cmd);
        }
    }

    #[test]
    fn init_takes_its_values_from_globals() {
        let g = Globals {
            bucket: Some(s("b")),
            endpoint: Some(s("https://s3.example.com")),
            region: Some(s("garage")),
            prefix: Some(s("p")),
            key_file: Some("kf".into()),
            secret_file: Some("sf".into()),
            arch_suffix: Some(true),
            ..Globals::default()
        };
        let args = [
            "init",
            "--endpoint",
            "https://s3.example.com",
            "--region=garage",
            "--bucket",
            "b",
            "--prefix",
            "p",
            "--key-file",
            "kf",
            "--secret-file=sf",
            "--arch-suffix",
        ];
        check(&args, &g, Command::Init);
        let bucket_only = Globals {
            bucket: Some(s("b")),
            ..Globals::default()
        };
        check(&["--bucket", "b", "init"], &bucket_only, Command::Init);
    }

    #[test]
    fn every_global_before_or_after_the_command() {
        let all = Globals {
            config: Some("c.toml".into()),
            endpoint: Some(s("http://127.0.0.1:3900")),
            region: Some(s("garage")),
            bucket: Some(s("b")),
            prefix: Some(s("p")),
            arch_suffix: Some(true),
            path_style: Some(true),
            key_file: Some("k".into()),
            secret_file: Some("s".into()),
            ca_file: Some("ca.pem".into()),
            concurrency: Some(s("8")),
            part_size: Some(s("32MiB")),
            quiet: true,
            verbose: false,
        };
        let spaced = [
            "--config",
            "c.toml",
            "--endpoint",
            "http://127.0.0.1:3900",
            "--region",
            "garage",
            "--bucket",
            "b",
            "--prefix",
            "p",
            "--arch-suffix",
            "--path-style",
            "--key-file",
            "k",
            "--secret-file",
            "s",
            "--ca-file",
            "ca.pem",
            "--concurrency",
            "8",
            "--part-size",
            "32MiB",
            "-q",
        ];
        let equals = [
            "--config=c.toml",
            "--endpoint=http://127.0.0.1:3900",
            "--region=garage",
            "--bucket=b",
            "--prefix=p",
            "--arch-suffix",
            "--path-style",
            "--key-file=k",
            "--secret-file=s",
            "--ca-file=ca.pem",
            "--concurrency=8",
            "--part-size=32MiB",
            "--quiet",
        ];
        for globals in [&spaced[..], &equals[..]] {
            let before: Vec<&str> = globals.iter().copied().chain(["exists", "k"]).collect();
            let after: Vec<&str> = ["exists", "k"]
                .into_iter()
                .chain(globals.iter().copied())
                .collect();
            let between: Vec<&str> = ["exists"]
                .into_iter()
                .chain(globals.iter().copied())
                .chain(["k"])
                .collect();
            for args in [before, after, between] {
                check(&args, &all, Command::Exists { key: s("k") });
            }
        }
        // Between `dir`/`docker` and their subcommand too.
        let b = Globals {
            bucket: Some(s("b")),
            ..Globals::default()
        };
        check(
            &["docker", "--bucket", "b", "exists", "k"],
            &b,
            Command::DockerExists { key: s("k") },
        );
        // Every command takes the globals.
        for args in [
            &["doctor", "--bucket", "b"][..],
            &["version", "--bucket=b"],
            &["--bucket", "b", "list"],
            &["delete", "k", "--bucket", "b"],
            &["dir", "download", "k", "d", "--bucket", "b"],
        ] {
            let (g, _) = parse(os(args)).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert_eq!(g, b, "{args:?}");
        }
    }

    #[test]
    fn last_of_two_switches_wins() {
        let cases: &[(&[&str], Option<bool>, bool, bool)] = &[
            (&["doctor", "--path-style"], Some(true), false, false),
            (&["doctor", "--virtual-hosted"], Some(false), false, false),
            (
                &["--path-style", "doctor", "--virtual-hosted"],
                Some(false),
                false,
                false,
            ),
            (&["doctor", "-v"], None, false, true),
            (&["doctor", "--verbose"], None, false, true),
            (&["-q", "doctor", "-v"], None, false, true),
            (&["-v", "doctor", "--quiet"], None, true, false),
            (&["doctor", "-qv"], None, false, true),
        ];
        for &(args, path_style, quiet, verbose) in cases {
            let (g, _) = parse(os(args)).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert_eq!(
                (g.path_style, g.quiet, g.verbose),
                (path_style, quiet, verbose),
                "{args:?}"
            );
        }
        // Repeated value options: the last one wins, as with most CLIs.
        let (g, _) = parse(os(&["--bucket", "a", "doctor", "--bucket", "b"])).unwrap();
        assert_eq!(g.bucket.as_deref(), Some("b"));
    }

    #[test]
    fn help_for_every_command() {
        let cases: &[(&[&str], &str)] = &[
            (&["-h"], TOP_HELP),
            (&["--help"], TOP_HELP),
            (&["--bucket", "b", "--help"], TOP_HELP),
            (&["help"], TOP_HELP),
            (&["help", "--help"], TOP_HELP),
            (&["help", "init"], INIT_HELP),
            (&["help", "dir", "upload"], DIR_HELP),
            (&["help", "docker", "exists"], DOCKER_HELP),
            (&["help", "help"], TOP_HELP),
            (&["init", "-h"], INIT_HELP),
            (&["doctor", "--help"], DOCTOR_HELP),
            (&["download", "--help"], DOWNLOAD_HELP),
            (&["download", "k", "--url", "u", "-h"], DOWNLOAD_HELP),
            (&["upload", "-h"], UPLOAD_HELP),
            (&["exists", "-h"], EXISTS_HELP),
            (&["list", "-h"], LIST_HELP),
            (&["delete", "-h"], DELETE_HELP),
            (&["usage", "-h"], USAGE_HELP),
            (&["prune", "--help"], PRUNE_HELP),
            (&["dir", "-h"], DIR_HELP),
            (&["dir", "upload", "-h"], DIR_HELP),
            (&["dir", "download", "k", "--help"], DIR_HELP),
            (&["docker", "--help"], DOCKER_HELP),
            (&["docker", "upload", "-h"], DOCKER_HELP),
            (&["docker", "download", "-h"], DOCKER_HELP),
            (&["docker", "exists", "-h"], DOCKER_HELP),
            (&["key", "-h"], KEY_HELP),
            (&["version", "-h"], VERSION_HELP),
            (&["-q", "key", "--help"], KEY_HELP),
        ];
        for &(args, text) in cases {
            match parse(os(args)) {
                Ok((_, Command::Help(t))) => assert!(t == text, "{args:?} showed the wrong help"),
                other => panic!("{args:?}: expected help, got {other:?}"),
            }
        }
        let (g, _) = parse(os(&["-q", "key", "--help"])).unwrap();
        assert!(g.quiet);
    }

    #[test]
    fn help_texts_fit_and_say_what_they_should() {
        let all = [
            ("top", TOP_HELP),
            ("init", INIT_HELP),
            ("doctor", DOCTOR_HELP),
            ("download", DOWNLOAD_HELP),
            ("upload", UPLOAD_HELP),
            ("exists", EXISTS_HELP),
            ("list", LIST_HELP),
            ("delete", DELETE_HELP),
            ("usage", USAGE_HELP),
            ("prune", PRUNE_HELP),
            ("dir", DIR_HELP),
            ("docker", DOCKER_HELP),
            ("key", KEY_HELP),
            ("version", VERSION_HELP),
        ];
        for (name, text) in all {
            let lines = text.lines().count();
            assert!(lines <= 40, "{name} help has {lines} lines");
            for l in text.lines() {
                assert!(l.chars().count() <= 100, "{name} help line too long: {l:?}");
                assert_eq!(l.trim_end(), l, "{name} help: trailing space in {l:?}");
            }
            assert!(
                text.contains("Usage: cacher"),
                "{name} help has no usage line"
            );
            assert!(
                text.contains("Exit codes"),
                "{name} help lists no exit codes"
            );
            if name != "top" {
                assert!(text.contains("Examples:"), "{name} help has no examples");
                let cmd = format!("cacher {name}");
                let examples = text.split("Examples:").nth(1).unwrap_or_default();
                assert!(
                    examples.contains(&cmd)
                        || (name == "version" && examples.contains("cacher --version")),
                    "{name} examples do not run {cmd}"
                );
            }
        }
        // Every global option and its env var is in the top help.
        for word in [
            "--config",
            "CACHER_CONFIG",
            "--endpoint",
            "CACHER_ENDPOINT",
            "--region",
            "CACHER_REGION",
            "--bucket",
            "CACHER_BUCKET",
            "--prefix",
            "CACHER_PREFIX",
            "--arch-suffix",
            "CACHER_ARCH_SUFFIX",
            "--path-style",
            "CACHER_PATH_STYLE",
            "--virtual-hosted",
            "--key-file",
            "CACHER_KEY_FILE",
            "--secret-file",
            "CACHER_SECRET_FILE",
            "--ca-file",
            "CACHER_CA_FILE",
            "--concurrency",
            "CACHER_CONCURRENCY",
            "--part-size",
            "CACHER_PART_SIZE",
            "--quiet",
            "--verbose",
        ] {
            assert!(TOP_HELP.contains(word), "top help does not mention {word}");
        }
        for cmd in COMMANDS.split(", ") {
            assert!(
                TOP_HELP.contains(&format!("\n  {cmd} ")),
                "top help lacks {cmd}"
            );
        }
    }

    #[test]
    fn usage_errors_name_the_problem() {
        let cases: &[(&[&str], &str, &str)] = &[
            // Commands.
            (&[], "missing command", "download"),
            (&["-q"], "missing command", "init"),
            (&["frobnicate"], "unknown command 'frobnicate'", "download"),
            (
                &["help", "frobnicate"],
                "help: unknown command 'frobnicate'",
                "download",
            ),
            (
                &["help", "download", "upload"],
                "help: unexpected argument",
                "'upload'",
            ),
            (
                &["help", "dir", "exists"],
                "help: unexpected argument",
                "'exists'",
            ),
            (
                &["--foo", "doctor"],
                "unknown option '--foo'",
                "cacher --help",
            ),
            (&["Download", "k", "d"], "unknown command", "'Download'"),
            // Unknown options and positional counts, per command.
            (
                &["upload", "k", "p", "--foo"],
                "upload: unknown option '--foo'",
                "cacher upload --help",
            ),
            (
                &["upload", "k", "p", "-x"],
                "upload: unknown option '-x'",
                "'--'",
            ),
            (&["exists", "-key"], "exists: unknown option '-k'", "'--'"),
            (&["upload", "k"], "upload: missing PATH", ""),
            (&["upload"], "upload: missing KEY", ""),
            (
                &["upload", "k", "p", "q"],
                "upload: unexpected extra argument 'q'",
                "",
            ),
            (&["download", "k"], "download: missing DEST", ""),
            (
                &["download", "k", "d", "e"],
                "download: unexpected extra argument",
                "'e'",
            ),
            (&["exists"], "exists: missing KEY", ""),
            (
                &["exists", "a", "b"],
                "exists: unexpected extra argument",
                "'b'",
            ),
            (
                &["exists", "k", "--force"],
                "exists: unknown option '--force'",
                "",
            ),
            (
                &["doctor", "x"],
                "doctor: unexpected extra argument 'x'",
                "",
            ),
            (
                &["version", "x"],
                "version: unexpected extra argument",
                "'x'",
            ),
            (
                &["list", "a", "b"],
                "list: unexpected extra argument 'b'",
                "",
            ),
            (
                &["list", "--recursive=yes"],
                "list: '--recursive' takes no value",
                "yes",
            ),
            (
                &["list", "--json", "--human"],
                "list: --json and --human",
                "not go together",
            ),
            (&["key"], "key: missing TEMPLATE", ""),
            (&["key", "a", "b"], "key: unexpected extra argument", "'b'"),
            (
                &["init", "x", "--bucket", "b"],
                "init: unexpected extra argument",
                "'x'",
            ),
            // Missing values.
            (
                &["download", "k", "d", "--url"],
                "download: missing value for '--url'",
                "",
            ),
            (
                &["doctor", "--bucket"],
                "doctor: missing value for '--bucket'",
                "",
            ),
            (&["--config"], "missing value for '--config'", ""),
            (
                &["upload", "--force=yes", "k", "p"],
                "upload: '--force' takes no value",
                "yes",
            ),
            // init.
            (&["init"], "init: missing --bucket", ""),
            (&["init", "--bucket="], "init: missing --bucket", ""),
            (
                &["init", "--bucket", "b", "--key-file", "k"],
                "init: --key-file and --secret-file",
                "both",
            ),
            (
                &["init", "--bucket", "b", "--secret-file", "s"],
                "init: --key-file and --secret-file",
                "",
            ),
            // download.
            (
                &["download", "k", "d", "--url", "u", "--restore-key", "p"],
                "download: --url and --restore-key",
                "",
            ),
            (
                &["download", "k", "d", "--sha256", "abc"],
                "download: --sha256 wants 64 hex digits",
                "3 characters",
            ),
            (
                &["download", "k", "d", "--sha256", &HEX.replace('A', "g")],
                "download: --sha256",
                "64 hex",
            ),
            (
                &["download", "k", "d", "--sha256", &format!("{HEX}0")],
                "download: --sha256",
                "65 characters",
            ),
            (
                &["download", "k", "d", "--level", "3"],
                "download: '--level' only applies to 'dir upload'",
                "",
            ),
            // delete.
            (&["delete"], "delete: missing KEY", "--recursive PREFIX"),
            (
                &["delete", "k", "--recursive", "p"],
                "delete: give KEYs or --recursive PREFIX",
                "not both",
            ),
            (
                &["delete", "k", "--dry-run"],
                "delete: --dry-run only applies to --recursive",
                "",
            ),
            (&["delete", "--dry-run"], "delete: missing KEY", ""),
            (
                &["delete", "--recursive", ""],
                "delete: --recursive needs a non-empty PREFIX",
                "",
            ),
            (
                &["delete", "--recursive"],
                "delete: missing value for '--recursive'",
                "",
            ),
            // dir / docker.
            (&["dir"], "dir: missing subcommand", "upload, download"),
            (
                &["dir", "exists", "k"],
                "dir: unknown subcommand 'exists'",
                "upload, download",
            ),
            (
                &["docker", "save"],
                "docker: unknown subcommand 'save'",
                "upload, download, exists",
            ),
            (
                &["docker"],
                "docker: missing subcommand",
                "upload, download, exists",
            ),
            (
                &["dir", "--force", "upload"],
                "dir: unknown option '--force'",
                "",
            ),
            (&["dir", "upload", "k"], "dir upload: missing DIR", ""),
            (
                &["dir", "download", "k", "d", "x"],
                "dir download: unexpected extra argument",
                "'x'",
            ),
            (
                &["dir", "upload", "k", "d", "--level", "0"],
                "dir upload: --level wants",
                "1 to 19",
            ),
            (
                &["dir", "upload", "k", "d", "--level=20"],
                "dir upload: --level wants",
                "'20'",
            ),
            (
                &["dir", "upload", "k", "d", "--level", "fast"],
                "dir upload: --level",
                "'fast'",
            ),
            (
                &["dir", "download", "k", "d", "--level", "3"],
                "dir download: '--level' only applies",
                "",
            ),
            (
                &["dir", "download", "k", "d", "--force"],
                "dir download: unknown option '--force'",
                "",
            ),
            (
                &["dir", "upload", "k", "d", "--restore-key", "p"],
                "dir upload: unknown option",
                "'--restore-key'",
            ),
            (
                &["--level", "3", "dir", "upload", "k", "d"],
                "'--level' only applies to 'dir upload'",
                "",
            ),
            (
                &["docker", "upload", "k"],
                "docker upload: missing IMAGE",
                "",
            ),
            (
                &["docker", "upload", "k", "i", "--pull"],
                "docker upload: unknown option '--pull'",
                "",
            ),
            (
                &["docker", "download", "k", "i", "--force"],
                "docker download: unknown option '--force'",
                "",
            ),
            (
                &["docker", "exists", "k", "--pull"],
                "docker exists: unknown option '--pull'",
                "",
            ),
            (
                &["docker", "exists", "k", "i"],
                "docker exists: unexpected extra argument",
                "'i'",
            ),
            // key.
            (
                &["key", "t", "--hash-length", "0"],
                "key: --hash-length wants",
                "1 to 64",
            ),
            (
                &["key", "t", "--hash-length", "65"],
                "key: --hash-length wants",
                "'65'",
            ),
            (
                &["key", "t", "--hash-length=-1"],
                "key: --hash-length",
                "'-1'",
            ),
            (
                &["key", "t", "--hash-from"],
                "key: missing value for '--hash-from'",
                "",
            ),
            // `--` makes everything after it positional, options included.
            (
                &["upload", "k", "--", "p", "--force"],
                "upload: unexpected extra argument '--force'",
                "",
            ),
            // Control characters never break the one-line message.
            (
                &["upload", "k", "p", "a\nb"],
                "upload: unexpected extra argument",
                "a\\nb",
            ),
        ];
        for &(args, start, needle) in cases {
            fails(args, start, needle);
        }
    }

    #[cfg(unix)]
    #[test]
    fn paths_may_be_any_bytes_but_keys_are_utf8() {
        use std::os::unix::ffi::OsStringExt;
        let bad = || OsString::from_vec(vec![b'x', 0xff]);
        let args = |v: &[&str], at: usize| {
            let mut a = os(v);
            a.insert(at, bad());
            a
        };
        let (_, c) = parse(args(&["dir", "upload", "k"], 3)).unwrap();
        assert_eq!(
            c,
            Command::DirUpload {
                key: s("k"),
                dir: PathBuf::from(bad()),
                force: false,
                level: None
            }
        );
        let (_, c) = parse(args(&["key", "t", "--hash-from"], 3)).unwrap();
        assert!(matches!(c, Command::Key { hash_from, .. } if hash_from == [PathBuf::from(bad())]));
        let (g, _) = parse(args(&["doctor", "--config"], 2)).unwrap();
        assert_eq!(g.config, Some(PathBuf::from(bad())));
        let (g, _) = parse(args(&["doctor", "--ca-file"], 2)).unwrap();
        assert_eq!(g.ca_file, Some(PathBuf::from(bad())));

        let rejected: &[(Vec<OsString>, &str)] = &[
            (args(&["exists"], 1), "exists: KEY is not valid UTF-8"),
            (
                args(&["dir", "upload", "d"], 2),
                "dir upload: KEY is not valid UTF-8",
            ),
            (args(&["delete", "a"], 2), "delete: KEY is not valid UTF-8"),
            (args(&["key"], 1), "key: TEMPLATE is not valid UTF-8"),
            (
                args(&["download", "k", "d", "--url"], 4),
                "download: the value of '--url'",
            ),
            (
                args(&["download", "k"], 2),
                "download: DEST is not valid UTF-8",
            ),
            (
                args(&["doctor", "--bucket"], 2),
                "doctor: the value of '--bucket'",
            ),
            (
                args(&["docker", "upload", "k"], 3),
                "docker upload: IMAGE is not valid UTF-8",
            ),
            (args(&[], 0), "unknown command 'x\u{fffd}'"),
        ];
        for (argv, start) in rejected {
            match parse(argv.clone()) {
                Err(UsageError(m)) => assert!(m.starts_with(start), "{argv:?}: {m:?}"),
                Ok(r) => panic!("{argv:?}: expected an error, got {r:?}"),
            }
        }
    }
}
