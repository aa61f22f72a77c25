#!/usr/bin/env bash
# Refresh the vendored axe-core (the accessibility engine the browser tests inject into every page)
# in tests/browser/vendor/axe-core.
# Usage: scripts/vendor-axe.sh [version]   (default: the pinned version below)
set -euo pipefail
version="${1:-4.14.1}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm install --silent --no-audit --no-fund "axe-core@${version}" >/dev/null)
src="$work/node_modules/axe-core"
dst="$here/tests/browser/vendor/axe-core"
rm -rf "$dst"
mkdir -p "$dst"
cp "$src/axe.min.js" "$dst/"
cp "$src/LICENSE" "$dst/LICENSE"
installed="$(node -p "require('$src/package.json').version")"
echo "$installed" > "$dst/VERSION"
echo "axe-core $installed vendored into tests/browser/vendor/axe-core"
