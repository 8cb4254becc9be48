//! `cacher usage` and `cacher prune` against the real server: counts and bytes, the age cut-off
//! (with real object dates: the test writes two generations a few seconds apart), the size cap
//! taking the oldest first, `--dry-run` removing nothing, and — on moto — all of it under the
//! four-permission policy (ListBucket + DeleteObject are all prune needs).

use crate::{data, unique, Cacher, Server};

/// The admin, or on moto the least-privilege user.
fn who(srv: &Server, prefix: &str) -> Cacher {
    let c = Cacher::new(srv, prefix);
    match &srv.limited {
        Some((id, secret)) => c
            .env("CACHER_S3_KEY_ID", id)
            .env("CACHER_S3_SECRET", secret),
        None => c,
    }
}

fn put(srv: &Server, prefix: &str, key: &str, len: usize) {
    Cacher::new(srv, prefix)
        .run_stdin(["upload", key, "-"], &data(len, len as u64))
        .code(0);
}

#[test]
fn usage_counts_objects_and_bytes_under_the_prefix() {
    let srv = Server::get();
    let p = unique("usage");
    put(&srv, &p, "a", 1000);
    put(&srv, &p, "sub/b", 2000);
    put(&srv, &p, "sub/c", 30);
    // A sibling whose name starts with the prefix's text is not part of it.
    put(&srv, &format!("{p}x"), "z", 5);

    let r = who(&srv, &p).run(["usage"]);
    r.code(0);
    assert_eq!(
        r.out(),
        format!("3 objects, 3030 bytes (3.0 KiB) under '{p}/'\n")
    );
    let r = who(&srv, &p).run(["usage", "sub/", "--json"]);
    r.code(0);
    assert_eq!(
        r.out(),
        format!("{{\"prefix\":\"{p}/sub/\",\"objects\":2,\"bytes\":2030}}\n")
    );
    let r = who(&srv, &p).run(["usage", "nothing-here/"]);
    r.code(0);
    assert!(r.out().starts_with("0 objects, 0 bytes"), "{}", r.out());
    Cacher::new(&srv, &p)
        .run(["delete", "--recursive", "a"])
        .code(0);
    Cacher::new(&srv, &p)
        .run(["delete", "--recursive", "sub/"])
        .code(0);
    Cacher::new(&srv, &format!("{p}x"))
        .run(["delete", "z"])
        .code(0);
}

#[test]
fn prune_by_age_then_by_size() {
    let srv = Server::get();
    let p = unique("prune");
    put(&srv, &p, "old-a", 100);
    put(&srv, &p, "old-b", 100);
    // LastModified has one-second steps and "now" comes from the server's Date header (also
    // seconds): 6 s between generations and a 3 s cut-off leave two seconds of margin each way.
    std::thread::sleep(std::time::Duration::from_secs(6));
    put(&srv, &p, "new-c", 300);
    put(&srv, &p, "new-d", 400);

    let r = who(&srv, &p).run(["prune", "--older-than", "3s", "--dry-run"]);
    r.code(0).err_has("would prune 2 object(s)");
    assert_eq!(r.out(), "old-a\nold-b\n");
    who(&srv, &p).run(["exists", "old-a"]).code(0);

    let r = who(&srv, &p).run(["prune", "--older-than", "3s"]);
    r.code(0).err_has("pruned 2 object(s)");
    // Printed as each delete completes: in parallel, so in any order.
    let mut gone: Vec<String> = r.out().lines().map(String::from).collect();
    gone.sort();
    assert_eq!(gone, ["old-a", "old-b"]);
    who(&srv, &p).run(["exists", "old-a"]).code(1);
    who(&srv, &p).run(["exists", "old-b"]).code(1);
    who(&srv, &p).run(["exists", "new-c"]).code(0);

    // Nothing is that old any more.
    let r = who(&srv, &p).run(["prune", "--older-than", "1h"]);
    r.code(0);
    assert_eq!(r.out(), "");

    // 700 bytes left; a 500-byte cap removes the oldest (new-c: same second as new-d at
    // worst, and then the name decides).
    let r = who(&srv, &p).run(["prune", "--max-size", "500"]);
    r.code(0);
    assert_eq!(r.out(), "new-c\n");
    let r = who(&srv, &p).run(["usage"]);
    assert!(r.out().starts_with("1 object, 400 bytes"), "{}", r.out());

    let r = who(&srv, &p).run(["prune", "--older-than", "0s", "--max-size", "0"]);
    r.code(0);
    assert_eq!(r.out(), "new-d\n");
    let r = who(&srv, &p).run(["usage"]);
    assert!(r.out().starts_with("0 objects"), "{}", r.out());
}

#[test]
fn prune_refuses_bad_arguments() {
    let r = Cacher::bare().run(["prune"]);
    r.code(2).one_error_line().err_has("--older-than");
    Cacher::bare()
        .run(["prune", "--older-than", "7"])
        .code(2)
        .err_has("duration");
}
