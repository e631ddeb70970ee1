#!/usr/bin/env bash
# Stops the registry started by start.sh (its pid file under
# ${PICATEST_REGISTRY_DIR:-/tmp/picatest-registry}) and waits until
# 127.0.0.1:5000 no longer answers. The stored images are kept.
set -euo pipefail

DIR="${PICATEST_REGISTRY_DIR:-/tmp/picatest-registry}"
ADDR="127.0.0.1:5000"

if [[ -f "$DIR/pid" ]]; then
	pid="$(cat "$DIR/pid")"
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$DIR/pid"
fi
for ((i = 0; i < 50; i++)); do
	code="$(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://$ADDR/v2/" 2>/dev/null || true)"
	[[ "$code" == "000" ]] && { printf 'registry: stopped\n' >&2; exit 0; }
	sleep 0.1
done
printf 'registry: error: something still answers on %s (not started by start.sh?)\n' "$ADDR" >&2
exit 1
