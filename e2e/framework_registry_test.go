package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// The test registry (testdata/registry/start.sh).
const (
	registryAddr     = "127.0.0.1:5000"
	registryUser     = "picatest"
	registryPassword = "picatest-pass"
)

// manifestV2 is the manifest media type Debian's 20.10 engine pushes (its
// graph-driver image store).
const manifestV2 = "application/vnd.docker.distribution.manifest.v2+json"

// manifestTypes are the media types the tests ask the registry for
// (Accept): Debian's 20.10 engine pushes a Docker v2 manifest, a current
// engine (API 1.56, containerd image store) an OCI image index, whose
// digest is the one push reports, over an OCI image manifest. The registry
// answers 404 to an Accept that lacks the type it stores.
var manifestTypes = []string{
	manifestV2,
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.oci.image.manifest.v1+json",
}

// registryImageManifest reads repo:ref from the registry: the status, the
// digest of ref (Docker-Content-Digest, what push reports) and the image
// manifest, the one of an index followed (the first for linux, the
// attestation manifests a current engine adds, platform unknown/unknown,
// skipped).
func registryImageManifest(t *testing.T, repo, ref string) (int, string, []byte) {
	t.Helper()
	code, h, body := registryGet(t, "/v2/"+repo+"/manifests/"+ref, manifestTypes...)
	if code != http.StatusOK {
		return code, "", body
	}
	digest := h.Get("Docker-Content-Digest")
	var index struct {
		MediaType string
		Manifests []struct {
			Digest   string
			Platform struct{ OS string }
		}
	}
	assert.NilError(t, json.Unmarshal(body, &index), string(body))
	if len(index.Manifests) == 0 {
		return code, digest, body
	}
	for _, m := range index.Manifests {
		if m.Platform.OS == "linux" {
			code, _, body = registryGet(t, "/v2/"+repo+"/manifests/"+m.Digest, manifestTypes...)
			return code, digest, body
		}
	}
	t.Fatalf("no linux image in the index %s of %s:%s: %s", digest, repo, ref, body)
	return 0, "", nil
}

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
	assert.NilError(p.t, os.Symlink(p.pluginsDir(), filepath.Join(dir, "cli-plugins")))
	assert.NilError(p.t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(configJSON), 0o600))
	// The last DOCKER_CONFIG in the environment wins.
	p.Env = append(p.Env, "DOCKER_CONFIG="+dir)
	return dir
}

// withCredentials gives p a Docker config of its own holding credentials
// for registry, as docker login writes them (docker login itself checks
// them: a wrong password has to be written by hand).
func (p *project) withCredentials(registry, user, password string) {
	p.t.Helper()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	p.withDockerConfig(fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, registry, auth))
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

// registryTags returns the tags of repo in the registry, sorted; none when
// the registry does not know the repository.
func registryTags(t *testing.T, repo string) []string {
	t.Helper()
	code, _, body := registryGet(t, "/v2/"+repo+"/tags/list")
	if code == http.StatusNotFound {
		return nil
	}
	assert.Equal(t, code, http.StatusOK, string(body))
	var list struct{ Tags []string }
	assert.NilError(t, json.Unmarshal(body, &list), string(body))
	sort.Strings(list.Tags)
	return list.Tags
}

// deleteFromRegistry removes repo:tag from the registry, if there.
func deleteFromRegistry(t *testing.T, repo, tag string) {
	code, h, _ := registryGet(t, "/v2/"+repo+"/manifests/"+tag, manifestTypes...)
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

// cleanRegistry removes repo:tag from the registry before the test and
// after it.
func cleanRegistry(t *testing.T, repo, tag string) {
	t.Helper()
	deleteFromRegistry(t, repo, tag)
	t.Cleanup(func() { deleteFromRegistry(t, repo, tag) })
}

type pushReport struct {
	Result   string
	Registry string
	Commit   string
	DryRun   bool `json:"dry_run"`
	Untested bool
	Refused  string
	Images   []struct{ Service, Image, ID, Digest, Test string }
	Skipped  []struct{ Service, Image, Reason string }
}
