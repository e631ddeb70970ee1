package e2e

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// The registry of the push tests (testdata/registry/start.sh).
const (
	registryAddr     = "127.0.0.1:5000"
	registryUser     = "picatest"
	registryPassword = "picatest-pass"
)

// startRegistry starts the test registry (installed on first use) and
// waits until it answers.
func startRegistry(t *testing.T) {
	t.Helper()
	out, err := exec.Command("../testdata/registry/start.sh").CombinedOutput()
	assert.NilError(t, err, "starting the registry: %s", out)
}

// withDockerConfig gives the project a DOCKER_CONFIG of its own, holding the
// plugins of the run and the given config.json, so that a login never
// touches the shared one. It returns the folder.
func (p *project) withDockerConfig(configJSON string) string {
	p.t.Helper()
	dir := p.t.TempDir()
	assert.NilError(p.t, os.Symlink(filepath.Join(dockerConfig, "cli-plugins"), filepath.Join(dir, "cli-plugins")))
	assert.NilError(p.t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(configJSON), 0o600))
	// The last DOCKER_CONFIG in the environment wins.
	p.Env = append(p.Env, "DOCKER_CONFIG="+dir)
	return dir
}

// registryGet reads the registry API with the test credentials.
func registryGet(t *testing.T, path string, accept ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+registryAddr+path, nil)
	assert.NilError(t, err)
	req.SetBasicAuth(registryUser, registryPassword)
	if len(accept) > 0 {
		req.Header.Set("Accept", strings.Join(accept, ", "))
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	assert.NilError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	assert.NilError(t, err)
	return resp.StatusCode, resp.Header, b
}

// deleteFromRegistry removes repo:tag from the registry, if there.
func deleteFromRegistry(t *testing.T, repo, tag string) {
	code, h, _ := registryGet(t, "/v2/"+repo+"/manifests/"+tag, "application/vnd.docker.distribution.manifest.v2+json")
	if code != http.StatusOK {
		return
	}
	req, err := http.NewRequest(http.MethodDelete, "http://"+registryAddr+"/v2/"+repo+"/manifests/"+h.Get("Docker-Content-Digest"), nil)
	assert.NilError(t, err)
	req.SetBasicAuth(registryUser, registryPassword)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

type pushReport struct {
	Result   string
	Registry string
	Commit   string
	DryRun   bool `json:"dry_run"`
	Images   []struct{ Service, Image, Digest string }
	Skipped  []struct{ Service, Image, Reason string }
}
