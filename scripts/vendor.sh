#!/bin/sh
# Copy pinned front-end packages from the npm registry into static/vendor/ and record their
# versions, so pages never load anything from another host. Run `make vendor` to refresh.
set -eu
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
versions=static/vendor/VERSIONS.txt
mkdir -p static/vendor
printf '# Front-end packages vendored by scripts/vendor.sh from the npm registry\n' > "$versions"

fetch() {  # fetch PACKAGE SPEC: unpack the newest version matching SPEC into $work/PACKAGE
    version=$(npm view "$1@$2" version --json 2>/dev/null \
        | node -e 'const v = JSON.parse(require("fs").readFileSync(0)); console.log([].concat(v).pop())')
    (cd "$work" && npm pack --silent "$1@$version" >/dev/null)
    mkdir -p "$work/$1" && tar -xzf "$work"/*.tgz -C "$work/$1" && rm "$work"/*.tgz
    printf '%s %s\n' "$1" "$version" >> "$versions"
}

fetch htmx.org '~2.0.0'
cp "$work/htmx.org/package/dist/htmx.min.js" static/vendor/htmx.min.js
cp "$work/htmx.org/package/LICENSE" static/vendor/htmx.LICENSE
cat "$versions"
