#!/bin/sh
# Rebuild kg/static/editor/codemirror.js from the pinned npm packages (run from the repository root:
# sh scripts/build-editor/build.sh). Needs node and npm; the built file is committed, so kg itself
# never needs them.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(pwd)/kg/static/editor/codemirror.js
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/entry.mjs" "$here/build.mjs" "$work/"
[ -f "$here/package-lock.json" ] && cp "$here/package-lock.json" "$work/"
cd "$work"
npm install --no-audit --no-fund --ignore-scripts >/dev/null
node build.mjs "$out"
# every bundled package is MIT; keep each one's licence beside the bundle
lic="$(dirname "$out")/LICENSE-codemirror.txt"
: > "$lic"
for d in node_modules/@codemirror/* node_modules/@lezer/* node_modules/@marijn/* node_modules/style-mod \
         node_modules/crelt node_modules/w3c-keyname; do
  printf '%s %s (%s)\n\n' "$(basename "$d")" "$(node -p "require('./$d/package.json').version")" \
    "$(node -p "require('./$d/package.json').license")" >> "$lic"
  cat "$d/LICENSE" >> "$lic"
  printf '\n\n' >> "$lic"
done
wc -c "$out"
