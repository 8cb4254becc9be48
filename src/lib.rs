//! cacher as a library: the modules the `cacher` binary is made of, exposed so the integration
//! tests can drive the S3 client directly against real servers. The binary (`main.rs`) is a
//! thin shell over [`commands::run`].
//!
//! Invariants (kept true in ARCHITECTURE.md): `sigv4` does no I/O and never reads the clock;
//! only `s3/` touches ureq; only `config`/`credentials` read the environment (`semaphore` translates its variables in
//! the `Env` snapshot); `keys`,
//! `tomlish`, `timefmt` and `s3::xml` are pure.

pub mod archive;
pub mod cli;
pub mod commands;
pub mod config;
pub mod credentials;
pub mod docker;
pub mod error;
pub mod interrupt;
pub mod keys;
pub mod leftovers;
pub mod output;
pub mod pipe;
pub mod s3;
pub mod semaphore;
pub mod timefmt;
pub mod tomlish;
pub mod transfer;
