#!/usr/bin/env bash
# Benchmark of "docker picatest config" against "docker compose config" (same
# Compose module version, v5.6.0) on a generated Picasoft-style project.
#   bench/config.sh [N]      N services (default 200)
# Measures in one run, side by side: wall time (hyperfine) and peak memory
# (max RSS, /usr/bin/time). Prints a table, the ratios picatest/compose and the
# targets (time <= 1.2x, memory <= 1.5x). Exits 0 whatever the ratios (it is a
# measurement); non-zero only if it cannot measure (build or setup failure).
# Environment: BENCH_OUT (results directory, default a new /tmp/picatest-bench.*),
# BENCH_RUNS (hyperfine runs, default 15), BENCH_MEM_RUNS (default 5).
set -euo pipefail

N="${1:-200}"
RUNS="${BENCH_RUNS:-15}"
MEM_RUNS="${BENCH_MEM_RUNS:-5}"
TIME_TARGET="1.2"
MEM_TARGET="1.5"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/plugins.sh
. bench/plugins.sh

die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'bench: %s\n' "$*" >&2; }

[[ "$N" =~ ^[0-9]+$ && "$N" -gt 0 ]] || die "N must be a positive integer (got '$N')"
command -v go >/dev/null || die "go not found in PATH"
command -v docker >/dev/null || die "docker CLI not found in PATH"

apt_install() { # apt_install PACKAGE: for a measuring tool missing on this machine
	log "installing Debian package $1"
	local sudo=""
	[[ $EUID -eq 0 ]] || sudo="sudo -n"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >&2 &&
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" </dev/null >&2 ||
		die "could not install $1 (apt-get install -y $1)"
}
command -v hyperfine >/dev/null || apt_install hyperfine
[[ -x /usr/bin/time ]] || apt_install time

TMP="$(mktemp -d /tmp/picatest-bench-work.XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
OUT="${BENCH_OUT:-$(mktemp -d /tmp/picatest-bench.XXXXXX)}"
mkdir -p "$OUT" "$TMP/cli-plugins"
export DOCKER_CONFIG="$TMP"
echo '{}' >"$TMP/config.json"

# --- inputs -------------------------------------------------------------------
# P: both commands run on it. It has the real secrets files (copies of the
# examples) so that plain "docker compose config" can load it; picatest uses
# the .example files (SPEC §3.3), which have the same content.
# C: the same project as a git checkout has it (examples only), picatest only.
P="$TMP/project"
C="$TMP/checkout"
log "generating $N services"
go run ./bench/gen -n "$N" -o "$P" -real-secrets
go run ./bench/gen -n "$N" -o "$C"

# --- binaries (both CGO_ENABLED=0 -trimpath) -----------------------------------
install_plugins "$TMP"

compose_cli=(docker compose -f "$P/compose.yaml" config)
picatest_cli=(docker picatest -f "$P/compose.yaml" config)
# Run directly as the docker CLI runs a plugin: argv "<plugin> <name> ARGS..."
# and DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND set (without it a plugin believes
# it runs standalone).
as_plugin=(env DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND="$(command -v docker)")
compose_direct=("${as_plugin[@]}" "$TMP/cli-plugins/docker-compose" compose -f "$P/compose.yaml" config)
picatest_direct=("${as_plugin[@]}" "$TMP/cli-plugins/docker-picatest" picatest -f "$P/compose.yaml" config)
picatest_checkout=(docker picatest -f "$C/compose.yaml" config)

log "docker compose version: $(docker compose version 2>&1)"
log "docker picatest version: $(docker picatest version 2>&1)"
for cmd in compose_cli picatest_cli compose_direct picatest_direct picatest_checkout; do
	declare -n c="$cmd"
	"${c[@]}" >"$OUT/$cmd.out" 2>"$OUT/$cmd.err" ||
		die "'${c[*]}' failed (exit $?):$(printf '\n%s' "$(tail -5 "$OUT/$cmd.err")")"
	unset -n c
done
log "outputs: $(wc -c <"$OUT/compose_cli.out") bytes (compose), $(wc -c <"$OUT/picatest_cli.out") bytes (picatest)"

# --- wall time ------------------------------------------------------------------
q() { printf '%q ' "$@"; }
log "hyperfine via the docker CLI (--warmup 2 --runs $RUNS)"
hyperfine --warmup 2 --runs "$RUNS" --output null \
	--export-json "$OUT/hyperfine-cli.json" --export-csv "$OUT/hyperfine-cli.csv" \
	-n compose "$(q "${compose_cli[@]}")" \
	-n picatest "$(q "${picatest_cli[@]}")" \
	-n picatest-checkout "$(q "${picatest_checkout[@]}")" >&2
