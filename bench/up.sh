#!/usr/bin/env bash
# Benchmark of "docker picatest up --yes --stable 0s" against the same steps
# done with the docker compose CLI (same Compose module version, v5.6.0) one
# after the other, on the 5-service fixture bench/up/ (2 built, 3 "pulled"
# stand-ins that cannot be pulled, healthchecks every 1s, one external volume,
# one external network):
#   docker compose down -v; docker volume rm V; docker volume create V;
#   docker compose build; docker compose pull --ignore-buildable --ignore-pull-failures;
#   docker compose up -d --wait
# Wall time with hyperfine, both commands interleaved round by round. Prints a
# table and the ratio picatest/compose against the target (<= 0.9x). Exits 0
# whatever the ratio (it is a measurement); non-zero only if it cannot measure.
# Needs a Docker engine (the test images are built with testdata/images/build.sh).
# Both sides use the same builder: classic (DOCKER_BUILDKIT=0, the default
# here) or, with BENCH_BUILDER=buildkit, BuildKit through the docker-buildx
# plugin of testdata/buildx/build.sh (bake), installed for both.
# Environment: BENCH_OUT (results directory, default a new /tmp/picatest-bench-up.*),
# BENCH_RUNS (measured rounds, default 10), BENCH_WARMUP (rounds not counted,
# default 1), BENCH_BUILDER (classic or buildkit, default classic), BENCH_BUILD_CACHE=1 (let the builds hit the cache; default: a new
# build arg each run so the LABEL and COPY steps are rebuilt), BENCH_TRACE=0
# (skip the timestamped --progress plain run of each at the end).
set -euo pipefail

RUNS="${BENCH_RUNS:-10}"
WARMUP="${BENCH_WARMUP:-1}"
BUILD_CACHE="${BENCH_BUILD_CACHE:-0}"
TRACE="${BENCH_TRACE:-1}"
BUILDER="${BENCH_BUILDER:-classic}"
# The targets of the project: 0.9x with the classic builder, 0.85x on BuildKit.
TIME_TARGET="0.9"
[[ "$BUILDER" == buildkit ]] && TIME_TARGET="0.85"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/plugins.sh
. bench/plugins.sh
ROOT="$PWD"
FIXTURE="$ROOT/bench/up/compose.yaml"

die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'bench: %s\n' "$*" >&2; }

[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -gt 0 ]] || die "BENCH_RUNS must be a positive integer (got '$RUNS')"
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be a non-negative integer (got '$WARMUP')"
[[ -f "$FIXTURE" ]] || die "fixture $FIXTURE not found"
[[ "$BUILDER" == classic || "$BUILDER" == buildkit ]] || die "BENCH_BUILDER must be classic or buildkit (got '$BUILDER')"
command -v go >/dev/null || die "go not found in PATH"
command -v docker >/dev/null || die "docker CLI not found in PATH"
docker info >/dev/null 2>&1 || die "docker engine unreachable (docker info fails); start dockerd or run ./test.sh which does it"

apt_install() { # apt_install PACKAGE: for a measuring tool missing on this machine
	log "installing Debian package $1"
	local sudo=""
	[[ $EUID -eq 0 ]] || sudo="sudo -n"
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >&2 &&
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" </dev/null >&2 ||
		die "could not install $1 (apt-get install -y $1)"
}
command -v hyperfine >/dev/null || apt_install hyperfine
command -v jq >/dev/null || apt_install jq

