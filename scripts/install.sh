#!/usr/bin/env bash
# Install everything lianxi needs on a fresh Debian machine (idempotent).
# Debian packages: CJK fonts and HarfBuzz subsetting for the PDFs, poppler for
# reading PDFs back, PostgreSQL for the second test database, Chromium for the
# browser test. Python packages go into .venv beside this repository.
set -euo pipefail
cd "$(dirname "$0")/.."
want_test="${1:-}"

# run.sh and test.sh may start together in a shared checkout; two pips writing one venv
# at once can leave it half-installed.
mkdir -p var
exec 9>var/install.lock
flock 9

debs=(fonts-noto-cjk fonts-noto-color-emoji fonts-arphic-gbsn00lp fonts-arphic-gkai00mp libharfbuzz-subset0
      libpango-1.0-0 libpangoft2-1.0-0 python3-venv)
if [ "$want_test" = "--test" ]; then
  debs+=(poppler-utils postgresql chromium)
fi
# One dpkg-query for all packages keeps a warm run well under a second.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${debs[@]}" 2>/dev/null || true)
missing=()
for p in "${debs[@]}"; do
  grep -qx "$p install ok installed" <<<"$installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "安装系统软件包: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
hash=$(sha256sum pyproject.toml | cut -c1-16)
stamp=.venv/.installed-$hash$want_test
# A test install is a superset of the plain one, so run.sh after test.sh does not reinstall.
if [ ! -f "$stamp" ] && [ ! -f ".venv/.installed-$hash--test" ]; then
  echo "安装 Python 依赖…"
  .venv/bin/pip install -q --upgrade pip >/dev/null 2>&1 || true
  if [ "$want_test" = "--test" ]; then
    .venv/bin/pip install -q -e '.[test]'
  else
    .venv/bin/pip install -q -e .
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
