#!/usr/bin/env bash
# Makes a release of docker-picatest (issue 14, SPEC §8, README "Install"):
#   scripts/release.sh [--out DIR] [--targets LIST] VERSION
# builds the commit HEAD (not the uncommitted changes of the checkout) into DIR
# (default dist/VERSION, which must not exist or be empty):
#   docker-picatest-OS-ARCH           static binaries (CGO_ENABLED=0, -trimpath,
#                                     -s -w, plugin.Version=VERSION, plugin.Commit=
#                                     HEAD's short hash) for linux/amd64,
#                                     linux/arm64, darwin/amd64, darwin/arm64
#   docker-picatest_DEBVER_ARCH.deb   a Debian package per Linux architecture
#                                     (dpkg-deb), installing the plugin into
#                                     /usr/libexec/docker/cli-plugins; linted
#                                     when lintian is installed (errors fail)
#   install.sh                        the install script (--binary, SHA256SUMS)
#   SHA256SUMS                        sha256sum of every file above
#   scripts/release.sh --deb-version VERSION   prints DEBVER, the Debian version
# Debian version of VERSION: a "v" before a digit goes (v0.3.0 -> 0.3.0); git describe's
# "-N-gHASH" suffix becomes "+N.gHASH" (after the tag) and "-dirty" "+dirty";
# the first other "-" becomes "~" (pre-release, before the release:
# 0.3.0-rc.1 -> 0.3.0~rc.1); any character Debian does not allow becomes ".";
# a version not starting with a digit gets "0~" before it (dev -> 0~dev, before
# every release).
# It needs Go, git, GNU coreutils, dpkg-deb (Debian's dpkg) and gzip.
set -euo pipefail

PLUGIN="docker-picatest"
PKG="github.com/picasoft/docker-picatest"
ALL_TARGETS="linux/amd64,linux/arm64,darwin/amd64,darwin/arm64"
MAINTAINER="${PICATEST_DEB_MAINTAINER:-Picasoft <admin@picasoft.net>}"
HOMEPAGE="https://wiki.picasoft.net"

usage() {
	sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	cat <<USAGE

Options:
  --out DIR       where the release files go (default dist/VERSION)
  --targets LIST  comma-separated OS/ARCH list (default ${ALL_TARGETS})
  -h, --help      show this help

Environment: PICATEST_DEB_MAINTAINER, the package's Maintainer
(default "Picasoft <admin@picasoft.net>").
USAGE
}

die() { printf 'release.sh: error: %s\n' "$*" >&2; exit 1; }

# deb_version VERSION: the Debian version of VERSION (see the header).
deb_version() {
	local v="$1" suffix=""
	[[ "$v" =~ ^v[0-9] ]] && v="${v#v}"
	if [[ "$v" =~ ^(.*)-dirty$ ]]; then v="${BASH_REMATCH[1]}"; suffix="+dirty"; fi
	if [[ "$v" =~ ^(.+)-([0-9]+)-g([0-9a-f]+)$ ]]; then
		v="${BASH_REMATCH[1]}+${BASH_REMATCH[2]}.g${BASH_REMATCH[3]}"
	fi
	v="${v/-/\~}"
	v="${v//[^A-Za-z0-9.+~]/.}${suffix}"
	[[ "$v" =~ ^[0-9] ]] || v="0~${v}"
	printf '%s\n' "$v"
}

out="" targets="$ALL_TARGETS" version="" print_deb=0
while [[ $# -gt 0 ]]; do
	case "$1" in
		--out) [[ $# -ge 2 ]] || die "--out needs a directory"; out="$2"; shift ;;
		--targets) [[ $# -ge 2 ]] || die "--targets needs a list such as ${ALL_TARGETS}"; targets="$2"; shift ;;
		--deb-version) print_deb=1 ;;
		-h | --help) usage; exit 0 ;;
		-*) printf 'release.sh: unknown option %q\n\n' "$1" >&2; usage >&2; exit 2 ;;
		*) [[ -z "$version" ]] || die "one VERSION only (got '${version}' and '$1')"; version="$1" ;;
	esac
	shift
done
[[ -n "$version" ]] || { printf 'release.sh: give the VERSION, e.g. scripts/release.sh v0.3.0\n\n' >&2; usage >&2; exit 2; }
[[ "$version" =~ ^[A-Za-z0-9][A-Za-z0-9._+~-]*$ ]] \
	|| die "VERSION '${version}' has characters a version cannot have; use letters, digits and . _ + ~ - (e.g. v0.3.0)"
debver="$(deb_version "$version")"
IFS=',' read -r -a target_list <<<"$targets"
for target in "${target_list[@]}"; do
	[[ ",${ALL_TARGETS}," == *",${target},"* ]] || die "target '${target}' is not one of ${ALL_TARGETS}"
done
if [[ $print_deb -eq 1 ]]; then
	printf '%s\n' "$debver"
	exit 0
fi

# --- Tools and source ---------------------------------------------------------
command -v go >/dev/null 2>&1 || die "'go' not found in PATH; get Go 1.26.8 or newer from https://go.dev/dl/"
command -v dpkg-deb >/dev/null 2>&1 || die "'dpkg-deb' not found; it builds the Debian packages: install dpkg (Debian: apt-get install dpkg; macOS: brew install dpkg)"
command -v sha256sum >/dev/null 2>&1 || die "'sha256sum' not found; install GNU coreutils"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ -n "$out" ]] || out="${repo}/dist/${version}"
if [[ -e "$out" && -n "$(ls -A "$out" 2>/dev/null)" ]]; then
	die "${out} is not empty: remove it or choose another directory with --out"
fi
mkdir -p "$out" || die "cannot create ${out}"
out="$(cd "$out" && pwd)"

