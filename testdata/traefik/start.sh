#!/usr/bin/env bash
# Starts (idempotently) the real Traefik of the smoke end-to-end tests, as on
# the test machine: container picatest-traefik on the external network proxy,
# Docker provider (exposedbydefault=false, network proxy), entrypoints
#   web        :80  -> 127.0.0.1:${PICATEST_TRAEFIK_HTTP:-18080}
#   websecure  :443 -> 127.0.0.1:${PICATEST_TRAEFIK_HTTPS:-18443} (TLS, self-signed default certificate)
# and ping on the traefik entrypoint (:8082, 127.0.0.1:${PICATEST_TRAEFIK_PING:-18082}).
# Waits until Traefik answers. Needs the image of build.sh.
# On the engine of DOCKER_HOST (e.g. the second engine of testdata/engine):
# a unix:// DOCKER_HOST's socket is the one mounted for the Docker provider.
# A second Traefik beside it: another name and other ports, and extra
# arguments, e.g. Traefik v2's rule syntax:
#   PICATEST_TRAEFIK_NAME=picatest-traefik-v2 PICATEST_TRAEFIK_HTTP=18180 \
#   PICATEST_TRAEFIK_HTTPS=18543 PICATEST_TRAEFIK_PING=18182 \
#   PICATEST_TRAEFIK_ARGS=--core.defaultRuleSyntax=v2 start.sh
# (PICATEST_TRAEFIK_ARGS is split on spaces). A container of that name that
# already runs the image is kept as it is: remove it to change its arguments.
set -euo pipefail

VERSION="v3.6.12"
IMAGE="picatest-test/traefik:${VERSION}"
NAME="${PICATEST_TRAEFIK_NAME:-picatest-traefik}"
read -r -a EXTRA_ARGS <<<"${PICATEST_TRAEFIK_ARGS:-}"
HTTP_PORT="${PICATEST_TRAEFIK_HTTP:-18080}"
HTTPS_PORT="${PICATEST_TRAEFIK_HTTPS:-18443}"
PING_PORT="${PICATEST_TRAEFIK_PING:-18082}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOCK="/var/run/docker.sock"
[[ "${DOCKER_HOST:-}" == unix://* ]] && SOCK="${DOCKER_HOST#unix://}"

log() { printf 'traefik: %s\n' "$*" >&2; }
die() { printf 'traefik: error: %s\n' "$*" >&2; exit 1; }

docker info >/dev/null 2>&1 || die "docker engine unreachable (docker info fails)"
docker image inspect "$IMAGE" >/dev/null 2>&1 \
	|| die "image $IMAGE is missing: run $here/build.sh first (the first build takes ~15 min)"

if ! docker network inspect proxy >/dev/null 2>&1; then
	docker network create proxy >/dev/null 2>&1 || docker network inspect proxy >/dev/null 2>&1 \
		|| die "could not create the network proxy"
fi

want="$(docker image inspect -f '{{.Id}}' "$IMAGE")"
state="$(docker inspect -f '{{.State.Running}} {{.Image}}' "$NAME" 2>/dev/null || true)"
if [[ "$state" != "true $want" ]]; then
	[[ -n "$state" ]] && docker rm -f "$NAME" >/dev/null
	log "starting $NAME ($IMAGE${EXTRA_ARGS[*]:+ ${EXTRA_ARGS[*]}}) on network proxy: http 127.0.0.1:$HTTP_PORT, https 127.0.0.1:$HTTPS_PORT"
	docker run -d --name "$NAME" --restart unless-stopped --network proxy \
		--label net.picasoft.picatest.test-traefik=true \
		-v "$SOCK:/var/run/docker.sock:ro" \
		-p "127.0.0.1:$HTTP_PORT:80" -p "127.0.0.1:$HTTPS_PORT:443" -p "127.0.0.1:$PING_PORT:8082" \
		"$IMAGE" \
		--providers.docker.exposedbydefault=false \
		--providers.docker.network=proxy \
		--entrypoints.web.address=:80 \
		--entrypoints.websecure.address=:443 \
		--entrypoints.websecure.http.tls=true \
		--entrypoints.traefik.address=:8082 \
		--ping=true --ping.entrypoint=traefik \
		--log.level=INFO ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"} >/dev/null \
		|| die "docker run of $NAME failed"
fi

# ping answers "HTTP/1.1 200 OK" (bash's /dev/tcp: no curl needed).
ping() {
	local status
	exec 3<>"/dev/tcp/127.0.0.1/$PING_PORT" || return 1
	printf 'GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
	IFS= read -r -t 2 status <&3 || status=""
	exec 3<&- 3>&-
	[[ "$status" == *" 200 "* ]]
}
for ((i = 0; i < 100; i++)); do
	# A subshell that ignores SIGPIPE: docker-proxy may accept, then close,
	# before Traefik listens.
	if (trap "" PIPE; ping) 2>/dev/null; then
		log "ready: $NAME answers on 127.0.0.1:$HTTP_PORT (http) and 127.0.0.1:$HTTPS_PORT (https)"
		exit 0
	fi
	sleep 0.2
done
docker logs --tail 20 "$NAME" >&2 || true
die "$NAME does not answer on 127.0.0.1:$PING_PORT/ping after 20s"
