# Sourced by the build scripts under testdata/ (buildx, engine): builds one Go
# command from the module proxy, in a temporary module of its own (never the
# plugin's go.mod), and caches the binary under
# ${PICATEST_CACHE:-$HOME/.cache/picatest} keyed by version.
#
#   go_build_cached NAME BIN PACKAGE VERSION [GO BUILD ARGS...]
#
# Does nothing when BIN is already there (an executable); otherwise runs
# `go get PACKAGE@VERSION` in a fresh module, then `go build -trimpath
# GO BUILD ARGS -o BIN PACKAGE` (CGO_ENABLED and the like come from the
# caller's environment), and moves the result into place atomically. The
# build's output is kept in BIN.log. A lock file beside BIN makes a second
# concurrent run wait for the first instead of building twice.
# Logs go to stderr, prefixed with NAME; returns non-zero on failure.

PICATEST_CACHE="${PICATEST_CACHE:-$HOME/.cache/picatest}"

go_build_cached() {
	local name="$1" bin="$2" pkg="$3" version="$4"
	shift 4
	if [[ -x "$bin" ]]; then
		printf '%s: reusing cached %s\n' "$name" "$bin" >&2
		return 0
	fi
	command -v go >/dev/null || { printf '%s: error: go not found in PATH\n' "$name" >&2; return 1; }
	command -v flock >/dev/null || { printf '%s: error: flock not found in PATH (Debian package util-linux)\n' "$name" >&2; return 1; }
	mkdir -p "$(dirname "$bin")"
	(
		exec 9>"$bin.lock"
		flock 9
		if [[ -x "$bin" ]]; then
			printf '%s: %s was built meanwhile, reusing it\n' "$name" "$bin" >&2
			exit 0
		fi
		tmp="$(mktemp -d)"
		trap 'rm -rf "$tmp"' EXIT
		t0=$SECONDS
		printf '%s: building %s@%s (log: %s.log)\n' "$name" "$pkg" "$version" "$bin" >&2
		cd "$tmp"
		export GOFLAGS=-buildvcs=false GOWORK=off
		if ! { go mod init picatest.local/build && go get "$pkg@$version" &&
			go build -trimpath "$@" -o "$tmp/out" "$pkg"; } >"$bin.log" 2>&1; then
			tail -30 "$bin.log" >&2
			printf '%s: error: building %s@%s failed (log: %s.log)\n' "$name" "$pkg" "$version" "$bin" >&2
			exit 1
		fi
		mv "$tmp/out" "$bin.tmp" && mv "$bin.tmp" "$bin"
		printf '%s: built %s in %ss\n' "$name" "$bin" "$((SECONDS - t0))" >&2
	)
}
