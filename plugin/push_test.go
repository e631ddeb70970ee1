package plugin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	clitypes "github.com/docker/cli/cli/config/types"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/exitcode"
)

const pushProjectYAML = `
services:
  pad:
    build: ./pad
    image: registry.picasoft.net/pica-pad:1.9
  api:
    build: ./api
    image: registry.picasoft.net/team/api
  db:
    image: postgres:16
  cache:
    image: registry.picasoft.net/redis-custom:7
  mirror:
    build: ./mirror
    image: ghcr.io/someone/mirror:2
  hub:
    build: ./hub
    image: someone/hub:1
  noname:
    build: ./noname
`

func TestSelectPushTargets(t *testing.T) {
	p := composetest.Load(t, pushProjectYAML, nil)
	targets, skipped := selectPushTargets(p, "registry.picasoft.net", nil)
	var names []string
	for _, tg := range targets {
		names = append(names, tg.Service+"="+tg.Image)
	}
	assert.DeepEqual(t, names, []string{"api=registry.picasoft.net/team/api", "pad=registry.picasoft.net/pica-pad:1.9"})
	reasons := map[string]string{}
	for _, s := range skipped {
		reasons[s.Service] = s.Reason
	}
	assert.Equal(t, len(reasons), 5)
	assert.Check(t, is.Equal(reasons["db"], "official image"))
	assert.Check(t, is.Equal(reasons["cache"], "not built (no build section)"))
	assert.Check(t, is.Contains(reasons["mirror"], "other registry (ghcr.io/someone/mirror"))
	assert.Check(t, is.Contains(reasons["hub"], "other registry (docker.io/someone/hub"))
	assert.Check(t, is.Contains(reasons["noname"], "no image name"))
}

func TestSelectPushTargetsRegistryWithPathAndPort(t *testing.T) {
	p := composetest.Load(t, `
services:
  a:
    build: ./a
    image: localhost:5000/team/a:1
  b:
    build: ./b
    image: localhost:5000/other/b:1
  c:
    build: ./c
    image: LOCALHOST:5000/team/c:1
`, nil)
	targets, skipped := selectPushTargets(p, "localhost:5000/team", nil)
	// Host names compare case-insensitively; the path must be under the
	// registry's.
	assert.Equal(t, len(targets), 2, "%v %v", targets, skipped)
	assert.Equal(t, targets[0].Service, "a")
	assert.Equal(t, targets[1].Service, "c")
	assert.Equal(t, skipped[0].Service, "b")
	// Only the services named are considered.
	targets, skipped = selectPushTargets(p, "localhost:5000", []string{"b"})
	assert.Equal(t, len(targets), 1)
	assert.Equal(t, targets[0].Service, "b")
	assert.Equal(t, len(skipped), 0)
}

func TestPushFlagsAndArgs(t *testing.T) {
	b := &fakeBackend{project: composetest.Load(t, pushProjectYAML, nil)}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"push", "--format", "yaml"}, exitcode.Invalid, "--format text or --format json"},
		{[]string{"push", "--no-such-flag"}, exitcode.Invalid, "unknown flag: --no-such-flag"},
		{[]string{"push", "nosuch"}, exitcode.Invalid, "no such service: nosuch"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := run(t, b, tc.args...)
			assert.Equal(t, code, tc.code, stderr)
			assert.Check(t, is.Contains(stderr, tc.want))
		})
	}
}

// Without a target, push lists the skipped services and needs neither the
// registry nor git nor the engine.
func TestPushNothingToPush(t *testing.T) {
	b := &fakeBackend{project: composetest.Load(t, pushProjectYAML, nil)}
	stdout, stderr, code := run(t, b, "push", "--registry", "registry.example.org", "--format", "json")
	assert.Equal(t, code, 0, stderr)
	var report pushReport
	assert.NilError(t, json.Unmarshal([]byte(stdout), &report), stdout)
	assert.Equal(t, report.Result, "nothing to push")
	assert.Equal(t, report.Registry, "registry.example.org")
	assert.Equal(t, len(report.Images), 0)
	assert.Equal(t, len(report.Skipped), 7)

	stdout, stderr, code = run(t, b, "push", "--registry", "registry.example.org", "db", "pad")
	assert.Equal(t, code, 0, stderr)
	assert.Check(t, is.Contains(stdout, "Nothing to push to registry.example.org"))
	assert.Check(t, is.Contains(stdout, "official image"))
	assert.Check(t, is.Contains(stdout, "other registry"))
	assert.Check(t, !strings.Contains(stdout, "mirror"), "only the services named are listed")
}

