#!/usr/bin/env bash
# Stops the second engine started by start.sh: SIGTERM to its dockerd (which
# stops its containers and its own containerd), waits until it is gone, then
# removes its bridge picatest1 and its iptables chain PICATEST-ENGINE2. The data root (images, volumes) and the cached
# binaries are kept, so the next start.sh has the images already.
#   stop.sh           stop
#   stop.sh --purge   stop, then delete the data root, config and log too
#                     (PICATEST_ENGINE_DIR, default /var/lib/picatest-engine2)
# Not running: does nothing (and --purge still purges). Needs root.
set -euo pipefail

# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
WAIT=60

purge=0
case "${1:-}" in
	"") ;;
	--purge) purge=1 ;;
	*) engine_die "unknown argument '$1' (usage: stop.sh [--purge])" ;;
esac

# stop_pid PID EXE SECONDS: SIGTERM, then SIGKILL after SECONDS, if PID still
# runs the binary EXE.
stop_pid() {
	local pid="$1" exe="$2" wait="$3" i
	[[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$exe" ]] || return 0
	engine_as_root kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < wait * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	engine_log "$exe ($pid) still runs after ${wait}s: SIGKILL"
	engine_as_root kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	engine_die "could not stop $exe ($pid)"
}

if pid="$(engine_pid)"; then
	engine_log "stopping dockerd $pid ($ENGINE_HOST)"
	stop_pid "$pid" "$(readlink -f "$DOCKERD_BIN")" "$WAIT"
else
	engine_log "not running"
fi
# Its containerd normally stops with it; not after a SIGKILL.
cpid="$(cat "$ENGINE_RUN/exec/containerd/containerd.pid" 2>/dev/null || true)"
if [[ -n "$cpid" ]]; then
	stop_pid "$cpid" "$(readlink -f "$(command -v containerd)")" 15
fi
engine_as_root rm -f "$ENGINE_SOCK" "$ENGINE_PIDFILE"
if ip link show "$ENGINE_BRIDGE" >/dev/null 2>&1; then
	engine_as_root ip link del "$ENGINE_BRIDGE" || engine_die "could not delete the bridge $ENGINE_BRIDGE"
fi
engine_firewall_del

if [[ $purge -eq 1 && -d "$ENGINE_DIR" ]]; then
	if grep -qF " $ENGINE_DIR/" /proc/mounts || grep -qF " $ENGINE_RUN/" /proc/mounts; then
		engine_die "mounts remain under $ENGINE_DIR or $ENGINE_RUN (see /proc/mounts): not purging"
	fi
	engine_as_root rm -rf "$ENGINE_DIR" "$ENGINE_RUN"
	engine_log "purged $ENGINE_DIR"
fi
engine_log "stopped"
