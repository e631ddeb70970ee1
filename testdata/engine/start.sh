#!/usr/bin/env bash
# Starts (idempotently) the second, current engine of the tests beside
# Debian's (TESTING.md "A current engine beside Debian's"): the dockerd,
# docker-proxy and runc of build.sh, with everything of its own so that it
# never touches the first engine:
#   socket      unix:///run/picatest-engine2/docker.sock   (PICATEST_ENGINE_RUN)
#   exec root   /run/picatest-engine2/exec, pid file /run/picatest-engine2/dockerd.pid
#   data root   /var/lib/picatest-engine2/data             (PICATEST_ENGINE_DIR)
#   config      /var/lib/picatest-engine2/daemon.json, log /var/lib/picatest-engine2/dockerd.log
#   networks    default bridge picatest1 172.31.255.1/24 (created here), user
#               networks from the default pools; --iptables=false --ip6tables=false,
#               and an iptables chain PICATEST-ENGINE2 in FORWARD that lets its
#               containers on one network reach each other (see lib.sh)
#   runtime     runc-new (runc v1.5.3), published ports through its own docker-proxy
#   name        picatest-engine2-test (docker info's Name: a test host for picatest
#               by its default globs), from a UTS namespace of its own
# It uses Debian's containerd binary (its own instance, under the exec root)
# and the containerd image store. Waits until the engine answers, then prints
# the DOCKER_HOST to use on stdout. Already running: reuses it. Needs root and
# the binaries of build.sh; stop.sh stops it; load-images.sh copies the test
# images into it.
set -euo pipefail

# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
WAIT=60
started=""

command -v docker >/dev/null || engine_die "docker CLI not found in PATH"
command -v containerd >/dev/null || engine_die "containerd not found in PATH (Debian package containerd, installed with docker.io)"
command -v ip >/dev/null || engine_die "ip not found in PATH (Debian package iproute2)"
command -v unshare >/dev/null || engine_die "unshare not found in PATH (Debian package util-linux)"
for bin in "$DOCKERD_BIN" "$PROXY_BIN" "$RUNC_BIN"; do
	[[ -x "$bin" ]] || engine_die "$bin is missing: run $engine_here/build.sh first (the first build takes ~10 min)"
done

if pid="$(engine_pid)"; then
	engine_firewall_add
	if engine_answers; then
		engine_log "already running (pid $pid) on $ENGINE_HOST"
		printf '%s\n' "$ENGINE_HOST"
		exit 0
	fi
	engine_log "dockerd $pid is running but does not answer yet, waiting for it"
else
	# The default bridge of its own. Never --bridge=none: at start that deletes
	# docker0, and the first engine's containers on its default network then
	# fail with "could not find bridge docker0".
	if ! ip link show "$ENGINE_BRIDGE" >/dev/null 2>&1; then
		engine_as_root ip link add "$ENGINE_BRIDGE" type bridge || engine_die "could not create the bridge $ENGINE_BRIDGE"
	fi
	if ! ip -4 addr show dev "$ENGINE_BRIDGE" | grep -qF "inet $ENGINE_BRIDGE_CIDR "; then
		engine_as_root ip addr add "$ENGINE_BRIDGE_CIDR" dev "$ENGINE_BRIDGE" || engine_die "could not give $ENGINE_BRIDGE the address $ENGINE_BRIDGE_CIDR"
	fi
	engine_as_root ip link set "$ENGINE_BRIDGE" up || engine_die "could not set $ENGINE_BRIDGE up"
	engine_firewall_add

	engine_as_root mkdir -p "$ENGINE_DIR/data" "$ENGINE_RUN/exec"
	# A config file of its own: the default /etc/docker/daemon.json sets the
	# first engine's data root. Options are all here, none on the command line
	# (dockerd refuses an option given both ways).
	cat >"$ENGINE_CONFIG.tmp" <<JSON
{
  "hosts": ["$ENGINE_HOST"],
  "data-root": "$ENGINE_DIR/data",
  "exec-root": "$ENGINE_RUN/exec",
  "pidfile": "$ENGINE_PIDFILE",
  "containerd-namespace": "picatest-engine2",
  "cgroup-parent": "picatest-engine2",
  "runtimes": {"runc-new": {"path": "$RUNC_BIN"}},
  "default-runtime": "runc-new",
  "userland-proxy-path": "$PROXY_BIN",
  "iptables": false,
  "ip6tables": false,
  "bridge": "$ENGINE_BRIDGE",
  "log-driver": "json-file",
  "log-opts": {"max-size": "10m", "max-file": "3"}
}
JSON
	mv "$ENGINE_CONFIG.tmp" "$ENGINE_CONFIG"
	rm -f "$ENGINE_SOCK"
	engine_log "starting dockerd ${ENGINE_VERSION} on $ENGINE_HOST (log: $ENGINE_LOG)"
	printf '\n=== %s start.sh\n' "$(date -Is)" >>"$ENGINE_LOG"
	# Its own hostname, in its own UTS namespace: the daemon's name. Containers
	# have their own anyway (only --uts=host ones would see this one).
	engine_as_root setsid unshare --uts sh -c 'echo "$1" >/proc/sys/kernel/hostname && exec "$2" --config-file "$3"' \
		sh "$ENGINE_NAME" "$DOCKERD_BIN" "$ENGINE_CONFIG" >>"$ENGINE_LOG" 2>&1 </dev/null &
	started=$!
fi

for ((i = 0; i < WAIT * 5; i++)); do
	if engine_answers; then
		engine_log "ready: $(docker -H "$ENGINE_HOST" info --format '{{.Name}}, engine {{.ServerVersion}}') on $ENGINE_HOST"
		printf '%s\n' "$ENGINE_HOST"
		exit 0
	fi
	if [[ -n "$started" ]] && ! kill -0 "$started" 2>/dev/null; then
		tail -20 "$ENGINE_LOG" >&2 || true
		engine_die "dockerd exited at start (log: $ENGINE_LOG)"
	fi
	sleep 0.2
done
tail -20 "$ENGINE_LOG" >&2 || true
engine_die "the second engine does not answer on $ENGINE_HOST after ${WAIT}s (log: $ENGINE_LOG)"
