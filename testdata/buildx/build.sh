#!/usr/bin/env bash
# Builds the docker-buildx CLI plugin used to run the tests on BuildKit
# (TESTING.md "BuildKit: the buildx plugin"), from its Go module, with the
# version stamp Compose requires (an unstamped buildx reports v0.0.0 and
# `compose build` refuses it).
#   binary: ${PICATEST_CACHE:-$HOME/.cache/picatest}/docker-buildx-v0.38.2 (reused)
#   stdout: the binary's path, one line; copy or symlink it to
#           $DOCKER_CONFIG/cli-plugins/docker-buildx
# The first build takes a few minutes; later runs return at once.
set -euo pipefail

VERSION="v0.38.2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/gobuild.sh
source "$here/../lib/gobuild.sh"
BIN="$PICATEST_CACHE/docker-buildx-${VERSION}"

CGO_ENABLED=0 go_build_cached buildx "$BIN" github.com/docker/buildx/cmd/buildx "$VERSION" \
	-ldflags "-s -w -X github.com/docker/buildx/version.Version=${VERSION}"
printf '%s\n' "$BIN"
