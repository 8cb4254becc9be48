//! `usage` (how much the cache holds) and `prune` (remove what is old or over a size cap), and
//! the parallel deletion `delete --recursive` shares. Both need only ListBucket and
//! DeleteObject, so they run under the four-permission policy of seeds/000. The choice of what
//! to prune is a pure function ([`choose`]), unit-tested apart from S3.

use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use super::files::json_str;
use super::Ctx;
use crate::error::{Error, Result};
use crate::output;
use crate::s3::Client;
use crate::timefmt;

/// An object as prune sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub size: u64,
    /// Unix seconds; `None` when the server's LastModified could not be read (kept, never
    /// pruned: cacher cannot know its age).
    pub written: Option<i64>,
}

/// Every object under `full`, with sizes and write times.
pub fn entries(client: &Client, full: &str) -> Result<Vec<Entry>> {
    let mut v = Vec::new();
    client.list_each(full, None, |page| {
        v.extend(page.objects.into_iter().map(|o| Entry {
            written: timefmt::parse_rfc3339(&o.last_modified),
            name: o.key,
            size: o.size,
        }));
        Ok(())
    })?;
    Ok(v)
}

/// The listing prefix for a user's PREFIX: an empty one means the whole configured prefix
/// (its folder, `p/`, so that `p2/…` is not counted as part of `p`).
fn full_prefix(ctx: &Ctx, prefix: &str, root: bool) -> String {
    if !root && prefix.is_empty() && !ctx.cfg.prefix.is_empty() {
        return format!("{}/", ctx.cfg.prefix);
    }
    ctx.list_prefix(prefix, root)
}

pub fn usage(ctx: &Ctx, prefix: &str, root: bool, json: bool) -> Result<i32> {
    let client = ctx.client()?;
    let full = full_prefix(ctx, prefix, root);
    let (mut objects, mut bytes) = (0u64, 0u64);
    client.list_each(&full, None, |page| {
        objects += page.objects.len() as u64;
        bytes += page.objects.iter().map(|o| o.size).sum::<u64>();
        Ok(())
    })?;
    let line = if json {
        format!(
            "{{\"prefix\":{},\"objects\":{objects},\"bytes\":{bytes}}}",
            json_str(&full)
        )
    } else {
        format!(
            "{objects} object{}, {bytes} bytes ({}) under '{full}'",
            if objects == 1 { "" } else { "s" },
            output::human_size(bytes)
        )
    };
    println!("{line}");
    Ok(0)
}

/// What prune removes: every entry written before `cutoff` (when given), then, with
/// `max_size`, the oldest of the rest (ties: by name) until the total is at most `max_size`.
/// Entries with an unknown write time are never chosen. Returned oldest first.
pub fn choose(mut all: Vec<Entry>, cutoff: Option<i64>, max_size: Option<u64>) -> Vec<Entry> {
    all.sort_by(|a, b| a.written.cmp(&b.written).then_with(|| a.name.cmp(&b.name)));
    let (mut gone, mut kept): (Vec<Entry>, Vec<Entry>) = all
        .into_iter()
        .partition(|e| matches!((e.written, cutoff), (Some(w), Some(c)) if w < c));
    if let Some(max) = max_size {
        let mut total: u64 = kept.iter().map(|e| e.size).sum();
        // `kept` is oldest first, with unknown times (None sorts first) skipped over.
        let mut i = 0;
        while total > max && i < kept.len() {
            if kept[i].written.is_none() {
                i += 1;
                continue;
            }
            let e = kept.remove(i);
            total -= e.size;
            gone.push(e);
        }
    }
    gone
}

