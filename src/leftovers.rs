//! Names for the temporary things cacher puts beside a target — `.NAME.cacher-TAG-PID` — and
//! the clean-up of those left by runs that were killed (SPEC §6: at most a recognisably named
//! temporary file or directory survives an interrupted run, and the next run removes it).
//!
//! Tags in use: `tmp` (download temp files), `staging` and `old` (`dir download`).

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

fn parent_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `.NAME.cacher-TAG-PID` beside `target`.
pub fn sibling(target: &Path, tag: &str) -> Result<PathBuf> {
    let name = target.file_name().ok_or_else(|| {
        Error::Usage(format!(
            "{} does not name a file or directory",
            target.display()
        ))
    })?;
    Ok(parent_of(target).join(format!(
        ".{}.cacher-{tag}-{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// Removes `.NAME.cacher-TAG-PID` files and directories beside `target` whose process is gone.
pub fn clean_stale(target: &Path, tags: &[&str]) {
    let Some(name) = target.file_name() else {
        return;
    };
    let Ok(rd) = fs::read_dir(parent_of(target)) else {
        return;
    };
    for e in rd.flatten() {
        let entry = e.file_name();
        let Some(entry) = entry.to_str() else {
            continue;
        };
        for tag in tags {
            let head = format!(".{}.cacher-{tag}-", name.to_string_lossy());
            let Some(pid) = entry.strip_prefix(&head) else {
                continue;
            };
            // /proc/PID exists while that process lives; a PID that is not a number is not ours.
            let alive = pid
                .parse::<u32>()
                .is_ok_and(|p| Path::new(&format!("/proc/{p}")).exists());
            if !alive {
                crate::output::debug(|| format!("removing leftover {}", e.path().display()));
                let p = e.path();
                let _ = if p.is_dir() && !p.is_symlink() {
                    fs::remove_dir_all(&p)
                } else {
                    fs::remove_file(&p)
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_leftovers_are_cleaned_live_ones_kept() {
        let dir =
            std::env::temp_dir().join(format!("cacher-leftovers-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("f");
        let dead_file = dir.join(".f.cacher-tmp-4000000000");
        let dead_dir = dir.join(".f.cacher-staging-4000000001");
        let live = sibling(&target, "tmp").unwrap();
        let other = dir.join(".g.cacher-tmp-4000000000");
        fs::write(&dead_file, "x").unwrap();
        fs::create_dir_all(dead_dir.join("sub")).unwrap();
        fs::write(&live, "x").unwrap();
        fs::write(&other, "x").unwrap();
        clean_stale(&target, &["tmp", "staging"]);
        assert!(!dead_file.exists() && !dead_dir.exists());
        assert!(live.exists(), "a running process's file is kept");
        assert!(other.exists(), "another target's file is kept");
        assert_eq!(
            live.file_name().unwrap().to_str().unwrap(),
            format!(".f.cacher-tmp-{}", std::process::id())
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
