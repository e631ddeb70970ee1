#!/usr/bin/env bash
# Builds docker-picatest and installs it as a Docker CLI plugin (SPEC §8).
#   ./install.sh            -> ${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins/docker-picatest
#   ./install.sh --system   -> /usr/local/lib/docker/cli-plugins/docker-picatest
set -euo pipefail

GO_MIN="1.26.8"
PLUGIN="docker-picatest"
PKG="github.com/picasoft/docker-picatest"

usage() {
	cat <<USAGE
Usage: ./install.sh [--system] [--help]

Builds the docker-picatest CLI plugin from this checkout (needs Go >= ${GO_MIN})
and installs it where the docker CLI looks for plugins, then runs
'docker picatest version'.

Options:
  --system   install for every user in /usr/local/lib/docker/cli-plugins
             (needs root) instead of \${DOCKER_CONFIG:-\$HOME/.docker}/cli-plugins
  -h, --help show this help

Environment:
  DOCKER_CONFIG  Docker's config directory (default \$HOME/.docker)
  GOTOOLCHAIN    by default the local Go is used; set e.g. GOTOOLCHAIN=go${GO_MIN}
                 to let Go fetch that toolchain from the Go module proxy
USAGE
}

die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

system=0
while [[ $# -gt 0 ]]; do
	case "$1" in
		--system) system=1 ;;
		-h | --help) usage; exit 0 ;;
		*) printf 'install.sh: unknown argument %q\n\n' "$1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

# Work from the repository whatever the caller's cwd.
cd "$(dirname "${BASH_SOURCE[0]}")"

# --- Go toolchain -----------------------------------------------------------
get_go="get Go ${GO_MIN} or newer from https://go.dev/dl/ and put its bin directory first in PATH"
command -v go >/dev/null 2>&1 || die "'go' not found in PATH; ${get_go}"
# Check the local toolchain unless the caller chose one with GOTOOLCHAIN.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
go_found="$(cd / && go version 2>&1)" || die "'go version' failed: ${go_found}"
go_ver="$(awk '{print $3}' <<<"$go_found")"       # go1.26.8, devel, ...
num="${go_ver#go}"; num="${num%%[!0-9.]*}"         # 1.26.8 (1.27rc1 -> 1.27)
if [[ "$go_ver" == devel* ]]; then
	printf 'install.sh: warning: development Go (%s), not checking its version\n' "$go_found" >&2
elif [[ -z "$num" ]] || ! printf '%s\n%s\n' "$GO_MIN" "$num" | sort -V -C; then
	die "found ${go_ver:-an unknown Go} ($(command -v go)), need go${GO_MIN} or newer; ${get_go}"
fi

# --- Build ------------------------------------------------------------------
version="$(git describe --tags --always --dirty 2>/dev/null || true)"
commit="$(git rev-parse --short HEAD 2>/dev/null || true)"
version="${version:-dev}"
commit="${commit:-unknown}"

if [[ $system -eq 1 ]]; then
	dest_dir="/usr/local/lib/docker/cli-plugins"
else
	dest_dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
fi
mkdir -p "$dest_dir" 2>/dev/null || die "cannot create ${dest_dir}$([[ $system -eq 1 ]] && echo ' (run with sudo/as root for --system)')"
[[ -w "$dest_dir" ]] || die "${dest_dir} is not writable$([[ $system -eq 1 ]] && echo ' (run with sudo/as root for --system)')"
dest="${dest_dir}/${PLUGIN}"

printf 'Building %s %s (%s) with %s\n' "$PLUGIN" "$version" "$commit" "$go_ver"
tmp="${dest}.tmp.$$"
trap 'rm -f "$tmp"' EXIT
CGO_ENABLED=0 go build -trimpath \
	-ldflags "-X ${PKG}/plugin.Version=${version} -X ${PKG}/plugin.Commit=${commit}" \
	-o "$tmp" ./cmd/docker-picatest
chmod 0755 "$tmp"
mv -f "$tmp" "$dest" # atomic: a running docker never sees a half-written plugin
trap - EXIT
printf 'Installed %s\n' "$dest"

if [[ $system -eq 1 ]]; then
	user_plugin="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins/${PLUGIN}"
	[[ -e "$user_plugin" ]] && printf 'install.sh: warning: %s exists and takes precedence over the system plugin; remove it to use this one\n' "$user_plugin" >&2
fi

# --- Check ------------------------------------------------------------------
command -v docker >/dev/null 2>&1 || die "plugin installed in ${dest_dir}, but the 'docker' CLI is not in PATH to run it; install Docker (https://docs.docker.com/engine/install/) and run 'docker picatest version'"
docker picatest version
