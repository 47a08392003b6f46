#!/usr/bin/env bash
# Sets up what the server and its tests need, when missing:
#   - Debian packages (as root, through apt-get) listed in APT_PACKAGES;
#   - the npm dependencies, among them Node 24 itself (the `node` devDependency),
#     which npm scripts then run on whatever Node the machine has.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Debian packages the test suite uses (real services, no mocks): Redis and
# PostgreSQL for scale-out, nginx as the load balancer in failover tests,
# Chromium (driven by playwright-core; never a downloaded browser) and fonts
# for the web page's browser tests and screenshots; curl for docs/rest.md's
# examples (`npm run docs:rest`, and the test that reruns them).
APT_PACKAGES=(redis-server postgresql nginx chromium fonts-dejavu-core fonts-noto-color-emoji curl)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]} — install them (apt-get install ${missing[*]}) or run as root" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies (and Node 24 through the `node` devDependency).
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ ! -x node_modules/.bin/node ]; then
  echo "setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

node_version=$(node_modules/.bin/node --version)
case "$node_version" in
  v2[4-9].*|v[3-9][0-9].*) ;;
  *) echo "setup: expected Node >= 24 in node_modules/.bin, found $node_version" >&2; exit 1 ;;
esac
