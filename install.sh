#!/usr/bin/env bash
# Builds docker-picatest, or installs a release binary, as a Docker CLI plugin (SPEC §8).
#   ./install.sh                  -> ${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins/docker-picatest
#   ./install.sh --system         -> /usr/local/lib/docker/cli-plugins/docker-picatest
#   ./install.sh --binary FILE    installs the release binary FILE, checked against
#                                 the SHA256SUMS beside it, instead of building
# Without Go >= GO_MIN and without --binary, it installs the release binary for
# this OS and architecture found beside install.sh (docker-picatest-OS-ARCH).
set -euo pipefail

GO_MIN="1.26.8"
PLUGIN="docker-picatest"
PKG="github.com/picasoft/docker-picatest"

usage() {
	cat <<USAGE
Usage: ./install.sh [--system] [--binary FILE] [--help]

Builds the docker-picatest CLI plugin from this checkout (needs Go >= ${GO_MIN})
and installs it where the docker CLI looks for plugins, then runs
'docker picatest version'. Without Go >= ${GO_MIN} it installs instead the
release binary ${PLUGIN}-OS-ARCH of this machine found beside install.sh,
after checking it against the SHA256SUMS file beside it.

Options:
  --system       install for every user in /usr/local/lib/docker/cli-plugins
                 (needs root) instead of \${DOCKER_CONFIG:-\$HOME/.docker}/cli-plugins
  --binary FILE  install the release binary FILE (${PLUGIN}-OS-ARCH, with
                 SHA256SUMS beside it) instead of building; Go is not needed
  -h, --help     show this help

Environment:
  DOCKER_CONFIG  Docker's config directory (default \$HOME/.docker)
  GOTOOLCHAIN    by default the local Go is used; set e.g. GOTOOLCHAIN=go${GO_MIN}
                 to let Go fetch that toolchain from the Go module proxy
USAGE
}

die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

system=0
binary=""
while [[ $# -gt 0 ]]; do
	case "$1" in
		--system) system=1 ;;
		--binary)
			[[ $# -ge 2 && -n "$2" ]] || die "--binary needs a FILE, e.g. --binary ./${PLUGIN}-linux-amd64"
			binary="$2"; shift ;;
		-h | --help) usage; exit 0 ;;
		*) printf 'install.sh: unknown argument %q\n\n' "$1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
