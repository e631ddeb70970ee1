#!/usr/bin/env bash
# Copies images from the default engine into the second engine of start.sh
# (`docker save | docker load`: nothing can be pulled on the test machines).
#   load-images.sh              the test images: picatest-test/app:1 of
#                               testdata/images/build.sh, picatest-test/traefik:v3.6.12
#                               of testdata/traefik/build.sh when built, and every
#                               other tag of the same images (the stand-ins
#                               postgres:12, redis:6, nginx:1.25)
#   load-images.sh IMAGE...     those images
# An image is copied only when the second engine lacks it or has other layers
# or labels. Source engine: PICATEST_ENGINE_SOURCE (default
# unix:///var/run/docker.sock, whatever DOCKER_HOST says). Logs on stderr.
set -euo pipefail

# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
SOURCE="${PICATEST_ENGINE_SOURCE:-unix:///var/run/docker.sock}"
BASE_IMAGES=(picatest-test/app:1 picatest-test/traefik:v3.6.12)

src() { docker -H "$SOURCE" "$@"; }
dst() { docker -H "$ENGINE_HOST" "$@"; }

src info >/dev/null 2>&1 || engine_die "the source engine $SOURCE does not answer (docker info fails)"
engine_answers || engine_die "the second engine does not answer on $ENGINE_HOST: run $engine_here/start.sh first"

if [[ $# -gt 0 ]]; then
	images=("$@")
else
	ids=()
	for ref in "${BASE_IMAGES[@]}"; do
		id="$(src image inspect -f '{{.Id}}' "$ref" 2>/dev/null)" && ids+=("$id")
	done
	[[ ${#ids[@]} -gt 0 ]] || engine_die "no test image on $SOURCE: run testdata/images/build.sh (and testdata/traefik/build.sh) first"
	mapfile -t images < <(src images --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' |
		grep -F -f <(printf '%s \n' "${ids[@]}") | cut -d' ' -f2 | grep -v '<none>' | sort -u)
fi

# Image IDs differ between the stores (the second engine uses containerd's):
# compare the layers' diff IDs and the labels instead.
# fingerprint src|dst REF
fingerprint() { "$1" image inspect -f '{{json .RootFS.Layers}} {{json .Config.Labels}}' "$2" 2>/dev/null; }
todo=()
for ref in "${images[@]}"; do
	want="$(fingerprint src "$ref")" || engine_die "image $ref is missing on $SOURCE"
	have="$(fingerprint dst "$ref" || true)"
	[[ "$have" == "$want" ]] || todo+=("$ref")
done
if [[ ${#todo[@]} -eq 0 ]]; then
	engine_log "images up to date on $ENGINE_HOST: ${images[*]}"
	exit 0
fi
engine_log "copying ${todo[*]} to $ENGINE_HOST"
src save "${todo[@]}" | dst load -q >&2 || engine_die "docker save | docker load failed"
engine_log "images ready on $ENGINE_HOST: ${images[*]}"
