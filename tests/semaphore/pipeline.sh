#!/usr/bin/env bash
# Typical Semaphore pipeline lines, run against cacher installed as `cache` (tests/it/semaphore.rs
# runs this with PATH, HOME, the working directory and the SEMAPHORE_* variables set up, then
# compares what it prints with expected.txt line by line). Each command is echoed as `$ ...`,
# followed by its stdout and `rc=N`. Values that differ between runs are masked here: durations,
# transfer sizes, list times and sizes, $HOME, and the md5 of the lockfiles (computed with
# md5sum, so the keys cacher derives are checked against it).
set -u
run() {
  echo "\$ $*"
  "$@"
  echo "rc=$?"
}
# `cache list`, its rows in name order: entries stored within the same second may come in
# either order, and archive sizes vary by a few bytes between runs (masked).
list() {
  echo "\$ cache list${*:+ $*}"
  cache list "$@" >list.out
  echo "rc=$?"
  head -n 1 list.out
  tail -n +2 list.out | sed -E 's/ [0-9.]+[BKMGTPE] / <size> /' | sort
  rm -f list.out
}
mask() {
  sed -E \
    -e "s/Duration: [^ ]+\./Duration: <t>./" \
    -e "s/Size: [^ ]+ bytes/Size: <n> bytes/" \
    -e "s/[0-9]{2} [A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2} UTC/<time>/g" \
    -e "s/USED SPACE: .*/USED SPACE: <n>/" \
    -e "s#${HOME}#<home>#g" \
    -e "s/$(md5sum package-lock.json | cut -c1-32)/<md5 package-lock.json>/g" \
    -e "s/$(md5sum go.sum | cut -c1-32)/<md5 go.sum>/g" |
    tr -s ' '
}

{
  # explicit keys, the way most pipelines use them
  mkdir -p node_modules/left-pad
  echo 'module.exports = 1' >node_modules/left-pad/index.js
  run cache store "node-modules-$SEMAPHORE_GIT_BRANCH-v1" node_modules
  run cache store "node-modules-$SEMAPHORE_GIT_BRANCH-v1" node_modules
  run cache store feature/login-v1 node_modules
  run cache store missing-key does-not-exist
  run cache has_key "node-modules-$SEMAPHORE_GIT_BRANCH-v1"
  run cache has_key feature/login-v1
  run cache has_key nothing-here
  rm -rf node_modules
  # a miss, then a fallback key that only matches as a prefix (a regular expression)
  run cache restore "node-modules-$SEMAPHORE_GIT_BRANCH-v2,node-modules-$SEMAPHORE_GIT_BRANCH"
  cat node_modules/left-pad/index.js
  run cache restore absent-1,absent-2

  # regex fallback takes the newest match: gems-b is stored first, gems-a a second later
  mkdir -p vendor/bundle && echo b >vendor/bundle/which
  run cache store gems-b vendor/bundle
  sleep 1.2
  echo a >vendor/bundle/which
  run cache store gems-a vendor/bundle
  rm -rf vendor/bundle
  run cache restore 'gems-'
  cat vendor/bundle/which

  # an archive the Go CLI wrote (tar.gz, path as given), already in the bucket
  mkdir -p legacy/sub && echo from-go >legacy/sub/file
  mkdir -p "$HOME/abs-legacy" && echo absolute >"$HOME/abs-legacy/f"
  tar czPf ../legacy.tgz legacy && tar czPf ../abs-legacy.tgz "$HOME/abs-legacy"
  rm -rf legacy "$HOME/abs-legacy"
  export CACHER_ENDPOINT=$SEMAPHORE_CACHE_S3_URL CACHER_BUCKET=$SEMAPHORE_CACHE_S3_BUCKET \
    CACHER_S3_KEY_ID=$SEMAPHORE_CACHE_S3_KEY CACHER_S3_SECRET=$SEMAPHORE_CACHE_S3_SECRET
  CACHER_PREFIX=$SEMAPHORE_PROJECT_ID cacher -q upload legacy-key ../legacy.tgz
  CACHER_PREFIX=$SEMAPHORE_PROJECT_ID cacher -q upload abs-legacy-key ../abs-legacy.tgz
  run cache restore legacy-key
  cat legacy/sub/file
  run cache restore abs-legacy-key
  cat "$HOME/abs-legacy/f"

  # automatic keys from lockfiles
  mkdir -p "$HOME/go/pkg/mod/example.com/m@v1" && echo mod >"$HOME/go/pkg/mod/example.com/m@v1/go.mod"
  run cache store
  rm -rf node_modules "$HOME/go/pkg/mod"
  run cache restore
  cat node_modules/left-pad/index.js "$HOME/go/pkg/mod/example.com/m@v1/go.mod"

  list
  list --sort-by SIZE
  run cache usage
  run cache is_not_empty
  run cache delete gems-a
  run cache delete gems-a
  run cache clear
  run cache is_not_empty
  run cache list

  # errors: exit 0 unless CACHE_FAIL_ON_ERROR=true (the error itself goes to stderr)
  echo "\$ cache has_key x  (wrong secret)"
  SEMAPHORE_CACHE_S3_SECRET=wrong-secret cache has_key x 2>/dev/null
  echo "rc=$?"
  echo "\$ CACHE_FAIL_ON_ERROR=true cache has_key x  (wrong secret)"
  CACHE_FAIL_ON_ERROR=true SEMAPHORE_CACHE_S3_SECRET=wrong-secret cache has_key x 2>/dev/null
  echo "rc=$?"
} 2>&1 | mask
