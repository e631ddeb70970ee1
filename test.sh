#!/usr/bin/env bash
# The test command of docker-picatest (README): prepares a fresh machine and runs
# every test.
#   ./test.sh          Docker engine (installed/started if needed), lintian,
#                      go build, test images, Traefik image, the second (current)
#                      engine (tools built once, cached in ~/.cache/picatest),
#                      go vet, gofmt, go test ./... (end-to-end included) on
#                      Debian's engine, the end-to-end suite again on the
#                      current engine, coverage, a short fuzz of every target
#   ./test.sh --short  go test -short ./... only (no Docker engine needed)
# Exits non-zero on any failure; the last line counts the tests:
# "test.sh: N passed, N failed, N skipped".
set -euo pipefail

FUZZTIME="${PICATEST_FUZZTIME:-20s}"
FUZZ_FLOOR=10 # seconds: a shorter fuzz finds nothing and only looks green
GO_TEST_TIMEOUT="60m"
DOCKERD_WAIT=60
# The second engine's Traefik publishes other ports than the first's, which
# keeps running (testdata/traefik/start.sh, e2e/framework_traefik_test.go).
ENGINE2_TRAEFIK=(PICATEST_TRAEFIK_HTTP=28080 PICATEST_TRAEFIK_HTTPS=28443 PICATEST_TRAEFIK_PING=28082)

usage() {
	sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	echo "Environment: PICATEST_FUZZTIME (default 20s, at least ${FUZZ_FLOOR}s) per fuzz target."
}

short=0
while [[ $# -gt 0 ]]; do
	case "$1" in
		--short) short=1 ;;
		-h | --help) usage; exit 0 ;;
		*) printf 'test.sh: unknown argument %q (see --help)\n' "$1" >&2; exit 2 ;;
	esac
	shift
done

cd "$(dirname "${BASH_SOURCE[0]}")"
start=$SECONDS
results=()
failed=()

log() { printf '\n==> %s\n' "$*"; }
die() {
	printf '\ntest.sh: error: %s\n' "$*" >&2
	printf 'test.sh: FAIL (setup) after %ss: %s\n' "$((SECONDS - start))" "$*"
	exit 1
}

# step NAME CMD...: runs CMD, records PASS/FAIL, continues on failure.
step() {
	local name="$1" t0=$SECONDS
	shift
	log "$name"
	if "$@"; then
		results+=("PASS  $name ($((SECONDS - t0))s)")
	else
		results+=("FAIL  $name ($((SECONDS - t0))s)")
		failed+=("$name")
	fi
}

