#!/usr/bin/env bash
# tools.sh PACKAGE...: make sure Debian packages the tests use are installed (the command of the
# same name on PATH, else apt-get install as root). Fails with one line naming what is missing
# when it cannot install. Used by tests/run.sh for stunnel4 and openssl (the HTTPS tests).
set -euo pipefail
missing=()
for pkg in "$@"; do command -v "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
((${#missing[@]})) || exit 0
if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
  echo "tools.sh: missing ${missing[*]}: install them (apt-get install ${missing[*]})" >&2
  exit 1
fi
log=$(mktemp)
echo "tools.sh: installing ${missing[*]} (apt-get)" >&2
if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" ||
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; }; } >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  echo "tools.sh: apt-get install ${missing[*]} failed" >&2
  exit 1
fi
rm -f "$log"
