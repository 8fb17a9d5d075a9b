#!/usr/bin/env bash
# Provisions what the test suite needs beyond npm packages, so `npm test`
# (which runs this first, as `pretest`) passes on a fresh Debian machine with
# Node 20: Chromium (the HTML reports render in a real browser), Prometheus
# and the Pushgateway (every dashboard expression runs against a real
# Prometheus), and PostgreSQL's binaries (the store tests start a throwaway
# cluster of their own; no server is started here).
#
# Whatever is present is left alone, and then nothing touches apt (no
# `apt-get update`): a provisioned machine pays a few `command -v` calls.
# What is missing is installed from Debian with apt-get as root; where that
# cannot be done (not root, no apt-get, apt failed) one line says what is
# missing and why, and the script exits 1 so `npm test` stops before a
# six-minute run that would fail on it.
set -euo pipefail

# The Debian packages the tests need that are not installed, by what the tests run.
missing=()
find_missing() {
  missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
  command -v prometheus-pushgateway >/dev/null 2>&1 || missing+=(prometheus-pushgateway)
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
}

find_missing

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

packages="${missing[*]}"
install="apt-get install -y --no-install-recommends $packages"
give_up() {
  echo "provision-test-deps: the tests need the Debian packages $packages, missing here; cannot install them: $1" >&2
  exit 1
}
command -v apt-get >/dev/null 2>&1 || give_up "no apt-get on this machine (install their equivalents, then rerun npm test)"
[ "$(id -u)" -eq 0 ] || give_up "not root (run as root: apt-get update && $install)"

echo "provision-test-deps: installing $packages from Debian" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  tail -n 5 "$log" >&2
  give_up "apt-get failed (its last lines are above)"
fi
find_missing
[ "${#missing[@]}" -eq 0 ] || give_up "apt-get installed them, but ${missing[*]} still cannot be found"
echo "provision-test-deps: installed $packages" >&2
