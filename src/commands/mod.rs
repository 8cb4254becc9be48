//! Runs a parsed [`Command`]: resolves the config, builds the S3 client when the command needs
//! one, and returns the process exit code (errors are returned as `Error`, mapped by `main`).
//!
//! Each command family lives in its own file: `files.rs` (download/upload/exists/list/delete),
//! `setup.rs` (init/doctor), `housekeeping.rs` (usage/prune). `key` and `version` need no config and are handled here.

pub(crate) mod dir;
mod docker;
mod files;
pub(crate) mod housekeeping;
mod setup;

use crate::cli::{Command, Globals};
use crate::config::{Config, Env};
use crate::credentials;
use crate::error::{Error, Result};
use crate::keys;
use crate::s3::{Client, Settings};

/// Resolved configuration plus the ability to build a client.
pub struct Ctx {
    pub cfg: Config,
    pub env: Env,
    pub globals: Globals,
}

impl Ctx {
    pub fn client(&self) -> Result<Client> {
        let bucket = self.cfg.bucket()?.to_string();
        let creds = credentials::load(&self.cfg, &self.env)?;
        Client::new(self.settings(bucket, creds.creds))
    }

    pub fn settings(&self, bucket: String, credentials: sigv4::Credentials) -> Settings {
        Settings {
            endpoint: self.cfg.endpoint.clone(),
            region: self.cfg.region.clone(),
            bucket,
            path_style: self.cfg.path_style,
            credentials,
            ca_file: self.cfg.ca_file.clone(),
            proxy: self.cfg.proxy.clone(),
            attempts: 5,
            unsigned_payload: true,
            concurrency: self.cfg.concurrency,
        }
    }

    /// The object name for a user's key: validated, arch suffix inserted when configured, the
    /// configured prefix joined (SPEC §4).
    pub fn object(&self, key: &str) -> Result<String> {
        keys::validate_key(key, &self.cfg.prefix).map_err(Error::Usage)?;
        let key = if self.cfg.arch_suffix {
            keys::insert_suffix(key, &keys::arch_suffix())
        } else {
            key.to_string()
        };
        let name = keys::object_name(&self.cfg.prefix, &key);
        keys::validate_key(&name, "").map_err(Error::Usage)?;
        Ok(name)
    }

    /// A listing prefix under the configured prefix (`root` ignores it).
    pub fn list_prefix(&self, user: &str, root: bool) -> String {
        if root || self.cfg.prefix.is_empty() {
            return user.to_string();
        }
        format!("{}/{}", self.cfg.prefix, user)
    }

    /// An object name back to the key a user would pass to other commands.
    pub fn relative<'a>(&self, name: &'a str) -> &'a str {
        if self.cfg.prefix.is_empty() {
            return name;
        }
        name.strip_prefix(self.cfg.prefix.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(name)
    }
}

pub fn version_line() -> String {
    format!(
        "cacher {} ({}, commit {})",
        env!("CARGO_PKG_VERSION"),
        keys::arch_suffix(),
        option_env!("CACHER_COMMIT").unwrap_or("unknown")
    )
}

/// Runs a command; returns the exit code for the non-error outcomes (0, or 1 for `exists`).
pub fn run(globals: Globals, cmd: Command, env: Env) -> Result<i32> {
    match cmd {
        Command::Help(text) => {
            println!("{text}");
            return Ok(0);
        }
        Command::Version => {
            println!("{}", version_line());
            return Ok(0);
        }
        Command::Key {
            template,
            hash_from,
            hash_length,
            arch_suffix,
        } => {
            let hash = if hash_from.is_empty() {
                None
            } else {
                Some(keys::hash_paths(&hash_from, hash_length).map_err(Error::Config)?)
            };
            let key = keys::render_template(&template, hash.as_deref(), arch_suffix)
                .map_err(Error::Usage)?;
            keys::validate_key(&key, "").map_err(Error::Usage)?;
            println!("{key}");
            return Ok(0);
        }
        _ => {}
    }
    if let Command::Init = cmd {
        return setup::init(&globals, &env);
    }
    let cfg = Config::load(&globals, &env)?;
    let ctx = Ctx { cfg, env, globals };
    match cmd {
        Command::Doctor => setup::doctor(&ctx),
        Command::Download {
            key,
            dest,
            url,
            sha256,
            restore_keys,
        } => files::download(
            &ctx,
            &key,
            &dest,
            url.as_deref(),
            sha256.as_deref(),
            &restore_keys,
        ),
        Command::Upload { key, path, force } => files::upload(&ctx, &key, &path, force),
        Command::Exists { key } | Command::DockerExists { key } => files::exists(&ctx, &key),
        Command::List {
            prefix,
            recursive,
            root,
            json,
            human,
        } => files::list(
            &ctx,
            prefix.as_deref().unwrap_or(""),
            recursive,
            root,
            json,
            human,
        ),
        Command::Delete {
            keys,
            recursive,
            dry_run,
        } => files::delete(&ctx, &keys, recursive.as_deref(), dry_run),
        Command::Usage { prefix, root, json } => {
            housekeeping::usage(&ctx, prefix.as_deref().unwrap_or(""), root, json)
        }
        Command::Prune {
            prefix,
            root,
            older_than,
            max_size,
            dry_run,
        } => housekeeping::prune(
            &ctx,
            prefix.as_deref().unwrap_or(""),
            root,
            older_than,
            max_size,
            dry_run,
        ),
        Command::DirUpload {
            key,
            dir,
            force,
            level,
        } => dir::upload(&ctx, &key, &dir, force, level.as_deref()),
        Command::DirDownload {
            key,
            dir,
            restore_keys,
        } => dir::download(&ctx, &key, &dir, &restore_keys),
        Command::DockerUpload { key, image, force } => docker::upload(&ctx, &key, &image, force),
        Command::DockerDownload { key, image, pull } => docker::download(&ctx, &key, &image, pull),
        // Answered above, before any config was read.
        Command::Help(_) | Command::Version | Command::Key { .. } | Command::Init => Ok(0),
    }
}
