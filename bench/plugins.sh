# shellcheck shell=bash
# Sourced by the benchmarks: builds docker-picatest from this checkout and
# the baseline docker compose CLI of the same Compose module version (built
# once in a module of its own, cached), both CGO_ENABLED=0 -trimpath, into
# a DOCKER_CONFIG's cli-plugins. Needs the caller's log and die functions.

COMPOSE_VERSION="v5.6.0"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/picatest-bench"

# install_plugins DOCKER_CONFIG_DIR
install_plugins() {
	local dir="$1" cached="$CACHE/docker-compose-$COMPOSE_VERSION" mod
	log "building docker-picatest"
	CGO_ENABLED=0 go build -trimpath \
		-ldflags "-X github.com/picasoft/docker-picatest/plugin.Version=bench -X github.com/picasoft/docker-picatest/plugin.Commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		-o "$dir/cli-plugins/docker-picatest" ./cmd/docker-picatest
	if [[ ! -x "$cached" ]]; then
		log "building docker compose $COMPOSE_VERSION (first time only, cached in $cached; takes minutes)"
		mod="$dir/compose-mod"
		mkdir -p "$mod" "$CACHE"
		(
			cd "$mod"
			export GOWORK=off GOFLAGS=-buildvcs=false
			go mod init bench/compose >/dev/null 2>&1
			go get "github.com/docker/compose/v5/cmd@$COMPOSE_VERSION"
			CGO_ENABLED=0 go build -trimpath -o "$cached.tmp" github.com/docker/compose/v5/cmd
		) || die "building docker compose $COMPOSE_VERSION failed"
		mv -f "$cached.tmp" "$cached"
	fi
	cp "$cached" "$dir/cli-plugins/docker-compose"
}
