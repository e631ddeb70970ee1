#!/usr/bin/env bash
# Starts the image registry used by the push tests (TESTING.md): Debian's
# docker-registry (the distribution registry) on 127.0.0.1:5000 with htpasswd
# authentication, user "picatest", password "picatest-pass".
#   testdata/registry/start.sh   installs docker-registry and apache2-utils if
#                                missing, starts the registry unless it already
#                                answers, waits until it does
# State (config, htpasswd, storage, log, pid) lives in
# ${PICATEST_REGISTRY_DIR:-/tmp/picatest-registry}. Idempotent; stop.sh stops it.
set -euo pipefail

DIR="${PICATEST_REGISTRY_DIR:-/tmp/picatest-registry}"
ADDR="127.0.0.1:5000"
USER_NAME="picatest"
PASSWORD="picatest-pass"
WAIT=30

log() { printf 'registry: %s\n' "$*" >&2; }
die() { printf 'registry: error: %s\n' "$*" >&2; exit 1; }

as_root() {
	if [[ $EUID -eq 0 ]]; then "$@"
	elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
	else die "need root for: $*"
	fi
}

# status prints the HTTP status of GET /v2/ without credentials (401 when
# the registry with authentication answers), 000 when nothing answers.
status() { curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$ADDR/v2/" 2>/dev/null || true; }

if [[ "$(status)" == "401" ]]; then
	log "already answering on $ADDR"
	exit 0
fi

missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [[ ${#missing[@]} -gt 0 ]]; then
	log "installing ${missing[*]} (Debian packages)"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >/dev/null || die "apt-get update failed"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null >/dev/null \
		|| die "apt-get install ${missing[*]} failed"
fi
# The Debian package starts its own service on :5000 with its own config:
# stop it, ours is the one the tests expect.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
	as_root systemctl stop docker-registry || true
fi
if [[ -x /etc/init.d/docker-registry ]] && ! command -v systemctl >/dev/null 2>&1; then
	as_root /etc/init.d/docker-registry stop >/dev/null 2>&1 || true
fi

mkdir -p "$DIR/data"
htpasswd -Bbn "$USER_NAME" "$PASSWORD" >"$DIR/htpasswd"
cat >"$DIR/config.yml" <<CONFIG
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $DIR/data
  delete:
    enabled: true
http:
  addr: $ADDR
auth:
  htpasswd:
    realm: picatest-registry
    path: $DIR/htpasswd
CONFIG

if [[ -f "$DIR/pid" ]] && kill -0 "$(cat "$DIR/pid")" 2>/dev/null; then
	log "process $(cat "$DIR/pid") is running but does not answer yet, waiting for it"
else
	log "starting docker-registry on $ADDR (log: $DIR/registry.log)"
	setsid docker-registry serve "$DIR/config.yml" >"$DIR/registry.log" 2>&1 </dev/null &
	echo $! >"$DIR/pid"
fi

for ((i = 0; i < WAIT * 5; i++)); do
	if [[ "$(status)" == "401" ]]; then
		log "ready on $ADDR (user $USER_NAME)"
		exit 0
	fi
	sleep 0.2
done
tail -20 "$DIR/registry.log" >&2 || true
die "the registry does not answer on $ADDR after ${WAIT}s (log: $DIR/registry.log)"
