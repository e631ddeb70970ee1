package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
	"gotest.tools/v3/poll"
)

// homeImageProject is a TestHomeImage/<folder> project whose plugin runs
// with a TMPDIR of its own (to count the temporary build contexts), on
// builder; its image is cleaned up before and after, on the engine and in
// the registry.
func homeImageProject(t *testing.T, folder, builder string) (p *project, image, tmp string) {
	p = newProjectAs(t, projectName(t), "TestHomeImage/"+folder)
	p.useBuilder(builder)
	tmp = t.TempDir()
	p.Env = append(p.Env, "TMPDIR="+tmp)
	repo := "picatest-e2e/" + p.Name
	image = registryAddr + "/" + repo + ":1.0"
	p.cleanupImages(image)
	cleanRegistry(t, repo, "1.0")
	return p, image, tmp
}

// buildCopies lists the temporary build contexts left in tmp.
func buildCopies(t *testing.T, tmp string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(tmp, "picatest-build-*"))
	assert.NilError(t, err)
	return matches
}

// TestHomeImage: a home-made image without a build section is built from
// the folder's Dockerfile, as the procedure builds it by hand, and the
// config file its Dockerfile copies gets test URLs in the test image only;
// on both builders.
func TestHomeImage(t *testing.T) {
	skipShort(t)
	startRegistry(t)
	for _, builder := range builders {
		t.Run(builder, func(t *testing.T) {
			p, image, tmp := homeImageProject(t, "built", builder)
			before := p.snapshot()

			plan := p.picatest("up", "--dry-run", "--no-smoke")
			assert.Equal(t, plan.ExitCode, 0, plan)
			assert.Check(t, is.Contains(plan.Stdout, "build (labelled test-build): app ("+image+")"), plan)
			assert.Check(t, is.Contains(plan.Stdout, "pull: none"), "never the registry's copy: %s", plan)
			assert.Check(t, is.Contains(plan.Stdout, "service app has no build section"), plan)
			assert.Check(t, is.Contains(plan.Stdout, "build: ."), plan)

			diff := p.picatest("config", "--diff")
			assert.Equal(t, diff.ExitCode, 0, diff)
			assert.Check(t, is.Contains(diff.Stdout, "+    build:"), diff)
			assert.Check(t, is.Contains(diff.Stdout, "-url = https://app.picasoft.net/"), diff)
			assert.Check(t, is.Contains(diff.Stdout, "+url = https://app.test.picasoft.net/"), diff)
			assert.Check(t, is.Contains(diff.Stdout, "infer-build  services.app.build"), diff)
			assert.Check(t, is.Contains(diff.Stdout, "build-context  services.app.build: conf/defaults.conf"), diff)
			assert.Check(t, !strings.Contains(diff.Stdout, "ignored.conf"), "excluded by .dockerignore: %s", diff)
			assert.Check(t, !strings.Contains(diff.Stdout, "logo.bin"), "binary: %s", diff)

			chk := p.picatest("check", "--format", "json")
			assert.Equal(t, chk.ExitCode, 0, "a warning only: %s", chk)
			assert.Check(t, is.Contains(chk.Stdout, `"rule": "build-missing"`), chk)
			assert.Check(t, is.Contains(chk.Stdout, `"line": 7`), "the image line: %s", chk)

			up := p.picatest("up", "--yes", "--no-smoke", "--stable", "1s", "--progress", "plain")
			assert.Equal(t, up.ExitCode, 0, up)
			assertBuiltWith(t, builder, up.Stderr)
			assert.Check(t, is.Contains(up.Stdout, "service app has no build section: built as the procedure does"), up)
			assert.Check(t, is.Contains(up.Stdout, "conf/defaults.conf"), "the report names the rewritten file: %s", up)
			assert.Check(t, is.Len(buildCopies(t, tmp), 0), "the temporary build context is removed")
			app := p.containerOf("app")
			conf := p.docker("exec", app, "/app", "cat", "/etc/app/defaults.conf")
			assert.Equal(t, conf.ExitCode, 0, conf)
			assert.Check(t, is.Equal(conf.Stdout, "url = https://app.test.picasoft.net/\napi = https://api.test.picasoft.net/v1\ncontact = admin@picasoft.net\n"), "the container runs the change, with test URLs")
			logo := p.docker("exec", app, "/app", "cat", "/etc/app/logo.bin")
			want, err := os.ReadFile(filepath.Join(p.Dir, "conf", "logo.bin"))
			assert.NilError(t, err)
			assert.Check(t, is.Equal(logo.Stdout, string(want)), "binary files pass unchanged")
			assert.Equal(t, p.inspect(image, `{{index .Config.Labels "net.picasoft.picatest.test-build"}}`), "true")
			p.assertTreeUnchanged(before)

			// push refuses the test build, and --build publishes the
			// production one, built the same way from the untouched tree.
			p.login()
			refused := p.picatest("push")
			assert.Equal(t, refused.ExitCode, 3, refused)
			assert.Check(t, is.Contains(refused.Stderr, "built by a test"), refused)
			pushed := p.picatest("push", "--build", "--progress", "plain")
			assert.Equal(t, pushed.ExitCode, 0, pushed)
			assert.Check(t, is.Contains(pushed.Stdout, image), pushed)
			assert.Check(t, is.Contains(pushed.Stdout, "service app has no build section"), pushed)
			// The image pushed is the tested one but for the config file
			// the test rewrote: its COPY layer differs, nothing else.
			assert.Check(t, is.Contains(pushed.Stdout, "tested OK"), pushed)
			assert.Check(t, is.Contains(pushed.Stdout, "layers differ only by the test URLs"), pushed)
			assert.Check(t, is.Contains(pushed.Stdout, "layer 2: COPY"), pushed)
			code, _, _ := registryGet(t, "/v2/picatest-e2e/"+p.Name+"/manifests/1.0", manifestTypes...)
			assert.Equal(t, code, http.StatusOK)
			assert.Equal(t, p.inspect(image, `{{index .Config.Labels "net.picasoft.picatest.test-build"}}`), "")
			prod := p.docker("run", "--rm", image, "cat", "/etc/app/defaults.conf")
			assert.Equal(t, prod.ExitCode, 0, prod)
			assert.Check(t, is.Contains(prod.Stdout, "url = https://app.picasoft.net/"), "the pushed image has the production URLs")
			assert.Check(t, !strings.Contains(prod.Stdout, "test.picasoft.net"), prod)
			assert.Check(t, is.Len(buildCopies(t, tmp), 0))

			down := p.picatest("down")
			assert.Equal(t, down.ExitCode, 0, down)
			p.assertTreeUnchanged(before)
		})
	}
}

