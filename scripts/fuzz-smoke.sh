#!/usr/bin/env bash
# Runs every fuzz target in the module briefly, so each one is known to build and to survive its
# seed corpus plus a few seconds of fresh inputs. Longer runs: go test -fuzz=NAME -fuzztime=5m ./pkg
set -euo pipefail
# An execution count, not a duration: with a duration, Go 1.26's fuzz coordinator can report a spurious
# "context deadline exceeded" when the time runs out mid-execution (golang/go#75804, fixed in Go 1.27).
fuzztime="${FUZZTIME:-3000x}"
cd "$(dirname "$0")/.."
n=0
while IFS= read -r file; do
	pkg="$(dirname "$file")"
	for name in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
		echo "fuzz: $pkg $name ($fuzztime)"
		go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" -fuzzminimizetime=100x "$pkg" >/tmp/fuzz-smoke.$$ 2>&1 || { cat /tmp/fuzz-smoke.$$; rm -f /tmp/fuzz-smoke.$$; exit 1; }
		n=$((n + 1))
	done
done < <(grep -rlE '^func Fuzz' --include='*_test.go' . | sort)
rm -f /tmp/fuzz-smoke.$$
echo "fuzz: $n targets ok"
