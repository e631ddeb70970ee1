# Sourced by testdata/engine/*.sh: versions, cached binaries and the places of
# the second engine (a current dockerd beside Debian's, TESTING.md "A current
# engine beside Debian's").

ENGINE_VERSION="v2.0.0-beta.24" # github.com/moby/moby/v2: dockerd, docker-proxy
RUNC_VERSION="v1.5.3"           # github.com/opencontainers/runc

engine_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/gobuild.sh
source "$engine_here/../lib/gobuild.sh"

DOCKERD_BIN="$PICATEST_CACHE/dockerd-${ENGINE_VERSION}"
PROXY_BIN="$PICATEST_CACHE/docker-proxy-${ENGINE_VERSION}"
RUNC_BIN="$PICATEST_CACHE/runc-${RUNC_VERSION}"

# Persistent state (config file, data root, log): kept by stop.sh.
ENGINE_DIR="${PICATEST_ENGINE_DIR:-/var/lib/picatest-engine2}"
# Runtime state (socket, pid file, exec root): on tmpfs, short paths (the exec
# root holds containerd's sockets, and a unix socket path has at most 107 bytes).
ENGINE_RUN="${PICATEST_ENGINE_RUN:-/run/picatest-engine2}"
ENGINE_SOCK="$ENGINE_RUN/docker.sock"
ENGINE_HOST="unix://$ENGINE_SOCK"
ENGINE_PIDFILE="$ENGINE_RUN/dockerd.pid"
ENGINE_CONFIG="$ENGINE_DIR/daemon.json"
ENGINE_LOG="$ENGINE_DIR/dockerd.log"

# The second engine's default bridge (in 172.31.0.0/16, the last pool of the
# defaults). Its user networks come from the default pools: both engines skip
# a subnet that already has a route on the host (another bridge), so they do
# not take each other's. No "default-address-pools" in its config: with it,
# dockerd deletes docker0 (the default bridge's name, whatever --bridge says)
# at every start after the first, and the first engine's containers on its
# default network then fail with "could not find bridge docker0".
ENGINE_BRIDGE="picatest1"
ENGINE_BRIDGE_CIDR="172.31.255.1/24"

# The daemon's name (docker info's Name is dockerd's hostname: start.sh runs
# it in a UTS namespace of its own). It matches the default test-host glob
# *-test of README "Safety", so picatest up/down accept this engine as they
# are, while a PICATEST_TEST_HOSTS without that glob still makes them refuse,
# as the e2e safety tests expect; the label net.picasoft.picatest.test-host=true
# would accept it whatever the globs say.
ENGINE_NAME="picatest-engine2-test"

engine_log() { printf 'engine: %s\n' "$*" >&2; }
engine_die() { printf 'engine: error: %s\n' "$*" >&2; exit 1; }

engine_as_root() {
	if [[ $EUID -eq 0 ]]; then "$@"
	elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
	else engine_die "need root for: $*"
	fi
}

# engine_pid prints the pid of the running second dockerd, or fails.
engine_pid() {
	local pid
	[[ -r "$ENGINE_PIDFILE" ]] || return 1
	pid="$(cat "$ENGINE_PIDFILE")"
	[[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
	# A recycled pid is not ours: it must be our dockerd binary.
	[[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$(readlink -f "$DOCKERD_BIN")" ]] || return 1
	printf '%s\n' "$pid"
}

# engine_answers succeeds when the second engine answers on its socket.
engine_answers() { docker -H "$ENGINE_HOST" version --format '{{.Server.APIVersion}}' >/dev/null 2>&1; }

# The first engine sets the FORWARD policy to DROP and, with
# net.bridge.bridge-nf-call-iptables=1, frames between two containers on one
# bridge go through FORWARD too: without a rule of ours, containers of the
# second engine (which runs with --iptables=false) cannot reach each other,
# not even on one network (Traefik to its backends times out). The chain
# PICATEST-ENGINE2, jumped to from FORWARD, accepts frames that stay on one
# bridge (what Docker's own rules accept on the first engine's networks too,
# "-i br-X -o br-X -j ACCEPT"); traffic between two networks stays dropped,
# as Docker's isolation wants.
ENGINE_CHAIN="PICATEST-ENGINE2"

# engine_fw_ensure CHAIN RULE...: appends (inserts, for FORWARD) RULE unless
# it is there.
engine_fw_ensure() {
	local chain="$1" op=-A
	shift
	[[ "$chain" == FORWARD ]] && op=-I
	engine_as_root iptables -w -C "$chain" "$@" 2>/dev/null ||
		engine_as_root iptables -w "$op" "$chain" "$@" ||
		engine_die "could not add the iptables rule: $chain $*"
}

# engine_firewall_add is idempotent and never removes a rule, so that running
# containers keep their traffic when start.sh runs again.
engine_firewall_add() {
	command -v iptables >/dev/null 2>&1 || return 0
	engine_as_root iptables -w -L "$ENGINE_CHAIN" -n >/dev/null 2>&1 ||
		engine_as_root iptables -w -N "$ENGINE_CHAIN" ||
		engine_die "could not create the iptables chain $ENGINE_CHAIN"
	engine_fw_ensure "$ENGINE_CHAIN" -m physdev --physdev-is-bridged -j ACCEPT
	engine_fw_ensure FORWARD -j "$ENGINE_CHAIN"
}

engine_firewall_del() {
	command -v iptables >/dev/null 2>&1 || return 0
	while engine_as_root iptables -w -D FORWARD -j "$ENGINE_CHAIN" 2>/dev/null; do :; done
	engine_as_root iptables -w -F "$ENGINE_CHAIN" 2>/dev/null || true
	engine_as_root iptables -w -X "$ENGINE_CHAIN" 2>/dev/null || true
}
