#!/usr/bin/env bash
# Builds the test images used by docker-picatest's tests (nothing can be pulled
# on the test machines, so every image is FROM scratch with our own program):
#   picatest-test/app:1                     the app in testdata/images/app
#   postgres:12, redis:6, nginx:1.25        stand-ins: docker tag of the same image
# Idempotent: the image is rebuilt only when the app binary's sha256 (recorded
# in the label picatest.test.app.sha) changed. Needs go and a reachable docker.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMAGE="picatest-test/app:1"
STANDINS=(postgres:12 redis:6 nginx:1.25)
LABEL="picatest.test.app.sha"

log() { printf 'images: %s\n' "$*" >&2; }
die() { printf 'images: error: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go not found in PATH (needed to build the test app)"
command -v docker >/dev/null || die "docker CLI not found in PATH"
docker info >/dev/null 2>&1 || die "docker engine unreachable (docker info fails); start dockerd or run ./test.sh which does it"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Reproducible static binary: same source => same sha256.
(cd "$here/app" && CGO_ENABLED=0 GOOS=linux GOFLAGS=-buildvcs=false \
	go build -trimpath -ldflags='-s -w' -o "$tmp/app" .)
sha="$(sha256sum "$tmp/app" | cut -d' ' -f1)"

current="$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null || true)"
if [[ "$current" == "$sha" ]]; then
	log "$IMAGE up to date (app sha256 ${sha:0:12})"
else
	log "building $IMAGE (app sha256 ${sha:0:12})"
	cat >"$tmp/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY app /app
ENTRYPOINT ["/app"]
DOCKERFILE
	# Classic builder: there is no buildx on the test machines.
	if ! out="$(DOCKER_BUILDKIT=0 docker build --label "$LABEL=$sha" -t "$IMAGE" "$tmp" 2>&1)"; then
		printf '%s\n' "$out" >&2
		die "docker build of $IMAGE failed"
	fi
fi

id="$(docker image inspect -f '{{.Id}}' "$IMAGE")"
for ref in "${STANDINS[@]}"; do
	old="$(docker image inspect -f '{{.Id}}' "$ref" 2>/dev/null || true)"
	[[ "$old" == "$id" ]] && continue
	if [[ -n "$old" ]]; then
		oldlabel="$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$ref" 2>/dev/null || true)"
		[[ -n "$oldlabel" ]] || log "warning: $ref was a real image ($old); it now points to the test stand-in (docker tag $old $ref restores it)"
	fi
	docker tag "$IMAGE" "$ref"
done
log "ready: $IMAGE and stand-ins ${STANDINS[*]} (${id:7:12})"
