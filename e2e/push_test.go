package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// login runs a real `docker login` to the test registry in the project's
// own DOCKER_CONFIG.
func (p *project) login() {
	p.t.Helper()
	p.withDockerConfig("{}\n")
	cmd := exec.Command("docker", "login", "-u", registryUser, "--password-stdin", registryAddr)
	cmd.Env = append(cleanEnv(), p.Env...)
	cmd.Stdin = strings.NewReader(registryPassword)
	out, err := cmd.CombinedOutput()
	assert.NilError(p.t, err, "docker login: %s", out)
}

// pushImage is the image the TestPush scenario builds and pushes.
func (p *project) pushImage() (ref, repo, tag string) {
	repo = "picatest-e2e/" + p.Name
	return registryAddr + "/" + repo + ":1.0", repo, "1.0"
}

// pushScenario is a TestPush project with its image cleaned up before and
// after, in the registry and on the engine.
func pushScenario(t *testing.T) (*project, string) {
	p := newProject(t, "TestPush")
	image, repo, tag := p.pushImage()
	p.cleanupImages(image)
	cleanRegistry(t, repo, tag)
	return p, image
}

func TestPush(t *testing.T) {
	skipShort(t)
	startRegistry(t)

	t.Run("not logged in", func(t *testing.T) {
		p, _ := pushScenario(t)
		p.withDockerConfig("{}\n")
		before := p.pushState()
		r := p.picatest("push", "--build")
		assert.Equal(t, r.ExitCode, 1, r)
		assert.Check(t, is.Contains(r.Stderr, "docker login "+registryAddr), r)
		p.assertNothingPushed(before)
	})

	t.Run("wrong password", func(t *testing.T) {
		p, _ := pushScenario(t)
		// docker login itself refuses a wrong password: write the config.
		p.withCredentials(registryAddr, registryUser, "not-the-password")
		before := p.pushState()
		r := p.picatest("push", "--build")
		assert.Equal(t, r.ExitCode, 1, r)
		assert.Check(t, is.Contains(r.Stderr, "refuses the credentials"), r)
		assert.Check(t, is.Contains(r.Stderr, "docker login "+registryAddr), r)
		p.assertNothingPushed(before)
	})

	t.Run("registry down", func(t *testing.T) {
		p, _ := pushScenario(t)
		p.login()
		before := p.pushState()
		out, err := exec.Command("../testdata/registry/stop.sh").CombinedOutput()
		assert.NilError(t, err, "%s", out)
		t.Cleanup(func() { startRegistry(t) })
		r := p.picatest("push", "--build")
		assert.Equal(t, r.ExitCode, 1, r)
		assert.Check(t, is.Contains(r.Stderr, "the registry "+registryAddr+" cannot be reached"), r)
		assert.Check(t, !strings.Contains(r.Stderr, "docker login"), "unreachable is not a login problem: %s", r.Stderr)
		startRegistry(t) // to read its tags
		p.assertNothingPushed(before)
	})

	t.Run("dirty tree", func(t *testing.T) {
		p, image := pushScenario(t)
		p.login()
		assert.NilError(t, os.WriteFile(filepath.Join(p.Dir, "notes.txt"), []byte("work in progress\n"), 0o644))
		assert.NilError(t, os.WriteFile(filepath.Join(p.Dir, "app", "Dockerfile"), []byte("FROM picatest-test/app:1\n"), 0o644))
		before := p.pushState()
		r := p.picatest("push", "--build")
		assert.Equal(t, r.ExitCode, 3, r)
		assert.Check(t, is.Contains(r.Stderr, "notes.txt"), r)
		assert.Check(t, is.Contains(r.Stderr, "app/Dockerfile"), r)
		assert.Check(t, is.Contains(r.Stderr, "--allow-dirty"), r)
		p.assertNothingPushed(before)
		assert.Equal(t, p.docker("image", "inspect", image).ExitCode, 1, "nothing was built")

		r = p.picatest("push", "--allow-dirty", "--dry-run", "--format", "json")
		assert.Equal(t, r.ExitCode, 1, "the image does not exist yet: %s", r)
		assert.Check(t, is.Contains(r.Stderr, "--build"), r)
	})

	t.Run("one untracked file", func(t *testing.T) {
		p, image := pushScenario(t)
		p.login()
		assert.NilError(t, os.WriteFile(filepath.Join(p.Dir, "notes.txt"), []byte("work in progress\n"), 0o644))
		before := p.pushState()
		r := p.picatest("push", "--build")
		assert.Equal(t, r.ExitCode, 3, r)
		assert.Check(t, is.Contains(r.Stderr, "notes.txt"), r)
		assert.Check(t, is.Contains(r.Stderr, "--allow-dirty"), r)
		p.assertNothingPushed(before)
		assert.Equal(t, p.docker("image", "inspect", image).ExitCode, 1, "nothing was built")
	})

	t.Run("build context outside the folder", func(t *testing.T) {
		p, image := pushScenario(t)
		p.login()
		// outside/ is clean; its build context ../app is not.
		assert.NilError(t, os.WriteFile(filepath.Join(p.Dir, "app", "Dockerfile"), []byte("FROM picatest-test/app:1\nLABEL changed=yes\n"), 0o644))
		before := p.pushState()
		r := p.picatest("-p", p.Name, "-f", "outside/compose.yaml", "push", "--build")
		assert.Equal(t, r.ExitCode, 3, r)
		assert.Check(t, is.Contains(r.Stderr, "../app/Dockerfile"), r)
		assert.Check(t, is.Contains(r.Stderr, "--allow-dirty"), r)
		p.assertNothingPushed(before)
		assert.Equal(t, p.docker("image", "inspect", image).ExitCode, 1, "nothing was built")
	})

	t.Run("after up", func(t *testing.T) {
		p, image := pushScenario(t)
		p.login()
		up := p.picatest("up", "--yes", "--stable", "0s", "--progress", "quiet")
		assert.Equal(t, up.ExitCode, 0, up)
		assert.Equal(t, p.inspect(image, `{{index .Config.Labels "net.picasoft.picatest.test-build"}}`), "true")
		assert.Check(t, is.Contains(p.inspect(image, "{{json .Config.Env}}"), "PUBLIC_URL=https://app.test.picasoft.net/"), "the test build has the test URL")
		before := p.pushState()
		assert.Assert(t, is.Contains(strings.Join(before.Images, "\n"), " "+image), "the test build is listed")
		r := p.picatest("push")
		assert.Equal(t, r.ExitCode, 3, r)
		assert.Check(t, is.Contains(r.Stderr, image), r)
		assert.Check(t, is.Contains(r.Stderr, "built by a test"), r)
		assert.Check(t, is.Contains(r.Stderr, "--build"), r)
		p.assertNothingPushed(before)
	})

	t.Run("build", func(t *testing.T) {
		p, image := pushScenario(t)
		_, repo, tag := p.pushImage()
		p.login()
		before := p.snapshot()
		// A test build first: --build replaces it by the production build.
		up := p.picatest("up", "--yes", "--stable", "0s", "--progress", "quiet")
		assert.Equal(t, up.ExitCode, 0, up)
		// The test record survives down, and status shows it.
		down := p.picatest("down", "--progress", "quiet")
		assert.Equal(t, down.ExitCode, 0, down)
		st := p.picatest("status")
		assert.Equal(t, st.ExitCode, 0, st)
		assert.Check(t, is.Contains(st.Stdout, "Last test: passed"), st)
		assert.Check(t, is.Contains(st.Stdout, "commit "+strings.TrimSpace(p.git("rev-parse", "HEAD"))[:12]+" (clean tree)"), st)

		// A dry run shows the test it relies on.
		r := p.picatest("push", "--build", "--dry-run", "--format", "json")
		assert.Equal(t, r.ExitCode, 0, r)
		var dry pushReport
		assert.NilError(t, json.Unmarshal([]byte(r.Stdout), &dry), r.Stdout)
		assert.Equal(t, len(dry.Images), 1, r.Stdout)
		assert.Check(t, is.Contains(dry.Images[0].Test, "tested OK"), r.Stdout)
		assert.Check(t, is.Contains(dry.Images[0].Test, "by e2e-user, commit "), r.Stdout)

		r = p.picatest("push", "--build", "--format", "json", "--progress", "quiet")
		assert.Equal(t, r.ExitCode, 0, r)
		var report pushReport
		assert.NilError(t, json.Unmarshal([]byte(r.Stdout), &report), r.Stdout)
		assert.Equal(t, report.Result, "pushed")
		assert.Check(t, !report.Untested)
		assert.Check(t, is.Contains(report.Images[0].Test, "tested OK"), r.Stdout)
		assert.Check(t, is.Contains(report.Images[0].Test, "same layers"), r.Stdout)
		assert.Check(t, strings.HasPrefix(report.Images[0].ID, "sha256:"), r.Stdout)
		assert.Check(t, is.Equal(report.Images[0].ID, strings.TrimSpace(p.inspect(image, "{{.Id}}"))), "the image checked is the one uploaded")
		assert.Equal(t, report.Commit, strings.TrimSpace(p.git("rev-parse", "HEAD")))
		assert.Equal(t, len(report.Images), 1, r.Stdout)
		assert.Equal(t, report.Images[0].Service, "app")
		assert.Equal(t, report.Images[0].Image, image)
		assert.Check(t, strings.HasPrefix(report.Images[0].Digest, "sha256:"), r.Stdout)
		// The official image in the same project is listed, never pushed.
		assert.Equal(t, len(report.Skipped), 1, r.Stdout)
		assert.Equal(t, report.Skipped[0].Service, "db")
		assert.Equal(t, report.Skipped[0].Reason, "official image")
		_, _, catalog := registryGet(t, "/v2/_catalog")
		assert.Check(t, !strings.Contains(string(catalog), "postgres"), string(catalog))

		// Read the manifest and its config back from the registry.
		code, digest, body := registryImageManifest(t, repo, tag)
		assert.Equal(t, code, http.StatusOK, string(body))
		assert.Equal(t, digest, report.Images[0].Digest)
		var manifest struct {
			Config struct{ Digest string }
		}
		assert.NilError(t, json.Unmarshal(body, &manifest), string(body))
		code, _, body = registryGet(t, "/v2/"+repo+"/blobs/"+manifest.Config.Digest)
		assert.Equal(t, code, http.StatusOK, string(body))
		var config struct {
			Config struct {
				Env    []string
				Labels map[string]string
			}
		}
		assert.NilError(t, json.Unmarshal(body, &config), string(body))
		for k := range config.Config.Labels {
			assert.Check(t, !strings.HasPrefix(k, "net.picasoft.picatest."), "test label %s in the pushed image", k)
		}
		assert.Check(t, is.Equal(config.Config.Labels["org.picasoft.public-url"], "https://app.picasoft.net/"))
		assert.Check(t, is.Contains(config.Config.Env, "PUBLIC_URL=https://app.picasoft.net/"))
		assert.Check(t, !strings.Contains(string(body), "test.picasoft.net"), "a test URL in the pushed image: %s", body)

		// The local image is the production build now: a plain push works.
		assert.Equal(t, p.inspect(image, `{{index .Config.Labels "net.picasoft.picatest.test-build"}}`), "")
		r = p.picatest("push", "--progress", "quiet")
		assert.Equal(t, r.ExitCode, 0, r)
		assert.Check(t, is.Contains(r.Stdout, report.Images[0].Digest), r)
		assert.Check(t, is.Contains(r.Stdout, "official image"), r)
		assert.Check(t, is.Contains(r.Stdout, "same layers"), r)
		p.assertTreeUnchanged(before)
	})

	t.Run("never tested", func(t *testing.T) {
		p, image := pushScenario(t)
		p.login()
		before := p.pushState()
		r := p.picatest("push", "--build")
		assert.Equal(t, r.ExitCode, 3, r)
		assert.Check(t, is.Contains(r.Stderr, "never tested"), r)
		assert.Check(t, is.Contains(r.Stderr, "docker picatest up"), r)
		assert.Check(t, is.Contains(r.Stderr, "--untested"), r)
		p.assertNothingPushed(before)
		assert.Equal(t, p.docker("image", "inspect", image).ExitCode, 1, "nothing was built")
	})

	t.Run("untested", func(t *testing.T) {
		p, _ := pushScenario(t)
		_, repo, _ := p.pushImage()
		p.login()
		r := p.picatest("push", "--build", "--untested", "--progress", "quiet")
		assert.Equal(t, r.ExitCode, 0, r)
		assert.Check(t, is.Contains(r.Stdout, "Pushed UNTESTED to"), r)
		assert.Check(t, is.Contains(r.Stdout, "UNTESTED (--untested)"), r)
		assert.DeepEqual(t, registryTags(t, repo), []string{"1.0"})
	})

	t.Run("failed test", func(t *testing.T) {
		p, _ := pushScenario(t)
		p.login()
		up := p.dockerEnv([]string{"APP_CRASH_AFTER=0s"}, "picatest", "up", "--yes", "--stable", "3s", "--wait-timeout", "30s", "--progress", "quiet")
		assert.Equal(t, up.ExitCode, 1, up)
		st := p.picatest("status")
		assert.Check(t, is.Contains(st.Stdout, "Last test: failed"), st)
		before := p.pushState()
		r := p.picatest("push", "--build")
		assert.Equal(t, r.ExitCode, 3, r)
		assert.Check(t, is.Contains(r.Stderr, "did not pass"), r)
		p.assertNothingPushed(before)
	})

	t.Run("tested uncommitted then committed", func(t *testing.T) {
		p, _ := pushScenario(t)
		_, repo, _ := p.pushImage()
		p.login()
		// The test runs on uncommitted changes...
		dockerfile := filepath.Join(p.Dir, "app", "Dockerfile")
		old, err := os.ReadFile(dockerfile)
		assert.NilError(t, err)
		assert.NilError(t, os.WriteFile(dockerfile, append(old, []byte("LABEL org.picasoft.reviewed=yes\n")...), 0o644))
		up := p.picatest("up", "--yes", "--stable", "0s", "--progress", "quiet")
		assert.Equal(t, up.ExitCode, 0, up)
		st := p.picatest("status")
		assert.Check(t, is.Contains(st.Stdout, "(uncommitted changes)"), st)
		// ...committed as they were: push relies on that test.
		p.git("add", "-A")
		p.commit("-m", "reviewed")
		r := p.picatest("push", "--build", "--progress", "quiet")
		assert.Equal(t, r.ExitCode, 0, r)
		assert.Check(t, is.Contains(r.Stdout, "tested OK"), r)
		assert.Check(t, is.Contains(r.Stdout, "identical to this commit's"), r)
		assert.DeepEqual(t, registryTags(t, repo), []string{"1.0"})

		// Another commit, never tested: refused, naming the file.
		assert.NilError(t, os.WriteFile(dockerfile, append(old, []byte("LABEL org.picasoft.reviewed=no\n")...), 0o644))
		p.git("add", "-A")
		p.commit("-m", "changed after the test")
		before := p.pushState()
		r = p.picatest("push", "--build")
		assert.Equal(t, r.ExitCode, 3, r)
		assert.Check(t, is.Contains(r.Stderr, "tested other content"), r)
		assert.Check(t, is.Contains(r.Stderr, "app/Dockerfile"), r)
		p.assertNothingPushed(before)
	})

	t.Run("locked", func(t *testing.T) {
		p, image := pushScenario(t)
		p.login()
		// An up of the project under way on another machine: push waits
		// for its lock, then refuses, building and uploading nothing.
		catHoldLock(t, p, "mallory")
		before := p.pushState()
		r := p.dockerEnv([]string{"PICATEST_LOCK_WAIT=1s"}, "picatest", "push", "--build", "--untested")
		assert.Equal(t, r.ExitCode, 3, r)
		assert.Check(t, is.Contains(r.Stderr, "is locked by mallory"), r)
		p.assertNothingPushed(before)
		assert.Equal(t, p.docker("image", "inspect", image).ExitCode, 1, "nothing was built")
	})

	t.Run("dry run", func(t *testing.T) {
		p, image := pushScenario(t)
		_, repo, tag := p.pushImage()
		p.login()
		// Never tested: refused, also in a dry run.
		r := p.picatest("push", "--build", "--dry-run")
		assert.Equal(t, r.ExitCode, 3, r)
		assert.Check(t, is.Contains(r.Stderr, "never tested"), r)
		r = p.picatest("push", "--build", "--dry-run", "--untested")
		assert.Equal(t, r.ExitCode, 0, r)
		assert.Check(t, is.Contains(r.Stdout, "Would push UNTESTED"), r)
		assert.Check(t, is.Contains(r.Stdout, image), r)
		assert.Check(t, is.Contains(r.Stdout, "official image"), r)
		assert.Equal(t, p.docker("image", "inspect", image).ExitCode, 1, "nothing was built")
		code, _, body := registryGet(t, "/v2/"+repo+"/manifests/"+tag)
		assert.Equal(t, code, http.StatusNotFound, "nothing was pushed: %s", body)
	})
}

// pushState is what a push may change: the project's images on the engine
// and the tags of its repository in the registry.
type pushState struct {
	Images []string // "ID repository:tag"
	Tags   []string
}

// pushState reads the images of p (named like the TestPush image, or
// labelled with p's Compose project, dangling ones included) and the
// tags of its repository in the registry.
func (p *project) pushState() pushState {
	p.t.Helper()
	image, repo, _ := p.pushImage()
	return pushState{
		Images: p.imagesOf(strings.TrimSuffix(image, ":1.0")),
		Tags:   registryTags(p.t, repo),
	}
}

// assertNothingPushed checks that a refused push built nothing and sent
// nothing: the same image IDs and the same registry tags as before.
func (p *project) assertNothingPushed(before pushState) {
	p.t.Helper()
	after := p.pushState()
	assert.Check(p.t, is.DeepEqual(after.Images, before.Images), "nothing is built")
	assert.Check(p.t, is.DeepEqual(after.Tags, before.Tags), "nothing reaches the registry")
}
