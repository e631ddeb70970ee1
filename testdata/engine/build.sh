#!/usr/bin/env bash
# Builds the second, current engine of the tests (TESTING.md "A current engine
# beside Debian's") from the Go module proxy, each in a module of its own:
#   dockerd, docker-proxy   github.com/moby/moby/v2 v2.0.0-beta.24 (CGO off)
#   runc                    github.com/opencontainers/runc v1.5.3 (-tags seccomp,
#                           cgo: installs Debian's libseccomp-dev if missing)
# Binaries are cached in ${PICATEST_CACHE:-$HOME/.cache/picatest} as
# dockerd-v2.0.0-beta.24, docker-proxy-v2.0.0-beta.24, runc-v1.5.3 and reused.
# stdout: the three paths, one a line, in that order. The first build of
# dockerd takes about 10 minutes on 2 cores; later runs return at once.
set -euo pipefail

# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

if [[ ! -x "$RUNC_BIN" ]] && ! dpkg -s libseccomp-dev >/dev/null 2>&1; then
	engine_log "installing libseccomp-dev (Debian package, needed by runc's seccomp support)"
	engine_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libseccomp-dev </dev/null >/dev/null \
		|| { engine_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >/dev/null &&
			engine_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libseccomp-dev </dev/null >/dev/null; } \
		|| engine_die "apt-get install libseccomp-dev failed"
fi

# Without the seccomp tag every container fails: "seccomp: config provided but
# seccomp not supported".
CGO_ENABLED=1 go_build_cached runc "$RUNC_BIN" github.com/opencontainers/runc "$RUNC_VERSION" \
	-tags "seccomp urfave_cli_no_docs" -ldflags "-s -w"
CGO_ENABLED=0 go_build_cached docker-proxy "$PROXY_BIN" github.com/moby/moby/v2/cmd/docker-proxy "$ENGINE_VERSION" \
	-ldflags "-s -w"
CGO_ENABLED=0 go_build_cached dockerd "$DOCKERD_BIN" github.com/moby/moby/v2/cmd/dockerd "$ENGINE_VERSION" \
	-tags "exclude_graphdriver_btrfs exclude_graphdriver_devicemapper" \
	-ldflags "-s -w -X github.com/moby/moby/v2/dockerversion.Version=${ENGINE_VERSION#v}"

printf '%s\n' "$DOCKERD_BIN" "$PROXY_BIN" "$RUNC_BIN"