func TestPushNotLoggedIn(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	b := &fakeBackend{project: composetest.Load(t, pushProjectYAML, nil)}
	_, stderr, code := run(t, b, "push", "--dry-run")
	assert.Equal(t, code, exitcode.Failed, stderr)
	assert.Check(t, is.Contains(stderr, "docker login registry.picasoft.net"))
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:5000": true, "127.1.2.3": true, "localhost": true, "LocalHost:5000": true, "[::1]:5000": true,
		"registry.picasoft.net": false, "10.0.0.1:5000": false, "localhost.example.org": false,
	} {
		assert.Check(t, is.Equal(isLoopbackHost(host), want), host)
	}
}

func TestParseChallenge(t *testing.T) {
	c := parseChallenge(`Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"`)
	assert.Equal(t, c.scheme, "bearer")
	assert.DeepEqual(t, c.params, map[string]string{"realm": "https://auth.example/token", "service": "registry.example", "scope": "repository:a/b:pull,push"})
	c = parseChallenge(`Basic realm="picatest-registry"`)
	assert.Equal(t, c.scheme, "basic")
	assert.Equal(t, c.params["realm"], "picatest-registry")
}

// fakeRegistry answers /v2/ like the distribution registry, with Basic
// authentication, or with the token flow when bearer is set.
func fakeRegistry(t *testing.T, bearer bool) *httptest.Server {
	ok := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:p"))
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/token":
			if r.Header.Get("Authorization") != ok {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(`{"token":"tok-` + r.URL.Query().Get("scope") + `"}`))
		case bearer && r.Header.Get("Authorization") == "Bearer tok-repository:a/b:pull":
			w.Header().Set("Docker-Content-Digest", "sha256:abc")
		case !bearer && r.Header.Get("Authorization") == ok:
			w.Header().Set("Docker-Content-Digest", "sha256:abc")
		case bearer:
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="fake"`)
			w.WriteHeader(http.StatusUnauthorized)
		default:
			w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRegistryClientAuth(t *testing.T) {
	for _, bearer := range []bool{false, true} {
		srv := fakeRegistry(t, bearer)
		host := strings.TrimPrefix(srv.URL, "http://")
		good := &registryClient{host: host, scheme: "http", auth: clitypes.AuthConfig{Username: "u", Password: "p"}, http: srv.Client()}
		assert.NilError(t, good.ping(context.Background()), "bearer=%v", bearer)
		d, err := good.manifestDigest(context.Background(), "a/b", "1")
		assert.NilError(t, err)
		assert.Equal(t, d, "sha256:abc")

		bad := &registryClient{host: host, scheme: "http", auth: clitypes.AuthConfig{Username: "u", Password: "wrong"}, http: srv.Client()}
		err = bad.ping(context.Background())
		assert.Equal(t, exitcode.Of(err), exitcode.Failed)
		assert.Check(t, is.ErrorContains(err, "refuses the credentials"), "bearer=%v", bearer)
		assert.Check(t, is.ErrorContains(err, "docker login "+host))
	}
	srv := fakeRegistry(t, false)
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	down := &registryClient{host: host, scheme: "http", auth: clitypes.AuthConfig{Username: "u", Password: "p"}, http: &http.Client{}}
	err := down.ping(context.Background())
	assert.Equal(t, exitcode.Of(err), exitcode.Failed)
	assert.Check(t, is.ErrorContains(err, "cannot be reached"))
}
