package e2e

import (
	"os/exec"
	"testing"

	"gotest.tools/v3/assert"
)

// The real Traefik of testdata/traefik (start.sh): web on 18080, websecure
// (TLS, self-signed) on 18443.
const (
	traefikImage = "picatest-test/traefik:v3.6.12"
	traefikHTTP  = "127.0.0.1:18080"
	traefikHTTPS = "127.0.0.1:18443"
)

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
}
