#!/usr/bin/env bash
# Copy pinned front-end packages from npm into mutualaid/static/vendor/<pkg>/, with their
# licence files and a VERSIONS.txt. Nothing is loaded from a CDN at run time: the copied files
# are committed. Run again (`make vendor`) after changing a version below.
set -euo pipefail
cd "$(dirname "$0")/.."

LEAFLET=1.9.4
AXE=4.10.3
SWAGGER_UI=5.17.14

DEST=mutualaid/static/vendor
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

(cd "$TMP" && npm init -y >/dev/null 2>&1 && npm install --no-audit --no-fund --ignore-scripts \
  --loglevel=error "leaflet@$LEAFLET" "axe-core@$AXE" "swagger-ui-dist@$SWAGGER_UI" >/dev/null)
NM=$TMP/node_modules

copy() {  # copy <package dir> <dest name> <files...>: the files plus every licence file
  local src=$NM/$1 name=$2; shift 2
  rm -rf "${DEST:?}/$name"; mkdir -p "$DEST/$name"
  for f in "$@"; do cp -R "$src/$f" "$DEST/$name/"; done
  find "$src" -maxdepth 1 -iname 'licen[cs]e*' -exec cp {} "$DEST/$name/" \;
}

copy leaflet leaflet dist/leaflet.js dist/leaflet.css dist/images
copy axe-core axe-core axe.min.js
copy swagger-ui-dist swagger-ui swagger-ui.css swagger-ui-bundle.js

{
  echo "# Front-end packages copied from npm by scripts/vendor.sh (do not edit by hand)"
  for p in leaflet axe-core swagger-ui-dist; do
    v=$(node -p "require('$NM/$p/package.json').version")
    l=$(node -p "require('$NM/$p/package.json').license")
    echo "$p $v ($l)"
  done
} >"$DEST/VERSIONS.txt"
cat "$DEST/VERSIONS.txt"
