#!/usr/bin/env bash
# Replays the README's quick start as a new user would (issue 7, item 5):
# extracts the commands between <!-- replay:start --> and <!-- replay:end -->
# in README.md and runs them one by one from the repository root, in one shell
# (so `cd` and `export` carry over), with a fresh temporary DOCKER_CONFIG and
# no PICATEST_* / COMPOSE_* variable but those the README exports. Then checks:
#   - the plugin is installed:         docker picatest version
#   - up on examples/pad:              exit 0, "OK: project ... healthy"
#   - the test URL through Traefik:    the report's "OK  http://..." smoke line,
#                                      and a request of our own with the Host header
#   - down:                            exit 0, no container of the project left
# ./test.sh is not run (too long): it is printed as skipped.
#   scripts/readme-replay.sh [--help]
# Exit 0 when every command and check passed, 1 otherwise.
set -uo pipefail

if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
	sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 0
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readme="$root/README.md"
SKIP_RE='^\./test\.sh([[:space:]]|$)' # commands not replayed

# Only lines inside a ``` fence between a line that starts with the start marker
# and one that starts with the end marker; comment-only and blank lines dropped.
mapfile -t cmds < <(awk '
	/^<!-- replay:start/ {on=1; fence=0; next}
	/^<!-- replay:end/ {on=0; next}
	on && /^```/ {fence=!fence; next}
	on && fence && !/^[[:space:]]*(#|$)/ {print}
' "$readme")
[[ ${#cmds[@]} -gt 0 ]] || { echo "readme-replay: no commands between <!-- replay:start --> and <!-- replay:end --> in $readme" >&2; exit 1; }

# A fresh user: own DOCKER_CONFIG, none of our settings in the environment.
for v in $(compgen -e); do
	case "$v" in PICATEST_* | COMPOSE_*) unset "$v" ;; esac
done
DOCKER_CONFIG="$(mktemp -d /tmp/readme-replay.XXXXXX)"
export DOCKER_CONFIG
logdir="$DOCKER_CONFIG.logs"
mkdir -p "$logdir"

results=()
failed=0
pass() { results+=("PASS  $*"); }
fail() { results+=("FAIL  $*"); failed=1; }
skip() { results+=("SKIP  $*"); }

upped=0 downed=0 project_dir=""
cleanup() {
	if [[ $upped -eq 1 && $downed -eq 0 && -n "$project_dir" ]]; then
		echo "readme-replay: cleaning up: docker picatest down in $project_dir" >&2
		(cd "$project_dir" && docker picatest down --progress quiet) || true
	fi
	rm -rf "$DOCKER_CONFIG" "$logdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# request HOST: GET / through Traefik at $PICATEST_PROXY with the Host header.
request() {
	local host="$1" proxy="${PICATEST_PROXY:-127.0.0.1:80}"
	local addr="${proxy%:*}" port="${proxy##*:}"
	[[ "$proxy" == *:* ]] || { addr="$proxy"; port=80; }
	if command -v curl >/dev/null; then
		curl -sS -o /dev/null -w '%{http_code}' -H "Host: $host" "http://$addr:$port/"
	else
		local status
		exec 3<>"/dev/tcp/$addr/$port" || return 1
		printf 'GET / HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" >&3
		IFS= read -r -t 5 status <&3 || status=""
		exec 3<&- 3>&-
		awk '{print $2}' <<<"$status"
	fi
}

cd "$root"
echo "readme-replay: ${#cmds[@]} commands from $readme, DOCKER_CONFIG=$DOCKER_CONFIG"
i=0
for cmd in "${cmds[@]}"; do
	i=$((i + 1))
	short="${cmd%%#*}"; short="${short%"${short##*[![:space:]]}"}"
	if [[ "$short" =~ $SKIP_RE ]]; then
		echo "==> [$i] SKIPPED: $short (too long for a replay; run it yourself)"
		skip "$short (not replayed)"
		continue
	fi
	echo "==> [$i] $short"
	log="$logdir/$i.log"
	t0=$SECONDS
	eval "$cmd" >"$log" 2>&1 </dev/null
	rc=$?
	sed 's/^/    /' "$log"
	echo "    (exit $rc, $((SECONDS - t0))s)"
	if [[ $rc -ne 0 ]]; then
		fail "$short: exit $rc"
	else
		pass "$short"
	fi

	case "$short" in
	./install.sh*)
		if v="$(docker picatest version 2>&1)"; then
			pass "plugin installed in $DOCKER_CONFIG/cli-plugins: $(head -1 <<<"$v")"
		else
			fail "docker picatest version: $v"
		fi
		;;
	"docker picatest up"*)
		upped=1 project_dir="$PWD"
		if grep -q '^OK: project .* is up and healthy' "$log"; then
			pass "up: $(grep '^OK: project' "$log")"
		else
			fail "up: no 'OK: project ... is up and healthy' line"
		fi
		url_line="$(grep -E '^[[:space:]]+OK[[:space:]]+https?://' "$log" | head -1)"
		if [[ -n "$url_line" ]]; then
			pass "smoke check through Traefik: ${url_line#"${url_line%%[![:space:]]*}"}"
			host="$(sed -E 's#.*https?://([^/ ]+).*#\1#' <<<"$url_line")"
			code="$(request "$host" 2>&1)"
			if [[ "$code" == 200 ]]; then
				pass "GET http://$host/ through Traefik at ${PICATEST_PROXY:-127.0.0.1}: 200"
			else
				fail "GET http://$host/ through Traefik at ${PICATEST_PROXY:-127.0.0.1}: $code"
			fi
		else
			fail "up: no OK smoke check line (test URL through Traefik)"
		fi
		;;
	"docker picatest down"*)
		downed=1
		left="$(docker ps -aq --filter "label=com.docker.compose.project=$(basename "$PWD")")"
		if [[ -z "$left" ]]; then
			pass "down: no container of project $(basename "$PWD") left"
		else
			fail "down: containers left: $left"
		fi
		;;
	esac
done

[[ $upped -eq 1 ]] || fail "the README block has no 'docker picatest up'"
[[ $downed -eq 1 ]] || fail "the README block has no 'docker picatest down'"

echo
echo "readme-replay summary:"
printf '  %s\n' "${results[@]}"
if [[ $failed -eq 0 ]]; then
	echo "readme-replay: OK (README quick start replayed; skipped: ./test.sh)"
else
	echo "readme-replay: FAILED"
fi
exit "$failed"
