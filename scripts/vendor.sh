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

# Background blur (Apache-2.0), loaded only when someone switches blur on. Only the files the
# loader requests with the landscape model (modelSelection 1) and WebAssembly SIMD, which every
# browser that can blur has; the non-SIMD wasm (another 5.6 MB) is left out on purpose.
fetch @mediapipe/selfie_segmentation '0.1.1675465747'
rm -rf static/vendor/mediapipe && mkdir -p static/vendor/mediapipe
for file in selfie_segmentation.js selfie_segmentation.binarypb selfie_segmentation_landscape.tflite \
    selfie_segmentation_solution_simd_wasm_bin.js selfie_segmentation_solution_simd_wasm_bin.wasm; do
    cp "$work/@mediapipe/selfie_segmentation/package/$file" static/vendor/mediapipe/
done
chmod 644 static/vendor/mediapipe/*

# Accessibility checks (MPL-2.0) for the browser tests only: injected by Playwright, never
# served by the app, so the CSP stays as it is.
fetch axe-core '^4.10.0'
mkdir -p tests/browser/vendor
cp "$work/axe-core/package/axe.min.js" tests/browser/vendor/axe.min.js
cp "$work/axe-core/package/LICENSE" tests/browser/vendor/axe.LICENSE
cat "$versions"