// TestHomeImageInterruptedBuild: Ctrl-C during a build from a rewritten
// context leaves no temporary copy, and the tree unchanged.
func TestHomeImageInterruptedBuild(t *testing.T) {
	skipShort(t)
	for _, builder := range builders {
		t.Run(builder, func(t *testing.T) {
			p, _, tmp := homeImageProject(t, "built", builder)
			before := p.snapshot()
			run := p.start(nil, "picatest", "-f", "compose.yaml", "-f", "slow.yaml", "up", "--yes", "--no-smoke", "--progress", "plain")
			poll.WaitOn(t, func(poll.LogT) poll.Result {
				if run.ProcessState != nil {
					return poll.Error(nil)
				}
				if strings.Contains(run.Output(), "picatest: build:") && len(buildCopies(t, tmp)) == 1 {
					return poll.Success()
				}
				return poll.Continue("waiting for the build from the copy: %s", run.Output())
			}, poll.WithTimeout(2*time.Minute), poll.WithDelay(100*time.Millisecond))
			time.Sleep(2 * time.Second) // the build is under way
			assert.NilError(t, run.Process.Signal(syscall.SIGTERM))
			err := run.Wait()
			var exit interface{ ExitCode() int }
			assert.Assert(t, errorAs(err, &exit), "%v: %s", err, run.Output())
			assert.Equal(t, exit.ExitCode(), 130, run.Output())
			assert.Check(t, is.Len(buildCopies(t, tmp), 0), "the temporary build context is removed: %s", run.Output())
			p.assertTreeUnchanged(before)

			rerun := p.picatest("up", "--yes", "--no-smoke", "--stable", "0s", "--progress", "quiet")
			assert.Equal(t, rerun.ExitCode, 0, "a rerun repairs it: %s", rerun)
			assert.Check(t, is.Len(buildCopies(t, tmp), 0))
		})
	}
}

// TestHomeImageCannotBeInferred: without a Dockerfile, or with several,
// up, config and push exit 2 with the build section to write, and check
// reports it as an error.
func TestHomeImageCannotBeInferred(t *testing.T) {
	skipShort(t)
	for _, tc := range []struct{ folder, message, hint string }{
		{"no-dockerfile", "no Dockerfile in the project directory", "build: {context: ./path/to/context, dockerfile: Dockerfile}"},
		{"ambiguous", "several Dockerfiles in the project directory (Dockerfile, Dockerfile.prod)", "build: {context: ., dockerfile: Dockerfile.prod}"},
	} {
		t.Run(tc.folder, func(t *testing.T) {
			p, _, _ := homeImageProject(t, tc.folder, builderClassic)
			before := p.snapshot()
			for _, args := range [][]string{{"up", "--yes"}, {"config"}, {"push", "--dry-run", "--allow-dirty"}} {
				r := p.picatest(args...)
				assert.Check(t, is.Equal(r.ExitCode, 2), r)
				assert.Check(t, is.Contains(r.Stderr, "service app: the home-made image"), r)
				assert.Check(t, is.Contains(r.Stderr, tc.message), r)
				assert.Check(t, is.Contains(r.Stderr, tc.hint), r)
			}
			chk := p.picatest("check", "--format", "json")
			assert.Check(t, is.Equal(chk.ExitCode, 1), chk)
			assert.Check(t, is.Contains(chk.Stdout, `"rule": "build-missing"`), chk)
			assert.Check(t, is.Contains(chk.Stdout, `"severity": "error"`), chk)
			assert.Equal(t, p.countContainers(), 0, "nothing started")
			p.assertTreeUnchanged(before)
		})
	}
}
