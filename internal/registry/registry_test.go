package registry

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	clitypes "github.com/docker/cli/cli/config/types"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/exitcode"
)

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:5000": true, "127.1.2.3": true, "localhost": true, "LocalHost:5000": true, "[::1]:5000": true,
		"registry.picasoft.net": false, "10.0.0.1:5000": false, "localhost.example.org": false,
	} {
		assert.Check(t, is.Equal(IsLoopbackHost(host), want), host)
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
		good := &Client{host: host, scheme: "http", auth: clitypes.AuthConfig{Username: "u", Password: "p"}, http: srv.Client()}
		assert.NilError(t, good.Ping(context.Background()), "bearer=%v", bearer)
		d, err := good.ManifestDigest(context.Background(), "a/b", "1")
		assert.NilError(t, err)
		assert.Equal(t, d, "sha256:abc")

		bad := &Client{host: host, scheme: "http", auth: clitypes.AuthConfig{Username: "u", Password: "wrong"}, http: srv.Client()}
		err = bad.Ping(context.Background())
		assert.Equal(t, exitcode.Of(err), exitcode.Failed)
		assert.Check(t, is.ErrorContains(err, "refuses the credentials"), "bearer=%v", bearer)
		assert.Check(t, is.ErrorContains(err, "docker login "+host))
	}
	srv := fakeRegistry(t, false)
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	down := &Client{host: host, scheme: "http", auth: clitypes.AuthConfig{Username: "u", Password: "p"}, http: &http.Client{}}
	err := down.Ping(context.Background())
	assert.Equal(t, exitcode.Of(err), exitcode.Failed)
	assert.Check(t, is.ErrorContains(err, "cannot be reached"))
}
