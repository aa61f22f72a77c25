#!/usr/bin/env bash
# Refresh the vendored Det Fælles Designsystem assets in static/vendor/dkfds.
# Usage: scripts/vendor-dkfds.sh [version]   (default: the pinned version below)
set -euo pipefail
version="${1:-11.2.0}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm install --silent --no-audit --no-fund "dkfds@${version}" >/dev/null)
src="$work/node_modules/dkfds/dist"
dst="$here/static/vendor/dkfds"
rm -rf "$dst"
mkdir -p "$dst/css" "$dst/js" "$dst/fonts/IBMPlexSans/complete"
cp "$src/css/dkfds-borgerdk.min.css" "$dst/css/"
cp "$src/js/dkfds.min.js" "$dst/js/"
cp -r "$src/img" "$dst/img"
for kind in eot ttf woff woff2; do
  cp -r "$src/fonts/IBMPlexSans/complete/$kind" "$dst/fonts/IBMPlexSans/complete/"
done
# The source maps are not vendored, so their references go too: whitenoise's manifest storage
# (production's collectstatic) refuses a file that points at a missing one.
sed -i -E -e 's@/\*# sourceMappingURL=[^*]*\*/@@' -e 's@^//# sourceMappingURL=.*$@@' \
  "$dst/css/dkfds-borgerdk.min.css" "$dst/js/dkfds.min.js"
if grep -l sourceMappingURL "$dst/css/dkfds-borgerdk.min.css" "$dst/js/dkfds.min.js"; then
  echo "a sourceMappingURL reference is left in the files above" >&2
  exit 1
fi
cp "$work/node_modules/dkfds/LICENSE.md" "$dst/LICENSE.md"
echo "$version" > "$dst/VERSION"
echo "dkfds $version vendored into static/vendor/dkfds"
