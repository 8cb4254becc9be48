#!/usr/bin/env python3
"""The measuring half of `make bench` (bench/run.sh prepares everything and calls this).

    bench.py measure --server NAME --env-file F --server-pid PID --raw OUT.jsonl ...
    bench.py report --raw OUT.jsonl --meta META.json --out results.md

`measure` runs every tool side by side against one server: each repetition runs all tools of
a row one after the other, in an order rotated from one repetition to the next, so a colleague's
compile that starts half-way hurts every tool alike. Before each run it calls sync(2) (so
write-back of the previous run's bytes is not billed to the next one) and it never deletes a
big tree between two runs (extracting right after `rm -rf` of a similar tree is 3-10x slower on
ext4, DESIGN.md): restored trees are kept until the row is done.

For each run it records: wall time (perf_counter around fork/exec/wait), the tool's user+sys
CPU and peak RSS from wait4(2) (the same numbers `/usr/bin/time -f '%U %S %M'` prints; for a
shell pipeline they cover every process of it, and the RSS is the largest one's), the server's
CPU from /proc/PID/stat, and the rest of the machine's busy CPU from /proc/stat (colleagues and
kernel threads: "other load"). Nothing is asserted about time.
"""

import argparse
import json
import os
import shutil
import stat
import statistics
import subprocess
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")
GIB = 1 << 30
MB = 1_000_000


def die(msg):
    print(f"bench: error: {msg}", file=sys.stderr)
    sys.exit(1)


def say(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- CPU accounting


def proc_cpu(pid):
    """user+sys seconds of a process (all its threads), or 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / HZ
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_busy():
    """Busy CPU-seconds of the whole machine since boot (everything but idle and iowait)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice: already in user/nice]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / HZ


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---------------------------------------------------------------- one run


class Runner:
    def __init__(self, server, server_pid, raw, logdir):
        self.server = server
        self.server_pid = server_pid
        self.raw = raw
        self.logdir = logdir
        self.n = 0
        self.timed = 0.0
        self.sync_s = 0.0  # time spent in the untimed sync(2) before runs
        self.t0 = time.perf_counter()

    def run(self, row, tool, op, rep, cmd, env, nbytes, stdout=None):
        """Runs cmd (a list), records one measurement, returns it. Fails loudly on exit != 0."""
        self.n += 1
        log = os.path.join(self.logdir, f"run-{self.n:04d}.log")
        ts = time.perf_counter()
        os.sync()
        self.sync_s += time.perf_counter() - ts
        with open(log, "wb") as lf:
            srv0, busy0 = proc_cpu(self.server_pid), machine_busy()
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                 stdout=stdout if stdout is not None else lf, stderr=lf)
            _, status, ru = os.wait4(p.pid, 0)
            t1 = time.perf_counter()
            srv1, busy1 = proc_cpu(self.server_pid), machine_busy()
        p.returncode = rc = os.waitstatus_to_exitcode(status)
        if rc != 0:
            with open(log, errors="replace") as lf:
                tail = lf.read()[-3000:]
            die(f"{tool} {op} (rep {rep}) exited {rc}: {' '.join(cmd)}\n{tail}")
        wall = t1 - t0
        client = ru.ru_utime + ru.ru_stime
        server = srv1 - srv0
        m = {
            "server": self.server, "row": row, "tool": tool, "op": op, "rep": rep,
            "bytes": nbytes, "wall": wall, "user": ru.ru_utime, "sys": ru.ru_stime,
            "client_cpu": client, "rss_kib": ru.ru_maxrss, "server_cpu": server,
            "other_cpu": max(0.0, (busy1 - busy0) - client - server),
        }
        self.timed += wall
        self.raw.write(json.dumps(m) + "\n")
        self.raw.flush()
        os.unlink(log)
        return m


def rotated(tools, rep):
    k = rep % len(tools)
    return tools[k:] + tools[:k]


def check(cond, msg):
    if not cond:
        die(msg)


