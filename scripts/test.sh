#!/usr/bin/env bash
# Run the test suite: install what the tests need, then one pytest run whose database
# fixture covers SQLite always and PostgreSQL when TEST_DATABASE_URL is set.
#
#   bash scripts/test.sh [pytest args...]
#
# If TEST_DATABASE_URL is not set and PostgreSQL server binaries are installed, a
# throwaway cluster is started for this run only (scripts/pg.sh) and removed at exit.
# Browser tests drive Debian's /usr/bin/chromium through Playwright's Python package
# (installed with the test extras); we never run `playwright install`.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "安装依赖…"
bash scripts/install.sh --test </dev/null

echo "代码检查（ruff、mypy）…"
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
# What mypy checks, and how strictly, is [tool.mypy] in pyproject.toml; .mypy_cache keeps reruns quick.
.venv/bin/mypy

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  if bash scripts/pg.sh available; then
    echo "启动测试用 PostgreSQL…"
    # Clusters left by runs that were killed before their trap ran.
    for dir in var/pg-test/run-*; do
      [ -d "$dir" ] || continue
      pid=${dir##*-}
      kill -0 "$pid" 2>/dev/null || LIANXI_PG_DIR="$dir" bash scripts/pg.sh stop || true
    done
    # Each run gets its own cluster: engineers share this checkout and run tests at once.
    export LIANXI_PG_DIR="var/pg-test/run-$$"
    trap 'bash scripts/pg.sh stop || true' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    bash scripts/pg.sh start
    TEST_DATABASE_URL=$(bash scripts/pg.sh url)
    export TEST_DATABASE_URL
  elif [ "${CI:-}" = "true" ]; then
    echo "CI 环境中未找到 PostgreSQL，无法在 PostgreSQL 上运行测试" >&2
    exit 1
  else
    echo "未找到 PostgreSQL，本次仅在 SQLite 上运行测试（安装 Debian 软件包 postgresql 可补上）" >&2
  fi
fi

echo "运行测试…"
# Worker processes (pytest-xdist): three for every two cores unless LIANXI_TEST_WORKERS says
# otherwise (0: none). A third of the suite's time is spent waiting (on the bot and worker processes
# it starts, on sockets, on PostgreSQL), so one worker per core left the cores partly idle. On
# 2 cores the suite took 1045–1075 s with 2 workers, 779–904 s with 3 and 894 s with 4, every test
# passing each time (the machine's own speed varied by a fifth between runs).
# A test file runs whole in one worker (loadfile), so its module fixtures are built once; each
# worker has its own PostgreSQL database (tests/conftest.py), temporary files and ports. The files
# are handed out heaviest first, in the order tests/conftest.py collects them.
cores=$(nproc 2>/dev/null || echo 1)
workers=${LIANXI_TEST_WORKERS:-$(( cores * 3 / 2 > 1 ? cores * 3 / 2 : 1 ))}
rc=0
.venv/bin/python -m pytest -n "$workers" --dist loadfile --no-loadscope-reorder "$@" </dev/null || rc=$?
case "$rc" in
  0) echo "测试全部通过" ;;
  5) echo "没有收集到任何测试，视为失败" >&2 ;;
  *) echo "测试失败（pytest 退出码 $rc）" >&2 ;;
esac
exit "$rc"
