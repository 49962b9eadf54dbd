#!/usr/bin/env bash
# Reproduces the vendored Chart.js under internal/workbook/web/assets/vendor/chartjs-$VERSION/ from
# the npm package at a pinned version, and checks the files against the SHA256SUMS committed beside
# them (internal/workbook/web's TestVendoredChartJS checks the embedded copy against the same sums).
# To move to another version: change VERSION, run with UPDATE=1, review the diff, commit.
set -euo pipefail
VERSION=4.5.0
cd "$(dirname "$0")/.."
DEST=internal/workbook/web/assets/vendor/chartjs-$VERSION
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "chart.js@$VERSION" >/dev/null && tar xzf "chart.js-$VERSION.tgz")
mkdir -p "$DEST"
cp "$work/package/dist/chart.umd.min.js" "$DEST/chart.umd.min.js"
cp "$work/package/LICENSE.md" "$DEST/LICENSE.md"
if [ "${UPDATE:-}" = 1 ]; then
	(cd "$DEST" && sha256sum chart.umd.min.js LICENSE.md >SHA256SUMS)
fi
(cd "$DEST" && sha256sum -c SHA256SUMS)
