#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the test suite.
#
#   scripts/pg.sh available   exit 0 if PostgreSQL server binaries are installed
#   scripts/pg.sh start       start a cluster with an empty database lianxi_test
#   scripts/pg.sh url         print its TEST_DATABASE_URL (postgresql+psycopg://...)
#   scripts/pg.sh stop        stop it and delete its data
#
# The cluster lives in $LIANXI_PG_DIR (default var/pg-test/default); scripts/test.sh gives
# every run its own directory so engineers sharing a checkout do not stop each other's
# database. It listens on a unix socket only (no port to collide on) with trust auth, and
# runs with fsync off: it holds nothing worth keeping.
#
# PostgreSQL refuses to run as root, so as root the cluster is owned by the `postgres`
# system user (created by Debian's postgresql package) and driven through runuser.
# initdb runs once into a template (1 MB WAL segments, to keep it small) that each start
# copies: about 0.5 s here against 1.3 s for initdb.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

find_pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return 0; fi
  # Debian bookworm ships 15; take the newest installed so trixie (17) works too.
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  [ -n "$d" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  return 1
}

die() { echo "pg.sh: $*" >&2; exit 1; }

cmd="${1:-}"
if [ "$cmd" = "available" ]; then
  find_pg_bin >/dev/null
  exit $?
fi
bin=$(find_pg_bin) || die "未找到 PostgreSQL 服务器程序（请安装 Debian 软件包 postgresql）"
version=$(basename "$(dirname "$bin")")

base="${LIANXI_PG_DIR:-var/pg-test/default}"
case "$base" in /*) ;; *) base="$repo/$base" ;; esac
data="$base/data"
sock_file="$base/socket-dir"
db=lianxi_test
user=lianxi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

socket_dir() {
  [ -f "$sock_file" ] || die "集群未启动: $base"
  cat "$sock_file"
}

prepare_dir() {
  # Make $1 (and its parents) exist and be writable by the cluster owner.
  mkdir -p "$1"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "以 root 运行需要系统用户 postgres"
    chown postgres:postgres "$1"
    runuser -u postgres -- test -w "$1" || return 1
  fi
}

make_template() {
  # One initdb per PostgreSQL version, shared by all runs; built aside and renamed so a
  # concurrent run never copies a half-written template.
  local tdir="$repo/var/pg-test/template-$version"
  if [ ! -f "$tdir/PG_VERSION" ]; then
    local tmp="$tdir.tmp.$$"
    rm -rf "$tmp"
    prepare_dir "$tmp" || die "系统用户 postgres 无法写入 $tmp"
    as_owner "$bin/initdb" -D "$tmp" -U "$user" -A trust -E UTF8 --locale=C.UTF-8 -N --wal-segsize=1 \
      >"$tmp.log" 2>&1 || { cat "$tmp.log" >&2; die "initdb 失败"; }
    rm -f "$tmp.log"
    mv -T "$tmp" "$tdir" 2>/dev/null || rm -rf "$tmp"
  fi
  echo "$tdir"
}

case "$cmd" in
  start)
    if [ -f "$data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      sdir=$(socket_dir)
    else
      rm -rf "$base"
      mkdir -p "$repo/var/pg-test"
      prepare_dir "$base" || die "系统用户 postgres 无法写入 $base（仓库目录对其不可访问？）"
      template=$(make_template)
      cp -a "$template" "$data"
      # Unix socket paths are limited to 107 bytes; a deep checkout gets one under /tmp.
      sdir="$base"
      if [ "${#sdir}" -gt 80 ]; then
        sdir=$(mktemp -d /tmp/lianxi-pg.XXXXXX)
        [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$sdir"
      fi
      echo "$sdir" >"$sock_file"
      # Settings go in the config file rather than on pg_ctl's command line, which passes
      # through a shell and would split a directory name with spaces.
      cat >>"$data/postgresql.conf" <<CONF
unix_socket_directories = '${sdir//\'/\'\'}'
listen_addresses = ''
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
      as_owner "$bin/pg_ctl" -D "$data" -l "$base/server.log" -w -t 30 start >/dev/null \
        || { cat "$base/server.log" >&2; die "PostgreSQL 启动失败"; }
    fi
    PGOPTIONS="-c client_min_messages=warning" "$bin/dropdb" -h "$sdir" -U "$user" --if-exists "$db"
    "$bin/createdb" -h "$sdir" -U "$user" -E UTF8 "$db"
    ;;
  url)
    sdir=$(socket_dir)
    # Percent-encode the socket directory for the URL's host parameter.
    host=""
    for ((i = 0; i < ${#sdir}; i++)); do
      c=${sdir:i:1}
      case "$c" in
        [A-Za-z0-9._~-]) host+="$c" ;;
        *) printf -v hex '%%%02X' "'$c"; host+="$hex" ;;
      esac
    done
    echo "postgresql+psycopg://$user@/$db?host=$host"
    ;;
  stop)
    [ -d "$base" ] || exit 0
    if [ -f "$data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [ -f "$sock_file" ]; then
      sdir=$(cat "$sock_file")
      case "$sdir" in /tmp/lianxi-pg.*) rm -rf "$sdir" ;; esac
    fi
    rm -rf "$base"
    ;;
  *)
    echo "用法: scripts/pg.sh available|start|url|stop" >&2
    exit 2
    ;;
esac
