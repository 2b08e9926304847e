#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the test suite.
#
#   scripts/pg.sh available   exit 0 if PostgreSQL server binaries are installed
#   scripts/pg.sh start       start a cluster with an empty database lianxi_test
#   scripts/pg.sh url         print its TEST_DATABASE_URL (postgresql+psycopg://...)
#   scripts/pg.sh stop        stop it and delete its data
#
# $LIANXI_PG_DIR (default var/pg-test/default) names the cluster: scripts/test.sh gives every
# run its own, so engineers sharing a checkout do not stop each other's database. It holds only
# a pointer to where the cluster really lives: a temporary directory of its owner's under /tmp
# (mktemp -d), with its data, its log and its unix socket. The checkout itself may be anywhere,
# /root (mode 700) included, where the cluster's owner could not reach it. The cluster listens
# on that socket only (no port to collide on, a short socket path) with trust auth, and runs
# with fsync off: it holds nothing worth keeping.
#
# PostgreSQL refuses to run as root, so as root the cluster is owned by the `postgres`
# system user (created by Debian's postgresql package) and driven through runuser.
# initdb runs once into a template (1 MB WAL segments, to keep it small) that each start
# copies: about 0.5 s here against 1.3 s for initdb. The template is kept in the checkout
# (var/pg-test/template-VERSION-OWNER); only this script's own user reads it, to copy it.
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
cluster_file="$base/cluster"
db=lianxi_test
user=lianxi
if [ "$(id -u)" -eq 0 ]; then owner=postgres; else owner=$(id -un); fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

cluster_dir() {
  [ -f "$cluster_file" ] || die "集群未启动: $base"
  cat "$cluster_file"
}

owned_tmp_dir() {
  # A new directory under /tmp that the cluster's owner owns (mode 700): reachable by it
  # wherever the checkout is.
  local dir
  dir=$(mktemp -d "/tmp/lianxi-pg.XXXXXX")
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || { rmdir "$dir"; die "以 root 运行需要系统用户 postgres"; }
    chown postgres:postgres "$dir"
  fi
  echo "$dir"
}

make_template() {
  # One initdb per PostgreSQL version and owner, shared by all runs of this checkout; run in a
  # directory of the owner's, then copied here and renamed so a concurrent run never copies a
  # half-written template.
  local tdir="$repo/var/pg-test/template-$version-$owner"
  if [ ! -f "$tdir/PG_VERSION" ]; then
    local work tmp="$tdir.tmp.$$"
    work=$(owned_tmp_dir)
    as_owner "$bin/initdb" -D "$work/data" -U "$user" -A trust -E UTF8 --locale=C.UTF-8 -N --wal-segsize=1 \
      >"$work.log" 2>&1 || { cat "$work.log" >&2; rm -rf "$work" "$work.log"; die "initdb 失败"; }
    rm -rf "$tmp" "$work.log"
    mkdir -p "$repo/var/pg-test"
    cp -a "$work/data" "$tmp"
    rm -rf "$work"
    mv -T "$tmp" "$tdir" 2>/dev/null || rm -rf "$tmp"
  fi
  echo "$tdir"
}

case "$cmd" in
  start)
    if [ -f "$cluster_file" ] && as_owner "$bin/pg_ctl" -D "$(cat "$cluster_file")/data" status >/dev/null 2>&1; then
      cdir=$(cluster_dir)
    else
      [ -f "$cluster_file" ] && LIANXI_PG_DIR="$base" bash "$repo/scripts/pg.sh" stop
      rm -rf "$base"
      mkdir -p "$base"
      template=$(make_template)
      cdir=$(owned_tmp_dir)
      echo "$cdir" >"$cluster_file"
      cp -a "$template" "$cdir/data"
      [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$cdir"
      # Settings go in the config file rather than on pg_ctl's command line, which passes
      # through a shell and would split a directory name with spaces.
      cat >>"$cdir/data/postgresql.conf" <<CONF
unix_socket_directories = '$cdir'
listen_addresses = ''
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
      as_owner "$bin/pg_ctl" -D "$cdir/data" -l "$cdir/server.log" -w -t 30 start >/dev/null \
        || { cat "$cdir/server.log" >&2; die "PostgreSQL 启动失败"; }
    fi
    PGOPTIONS="-c client_min_messages=warning" "$bin/dropdb" -h "$cdir" -U "$user" --if-exists "$db"
    "$bin/createdb" -h "$cdir" -U "$user" -E UTF8 "$db"
    ;;
  url)
    sdir=$(cluster_dir)
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
    if [ -f "$cluster_file" ]; then
      cdir=$(cat "$cluster_file")
      case "$cdir" in
        /tmp/lianxi-pg.*)
          if [ -f "$cdir/data/postmaster.pid" ]; then
            as_owner "$bin/pg_ctl" -D "$cdir/data" -m immediate -w stop >/dev/null 2>&1 || true
          fi
          rm -rf "$cdir"
          ;;
      esac
    fi
    rm -rf "$base"
    ;;
  *)
    echo "用法: scripts/pg.sh available|start|url|stop" >&2
    exit 2
    ;;
esac