summary() {
	local mode="$1" passed=0 nfailed=0 skipped=0 p f k
	printf '\n==> summary\n'
	printf '  %s\n' "${results[@]}"
	if [[ -s "$totals" ]]; then
		while read -r p f k; do
			passed=$((passed + p)) nfailed=$((nfailed + f)) skipped=$((skipped + k))
		done <"$totals"
	fi
	if [[ ${#failed[@]} -eq 0 ]]; then
		printf 'test.sh: PASS (%s, %d steps, %ss)\n' "$mode" "${#results[@]}" "$((SECONDS - start))"
	else
		local list=""
		for f in "${failed[@]}"; do list+="${list:+; }$f"; done
		printf 'test.sh: FAIL (%s): %s (%ss)\n' "$mode" "$list" "$((SECONDS - start))"
	fi
	printf 'test.sh: %d passed, %d failed, %d skipped\n' "$passed" "$nfailed" "$skipped"
	[[ ${#failed[@]} -eq 0 ]]
	exit
}

# gotest NAME GO-TEST-ARGS...: go test -json piped through
# scripts/testreport, which prints each test's verdict, the output of a
# failed one and a table per package, fails when a test of ./e2e did not run,
# and adds the counts to $totals.
gotest() {
	local name="$1"
	shift
	step "$name" gotest_json "$@"
}

# gotest_json GO-TEST-ARGS...: the pipeline of gotest, without the step.
# Every Test function of ./e2e must run, but in --short mode (they skip).
require_all=(-require-all ./e2e)
gotest_json() {
	go test -json "$@" 2>&1 | "$testreport" "${require_all[@]}" -totals "$totals"
}

command -v go >/dev/null 2>&1 || die "'go' not found in PATH: install Go 1.26.8 or newer from https://go.dev/dl/"

# A GOFLAGS that filters or skips tests would make the run green doing less.
for flag in ${GOFLAGS:-}; do
	case "$flag" in
		-run=* | -skip=* | -short | -short=* | -list=* | -test.*)
			die "GOFLAGS=$GOFLAGS holds $flag, which filters or skips tests: unset GOFLAGS (or drop $flag) and run ./test.sh again" ;;
	esac
done
fuzz_seconds() {
	case "$1" in
		*ms) echo 0 ;;
		*s) echo "${1%s}" ;;
		*m) echo $((${1%m} * 60)) ;;
		*) echo -1 ;;
	esac
}
fuzzsec="$(fuzz_seconds "$FUZZTIME")"
[[ "$fuzzsec" =~ ^[0-9]+$ && $fuzzsec -ge $FUZZ_FLOOR ]] ||
	die "PICATEST_FUZZTIME=$FUZZTIME: give a duration of at least ${FUZZ_FLOOR}s, in whole seconds or minutes (e.g. 20s, 2m)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
totals="$work/totals"
testreport="$work/testreport"
go build -o "$testreport" ./scripts/testreport || die "go build ./scripts/testreport failed"

if [[ $short -eq 1 ]]; then
	require_all=()
	gotest "go test -short ./..." -short -count=1 ./...
	summary "short"
fi

# --- (a) Docker engine --------------------------------------------------------
as_root() {
	if [[ $EUID -eq 0 ]]; then "$@"
	elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
	else echo "test.sh: need root for: $*" >&2; return 1
	fi
}

ensure_docker() {
	if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
		echo "Docker engine reachable: $(docker info --format '{{.Name}} (engine {{.ServerVersion}})' 2>/dev/null)"
		return 0
	fi
	if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
		echo "Installing Docker (Debian package docker.io)"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null \
			|| die "apt-get update failed"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io </dev/null \
			|| die "apt-get install docker.io failed"
	fi
	if pgrep -x dockerd >/dev/null 2>&1; then
		echo "dockerd is running but 'docker info' fails, waiting for it"
	else
		echo "Starting dockerd (log: /var/log/dockerd.log)"
		as_root sh -c 'setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &' \
			|| die "could not start dockerd"
	fi
	local i
	for ((i = 0; i < DOCKERD_WAIT; i++)); do
		if docker info >/dev/null 2>&1; then
			echo "Docker engine up after ${i}s"
			return 0
		fi
		sleep 1
	done
	echo "--- docker info:" >&2
	docker info 2>&1 | tail -5 >&2 || true
	if [[ -r /var/log/dockerd.log ]]; then
		echo "--- last lines of /var/log/dockerd.log:" >&2
		tail -20 /var/log/dockerd.log >&2
	fi
	die "Docker engine unreachable after ${DOCKERD_WAIT}s; the end-to-end tests need it (they are never skipped)"
}

log "Docker engine"
ensure_docker
results+=("PASS  Docker engine")

# Debian packages the tests use: lintian (the release test lints the Debian
# packages it builds), libxml2-utils (xmllint checks the JUnit reports against
# their schema), util-linux (setpriv, unshare, flock).
ensure_packages() {
	local missing=() cmd pkg
	for pair in lintian:lintian xmllint:libxml2-utils setpriv:util-linux; do
		cmd="${pair%%:*}" pkg="${pair#*:}"
		command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
	done
	if [[ ${#missing[@]} -eq 0 ]]; then
		echo "lintian $(lintian --version | awk '{print $NF}'), $(xmllint --version 2>&1 | head -1), setpriv: installed"
		return 0
	fi
	echo "Installing ${missing[*]} (Debian packages the tests use)"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null \
		|| die "apt-get update failed"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null \
		|| die "apt-get install ${missing[*]} failed"
}

log "Debian packages: lintian, libxml2-utils, util-linux"
ensure_packages
results+=("PASS  Debian packages")

# --- (b) build, (c) test images ----------------------------------------------
log "go build ./..."
go build ./... || die "go build ./... failed"
results+=("PASS  go build ./...")

log "test images (testdata/images/build.sh)"
testdata/images/build.sh || die "building the test images failed"
results+=("PASS  test images")

# --- (d) the tools the tests run, built from the module proxy ----------------
# Traefik (its image), the buildx plugin, the second engine (dockerd,
# docker-proxy, runc): cached in ~/.cache/picatest, so later runs return at
# once. On a fresh machine they are built side by side: their module
# downloads and link steps overlap the other builds' compiles.
build_tools() {
	local logs=".cache/tools" name pid rc=0 t0=$SECONDS
	local -A pids=()
	mkdir -p "$logs"
	for name in traefik buildx engine; do
		testdata/$name/build.sh >"$logs/$name.log" 2>&1 &
		pids[$name]=$!
	done
	for name in traefik buildx engine; do
		pid=${pids[$name]}
		if wait "$pid"; then
			echo "$name: ready ($((SECONDS - t0))s; log $logs/$name.log)"
		else
			echo "$name: FAILED (testdata/$name/build.sh); last lines of $logs/$name.log:"
			tail -20 "$logs/$name.log"
			rc=1
		fi
	done
	return $rc
}

log "Traefik v3 image, buildx plugin, second engine (testdata/{traefik,buildx,engine}/build.sh; cached in ~/.cache/picatest)"
build_tools || die "building the test tools failed"
results+=("PASS  tools: Traefik image, buildx, second engine")

# --- (e) checks and tests -----------------------------------------------------
gofmt_check() {
	local out
	out="$(gofmt -l .)" || return 1
	if [[ -n "$out" ]]; then
		echo "gofmt: these files need 'gofmt -w':"
		printf '  %s\n' $out
		return 1
	fi
	echo "gofmt: all files formatted"
}

step "go vet ./..." go vet ./...
step "gofmt -l ." gofmt_check

# Coverage: the unit tests' counters and those of the plugin binary the
# end-to-end tests run (built with -cover, PICATEST_E2E_COVERDIR), merged.
cover="$PWD/.cache/cover"
rm -rf "$cover"
mkdir -p "$cover/unit" "$cover/e2e"
PICATEST_E2E_COVERDIR="$cover/e2e" gotest "go test ./... (end-to-end included, Debian's engine)" \
	-count=1 -timeout "$GO_TEST_TIMEOUT" -cover -coverpkg=./... ./... -args -test.gocoverdir="$cover/unit"

# A subshell: the variables of the second engine stay in it.
engine2_e2e() (
	local host
	host="$(testdata/engine/start.sh)" || return 1
	DOCKER_HOST="$host" testdata/engine/load-images.sh || return 1
	echo "DOCKER_HOST=$host ${ENGINE2_TRAEFIK[*]}"
	local kv
	for kv in "${ENGINE2_TRAEFIK[@]}"; do export "${kv?}"; done
	DOCKER_HOST="$host" PICATEST_E2E_COVERDIR="$cover/e2e" gotest_json -count=1 -timeout "$GO_TEST_TIMEOUT" ./e2e/
)
step "go test ./e2e/ on the current engine (dockerd v2.0.0-beta.24, API 1.56)" engine2_e2e

coverage() {
	local dirs
	dirs="$(find "$cover" -mindepth 1 -maxdepth 1 -type d -exec sh -c 'ls -A "$1" | grep -q .' sh {} \; -print | paste -sd, -)"
	[[ -n "$dirs" ]] || { echo "no coverage data in $cover"; return 1; }
	echo "statement coverage per package, unit and end-to-end tests merged (go tool covdata percent):"
	go tool covdata percent -i="$dirs" | sed 's|github.com/picasoft/docker-picatest/||g' |
		awk '{for (i = 1; i < NF; i++) if ($i == "coverage:") printf "  %-28s %s\n", $(i - 1), $(i + 1)}' | sort
	go tool covdata textfmt -i="$dirs" -o "$cover/cover.out" &&
		printf 'total: %s (profile: %s)\n' "$(go tool cover -func="$cover/cover.out" | tail -1 | awk '{print $NF}')" "$cover/cover.out"
}
step "coverage" coverage

# fuzz_one PKG TARGET: fuzzes TARGET for $FUZZTIME. Go 1.26's fuzz
# coordinator can fail a run at the end of -fuzztime with "context deadline
# exceeded" having found nothing (go.dev/issue/75804, fixed in Go 1.27):
# such a run, which wrote no failing input under testdata/fuzz/TARGET, is
# run once more; a failing input, or a second failure, fails the step.
fuzz_one() {
	local pkg="$1" target="$2" corpus before
	corpus="$pkg/testdata/fuzz/$target"
	before="$(ls "$corpus" 2>/dev/null | wc -l)"
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg" && return 0
	if [[ "$(ls "$corpus" 2>/dev/null | wc -l)" != "$before" ]]; then
		echo "fuzz: $target wrote a failing input to $corpus"
		return 1
	fi
	echo "fuzz: $target failed without a failing input (go.dev/issue/75804): once more"
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"
}

# Fuzz targets: func FuzzXxx(f *testing.F) in *_test.go outside testdata.
nfuzz=0
while IFS= read -r file; do
	pkg="./$(dirname "${file#./}")"
	while IFS= read -r target; do
		step "fuzz $target ($pkg, $FUZZTIME)" fuzz_one "$pkg" "$target"
		nfuzz=$((nfuzz + 1))
	done < <(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*\*testing\.F\).*/\1/p' "$file")
done < <(grep -rl --include='*_test.go' --exclude-dir=testdata --exclude-dir=.git 'func Fuzz' . | sort)
if [[ $nfuzz -eq 0 ]]; then
	results+=("FAIL  fuzz: no fuzz target found (the fuzz step ran nothing)")
	failed+=("fuzz: no fuzz target found")
fi

summary "full"
