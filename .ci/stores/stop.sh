#!/usr/bin/env bash
# Stop the stores .ci/stores/start.sh started (by the process ids it recorded) and remove their files.
# Usage: .ci/stores/stop.sh            (KG_STORES_DIR as for start.sh; KG_STORES_KEEP=1 keeps the files)
set -uo pipefail

DIR="${KG_STORES_DIR:-${TMPDIR:-/tmp}/kg-stores}"
[ -d "$DIR" ] || exit 0

for name in oxigraph virtuoso; do
  pidfile="$DIR/$name/pid"
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "stores: $name (pid $pid) did not stop in 10 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  rm -f "$pidfile"
  echo "stores: stopped $name" >&2
done

[ "${KG_STORES_KEEP:-0}" = 1 ] || rm -rf "$DIR"
exit 0
