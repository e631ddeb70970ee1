// Package release has no code: its tests check the release of docker picatest
// (issue 14): scripts/release.sh (static binaries, SHA256SUMS, Debian
// packages), install.sh with and without Go, and .gitlab-ci.yml.
package release