log "hyperfine of the plugin binaries run directly"
hyperfine --warmup 2 --runs "$RUNS" --output null \
	--export-json "$OUT/hyperfine-direct.json" --export-csv "$OUT/hyperfine-direct.csv" \
	-n compose "$(q "${compose_direct[@]}")" \
	-n picatest "$(q "${picatest_direct[@]}")" >&2

# mean seconds of command NAME in CSV (command,mean,stddev,median,user,system,min,max)
mean() { awk -F, -v n="$2" '$1==n {print $2}' "$1"; }
sdev() { awk -F, -v n="$2" '$1==n {print $3}' "$1"; }

# --- peak memory ----------------------------------------------------------------
# /usr/bin/time reports the max RSS of its child and of the children that child
# waited for: via the docker CLI that is max(docker CLI, plugin). Run directly,
# it is the plugin process alone.
maxrss_median() { # maxrss_median CMD... -> median max RSS in KiB over MEM_RUNS runs
	local i f="$TMP/rss" vals=()
	for ((i = 0; i < MEM_RUNS; i++)); do
		/usr/bin/time -f %M -o "$f" "$@" >/dev/null 2>&1 || die "'$*' failed while measuring memory"
		vals+=("$(tail -1 "$f")")
	done
	printf '%s\n' "${vals[@]}" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}
log "max RSS, $MEM_RUNS runs each"
rss_compose_cli=$(maxrss_median "${compose_cli[@]}")
rss_picatest_cli=$(maxrss_median "${picatest_cli[@]}")
rss_compose_direct=$(maxrss_median "${compose_direct[@]}")
rss_picatest_direct=$(maxrss_median "${picatest_direct[@]}")
rss_picatest_checkout=$(maxrss_median "${picatest_checkout[@]}")
rss_docker_alone=$(maxrss_median docker --version)

# --- report ---------------------------------------------------------------------
tc=$(mean "$OUT/hyperfine-cli.csv" compose)
tp=$(mean "$OUT/hyperfine-cli.csv" picatest)
tk=$(mean "$OUT/hyperfine-cli.csv" picatest-checkout)
dc=$(mean "$OUT/hyperfine-direct.csv" compose)
dp=$(mean "$OUT/hyperfine-direct.csv" picatest)
{
	echo
	echo "docker picatest config vs docker compose config ($COMPOSE_VERSION), $N services, $(nproc) CPUs"
	awk -v tc="$tc" -v tp="$tp" -v tk="$tk" -v dc="$dc" -v dp="$dp" \
		-v sc="$(sdev "$OUT/hyperfine-cli.csv" compose)" -v sp="$(sdev "$OUT/hyperfine-cli.csv" picatest)" \
		-v rc="$rss_compose_cli" -v rp="$rss_picatest_cli" -v rk="$rss_picatest_checkout" \
		-v mc="$rss_compose_direct" -v mp="$rss_picatest_direct" -v rd="$rss_docker_alone" \
		-v tt="$TIME_TARGET" -v mt="$MEM_TARGET" '
	function verdict(r, t) { return r <= t ? "ok" : "OVER TARGET" }
	BEGIN {
		printf "%-34s %12s %12s %7s\n", "", "compose", "picatest", "ratio"
		printf "%-34s %9.1f ms %9.1f ms %6.2fx  (target <= %sx: %s)\n", "wall time, via docker CLI (mean)", tc*1000, tp*1000, tp/tc, tt, verdict(tp/tc, tt)
		printf "%-34s %9.1f ms %9.1f ms\n", "  stddev", sc*1000, sp*1000
		printf "%-34s %9.1f ms %9.1f ms %6.2fx\n", "wall time, plugin run directly", dc*1000, dp*1000, dp/dc
		printf "%-34s %9.1f MB %9.1f MB %6.2fx  (target <= %sx: %s)\n", "max RSS, plugin process (median)", mc/1024, mp/1024, mp/mc, mt, verdict(mp/mc, mt)
		printf "%-34s %9.1f MB %9.1f MB %6.2fx\n", "max RSS, via docker CLI (median)", rc/1024, rp/1024, rp/rc
		printf "%-34s %12s %9.1f ms, %.1f MB\n", "picatest on checkout (examples only)", "", tk*1000, rk/1024
		printf "%-34s %9.1f MB\n", "docker CLI alone (docker --version)", rd/1024
		printf "\nratio time (picatest/compose, via docker CLI): %.2f  target <= %s\n", tp/tc, tt
		printf "ratio memory (picatest/compose, plugin process): %.2f  target <= %s\n", mp/mc, mt
	}'
	echo "results: $OUT (hyperfine-*.json/csv, command outputs)"
} | tee "$OUT/summary.txt"