# FILE is relative to the caller's directory, not to the repository.
[[ -z "$binary" || "$binary" == /* ]] || binary="${PWD}/${binary}"

# Work from the repository whatever the caller's cwd.
cd "$(dirname "${BASH_SOURCE[0]}")"

# --- This machine's release binary ------------------------------------------
os="$(uname -s | tr '[:upper:]' '[:lower:]')"
case "$(uname -m)" in
	x86_64 | amd64) arch=amd64 ;;
	aarch64 | arm64) arch=arm64 ;;
	*) arch="$(uname -m)" ;;
esac
release_bin="${PLUGIN}-${os}-${arch}"
case "${os}/${arch}" in
	linux/amd64 | linux/arm64 | darwin/amd64 | darwin/arm64)
		get_release="download ${release_bin} and SHA256SUMS from a docker-picatest release (the artifacts of its GitLab 'release' job) into one folder and run './install.sh --binary ./${release_bin}'"
		[[ "$os" == linux ]] && get_release+=" (or install the release's Debian package: apt-get install ./${PLUGIN}_VERSION_${arch}.deb)" ;;
	*) get_release="releases have no binary for ${os}/${arch} (only linux/amd64, linux/arm64, darwin/amd64, darwin/arm64): build from source" ;;
esac

# sha256 FILE: prints FILE's SHA-256 in hex (GNU coreutils, or macOS's shasum).
sha256() {
	if command -v sha256sum >/dev/null 2>&1; then sha256sum -- "$1" | awk '{print $1}'
	else shasum -a 256 -- "$1" | awk '{print $1}'
	fi
}

# check_binary FILE: FILE is this machine's release binary and matches the
# SHA256SUMS beside it, or the script stops before anything is installed.
check_binary() {
	local file="$1" name dir sums want got
	name="$(basename -- "$file")"
	dir="$(dirname -- "$file")"
	[[ -f "$file" ]] || die "${file}: no such file; ${get_release}"
	if [[ "$name" != "$release_bin" ]]; then
		if [[ "$name" =~ ^${PLUGIN}-([a-z0-9]+)-([a-z0-9]+)$ ]]; then
			die "${file} is the release binary for ${BASH_REMATCH[1]}/${BASH_REMATCH[2]}, this machine is ${os}/${arch}; ${get_release}"
		fi
		die "${file} is not named as a release binary (${release_bin} on this machine); SHA256SUMS lists the release files by name: keep the name they were downloaded with"
	fi
	sums="${dir}/SHA256SUMS"
	[[ -f "$sums" ]] || die "no SHA256SUMS beside ${file}; download SHA256SUMS from the same release into ${dir}"
	want="$(awk -v n="$name" '$2 == n || $2 == "*" n {print $1; exit}' "$sums")"
	[[ -n "$want" ]] || die "${sums} has no line for ${name}; download ${name} and SHA256SUMS again, from the same release"
	command -v sha256sum >/dev/null 2>&1 || command -v shasum >/dev/null 2>&1 \
		|| die "neither sha256sum nor shasum found to check ${file}; install GNU coreutils"
	got="$(sha256 "$file")"
	[[ "$got" == "$want" ]] \
		|| die "${file} does not match ${sums} (SHA-256 ${got}, expected ${want}): it is damaged or from another release; nothing was installed; download ${name} and SHA256SUMS again, from the same release"
	printf 'Checked %s against %s (SHA-256 %s)\n' "$file" "$sums" "$got"
}

# --- Go toolchain -----------------------------------------------------------
# check_go sets go_ver (go1.26.8, devel, ...) and why: empty when Go >= GO_MIN
# can build, else why it cannot.
check_go() {
	why="" go_ver=""
	command -v go >/dev/null 2>&1 || { why="'go' not found in PATH"; return; }
	local go_found num
	go_found="$(cd / && go version 2>&1)" || { why="'go version' failed: ${go_found}"; return; }
	go_ver="$(awk '{print $3}' <<<"$go_found")"
	num="${go_ver#go}"; num="${num%%[!0-9.]*}" # 1.26.8 (1.27rc1 -> 1.27)
	if [[ "$go_ver" == devel* ]]; then
		printf 'install.sh: warning: development Go (%s), not checking its version\n' "$go_found" >&2
	elif [[ -z "$num" ]] || ! printf '%s\n%s\n' "$GO_MIN" "$num" | sort -V -C; then
		why="found ${go_ver:-an unknown Go} ($(command -v go)), need go${GO_MIN} or newer"
	fi
}

get_go="get Go ${GO_MIN} or newer from https://go.dev/dl/ and put its bin directory first in PATH"
if [[ -z "$binary" ]]; then
	# Check the local toolchain unless the caller chose one with GOTOOLCHAIN.
	export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
	check_go
	[[ -n "$why" || -f ./go.mod ]] || why="no docker-picatest source beside install.sh to build"
	if [[ -n "$why" ]]; then
		if [[ -f "./${release_bin}" ]]; then
			printf 'install.sh: %s; installing the release binary %s beside install.sh\n' "$why" "$release_bin" >&2
			binary="${PWD}/${release_bin}"
		elif [[ -f ./go.mod ]]; then
			die "${why}; ${get_go}, or else ${get_release}"
		else
			die "${why}, and no ${release_bin} beside it (in ${PWD}) to install; ${get_release}, or else ${get_go} and run the install.sh of a docker-picatest checkout"
		fi
	fi
fi
[[ -z "$binary" ]] || check_binary "$binary"

# --- Build ------------------------------------------------------------------
if [[ $system -eq 1 ]]; then
	dest_dir="/usr/local/lib/docker/cli-plugins"
else
	dest_dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
fi
mkdir -p "$dest_dir" 2>/dev/null || die "cannot create ${dest_dir}$([[ $system -eq 1 ]] && echo ' (run with sudo/as root for --system)')"
[[ -w "$dest_dir" ]] || die "${dest_dir} is not writable$([[ $system -eq 1 ]] && echo ' (run with sudo/as root for --system)')"
dest="${dest_dir}/${PLUGIN}"

tmp="${dest}.tmp.$$"
trap 'rm -f "$tmp"' EXIT
if [[ -n "$binary" ]]; then
	printf 'Installing %s\n' "$binary"
	cp -- "$binary" "$tmp"
else
	version="$(git describe --tags --always --dirty 2>/dev/null || true)"
	commit="$(git rev-parse --short HEAD 2>/dev/null || true)"
	version="${version:-dev}"
	commit="${commit:-unknown}"
	printf 'Building %s %s (%s) with %s\n' "$PLUGIN" "$version" "$commit" "$go_ver"
	CGO_ENABLED=0 go build -trimpath \
		-ldflags "-X ${PKG}/plugin.Version=${version} -X ${PKG}/plugin.Commit=${commit}" \
		-o "$tmp" ./cmd/docker-picatest
fi
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
