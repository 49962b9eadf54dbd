#!/usr/bin/env bash
# Installs Debian's chromium package when /usr/bin/chromium is missing, for the workbook's browser
# tests (internal/workbook/web). The tests drive that binary headless; nothing downloads a browser
# build of its own. Needs root (CI runs as root); without it, says what to run and fails.
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "ensure-chromium: $CHROMIUM is missing; run: sudo apt-get update && sudo apt-get install -y chromium" >&2
	exit 1
fi
echo "ensure-chromium: installing Debian's chromium package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
"$CHROMIUM" --version