pub fn prune(
    ctx: &Ctx,
    prefix: &str,
    root: bool,
    older_than: Option<u64>,
    max_size: Option<u64>,
    dry_run: bool,
) -> Result<i32> {
    let client = ctx.client()?;
    let full = full_prefix(ctx, prefix, root);
    let all = entries(&client, &full)?;
    let (count, bytes) = (all.len(), all.iter().map(|e| e.size).sum::<u64>());
    let unknown = all.iter().filter(|e| e.written.is_none()).count();
    if unknown > 0 {
        output::warn(&format!(
            "{unknown} object(s) under '{full}' have no readable LastModified; they are kept"
        ));
    }
    // The server's clock, not ours: LastModified is the server's time, and a runner whose
    // clock runs ahead must not prune entries that are younger than DURATION.
    let local = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let now = local + client.server_skew().unwrap_or(0);
    let cutoff = older_than.map(|d| now.saturating_sub(d.min(i64::MAX as u64) as i64));
    let chosen = choose(all, cutoff, max_size);
    let freed: u64 = chosen.iter().map(|e| e.size).sum();
    let names: Vec<String> = chosen.into_iter().map(|e| e.name).collect();
    let left = format!(
        "{} object(s), {} left under '{full}'",
        count - names.len(),
        output::human_size(bytes - freed)
    );
    if dry_run {
        print_names(ctx, &names)?;
        output::info(&format!(
            "would prune {} object(s), {}; {left}",
            names.len(),
            output::human_size(freed)
        ));
        return Ok(0);
    }
    delete_many(ctx, &client, &names, true)?;
    output::info(&format!(
        "pruned {} object(s), {}; {left}",
        names.len(),
        output::human_size(freed)
    ));
    Ok(0)
}

pub fn print_names(ctx: &Ctx, names: &[String]) -> Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    for n in names {
        writeln!(out, "{}", ctx.relative(n)).map_err(|e| Error::io("writing", "stdout", e))?;
    }
    out.flush().map_err(|e| Error::io("writing", "stdout", e))
}

/// Deletes `names` with `concurrency` requests in flight. With `print`, each key goes to stdout
/// as soon as it is gone, so that after an error the output still says exactly what was
/// removed. The first error stops the remaining work and is returned.
pub fn delete_many(ctx: &Ctx, client: &Client, names: &[String], print: bool) -> Result<()> {
    let next = AtomicUsize::new(0);
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    let out = Mutex::new(io::stdout());
    let workers = ctx.cfg.concurrency.clamp(1, names.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                if failed.lock().map(|f| f.is_some()).unwrap_or(true) {
                    return;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(name) = names.get(i) else { return };
                let done = client.delete_object(name).and_then(|()| {
                    output::debug(|| format!("deleted '{}'", ctx.relative(name)));
                    if !print {
                        return Ok(());
                    }
                    let mut o = out.lock().unwrap_or_else(|p| p.into_inner());
                    writeln!(o, "{}", ctx.relative(name))
                        .map_err(|e| Error::io("writing", "stdout", e))
                });
                if let Err(e) = done {
                    let mut f = failed.lock().unwrap_or_else(|p| p.into_inner());
                    f.get_or_insert(e);
                    return;
                }
            });
        }
    });
    match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: &str, size: u64, written: Option<i64>) -> Entry {
        Entry {
            name: name.into(),
            size,
            written,
        }
    }

    fn names(v: &[Entry]) -> Vec<&str> {
        v.iter().map(|e| e.name.as_str()).collect()
    }

    #[test]
    fn by_age_only() {
        let all = vec![
            e("new", 1, Some(100)),
            e("old", 1, Some(10)),
            e("edge", 1, Some(50)),
        ];
        // Written *before* the cut-off: an object written exactly at it stays.
        assert_eq!(names(&choose(all.clone(), Some(50), None)), ["old"]);
        assert_eq!(
            names(&choose(all.clone(), Some(101), None)),
            ["old", "edge", "new"]
        );
        assert!(choose(all, Some(0), None).is_empty());
    }

    #[test]
    fn by_size_takes_the_oldest_first() {
        let all = vec![
            e("c", 30, Some(30)),
            e("a", 10, Some(10)),
            e("b", 20, Some(20)),
            e("d", 40, Some(40)),
        ];
        assert_eq!(
            names(&choose(all.clone(), None, Some(100))),
            Vec::<&str>::new()
        );
        assert_eq!(names(&choose(all.clone(), None, Some(99))), ["a"]);
        assert_eq!(names(&choose(all.clone(), None, Some(70))), ["a", "b"]);
        assert_eq!(
            names(&choose(all.clone(), None, Some(0))),
            ["a", "b", "c", "d"]
        );
        // Age first, then size over what is left.
        assert_eq!(names(&choose(all, Some(15), Some(40))), ["a", "b", "c"]);
    }

    #[test]
    fn unknown_times_are_kept_and_ties_go_by_name() {
        let all = vec![e("x", 50, None), e("b", 10, Some(5)), e("a", 10, Some(5))];
        assert_eq!(names(&choose(all.clone(), Some(1000), None)), ["a", "b"]);
        assert_eq!(names(&choose(all, None, Some(0))), ["a", "b"]);
    }
}
