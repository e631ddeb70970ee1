#!/usr/bin/env bash
# The test command of docker-picatest (README): prepares a fresh machine and runs
# every test.
#   ./test.sh          Docker engine (installed/started if needed), lintian,
#                      go build, Traefik image (built once, cached),
#                      test images, go vet, gofmt, go test ./... (end-to-end
#                      included), then a short fuzz of every fuzz target
#   ./test.sh --short  go test -short ./... only (no Docker engine needed)
# Exits non-zero on any failure; the last line is a one-line summary.
set -euo pipefail

FUZZTIME="${PICATEST_FUZZTIME:-20s}"
GO_TEST_TIMEOUT="60m"
DOCKERD_WAIT=60

usage() {
	sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	echo "Environment: PICATEST_FUZZTIME (default 20s) per fuzz target."
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
	local mode="$1"
	printf '\n==> summary\n'
	printf '  %s\n' "${results[@]}"
	if [[ ${#failed[@]} -eq 0 ]]; then
		printf 'test.sh: PASS (%s, %d steps, %ss)\n' "$mode" "${#results[@]}" "$((SECONDS - start))"
		exit 0
	fi
	local list="" f
	for f in "${failed[@]}"; do list+="${list:+; }$f"; done
	printf 'test.sh: FAIL (%s): %s (%ss)\n' "$mode" "$list" "$((SECONDS - start))"
	exit 1
}

command -v go >/dev/null 2>&1 || die "'go' not found in PATH: install Go 1.26.8 or newer from https://go.dev/dl/"

if [[ $short -eq 1 ]]; then
	step "go test -short ./..." go test -short -count=1 ./...
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

# The release test (release/) builds Debian packages with dpkg-deb (dpkg is
# always there) and lints them with lintian when it is installed.
ensure_lintian() {
	if command -v lintian >/dev/null 2>&1; then
		echo "lintian: $(lintian --version)"
		return 0
	fi
	echo "Installing lintian (the release test lints the Debian packages)"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null \
		|| die "apt-get update failed"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends lintian </dev/null \
		|| die "apt-get install lintian failed"
}

log "lintian"
ensure_lintian
results+=("PASS  lintian")

# --- (b) build, (c) test images ----------------------------------------------
log "go build ./..."
go build ./... || die "go build ./... failed"
results+=("PASS  go build ./...")

log "test images (testdata/images/build.sh)"
testdata/images/build.sh || die "building the test images failed"
results+=("PASS  test images")

log "Traefik v3 image (testdata/traefik/build.sh; the binary is cached in ~/.cache/picatest)"
testdata/traefik/build.sh || die "building Traefik failed"
results+=("PASS  Traefik image")

# --- (d) checks and tests -----------------------------------------------------
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
step "go test ./... (end-to-end included)" go test -count=1 -timeout "$GO_TEST_TIMEOUT" ./...

# Fuzz targets: func FuzzXxx(f *testing.F) in *_test.go outside testdata.
nfuzz=0
while IFS= read -r file; do
	pkg="./$(dirname "${file#./}")"
	while IFS= read -r target; do
		step "fuzz $target ($pkg, $FUZZTIME)" \
			go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"
		nfuzz=$((nfuzz + 1))
	done < <(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*\*testing\.F\).*/\1/p' "$file")
done < <(grep -rl --include='*_test.go' --exclude-dir=testdata --exclude-dir=.git 'func Fuzz' . | sort)
[[ $nfuzz -gt 0 ]] || results+=("----  fuzz: no fuzz target found")

summary "full"