# --- names: unique per bench run, so that it never touches anything else -------
TMP="$(mktemp -d /tmp/picatest-bench-up-work.XXXXXX)"
ID="$(tr '[:upper:]' '[:lower:]' <<<"${TMP##*.}")"
OUT="${BENCH_OUT:-$(mktemp -d /tmp/picatest-bench-up.XXXXXX)}"
mkdir -p "$OUT" "$TMP/cli-plugins"
NETWORK="picatest-bench-up-$ID-proxy"
# Two projects, each with its own external volume: the other one's deployment
# stays up (it uses its volume) while one is measured, and each run starts from
# its own previous run's deployment, which it resets.
P_COMPOSE="picatest-bench-up-$ID-compose"
P_PICATEST="picatest-bench-up-$ID-picatest"
V_COMPOSE="$P_COMPOSE-data"
V_PICATEST="$P_PICATEST-data"

export DOCKER_CONFIG="$TMP" PICATEST_TEST_HOSTS='*'
[[ "$BUILDER" == buildkit ]] || export DOCKER_BUILDKIT=0
export BENCH_UP_NETWORK="$NETWORK" BENCH_ID="$ID" BENCH_NONCE=""
echo '{}' >"$TMP/config.json"

cleanup() {
	local rc=$?
	set +e
	log "cleaning up (projects, volumes, network, built images, $TMP)"
	BENCH_UP_VOLUME="$V_COMPOSE" docker compose -p "$P_COMPOSE" -f "$FIXTURE" down -v --remove-orphans >/dev/null 2>&1
	BENCH_UP_VOLUME="$V_PICATEST" docker compose -p "$P_PICATEST" -f "$FIXTURE" down -v --remove-orphans >/dev/null 2>&1
	docker volume rm "$V_COMPOSE" "$V_PICATEST" >/dev/null 2>&1
	docker network rm "$NETWORK" >/dev/null 2>&1
	local imgs
	mapfile -t imgs < <(docker images -q --filter "label=net.picasoft.bench.up=$ID" | sort -u)
	((${#imgs[@]} == 0)) || docker rmi -f "${imgs[@]}" >/dev/null 2>&1
	docker rmi "$P_COMPOSE-api" "$P_COMPOSE-worker" "$P_PICATEST-api" "$P_PICATEST-worker" >/dev/null 2>&1
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- images and binaries ----------------------------------------------------------
log "test images (testdata/images/build.sh)"
testdata/images/build.sh

install_plugins "$TMP"
if [[ "$BUILDER" == buildkit ]]; then
	buildx="$(testdata/buildx/build.sh)" || die "building the buildx plugin failed (testdata/buildx/build.sh)"
	ln -sf "$buildx" "$TMP/cli-plugins/docker-buildx"
	log "builder: BuildKit, $(docker buildx version 2>&1)"
else
	log "builder: classic (DOCKER_BUILDKIT=0)"
fi
log "docker compose version: $(docker compose version 2>&1)"
log "docker picatest version: $(docker picatest version 2>&1 | head -1)"
log "engine: $(docker version --format '{{.Server.Version}}' 2>&1), $(nproc) CPUs"

# --- the two commands -------------------------------------------------------------
# Each sets a new BENCH_NONCE (a build arg: the LABEL and COPY steps are rebuilt)
# unless BENCH_BUILD_CACHE=1; picatest is exec'ed by a bash too, so that both
# pay the same shell start.
if [[ "$BUILD_CACHE" == 1 ]]; then nonce=''; else nonce='export BENCH_NONCE=$EPOCHREALTIME; '; fi
q() { printf '%q ' "$@"; }
dc="docker compose -p $(q "$P_COMPOSE") -f $(q "$FIXTURE")"
compose_script="set -e; ${nonce}export BENCH_UP_VOLUME=$(q "$V_COMPOSE")
$dc down -v
docker volume rm $(q "$V_COMPOSE")
docker volume create $(q "$V_COMPOSE")
$dc build
$dc pull --ignore-buildable --ignore-pull-failures
$dc up -d --wait"
picatest_script="${nonce}export BENCH_UP_VOLUME=$(q "$V_PICATEST")
exec docker picatest -p $(q "$P_PICATEST") -f $(q "$FIXTURE") up --yes --stable 0s --no-smoke"
printf '%s\n' "$compose_script" >"$OUT/compose.sh"
printf '%s\n' "$picatest_script" >"$OUT/picatest.sh"
# shellcheck disable=SC2034 # used through declare -n
compose_cmd="bash -c $(q "$compose_script") 2>&1"
# shellcheck disable=SC2034
picatest_cmd="bash -c $(q "$picatest_script") 2>&1"

# --- state before the first run: network (once), volumes ------------------------------
docker network create "$NETWORK" >/dev/null
docker volume create "$V_COMPOSE" >/dev/null
docker volume create "$V_PICATEST" >/dev/null

# Check once that both work (also brings both deployments up: every measured run
# starts from its previous run's deployment, up and healthy).
for name in compose picatest; do
	declare -n cmd="${name}_cmd"
	log "first run of $name (not measured)"
	bash -c "$cmd" >"$OUT/$name.first.out" ||
		die "$name failed (exit $?):$(printf '\n%s' "$(tail -15 "$OUT/$name.first.out")")"
	unset -n cmd
done

# --- wall time ---------------------------------------------------------------------
# hyperfine runs all the runs of its first command, then all of the second: one
# invocation does not interleave. So each round is one hyperfine invocation of
# both commands, one run each, the order alternating (ABBA...) so that neither
# always follows the other.
total=$((WARMUP + RUNS))
echo "round,command,seconds" >"$OUT/times.csv"
for ((r = 1; r <= total; r++)); do
	if ((r % 2)); then order=(compose picatest); else order=(picatest compose); fi
	args=()
	for name in "${order[@]}"; do
		declare -n cmd="${name}_cmd"
		args+=(-n "$name" "$cmd")
		unset -n cmd
	done
	kind="run $((r - WARMUP))/$RUNS"
	((r > WARMUP)) || kind="warmup $r/$WARMUP"
	log "round $r/$total ($kind): ${order[*]}"
	# --shell bash: the commands are quoted for bash ($'...'); their output, stderr
	# included, goes to round-R.log.
	hyperfine --shell bash --runs 1 --output "$OUT/round-$r.log" --style basic \
		--export-json "$OUT/round-$r.json" "${args[@]}" >"$OUT/round-$r.txt" 2>&1 ||
		die "round $r failed (see $OUT/round-$r.txt):$(printf '\n%s' "$(tail -15 "$OUT/round-$r.log")")"
	if ((r > WARMUP)); then
		jq -r --arg r "$((r - WARMUP))" '.results[] | [$r, .command, .times[0]] | @csv' "$OUT/round-$r.json" | tr -d '"' >>"$OUT/times.csv"
	fi
	log "  $(jq -r '[.results[] | "\(.command) \(.times[0] * 1000 | round / 1000)s"] | join(", ")' "$OUT/round-$r.json")"
done

# --- where the time goes: one timestamped --progress plain run of each ----------------
usec() { local t="${EPOCHREALTIME/,/.}"; echo "${t/./}"; } # wall clock in microseconds
stamp() { # stamp T0: prefix each line with the seconds since T0 (usec)
	local t0="$1" l d
	while IFS= read -r l; do
		d=$(($(usec) - t0))
		printf '%4d.%02d %s\n' $((d / 1000000)) $((d % 1000000 / 10000)) "$l"
	done
}
if [[ "$TRACE" == 1 ]]; then
	log "timestamped --progress plain run of each (trace-*.txt)"
	t0="$(usec)"
	bash -c "${compose_script//docker compose /docker compose --progress plain }" 2>&1 |
		stamp "$t0" >"$OUT/trace-compose.txt" || log "warning: traced compose run failed"
	t0="$(usec)"
	{ bash -c "${picatest_script/ up / --progress plain up }" 2>&1; echo "bench: exit $?"; } |
		stamp "$t0" >"$OUT/trace-picatest.txt" || log "warning: traced picatest run failed"
fi

# own_time TRACE: picatest's own time in a trace, everything not spent waiting
# on the engine or a build: from the start to its first engine phase
# ("picatest: reset|build|pull": loading, transforms, preflight), plus from
# the first line after the wait ("picatest: wait", the report) to the exit.
own_time() {
	awk '
		/ picatest: (reset|build|pull)/ && pre == "" { pre = $1 }
		after_wait && post == "" { post = $1 }
		/ picatest: wait/ { after_wait = 1 }
		/ bench: exit / { end = $1 }
		END {
			if (pre == "" || post == "" || end == "") { print "unknown (phases not found in the trace)"; exit }
			printf "%.2f s (%.2f s before the first engine phase, %.2f s after the wait)\n", pre + end - post, pre, end - post
		}' "$1"
}

# --- report ---------------------------------------------------------------------
{
	echo
	echo "docker picatest up --yes --stable 0s vs the docker compose $COMPOSE_VERSION steps one after the other"
	echo "5 services (2 built, $([[ "$BUILDER" == buildkit ]] && echo "BuildKit (buildx bake)" || echo "classic builder"), build cache $([[ "$BUILD_CACHE" == 1 ]] && echo used || echo missed each run)), $RUNS interleaved runs, $(nproc) CPUs, engine $(docker version --format '{{.Server.Version}}')"
	awk -F, -v tt="$TIME_TARGET" '
	NR > 1 { n[$2]++; s[$2] += $3; ss[$2] += $3 * $3; v[$2, n[$2]] = $3 }
	function med(c,   i, j, t, a, k) {
		k = n[c]; for (i = 1; i <= k; i++) a[i] = v[c, i]
		for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	function mn(c,   i, m) { m = v[c, 1]; for (i = 2; i <= n[c]; i++) if (v[c, i] < m) m = v[c, i]; return m }
	function mx(c,   i, m) { m = v[c, 1]; for (i = 2; i <= n[c]; i++) if (v[c, i] > m) m = v[c, i]; return m }
	function sd(c,   m) { m = s[c] / n[c]; return n[c] > 1 ? sqrt((ss[c] - n[c] * m * m) / (n[c] - 1)) : 0 }
	END {
		mc = s["compose"] / n["compose"]; mp = s["picatest"] / n["picatest"]
		printf "%-22s %10s %10s %7s\n", "", "compose", "picatest", "ratio"
		printf "%-22s %8.2f s %8.2f s %6.2fx  (target <= %sx: %s)\n", "wall time (mean)", mc, mp, mp / mc, tt, mp / mc <= tt ? "ok" : "OVER TARGET"
		printf "%-22s %8.2f s %8.2f s\n", "  stddev", sd("compose"), sd("picatest")
		printf "%-22s %8.2f s %8.2f s %6.2fx\n", "  median", med("compose"), med("picatest"), med("picatest") / med("compose")
		printf "%-22s %8.2f s %8.2f s\n", "  min", mn("compose"), mn("picatest")
		printf "%-22s %8.2f s %8.2f s\n", "  max", mx("compose"), mx("picatest")
		printf "\nratio time (picatest/compose, mean): %.2f  target <= %s\n", mp / mc, tt
	}' "$OUT/times.csv"
	[[ "$TRACE" == 1 ]] && echo "picatest's own time (traced run): $(own_time "$OUT/trace-picatest.txt")"
	echo "results: $OUT (times.csv, round-*.json, compose.sh, picatest.sh, trace-*.txt)"
} | tee "$OUT/summary.txt"
