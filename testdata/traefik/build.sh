#!/usr/bin/env bash
# Builds the real Traefik used by docker-picatest's smoke end-to-end tests
# (TESTING.md "Traefik (real, v3)"): nothing can be pulled on the test machines,
# so Traefik is built from its Go module and run as a FROM scratch image.
#   binary: ${PICATEST_CACHE:-$HOME/.cache/picatest}/traefik-v3.6.12 (reused)
#   image:  picatest-test/traefik:v3.6.12 (rebuilt when the binary changed)
# The first build downloads ~3 GB of modules and takes ~15 minutes; later runs
# take seconds. Built in a temporary module of its own, never the plugin's.
set -euo pipefail

VERSION="v3.6.12"
IMAGE="picatest-test/traefik:${VERSION}"
CACHE="${PICATEST_CACHE:-$HOME/.cache/picatest}"
BIN="$CACHE/traefik-${VERSION}"
LABEL="picatest.test.traefik.sha"

log() { printf 'traefik: %s\n' "$*" >&2; }
die() { printf 'traefik: error: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go not found in PATH (needed to build Traefik)"
command -v docker >/dev/null || die "docker CLI not found in PATH"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [[ -x "$BIN" ]]; then
	log "reusing cached binary $BIN"
else
	mkdir -p "$CACHE"
	log "building Traefik $VERSION (first time: ~15 min, ~3 GB of modules)"
	t0=$SECONDS
	mod="$tmp/mod"
	mkdir -p "$mod"
	cd "$mod"
	export GOFLAGS=-buildvcs=false GOWORK=off
	# Traefik's own go.mod: its replace block and exclude line must be copied
	# (replace directives of a dependency are ignored otherwise).
	tgomod="$(go mod download -json "github.com/traefik/traefik/v3@${VERSION}" | sed -nE 's/^[[:space:]]*"GoMod": "(.*)",?$/\1/p')"
	[[ -r "$tgomod" ]] || die "could not download github.com/traefik/traefik/v3@${VERSION} (go mod download)"
	{
		echo "module picatest.local/traefikbuild"
		echo
		sed -nE 's/^go ([0-9.]+)$/go \1/p' "$tgomod" | head -1
		echo
		echo "require github.com/traefik/traefik/v3 ${VERSION}"
		echo
		# replace ( ... ) block, single-line replace and exclude lines.
		awk '
			/^replace \($/ {inblk=1; print; next}
			inblk {print; if ($0 ~ /^\)$/) inblk=0; next}
			/^replace / {print; next}
			/^exclude \($/ {inex=1; print; next}
			inex {print; if ($0 ~ /^\)$/) inex=0; next}
			/^exclude / {print; next}
		' "$tgomod"
	} >go.mod
	cat >tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/traefik/traefik/v3/cmd/traefik"
GO
	go mod tidy -e >"$tmp/tidy.log" 2>&1 || { tail -30 "$tmp/tidy.log" >&2; die "go mod tidy failed"; }
	CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=${VERSION#v}" \
		-o "$tmp/traefik" github.com/traefik/traefik/v3/cmd/traefik \
		|| die "go build of Traefik failed"
	mv "$tmp/traefik" "$BIN.tmp" && mv "$BIN.tmp" "$BIN"
	log "built $BIN in $((SECONDS - t0))s"
fi

docker info >/dev/null 2>&1 || die "docker engine unreachable (docker info fails); start dockerd or run ./test.sh which does it"
sha="$(sha256sum "$BIN" | cut -d' ' -f1)"
current="$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null || true)"
if [[ "$current" == "$sha" ]]; then
	log "$IMAGE up to date (binary sha256 ${sha:0:12})"
	exit 0
fi
ctx="$tmp/ctx"
mkdir -p "$ctx"
cp "$BIN" "$ctx/traefik"
cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY traefik /traefik
ENTRYPOINT ["/traefik"]
DOCKERFILE
if ! out="$(DOCKER_BUILDKIT=0 docker build --label "$LABEL=$sha" -t "$IMAGE" "$ctx" 2>&1)"; then
	printf '%s\n' "$out" >&2
	die "docker build of $IMAGE failed"
fi
log "ready: $IMAGE (binary sha256 ${sha:0:12})"