work="$(mktemp -d "${TMPDIR:-/tmp}/picatest-release.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# The release is built from HEAD, so that it is the commit it is stamped with.
git -C "$repo" rev-parse --verify -q HEAD >/dev/null \
	|| die "${repo} is not a git checkout with a commit; the release is built from HEAD"
commit="$(git -C "$repo" rev-parse --short HEAD)"
epoch="$(git -C "$repo" log -1 --format=%ct HEAD)" # reproducible dates: the commit's
if [[ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
	printf 'release.sh: warning: the checkout has uncommitted changes; they are not in the release (it is built from %s)\n' "$commit" >&2
fi
src="${work}/src"
mkdir -p "$src"
git -C "$repo" archive --format=tar HEAD | tar -x -C "$src" || die "git archive HEAD failed"

printf 'Release %s (Debian %s) of %s, commit %s, %s, into %s\n' \
	"$version" "$debver" "$PLUGIN" "$commit" "$(go version | awk '{print $3}')" "$out"

# --- Binaries -----------------------------------------------------------------
files=()
for target in "${target_list[@]}"; do
	os="${target%/*}" arch="${target#*/}"
	bin="${PLUGIN}-${os}-${arch}"
	t0=$SECONDS
	(cd "$src" && CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" go build -buildvcs=false -trimpath \
		-ldflags "-s -w -X ${PKG}/plugin.Version=${version} -X ${PKG}/plugin.Commit=${commit}" \
		-o "${out}/${bin}" ./cmd/docker-picatest) || die "go build for ${target} failed"
	printf '  %-32s %s bytes (%ss)\n' "$bin" "$(wc -c <"${out}/${bin}")" "$((SECONDS - t0))"
	files+=("$bin")
done

# --- Debian packages ----------------------------------------------------------
# deb ARCH BINARY: builds docker-picatest_DEBVER_ARCH.deb around BINARY.
deb() {
	local arch="$1" bin="$2" root="${work}/deb-$1" doc
	local name="${PLUGIN}_${debver}_${arch}.deb"
	doc="${root}/usr/share/doc/${PLUGIN}"
	install -d "${root}/DEBIAN" "${root}/usr/libexec/docker/cli-plugins" "$doc"
	install -m 0755 "$bin" "${root}/usr/libexec/docker/cli-plugins/${PLUGIN}"
	install -m 0644 "${src}/scripts/debian/copyright" "${doc}/copyright"
	install -d "${root}/usr/share/lintian/overrides"
	install -m 0644 "${src}/scripts/debian/lintian-overrides" "${root}/usr/share/lintian/overrides/${PLUGIN}"
	cat >"${work}/changelog" <<CHANGELOG
${PLUGIN} (${debver}) unstable; urgency=medium

  * Release ${version} of docker picatest, built from commit ${commit}.

 -- ${MAINTAINER}  $(date -u -R -d "@${epoch}")
CHANGELOG
	gzip -9n <"${work}/changelog" >"${doc}/changelog.gz"
	chmod 0644 "${doc}/changelog.gz"
	cat >"${root}/DEBIAN/control" <<CONTROL
Package: ${PLUGIN}
Version: ${debver}
Architecture: ${arch}
Maintainer: ${MAINTAINER}
Installed-Size: $(du -sk "${root}/usr" | cut -f1)
Depends: docker.io | docker-ce-cli
Section: admin
Priority: optional
Homepage: ${HOMEPAGE}
Description: Docker CLI plugin to test a Compose service on a test machine
 docker picatest turns Picasoft's manual procedure for testing a change to a
 service into one command: in a service folder, "docker picatest up" resets
 the previous test deployment, builds and pulls, starts the service with test
 URLs and example secrets, waits until every container is healthy, requests
 each test URL through Traefik, scans the logs and prints a report. The
 Compose files are rewritten in memory only, so nothing test-only can be
 committed. "docker picatest push" publishes the home-made images safely.
 .
 The plugin is installed in /usr/libexec/docker/cli-plugins, where the docker
 CLI of docker.io and of docker-ce-cli finds it.
CONTROL
	(cd "$root" && find usr -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"${root}/DEBIAN/md5sums"
	find "$root" -exec touch -h -d "@${epoch}" {} +
	SOURCE_DATE_EPOCH="$epoch" dpkg-deb --root-owner-group -Zxz --build "$root" "${out}/${name}" >/dev/null \
		|| die "dpkg-deb --build for ${arch} failed"
	printf '  %-32s %s bytes\n' "$name" "$(wc -c <"${out}/${name}")"
	files+=("$name")
}

debs=()
for target in "${target_list[@]}"; do
	[[ "${target%/*}" == linux ]] || continue
	deb "${target#*/}" "${out}/${PLUGIN}-${target/\//-}"
	debs+=("${PLUGIN}_${debver}_${target#*/}.deb")
done

if command -v lintian >/dev/null 2>&1; then
	for name in "${debs[@]}"; do
		# Errors fail the release; warnings and notes are printed.
		lintian --fail-on error --info "${out}/${name}" | sed 's/^/    /' \
			|| die "lintian found errors in ${name} (above)"
		printf '  lintian %s: no errors\n' "$name"
	done
elif [[ ${#debs[@]} -gt 0 ]]; then
	printf 'release.sh: note: lintian is not installed, the packages were not linted (apt-get install lintian)\n' >&2
fi

# --- install.sh, SHA256SUMS ---------------------------------------------------
install -m 0755 "${src}/install.sh" "${out}/install.sh"
files+=("install.sh")
(cd "$out" && sha256sum "${files[@]}" >SHA256SUMS)
printf '  SHA256SUMS (%d files)\nDone: %s\n' "${#files[@]}" "$out"