def same_tree(a, b):
    r = subprocess.run(["diff", "-r", "--no-dereference", "-q", a, b],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    check(r.returncode == 0, f"restored tree {b} differs from {a}:\n{r.stdout.decode()[-2000:]}")


def tree_stats(root):
    """(entries, bytes of regular files) under root."""
    n = size = 0
    for d, dirs, files in os.walk(root):
        n += len(dirs) + len(files)
        for f in files:
            st = os.lstat(os.path.join(d, f))
            size += st.st_size if stat.S_ISREG(st.st_mode) else 0
    return n, size


def rmtree(p):
    shutil.rmtree(p, ignore_errors=True)


# ---------------------------------------------------------------- measure


def measure(a):
    env_s3 = {}
    with open(a.env_file) as f:
        for line in f:
            line = line.strip()
            if line.startswith("export "):
                k, v = line[len("export "):].split("=", 1)
                env_s3[k] = v.strip("'")
    ep, region, bucket = env_s3["CACHER_TEST_ENDPOINT"], env_s3["CACHER_TEST_REGION"], env_s3["CACHER_TEST_BUCKET"]
    kid, secret = env_s3["CACHER_TEST_KEY_ID"], env_s3["CACHER_TEST_SECRET"]
    prefix = a.prefix
    work = os.path.join(a.work, a.server)
    os.makedirs(work)
    logdir = os.path.join(work, "logs")
    os.makedirs(logdir)

    # Environments: nothing of the caller's S3 settings leaks into any tool.
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("CACHER_", "AWS_", "BOTO_"))}
    cenv = dict(base, CACHER_ENDPOINT=ep, CACHER_REGION=region, CACHER_BUCKET=bucket,
                CACHER_PREFIX=prefix, CACHER_S3_KEY_ID=kid, CACHER_S3_SECRET=secret,
                XDG_CONFIG_HOME=os.path.join(work, "xdg"))
    for kv in a.cacher_env.split():
        k, v = kv.split("=", 1)
        cenv[k] = v
    awscfg = os.path.join(work, "aws-config")
    open(awscfg, "w").close()
    aenv = dict(base, AWS_ACCESS_KEY_ID=kid, AWS_SECRET_ACCESS_KEY=secret,
                AWS_DEFAULT_REGION=region, AWS_CONFIG_FILE=awscfg,
                AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    # curl reads the credentials from a 0600 config file, not its command line.
    curlcfg = os.path.join(work, "curl.cfg")
    fd = os.open(curlcfg, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f'user = "{kid}:{secret}"\n'
                f'aws-sigv4 = "aws:amz:{region}:s3"\n'
                # s3s-fs (and S3) require x-amz-content-sha256, which curl 7.88 does not send
                # by itself: without it s3s-fs answers 400 "missing header".
                'header = "x-amz-content-sha256: UNSIGNED-PAYLOAD"\n'
                "silent\nshow-error\nfail\n")
    cacher, aws = a.cacher, a.aws
    url = lambda name: f"{ep}/{bucket}/{prefix}/{name}"  # noqa: E731
    s3url = lambda name: f"s3://{bucket}/{prefix}/{name}"  # noqa: E731
    awsq = [aws, "--endpoint-url", ep]
    curl = ["curl", "-K", curlcfg]
    R = Runner(a.server, a.server_pid, open(a.raw, "a"), logdir)
    reps = a.reps
    fsize = os.path.getsize(a.file)
    say(f"[{a.server}] load {loadavg()}: 1. file of {fsize / MB:.0f} MB, {reps} reps per tool")

    # 1. the big file, up then down
    up = {
        "cacher": lambda r: ([cacher, "upload", f"file-cacher-{r}", a.file, "--force"], cenv),
        "aws cli": lambda r: (awsq + ["s3", "cp", a.file, s3url(f"file-aws-{r}"), "--only-show-errors"], aenv),
        "curl": lambda r: (curl + ["-o", "/dev/null", "-T", a.file, url(f"file-curl-{r}")], base),
    }
    for r in range(1, reps + 1):
        for tool in rotated(list(up), r):
            cmd, env = up[tool](r)
            R.run("file", tool, "upload", r, cmd, env, fsize)
    obj = {"cacher": "file-cacher-{}", "aws cli": "file-aws-{}", "curl": "file-curl-{}"}
    down = {
        "cacher": lambda r, out: ([cacher, "download", obj["cacher"].format(r), out], cenv),
        "aws cli": lambda r, out: (awsq + ["s3", "cp", s3url(obj["aws cli"].format(r)), out, "--only-show-errors"], aenv),
        "curl": lambda r, out: (curl + ["-o", out, url(obj["curl"].format(r))], base),
    }
    for r in range(1, reps + 1):
        for tool in rotated(list(down), r):
            out = os.path.join(work, f"download-{r}-{tool.replace(' ', '-')}")
            cmd, env = down[tool](r, out)
            R.run("file", tool, "download", r, cmd, env, fsize)
            check(os.path.getsize(out) == fsize, f"{tool}: {out} has the wrong size")
            if r == 1:
                check(subprocess.run(["cmp", "-s", a.file, out]).returncode == 0,
                      f"{tool}: downloaded file differs from the source")
            os.unlink(out)

    # 2. the tree: up, then down into fresh directories
    tb = a.tree_bytes
    say(f"[{a.server}] load {loadavg()}: 2. tree of {tb / MB:.0f} MB")
    pipe_up = ('set -o pipefail; tar -C "$1" -cf - . | zstd -3 -T0 -q | '
               '"$2" --endpoint-url "$3" s3 cp - "$4" --only-show-errors')
    local_up = 'set -o pipefail; tar -C "$1" -cf - . | zstd -3 -T0 -q >"$2"'
    archive = os.path.join(work, "local.tar.zst")
    up = {
        "cacher": lambda r: ([cacher, "dir", "upload", f"tree-cacher-{r}", a.tree, "--force"], cenv),
        "aws cli": lambda r: (["bash", "-c", pipe_up, "-", a.tree, aws, ep, s3url(f"tree-aws-{r}.tar.zst")], aenv),
    }
    if a.local_refs:
        up["local tar|zstd (no S3)"] = lambda r: (["bash", "-c", local_up, "-", a.tree, archive], base)
    for r in range(1, reps + 1):
        for tool in rotated(list(up), r):
            cmd, env = up[tool](r)
            R.run("tree", tool, "upload", r, cmd, env, tb)
    pipe_down = ('set -o pipefail; mkdir "$1" && "$2" --endpoint-url "$3" s3 cp "$4" - --only-show-errors'
                 ' | zstd -d -q | tar -xf - -C "$1"')
    curl_down = 'set -o pipefail; mkdir "$1" && curl -K "$2" "$3" | zstd -d -q | tar -xf - -C "$1"'
    local_down = 'set -o pipefail; mkdir "$1" && zstd -d -q <"$2" | tar -xf - -C "$1"'
    down = {
        "cacher": lambda r, d: ([cacher, "dir", "download", f"tree-cacher-{r}", d], cenv),
        "aws cli": lambda r, d: (["bash", "-c", pipe_down, "-", d, aws, ep, s3url(f"tree-aws-{r}.tar.zst")], aenv),
        "curl": lambda r, d: (["bash", "-c", curl_down, "-", d, curlcfg, url(f"tree-aws-{r}.tar.zst")], base),
    }
    if a.local_refs:
        down["local zstd|tar (no S3)"] = lambda r, d: (["bash", "-c", local_down, "-", d, archive], base)
    fresh = []
    for r in range(1, reps + 1):
        for tool in rotated(list(down), r):
            d = os.path.join(work, f"restore-{r}-{tool.split()[0]}")
            check(not os.path.exists(d), f"{d} exists")
            fresh.append(d)
            cmd, env = down[tool](r, d)
            R.run("tree", tool, "download", r, cmd, env, tb)
            if r == 1 and tool == "cacher":
                same_tree(a.tree, d)  # the baselines: only counted, a full diff costs seconds
            elif r == 1:
                check(tree_stats(d) == tree_stats(a.tree), f"{tool}: {d} differs from the tree")
    # Object sizes, for the report.
    sizes = {}
    for tool, name in (("cacher", "tree-cacher-1"), ("aws cli", "tree-aws-1.tar.zst")):
        out = subprocess.run(awsq + ["s3api", "head-object", "--bucket", bucket, "--key", f"{prefix}/{name}"],
                             env=aenv, stdout=subprocess.PIPE, check=True).stdout
        sizes[tool] = json.loads(out)["ContentLength"]
    say(f"[{a.server}] removing {len(fresh)} restored trees")
    for d in fresh:
        rmtree(d)
    if os.path.exists(archive):
        os.unlink(archive)
    os.sync()

    # 3. the cache-hit check
    say(f"[{a.server}] load {loadavg()}: 3. exists x{a.exists_reps}")
    key = "file-cacher-1"
    ex = {
        "cacher": ([cacher, "exists", key], cenv),
        "aws cli": (awsq + ["s3api", "head-object", "--bucket", bucket, "--key", f"{prefix}/{key}"], aenv),
        "curl": (curl + ["-o", "/dev/null", "-I", url(key)], base),
    }
    for r in range(1, a.exists_reps + 1):
        for tool in rotated(list(ex), r):
            cmd, env = ex[tool]
            R.run("exists", tool, "head", r, cmd, env, 0, stdout=subprocess.DEVNULL)

    with open(os.path.join(a.work, f"{a.server}.sizes.json"), "w") as f:
        json.dump(sizes, f)
    R.raw.close()
    say(f"[{a.server}] done, load {loadavg()}; {time.perf_counter() - R.t0:.0f} s: {R.timed:.0f} s measured, "
        f"{R.sync_s:.0f} s in sync(2), the rest checks and clean-up")


# ---------------------------------------------------------------- cleanup


def cleanup(a):
    """Deletes every object under the prefix (aws cli, independent of cacher), then checks."""
    env_s3 = {}
    with open(a.env_file) as f:
        for line in f:
            if line.startswith("export "):
                k, v = line.strip()[len("export "):].split("=", 1)
                env_s3[k] = v.strip("'")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BOTO_"))}
    env = dict(base, AWS_ACCESS_KEY_ID=env_s3["CACHER_TEST_KEY_ID"],
               AWS_SECRET_ACCESS_KEY=env_s3["CACHER_TEST_SECRET"],
               AWS_DEFAULT_REGION=env_s3["CACHER_TEST_REGION"],
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    ep, bucket = env_s3["CACHER_TEST_ENDPOINT"], env_s3["CACHER_TEST_BUCKET"]
    subprocess.run([a.aws, "--endpoint-url", ep, "s3", "rm", "--recursive", "--only-show-errors",
                    f"s3://{bucket}/{a.prefix}/"], env=env, check=False)
    out = subprocess.run([a.aws, "--endpoint-url", ep, "s3api", "list-objects-v2", "--bucket", bucket,
                          "--prefix", f"{a.prefix}/", "--query", "KeyCount"],
                         env=env, stdout=subprocess.PIPE, check=False).stdout.decode().strip()
    if out not in ("0", "null", ""):
        die(f"{out} objects still under s3://{bucket}/{a.prefix}/ after clean-up")


# ---------------------------------------------------------------- meta


def meta(a):
    """The report's header, from the M_* variables run.sh exports."""
    e = os.environ.get
    info = [
        ("machine", f"{e('M_NPROC')} cores ({e('M_CPU')}), {e('M_RAM')} GiB RAM, shared with colleagues who compile"),
        ("load average (1/5/15 min)", f"{e('M_LOAD_START')} at the start, {e('M_LOAD_END')} at the end "
                                      "(per run: the other-load column)"),
        ("cacher", f"{e('M_CACHER')}, default settings" + (f" plus {e('M_CACHER_ENV')}" if e("M_CACHER_ENV") else "")),
        ("baselines", f"{e('M_AWS')} (default transfer settings, --only-show-errors); {e('M_CURL')}; "
                      f"{e('M_ZSTD')}; {e('M_TAR')}"),
        ("servers", f"{e('M_S3S')} on loopback; {e('M_GARAGE')}"),
        ("file", f"{e('M_FILE_MB')} MiB of random bytes"),
        ("tree", f"{e('M_TREE')} (bench/gentree.py, seed 42); stored archive sizes: {e('M_SIZES')}"),
        ("runs", f"{e('M_REPS')} per tool and row (exists: {e('M_EXISTS_REPS')}); {e('M_SECS')} s of measuring"),
    ]
    notes = [
        "curl 7.88 with --aws-sigv4 sends no x-amz-content-sha256 header and s3s-fs refuses such requests "
        "(400 InvalidRequest \"missing header: x-amz-content-sha256\"); the bench adds "
        "-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD', which s3s-fs accepts for PUT, GET and HEAD.",
        "curl rows: one stream, no multipart, no checksum: the raw-HTTP ceiling, not a tool users run for this. "
        "curl | zstd -d | tar -x reads the object the aws pipeline stored.",
        "local rows (no S3): tar | zstd -3 -T0 > file and zstd -d < file | tar -x: what the CPUs allow for a "
        "directory before any network or server work.",
        "One GET stream is slower than concurrent ranged GETs on both servers (DESIGN.md), so the curl "
        "download rows are a single-stream reference, not a ceiling.",
        "s3s-fs writes multipart uploads as part files and concatenates them on Complete, so one PUT is faster "
        "there than multipart; Garage behaves the other way round (DESIGN.md): don't tune on s3s-fs alone.",
        "Downloads go to new paths and restores into fresh directories; restored trees are removed only after "
        "the whole row; sync(2) runs before every measured run (not timed).",
    ]
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with open(a.out, "w") as f:
        json.dump({"date": date, "info": info, "notes": notes}, f, indent=1)


# ---------------------------------------------------------------- report


def report(a):
    runs = []
    with open(a.raw) as f:
        for line in f:
            if line.strip():
                runs.append(json.loads(line))
    with open(a.meta) as f:
        meta = json.load(f)
    groups = {}
    for m in runs:
        groups.setdefault((m["server"], m["row"], m["op"], m["tool"]), []).append(m)

    def med(xs):
        return statistics.median(xs)

    lines = []
    w = lines.append
    w(f"# cacher bench — {meta['date']}")
    w("")
    for k, v in meta["info"]:
        w(f"- {k}: {v}")
    w("")
    w("Medians of the runs (each tool side by side in the same run, order rotated per repetition). "
      "MB/s = 10^6 bytes of payload (the file, or the tree's file contents) per second of wall time; "
      "× aws = aws cli's median wall time / this tool's. CPU-s/GiB = user+sys seconds per GiB of payload "
      "(client: the tool and every process of its pipeline; server: the S3 server process). "
      "CPU columns are means over the runs. Peak RSS: largest over the runs (for a pipeline: its largest process). "
      "Other load: CPU used by everything else on the machine during the runs (colleagues, kernel threads), "
      "in cores (2 = the whole machine), summed over the runs.")
    w("")
    w("| server | what | tool | runs | MB/s | × aws | wall s (min–max) | client CPU-s/GiB | server CPU-s/GiB | peak RSS MiB | other load |")
    w("|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|")
    order_rows = [("file", "upload"), ("file", "download"), ("tree", "upload"), ("tree", "download"), ("exists", "head")]
    label = {("file", "upload"): "file upload", ("file", "download"): "file download",
             ("tree", "upload"): "dir upload", ("tree", "download"): "dir download",
             ("exists", "head"): "exists (hit)"}
    servers = []
    for m in runs:
        if m["server"] not in servers:
            servers.append(m["server"])
    tool_order = ["cacher", "aws cli", "curl"]
    targets = []
    for s in servers:
        for row, op in order_rows:
            tools = [t for (s2, r2, o2, t) in groups if (s2, r2, o2) == (s, row, op)]
            tools.sort(key=lambda t: (tool_order.index(t) if t in tool_order else len(tool_order), t))
            aws = groups.get((s, row, op, "aws cli"))
            aws_wall = med([m["wall"] for m in aws]) if aws else None
            for t in tools:
                g = groups[(s, row, op, t)]
                wall = med([m["wall"] for m in g])
                lo, hi = min(m["wall"] for m in g), max(m["wall"] for m in g)
                rss = max(m["rss_kib"] for m in g) / 1024
                # Sums, not per-run ratios: CPU clocks tick at 10 ms, a 5 ms run reads 0 or 10.
                other = sum(m["other_cpu"] for m in g) / sum(m["wall"] for m in g)
                client = sum(m["client_cpu"] for m in g) / len(g)
                server = sum(m["server_cpu"] for m in g) / len(g)
                ratio = f"{aws_wall / wall:.2f}" if aws_wall else "–"
                name = t
                if row == "tree" and t == "aws cli":
                    name = ("tar \\| zstd -3 -T0 \\| aws s3 cp -" if op == "upload"
                            else "aws s3 cp - \\| zstd -d \\| tar -x")
                if row == "tree" and t == "curl":
                    name = "curl \\| zstd -d \\| tar -x"
                name = name.replace("local tar|zstd", "local tar \\| zstd").replace("local zstd|tar", "local zstd -d \\| tar -x")
                if t == "cacher":
                    name = "**cacher**"
                    if aws_wall:
                        goal = 50 if row == "exists" else 1.5
                        got = aws_wall / wall
                        targets.append(f"{s}, {label[(row, op)]}: {got:.2f}x the aws cli "
                                       f"{'pipeline ' if row == 'tree' else ''}(target >= {goal}x): "
                                       f"{'met' if got >= goal else 'MISSED'}; peak RSS {rss:.0f} MiB "
                                       f"(target <= 150 MiB): {'met' if rss <= 150 else 'MISSED'}")
                if row == "exists":
                    w(f"| {s} | {label[(row, op)]} | {name} | {len(g)} | {wall * 1000:.1f} ms | {ratio} | "
                      f"{lo * 1000:.1f}–{hi * 1000:.1f} ms | {client * 1000:.1f} ms/call | "
                      f"{server * 1000:.1f} ms/call | {rss:.0f} | {other:.2f} |")
                    continue
                gib = g[0]["bytes"] / GIB
                w(f"| {s} | {label[(row, op)]} | {name} | {len(g)} | {g[0]['bytes'] / MB / wall:.0f} | {ratio} | "
                  f"{wall:.2f} ({lo:.2f}–{hi:.2f}) | {client / gib:.2f} | "
                  f"{server / gib:.2f} | {rss:.0f} | {other:.2f} |")
    w("")
    w("Against the targets of issue 4 (informational; nothing is asserted):")
    w("")
    for t in targets:
        w(f"- {t}")
    w("")
    w("Notes:")
    w("")
    for note in meta.get("notes", []):
        w(f"- {note}")
    text = "\n".join(lines) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    sys.stdout.write(text)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--server", required=True)
    m.add_argument("--env-file", required=True)
    m.add_argument("--server-pid", type=int, required=True)
    m.add_argument("--raw", required=True)
    m.add_argument("--work", required=True)
    m.add_argument("--prefix", required=True)
    m.add_argument("--cacher", required=True)
    m.add_argument("--aws", required=True)
    m.add_argument("--file", required=True)
    m.add_argument("--tree", required=True)
    m.add_argument("--tree-bytes", type=int, required=True)
    m.add_argument("--reps", type=int, default=3)
    m.add_argument("--exists-reps", type=int, default=20)
    m.add_argument("--local-refs", type=int, default=1)
    m.add_argument("--cacher-env", default="")
    c = sub.add_parser("cleanup")
    c.add_argument("--env-file", required=True)
    c.add_argument("--aws", required=True)
    c.add_argument("--prefix", required=True)
    mt = sub.add_parser("meta")
    mt.add_argument("--out", required=True)
    r = sub.add_parser("report")
    r.add_argument("--raw", required=True)
    r.add_argument("--meta", required=True)
    r.add_argument("--out", required=True)
    a = p.parse_args()
    {"measure": measure, "cleanup": cleanup, "meta": meta, "report": report}[a.cmd](a)


if __name__ == "__main__":
    main()
