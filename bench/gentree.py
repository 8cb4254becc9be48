#!/usr/bin/env python3
"""Writes a deterministic tree of many small files, shaped like a node_modules or Go module
cache, for `make bench` (bench/run.sh).

    gentree.py DIR MB [SEED]

DIR must not exist. The same MB and SEED always give the same tree (names, sizes, bytes,
modes, mtimes, symlinks). The mix, by bytes roughly 60 % text and 40 % incompressible:

  * many small source-like text files (JS/Go/JSON-ish word salad, 200 B - 32 KiB, log-uniform),
  * some small binaries (images, .node/.wasm: random bytes, 1 - 256 KiB),
  * a few bundled text files (256 KiB - 4 MiB) and module zips (random bytes, 1 - 16 MiB),
  * `node_modules/.bin`-style relative symlinks, some executable files, empty directories.

Text is cut from one pool of word salad built from a seeded vocabulary, so zstd -3 finds
roughly what it finds in real source trees (~3x on the text, nothing on the binaries).
Prints one line: files, dirs, symlinks, bytes.
"""

import os
import random
import sys

MTIME = 1_700_000_000  # fixed, so archives of the tree are reproducible

KEYWORDS = (
    "function return const let var if else for while import export from default class new "
    "this null undefined true false async await package func type struct interface map chan "
    "go defer err nil string int64 byte error module require exports prototype Object Array "
    "length push call apply { } ( ) ; => = == === != + - * / && || : , . [ ] < >"
).split()


def vocabulary(rng, n=4000):
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = set()
    while len(words) < n:
        k = rng.choice((3, 4, 5, 6, 7, 8, 9, 10, 12))
        w = "".join(rng.choice(letters) for _ in range(k))
        if rng.random() < 0.3:
            w = w[0].upper() + w[1:]
        if rng.random() < 0.2:
            w += rng.choice(("Id", "Name", "Value", "Config", "Handler", "_t", "2", "Err"))
        words.add(w)
    return sorted(words)


def text_pool(rng, size):
    """`size` bytes of source-like lines: indentation, a Zipf-ish word choice, punctuation."""
    vocab = vocabulary(rng)
    words = KEYWORDS * 40 + vocab  # keywords are frequent, identifiers long-tailed
    weights = [1.0] * (len(KEYWORDS) * 40) + [1.0 / (i + 1) ** 0.8 * 60 for i in range(len(vocab))]
    out = []
    total = 0
    while total < size:
        chunk = rng.choices(words, weights=weights, k=4096)
        i = 0
        while i < len(chunk):
            k = rng.randint(2, 14)
            indent = "  " * rng.randint(0, 4)
            line = indent + " ".join(chunk[i : i + k]) + (";\n" if rng.random() < 0.6 else "\n")
            out.append(line)
            total += len(line)
            i += k
    return "".join(out).encode()[:size]


def log_uniform(rng, lo, hi):
    # exp(uniform(log lo, log hi)), computed without math for speed of import
    import math

    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    root = sys.argv[1]
    budget = int(float(sys.argv[2]) * 1_000_000)
    seed = int(sys.argv[3]) if len(sys.argv) == 4 else 42
    rng = random.Random(seed)
    pool = text_pool(rng, 24 << 20)
    os.makedirs(root)

    files = dirs = links = 0
    written = 0
    seen = set()

    def mkdir(p):
        nonlocal dirs
        if p in seen:
            return
        os.makedirs(p, exist_ok=True)
        seen.add(p)
        dirs += 1

    exts_text = (".js", ".js", ".js", ".ts", ".d.ts", ".json", ".md", ".go", ".go", ".map", ".css")
    exts_bin = (".png", ".node", ".wasm", ".woff2", ".gz", ".jpg")
    pkg = 0
    bin_dir = os.path.join(root, "node_modules", ".bin")
    mkdir(bin_dir)
    while written < budget:
        pkg += 1
        if pkg % 3 == 0:
            base = os.path.join(root, "pkg", "mod", "github.com", f"org{pkg % 37}", f"repo{pkg}@v1.{pkg % 9}.{pkg % 5}")
        else:
            scope = f"@scope{pkg % 23}" if pkg % 4 == 0 else ""
            base = os.path.join(root, "node_modules", scope, f"package-{pkg}")
        subdirs = [base] + [
            os.path.join(base, *rng.sample(("lib", "dist", "src", "esm", "cjs", "internal", "test", "types"), rng.randint(1, 3)))
            for _ in range(rng.randint(1, 5))
        ]
        for d in subdirs:
            mkdir(d)
        if rng.random() < 0.1:
            mkdir(os.path.join(base, "empty"))
        nfiles = rng.randint(4, 60)
        for i in range(nfiles):
            if written >= budget:
                break
            r = rng.random()
            if r < 0.896:
                size, binary, ext = log_uniform(rng, 200, 32 << 10), False, rng.choice(exts_text)
            elif r < 0.996:
                size, binary, ext = log_uniform(rng, 1 << 10, 256 << 10), True, rng.choice(exts_bin)
            elif r < 0.999:
                size, binary, ext = log_uniform(rng, 256 << 10, 4 << 20), False, ".bundle.js"
            else:
                size, binary, ext = log_uniform(rng, 1 << 20, 16 << 20), True, ".zip"
            size = min(size, budget - written) or 1
            if binary:
                data = rng.randbytes(size)
            else:
                off = rng.randrange(0, len(pool) - size)
                data = pool[off : off + size]
            path = os.path.join(rng.choice(subdirs), f"f{i}-{rng.getrandbits(24):06x}{ext}")
            with open(path, "wb") as f:
                f.write(data)
            if ext == ".node" or (ext == ".js" and rng.random() < 0.03):
                os.chmod(path, 0o755)
            os.utime(path, (MTIME, MTIME))
            files += 1
            written += size
            if i == 0 and pkg % 5 == 0 and "node_modules" in base:
                target = os.path.relpath(path, bin_dir)
                link = os.path.join(bin_dir, f"cli-{pkg}")
                os.symlink(target, link)
                os.utime(link, (MTIME, MTIME), follow_symlinks=False)
                links += 1
    # Directory mtimes last (creating entries changed them), parents included.
    for d, _, _ in os.walk(root, topdown=False):
        os.utime(d, (MTIME, MTIME))
    print(f"{files} files, {len(seen)} leaf dirs, {links} symlinks, {written} bytes")


if __name__ == "__main__":
    main()
