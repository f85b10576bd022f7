#!/usr/bin/env bash
# Install (when missing) and start the triple stores the remote tests and benchmarks run against,
# on 127.0.0.1 only, with their files in one temporary folder:
#   Oxigraph server  (pip package `oxigraph`, started with --union-default-graph)
#   Virtuoso 7       (Debian package `virtuoso-opensource`, credentials dba/dba)
#
# Usage:  eval "$(.ci/stores/start.sh [oxigraph] [virtuoso])"      (default: both)
# Prints `export KG_TEST_…=…` lines on stdout (also written to $KG_STORES_DIR/env);
# progress and errors go to stderr. .ci/stores/stop.sh stops what this started.
#
# Environment: KG_STORES_DIR (default ${TMPDIR:-/tmp}/kg-stores), KG_OXIGRAPH_PORT,
# KG_VIRTUOSO_HTTP_PORT, KG_VIRTUOSO_SQL_PORT (default: the usual 7878, 8890 and 1111 when free,
# else a free port, since several checkouts may share one machine), KG_VIRTUOSO_BUFFERS (340000
# pages of 8 KiB, about 2.7 GB), KG_VIRTUOSO_MAX_ROWS (ResultSetMaxRows, 100000: at least
# KG_ENDPOINT_PAGE_SIZE).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="${KG_STORES_DIR:-${TMPDIR:-/tmp}/kg-stores}"
OX_PORT="${KG_OXIGRAPH_PORT:-}"
VT_HTTP="${KG_VIRTUOSO_HTTP_PORT:-}"
VT_SQL="${KG_VIRTUOSO_SQL_PORT:-}"
BUFFERS="${KG_VIRTUOSO_BUFFERS:-340000}"
MAX_ROWS="${KG_VIRTUOSO_MAX_ROWS:-100000}"
PYTHON="${PYTHON:-$(command -v python || command -v python3)}"  # the project's Python (pyoxigraph)
WANT=("$@")
[ ${#WANT[@]} -eq 0 ] && WANT=(oxigraph virtuoso)

log() { echo "stores: $*" >&2; }

port_free() {  # 0 when nothing listens on 127.0.0.1:$1
  "$PYTHON" - "$1" <<'EOF'
import socket, sys
s = socket.socket()
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
EOF
}

pick_port() {  # PREFERRED: it when free, else a free port the kernel hands out
  if port_free "$1"; then echo "$1"; return; fi
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() {  # URL SECONDS PIDFILE LOG: poll URL until it answers 200, the process dies or time runs out
  local url="$1" limit="$2" pidfile="$3" logfile="$4" start=$SECONDS
  while (( SECONDS - start < limit )); do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      log "process died; last lines of $logfile:"; tail -n 30 "$logfile" >&2 || true; return 1
    fi
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
      log "ready after $(( SECONDS - start )) s: $url"; return 0
    fi
    sleep 0.3
  done
  log "not ready after ${limit} s: $url; last lines of $logfile:"; tail -n 30 "$logfile" >&2 || true
  return 1
}

oxigraph_bin() {  # the oxigraph binary: on PATH, or beside the project's Python scripts
  command -v oxigraph 2>/dev/null && return 0
  local scripts
  scripts="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
  [ -x "$scripts/oxigraph" ] && echo "$scripts/oxigraph"
}

install_oxigraph() {
  [ -n "$(oxigraph_bin)" ] && return 0
  # The server binary of the same release as the embedded pyoxigraph, so both speak the same SPARQL.
  local version
  version="$("$PYTHON" -c 'import pyoxigraph; print(pyoxigraph.__version__)' 2>/dev/null || true)"
  log "installing oxigraph ${version:-latest} (pip)"
  "$PYTHON" -m pip install --quiet "oxigraph${version:+==$version}" >&2
  hash -r
}

install_virtuoso() {
  command -v virtuoso-t >/dev/null 2>&1 && return 0
  log "installing virtuoso-opensource (apt)"
  local policy=/usr/sbin/policy-rc.d saved=""
  if [ -e "$policy" ]; then saved="$(mktemp)"; cp -p "$policy" "$saved"; fi
  # The package must not start its own daemon (on all interfaces, with the system database).
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"
  {
    echo "virtuoso-opensource-7 virtuoso-opensource-7/dba-password password dba"
    echo "virtuoso-opensource-7 virtuoso-opensource-7/dba-password-again password dba"
  } | debconf-set-selections
  local rc=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource; } >&2 || rc=$?
  if [ -n "$saved" ]; then mv "$saved" "$policy"; else rm -f "$policy"; fi
  return $rc
}

start_oxigraph() {
  install_oxigraph
  OX_PORT="${OX_PORT:-$(pick_port 7878)}"
  port_free "$OX_PORT" || { log "127.0.0.1:$OX_PORT is taken; set KG_OXIGRAPH_PORT"; return 1; }
  mkdir -p "$DIR/oxigraph/data"
  # --union-default-graph: the default graph is the union of the named graphs, as in the embedded store.
  nohup "$(oxigraph_bin)" serve --location "$DIR/oxigraph/data" --bind "127.0.0.1:$OX_PORT" --union-default-graph \
    < /dev/null > "$DIR/oxigraph/server.log" 2>&1 &
  echo $! > "$DIR/oxigraph/pid"
  wait_ready "http://127.0.0.1:$OX_PORT/query?query=ASK%7B%7D" 30 "$DIR/oxigraph/pid" "$DIR/oxigraph/server.log"
  {
    echo "export KG_TEST_OXIGRAPH_URL=http://127.0.0.1:$OX_PORT"
  } >> "$DIR/env"
}

start_virtuoso() {
  install_virtuoso
  VT_HTTP="${VT_HTTP:-$(pick_port 8890)}"
  VT_SQL="${VT_SQL:-$(pick_port 1111)}"
  port_free "$VT_HTTP" || { log "127.0.0.1:$VT_HTTP is taken; set KG_VIRTUOSO_HTTP_PORT"; return 1; }
  port_free "$VT_SQL" || { log "127.0.0.1:$VT_SQL is taken; set KG_VIRTUOSO_SQL_PORT"; return 1; }
  local vdir="$DIR/virtuoso"
  mkdir -p "$vdir"
  sed -e "s#@DIR@#$vdir#g" -e "s#@SQL_PORT@#$VT_SQL#g" -e "s#@HTTP_PORT@#$VT_HTTP#g" \
      -e "s#@BUFFERS@#$BUFFERS#g" -e "s#@DIRTY@#$(( BUFFERS * 3 / 4 ))#g" -e "s#@MAX_ROWS@#$MAX_ROWS#g" \
      "$HERE/virtuoso.ini" > "$vdir/virtuoso.ini"
  # A fresh database is created with the credentials dba/dba.
  cd "$vdir"
  nohup virtuoso-t +foreground +configfile "$vdir/virtuoso.ini" < /dev/null > "$vdir/server.log" 2>&1 &
  echo $! > "$vdir/pid"
  cd - >/dev/null
  wait_ready "http://127.0.0.1:$VT_HTTP/sparql?query=ASK%7B%7D" 120 "$vdir/pid" "$vdir/server.log"
  {
    echo "export KG_TEST_VIRTUOSO_URL=http://127.0.0.1:$VT_HTTP"
    echo "export KG_TEST_VIRTUOSO_USER=dba"
    echo "export KG_TEST_VIRTUOSO_PASSWORD=dba"
  } >> "$DIR/env"
}

mkdir -p "$DIR"
: > "$DIR/env"
for store in "${WANT[@]}"; do
  case "$store" in
    oxigraph) start_oxigraph ;;
    virtuoso) start_virtuoso ;;
    *) log "unknown store $store (expected oxigraph or virtuoso)"; exit 2 ;;
  esac
done
cat "$DIR/env"
