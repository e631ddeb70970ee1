package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// The real Traefik of testdata/traefik (start.sh): web on 18080, websecure
// (TLS, self-signed) on 18443, or on the ports PICATEST_TRAEFIK_HTTP and
// PICATEST_TRAEFIK_HTTPS name: start.sh reads the same variables, so a run
// against another engine (DOCKER_HOST, e.g. testdata/engine's) starts and
// reaches that engine's own Traefik beside the default engine's.
const traefikImage = "picatest-test/traefik:v3.6.12"

var (
	traefikHTTP  = "127.0.0.1:" + envOr("PICATEST_TRAEFIK_HTTP", "18080")
	traefikHTTPS = "127.0.0.1:" + envOr("PICATEST_TRAEFIK_HTTPS", "18443")
)

// envOr is the value of the environment variable key, or def when unset or
// empty.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// requireTraefik starts the real Traefik (idempotent). Without its image the
// test fails (skips only in -short mode): the image is built once by
// testdata/traefik/build.sh.
func requireTraefik(t *testing.T) {
	t.Helper()
	if exec.Command("docker", "image", "inspect", traefikImage).Run() != nil {
		if testing.Short() {
			t.Skip("Traefik image " + traefikImage + " not built (testdata/traefik/build.sh)")
		}
		t.Fatalf("the Traefik image %s is missing: run testdata/traefik/build.sh (the first build takes ~15 minutes), then rerun the tests", traefikImage)
	}
	out, err := exec.Command("../testdata/traefik/start.sh").CombinedOutput()
	assert.NilError(t, err, "testdata/traefik/start.sh: %s", out)
	// start.sh keeps a running picatest-traefik as it is: it must publish
	// the ports the tests use, or they would reach another engine's Traefik.
	port, err := exec.Command("docker", "port", "picatest-traefik", "80/tcp").Output()
	assert.NilError(t, err, "docker port picatest-traefik 80/tcp")
	assert.Assert(t, strings.Contains(string(port), traefikHTTP),
		"picatest-traefik publishes web on %s, the tests use %s (PICATEST_TRAEFIK_HTTP): remove it (docker rm -f picatest-traefik) or set PICATEST_TRAEFIK_HTTP/HTTPS to its ports", strings.TrimSpace(string(port)), traefikHTTP)
}

// A second real Traefik, in Traefik v2's rule syntax
// (--core.defaultRuleSyntax=v2): web on 18180, websecure on 18543, ping on
// 18182. Both Traefiks watch the same containers; each refuses the rules
// it cannot parse and routes the others.
const (
	traefikV2Name = "picatest-traefik-v2"
	traefikV2HTTP = "127.0.0.1:18180"
)

// requireTraefikV2 starts the v2-syntax Traefik for the test (anew: a
// container left by an earlier run is replaced) and removes it when the
// test ends. The default Traefik, picatest-traefik, is left alone.
func requireTraefikV2(t *testing.T) {
	t.Helper()
	startTraefik(t, traefikV2Name, "18180", "18543", "18182", "--core.defaultRuleSyntax=v2")
}

// startTraefik starts a Traefik beside the default one for the test
// (anew: a container left by an earlier run is replaced), with its ports
// (web, websecure, the traefik entrypoint) and extra arguments, and
// removes it when the test ends. The default Traefik, picatest-traefik,
// is left alone.
func startTraefik(t *testing.T, name, http, https, traefik, args string) {
	t.Helper()
	requireTraefik(t) // the image, and the network proxy
	rm := func() { _ = exec.Command("docker", "rm", "-f", name).Run() }
	rm()
	t.Cleanup(rm)
	cmd := exec.Command("../testdata/traefik/start.sh")
	cmd.Env = append(os.Environ(),
		"PICATEST_TRAEFIK_NAME="+name,
		"PICATEST_TRAEFIK_HTTP="+http, "PICATEST_TRAEFIK_HTTPS="+https, "PICATEST_TRAEFIK_PING="+traefik,
		"PICATEST_TRAEFIK_ARGS="+args)
	out, err := cmd.CombinedOutput()
	assert.NilError(t, err, "testdata/traefik/start.sh (%s): %s", name, out)
}

// A third real Traefik, with its API (--api.insecure=true on the traefik
// entrypoint, published as start.sh's "ping" port): web on 18280,
// websecure on 18643, API on 18282. It watches the same containers as the
// default one.
const (
	traefikAPIName = "picatest-traefik-api"
	traefikAPIHTTP = "127.0.0.1:18280"
	traefikAPIAddr = "127.0.0.1:18282"
)

// requireTraefikAPI starts the Traefik with its API for the test and
// removes it when the test ends.
func requireTraefikAPI(t *testing.T) {
	t.Helper()
	startTraefik(t, traefikAPIName, "18280", "18643", "18282", "--api.insecure=true")
}
