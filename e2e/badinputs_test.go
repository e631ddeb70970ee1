package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// catCase is one bad input of TestBadInputs: a scenario folder, a command,
// the exit code and the message it must give, what to do next included.
type catCase struct {
	// name is the subtest, and the folder under testdata/TestBadInputs
	// unless dir is set.
	name string
	dir  string
	// sub is the folder, under the project, the command runs in.
	sub string
	// args are those of `docker picatest`; env is added to the project's.
	args []string
	env  []string
	// dropDAC runs the command without CAP_DAC_OVERRIDE and
	// CAP_DAC_READ_SEARCH, so that root obeys file permissions as any
	// user does (the tests run as root).
	dropDAC bool
	// setup prepares the case, before the snapshot of the tree and of the
	// engine.
	setup func(t *testing.T, p *project, c *catCase)

	code int
	// want are substrings of the output (of stdout alone when code is 0);
	// next is what to do next, required for an error.
	want []string
	next string

	// named are the engine objects the case uses ("image:NAME",
	// "network:NAME", "volume:NAME"): each must be present after the case
	// exactly when it was before.
	named []string
	// after checks what a successful command did, before down.
	after func(t *testing.T, p *project, c *catCase, r result)
	// down removes the deployment the command started; built are images
	// it built, removed after down.
	down  bool
	built []string
}

// TestBadInputs is a catalogue of bad inputs: each one gets a clear error
// with its exit code and what to do next (or, for inputs that look bad but
// are valid, the right result), leaves the working tree byte for byte as it
// was and the engine state of the project as it was.
func TestBadInputs(t *testing.T) {
	skipShort(t)
	for _, c := range catCases() {
		t.Run(c.name, func(t *testing.T) {
			dir := c.dir
			if dir == "" {
				dir = c.name
			}
			p := newProject(t, filepath.Join("TestBadInputs", dir))
			var images []string
			for _, n := range c.named {
				if img, ok := strings.CutPrefix(n, "image:"); ok {
					images = append(images, img)
				}
			}
			p.cleanupImages(images...)
			if c.setup != nil {
				c.setup(t, p, &c)
			}
			before := p.snapshot()
			state := catEngineState(t, p, c.named...)
			caseDir := filepath.Join(p.Dir, c.sub)

			r := catRun(t, p, caseDir, c.dropDAC, c.env, c.args...)
			t.Log(r)
			assert.Equal(t, r.ExitCode, c.code, r)
			// An error is on stderr, after the report when there is one
			// (check prints its findings on stdout).
			out := r.Stdout + r.Stderr
			if c.code == 0 {
				out = r.Stdout
			}
			for _, w := range c.want {
				assert.Check(t, is.Contains(out, w), r)
			}
			if c.code != 0 {
				assert.Assert(t, c.next != "", "an error must say what to do next")
			}
			if c.next != "" {
				assert.Check(t, is.Contains(out, c.next), "what to do next: %s", r)
			}
			if c.after != nil {
				c.after(t, p, &c, r)
			}
			if c.down {
				d := catRun(t, p, caseDir, c.dropDAC, nil, "down", "--progress", "quiet")
				assert.Equal(t, d.ExitCode, 0, d)
			}
			for _, img := range c.built {
				p.docker("image", "rm", "-f", img)
			}
			p.assertTreeUnchanged(before)
			assert.DeepEqual(t, catEngineState(t, p, c.named...), state)
		})
	}
}

// catCases is the catalogue.
func catCases() []catCase {
	upYes := []string{"up", "--yes", "--stable", "0s", "--progress", "plain"}
	up := func(more ...string) []string { return append(append([]string{}, upYes...), more...) }
	return []catCase{
		// The Compose project itself.
		{
			name: "invalid-yaml", args: up(), code: 2,
			want: []string{"invalid Compose project", "compose.yaml", "did not find expected key"},
			next: "Fix the Compose file, then check it with 'docker picatest config'",
		},
		{
			name: "unknown-service", args: up("nope"), code: 2,
			want: []string{"no such service: nope"},
			next: "Run 'docker picatest config --services' to list the services",
		},
		{
			name: "no-compose-file", args: up(), code: 2,
			want: []string{"no configuration file provided"},
			next: "Run the command from the service folder, or name the Compose file with -f",
		},
		{
			name: "missing-compose-file", dir: "unknown-service", args: []string{"-f", "nope.yaml", "config"}, code: 2,
			want: []string{"nope.yaml", "no such file or directory"},
			next: "Check the paths given with -f (or COMPOSE_FILE)",
		},
		{
			name: "missing-env-file-flag", dir: "unknown-service", args: []string{"--env-file", "nope.env", "config"}, code: 2,
			want: []string{"couldn't find env file", "nope.env"},
			next: "Check the paths given with --env-file (or COMPOSE_ENV_FILES)",
		},
		{
			name: "duplicate-container-name", args: up(), code: 2,
			want: []string{`container name "picatest-e2e-cat-same" is already in use`},
			next: "Give each service its own container_name",
		},
		{
			name: "invalid-image-reference", args: up(), code: 2,
			want: []string{`service web: invalid image reference "Picatest-Test/App:1"`, "must be lowercase"},
			next: "Write each image as [registry/]name:tag, in lowercase",
		},

		// Secrets and files.
		{
			name: "missing-example-secret", args: up(), code: 2,
			want: []string{"missing file, neither it nor its .example exists", "secrets/app.secrets"},
			next: "create secrets/app.secrets.example with test values",
		},
		{
			name: "picatest-yml-dev-zero", args: up(), code: 2,
			setup: func(t *testing.T, p *project, _ *catCase) {
				assert.NilError(t, os.Symlink("/dev/zero", filepath.Join(p.Dir, ".picatest.yml")))
				p.git("add", ".picatest.yml")
				p.commit("-m", "a settings file that never ends")
			},
			want: []string{".picatest.yml is a character device, not a regular file"},
			next: "replace it with a regular file or remove it",
		},
		{
			name: "missing-env-file", args: up(), code: 2,
			want: []string{"app.env"},
			next: "create app.env.example with test values (or app.env itself)",
		},
		{
			name: "unreadable-config-file", args: up(), dropDAC: true, code: 2,
			setup: func(t *testing.T, p *project, _ *catCase) {
				f := filepath.Join(p.Dir, "conf", "settings.json")
				assert.NilError(t, os.Chmod(f, 0))
				t.Cleanup(func() { _ = os.Chmod(f, 0o644) })
				// The command really cannot read it.
				r := catExec(t, p, p.Dir, true, nil, "test", "-r", f)
				assert.Equal(t, r.ExitCode, 1, "without CAP_DAC_OVERRIDE, root cannot read a mode 000 file: %s", r)
			},
			want: []string{"cannot read conf/settings.json", "permission denied"},
			next: "chmod -R a+rX conf/settings.json",
		},
		{
			name: "binary-config-file", args: up(), code: 0,
			want: []string{"is up and healthy"},
			after: func(t *testing.T, p *project, _ *catCase, _ result) {
				id := p.containerOf("app")
				conf := p.docker("exec", id, "/app", "cat", "/etc/app/app.conf")
				assert.Equal(t, conf.ExitCode, 0, conf)
				assert.Check(t, is.Contains(conf.Stdout, "url = https://app.test.picasoft.net/"))
				// The binary file reaches the container byte for byte.
				dst := filepath.Join(t.TempDir(), "logo.bin")
				cp := p.docker("cp", id+":/etc/app/logo.bin", dst)
				assert.Equal(t, cp.ExitCode, 0, cp)
				got, err := os.ReadFile(dst)
				assert.NilError(t, err)
				want, err := os.ReadFile(filepath.Join(p.Dir, "conf", "logo.bin"))
				assert.NilError(t, err)
				assert.Check(t, bytes.Equal(got, want), "logo.bin changed on its way: %q, want %q", got, want)
			},
			down: true,
		},
		{
			name: "symlink-outside", args: up(), code: 2,
			setup: func(t *testing.T, p *project, _ *catCase) {
				// conf/outside.txt -> ../../outside.txt, next to the project.
				assert.NilError(t, os.WriteFile(filepath.Join(filepath.Dir(p.Dir), "outside.txt"), []byte("OUTSIDE-THE-PROJECT\n"), 0o644))
			},
			want: []string{"conf/outside.txt (symbolic link to a directory or outside the project)", "conf/app.conf"},
			next: "replace these entries by regular files, or bind-mount only the files that need rewriting",
			after: func(t *testing.T, _ *project, _ *catCase, r result) {
				assert.Check(t, !strings.Contains(r.Stdout+r.Stderr, "OUTSIDE-THE-PROJECT"), "the target was read: %s", r)
			},
		},
		{
			name: "huge-config-dir", args: up(), code: 2,
			setup: func(t *testing.T, p *project, _ *catCase) {
				for i := 1; i <= 1000; i++ {
					name := filepath.Join(p.Dir, "conf", fmt.Sprintf("f%04d.txt", i))
					assert.NilError(t, os.WriteFile(name, []byte(fmt.Sprintf("n = %d\n", i)), 0o644))
				}
				p.git("add", "-A")
				p.commit("-m", "1000 more files")
			},
			want: []string{"directory conf/ holds 1001 files (limit 1000)", "conf/app.conf contains a production hostname"},
			next: "bind-mount only the files that need rewriting, or move the hostname into an environment variable",
		},

		// The engine.
		{
			name: "missing-external-network", args: up(), code: 1,
			setup: func(t *testing.T, p *project, _ *catCase) {
				p.docker("network", "rm", "picatest-e2e-cat-missing-network")
			},
			named: []string{"network:picatest-e2e-cat-missing-network"},
			want:  []string{"external network picatest-e2e-cat-missing-network does not exist"},
			next:  "docker network create picatest-e2e-cat-missing-network",
		},
		{
			// After a reset interrupted between removing and re-creating an
			// external volume, only a reset brings it back.
			name: "no-reset-missing-external-volume", dir: "no-reset-missing-volume", args: []string{"up", "--no-reset", "--stable", "0s"}, code: 1,
			setup: func(t *testing.T, p *project, _ *catCase) {
				p.docker("volume", "rm", "picatest-e2e-cat-missing-volume")
			},
			named: []string{"volume:picatest-e2e-cat-missing-volume"},
			want:  []string{"external volume picatest-e2e-cat-missing-volume does not exist"},
			next:  "run 'docker picatest up' without --no-reset",
		},
		{
			name: "engine-unreachable-unix", dir: "engine", args: up(), env: []string{"DOCKER_HOST=unix:///nonexistent.sock"}, code: 1,
			want: []string{"cannot reach the Docker engine at unix:///nonexistent.sock"},
			next: "Check DOCKER_HOST (unix:///nonexistent.sock) and the docker context",
		},
		{
			name: "engine-unreachable-tcp", dir: "engine", args: []string{"down"}, env: []string{"DOCKER_HOST=tcp://127.0.0.1:1"}, code: 1,
			want: []string{"cannot reach the Docker engine at tcp://127.0.0.1:1"},
			next: "Check DOCKER_HOST (tcp://127.0.0.1:1) and the docker context",
		},
		{
			name: "engine-unreachable-status", dir: "engine", args: []string{"status"}, env: []string{"DOCKER_HOST=unix:///nonexistent.sock"}, code: 1,
			want: []string{"cannot reach the Docker engine"},
			next: "Check DOCKER_HOST (unix:///nonexistent.sock) and the docker context",
		},
		{
			name: "engine-unreachable-logs", dir: "engine", args: []string{"logs"}, env: []string{"DOCKER_HOST=tcp://127.0.0.1:1"}, code: 1,
			want: []string{"cannot reach the Docker engine"},
			next: "Check DOCKER_HOST (tcp://127.0.0.1:1) and the docker context",
		},
		{
			name: "api-version-refused", dir: "engine", args: up(), env: []string{"DOCKER_API_VERSION=1.11"}, code: 1,
			want: []string{"refuses the API version 1.11 asked by DOCKER_API_VERSION", "client version 1.11 is too old"},
			next: "Unset DOCKER_API_VERSION",
		},
		{
			// interface_name needs API 1.49 (Engine 28.1); Compose only finds
			// out when it creates the container, after the networks.
			name: "engine-too-old", args: up(), code: 1,
			setup: func(t *testing.T, p *project, c *catCase) {
				if v := catServerAPIVersion(t, p); v >= 49 {
					// A recent engine: pin the client to the API of 20.10.
					c.env = append(c.env, "DOCKER_API_VERSION=1.41")
				}
			},
			want: []string{"too old for the project; nothing was created", "service web: interface_name on network back needs Docker Engine 28.1 or later (API 1.49)"},
			next: "Docker Engine of the test machine, or leave these out of the test with an override file",
		},
		{
			name: "missing-dockerfile", args: up(), code: 1,
			named: []string{"image:picatest-e2e/cat-missing-dockerfile:1"},
			want:  []string{"build failed", "app/Dockerfile: no such file or directory"},
			next:  "Fix the Dockerfile or the build context, then run 'docker picatest up' again",
		},
		{
			name: "build-failure", args: up(), code: 1,
			named: []string{"image:picatest-e2e/cat-build-failure:1"},
			want:  []string{"build failed: COPY failed", "missing.txt"},
			next:  "Fix the Dockerfile or the build context, then run 'docker picatest up' again",
		},
		{
			name: "image-without-tag-up", dir: "image-without-tag", args: up(), code: 1,
			named: []string{"image:picatest-test/app:latest"},
			want:  []string{"image picatest-test/app (service web", "could not be pulled and is not present locally"},
			next:  "check the image name and tag",
		},

		// Flags.
		{
			name: "bad-format", dir: "engine", args: up("--format", "xml"), code: 2,
			want: []string{`--format "xml" is not supported`},
			next: "use --format text or --format json",
		},
		{
			name: "wait-timeout-zero", dir: "engine", args: up("--wait-timeout", "0"), code: 2,
			want: []string{"--wait-timeout must be positive"},
			next: "e.g. --wait-timeout 5m",
		},
		{
			name: "unknown-flag", dir: "engine", args: up("--bogus"), code: 2,
			want: []string{"unknown flag: --bogus"},
			next: "See 'docker picatest up --help'",
		},

		// Safety (SPEC §5).
		{
			name: "not-a-test-host", dir: "safety", args: up(), env: []string{"PICATEST_TEST_HOSTS=prod-*"}, code: 3,
			want: []string{"is not a test host", "prod-*"},
			next: "To allow this daemon: set PICATEST_TEST_HOSTS",
		},
		{
			name: "owned-by-someone-else", dir: "safety", args: up(), env: []string{"USER=bob"}, code: 3,
			setup: func(t *testing.T, p *project, _ *catCase) {
				r := p.dockerEnv([]string{"USER=alice"}, append([]string{"picatest"}, upYes...)...)
				assert.Equal(t, r.ExitCode, 0, r)
			},
			want: []string{"is deployed by alice (branch main"},
			next: "ask them, or pass --takeover to replace their deployment",
		},
		{
			name: "lock-held", dir: "safety", args: up(), env: []string{"PICATEST_LOCK_WAIT=1s"}, code: 3,
			setup: func(t *testing.T, p *project, _ *catCase) { catHoldLock(t, p, "carol") },
			want:  []string{"is locked by carol (pid 4242 on carol-laptop, `docker picatest up`) since", "wait for it to finish, or check with `docker picatest status --all`"},
			next:  "the lock is stale: run this command again with --break-lock to break it",
		},

		// check (SPEC §4).
		{
			name: "image-without-tag-check", dir: "image-without-tag", args: []string{"check"}, code: 1,
			want: []string{"error     compose.yaml:3  image-untagged  service web uses image picatest-test/app without a tag (latest is implied)"},
			next: "add an explicit version tag, e.g. picatest-test/app:1.0",
		},
		{
			name: "latest-tag-check", dir: "latest-tag", args: []string{"check"}, code: 1,
			want: []string{"error     compose.yaml:3  image-latest  service web uses image picatest-test/app:latest with the tag latest"},
			next: "pin an explicit version tag",
		},

		// Push (SPEC §7): every check before anything is built.
		{
			name: "push-registry-unreachable", dir: "push-unreachable", args: []string{"push", "--build"}, code: 1,
			setup: func(t *testing.T, p *project, _ *catCase) {
				p.withCredentials("127.0.0.1:1", "picatest", "picatest-pass")
			},
			named: []string{"image:127.0.0.1:1/picatest-e2e/cat-push-unreachable:1.0"},
			want:  []string{"the registry 127.0.0.1:1 cannot be reached", "nothing was built or pushed"},
			next:  "Check that it is up and that --registry (or PICATEST_REGISTRY, .picatest.yml) names it",
		},
		{
			name: "push-wrong-credentials", dir: "push-credentials", args: []string{"push", "--build"}, code: 1,
			setup: func(t *testing.T, p *project, _ *catCase) {
				startRegistry(t)
				p.withCredentials(registryAddr, registryUser, "not-the-password")
			},
			named: []string{"image:127.0.0.1:5000/picatest-e2e/cat-push-credentials:1.0"},
			want:  []string{"the registry 127.0.0.1:5000 refuses the credentials of the Docker config"},
			next:  "Run 'docker login 127.0.0.1:5000' again with the right user and password",
		},
		{
			name: "push-not-logged-in", dir: "push-credentials", args: []string{"push", "--build"}, code: 1,
			setup: func(t *testing.T, p *project, _ *catCase) { p.withDockerConfig("{}\n") },
			named: []string{"image:127.0.0.1:5000/picatest-e2e/cat-push-credentials:1.0"},
			want:  []string{"not logged in to 127.0.0.1:5000"},
			next:  "Run 'docker login 127.0.0.1:5000' first",
		},
		{
			name: "push-outside-registry", args: []string{"push", "--build"}, code: 0,
			named: []string{"image:ghcr.io/picasoft/cat-outside:1.0"},
			want:  []string{"Nothing to push to registry.picasoft.net", "ghcr.io/picasoft/cat-outside:1.0", "other registry (ghcr.io/picasoft/cat-outside, not under registry.picasoft.net)"},
		},

		// Inputs that look bad but are valid: they must just work.
		{
			name: "dollar-escapes-config", dir: "dollar-escapes", args: []string{"config"}, code: 0,
			// config prints the model as docker compose config does: a
			// literal $ escaped as $$.
			want: []string{"LITERAL: $$HOME", "MIXED: $${NOT_A_VAR} at https://app.test.picasoft.net/ for hello", "- $$HOME"},
			after: func(t *testing.T, p *project, _ *catCase, r result) {
				c := p.docker("compose", "config")
				assert.Equal(t, c.ExitCode, 0, c)
				for _, line := range []string{"LITERAL: $$HOME", "- $$HOME"} {
					assert.Check(t, is.Contains(c.Stdout, line), "docker compose config prints it the same")
				}
			},
		},
		{
			name: "dollar-escapes-up", dir: "dollar-escapes", args: up(), code: 0,
			want: []string{"is up and healthy"},
			after: func(t *testing.T, p *project, _ *catCase, _ result) {
				id := p.containerOf("app")
				var env, args []string
				assert.NilError(t, json.Unmarshal([]byte(p.inspect(id, "{{json .Config.Env}}")), &env))
				assert.NilError(t, json.Unmarshal([]byte(p.inspect(id, "{{json .Args}}")), &args))
				assert.Check(t, is.Contains(env, "LITERAL=$HOME"))
				assert.Check(t, is.Contains(env, "MIXED=${NOT_A_VAR} at https://app.test.picasoft.net/ for hello"))
				assert.Check(t, is.DeepEqual(args, []string{"serve", "$HOME"}))
			},
			down: true,
		},
		{
			name: "profiles-off", dir: "profiles", args: []string{"config", "--services"}, code: 0,
			want: []string{"web\n"},
			after: func(t *testing.T, _ *project, _ *catCase, r result) {
				assert.Check(t, is.Equal(r.Stdout, "web\n"))
			},
		},
		{
			name: "profiles-on", dir: "profiles", args: []string{"--profile", "debug", "config", "--services"}, code: 0,
			after: func(t *testing.T, _ *project, _ *catCase, r result) {
				assert.Check(t, is.Equal(r.Stdout, "debug\nweb\n"))
			},
		},
		{
			name: "profiles-up", dir: "profiles", args: up(), code: 0,
			want: []string{"is up and healthy"},
			after: func(t *testing.T, p *project, _ *catCase, r result) {
				assert.Check(t, is.Equal(p.countContainers(), 1), "only web starts")
				p.containerOf("web")
				assert.Check(t, !strings.Contains(r.Stdout, "debug"), r)
			},
			down: true,
		},
		{
			name: "override-files", args: []string{"-f", "compose.yaml", "-f", "extra.yaml", "config"}, code: 0,
			want: []string{
				"BASE_URL: https://override.test.picasoft.net/",
				"EXTRA_ONLY: https://extra.test.picasoft.net/",
				"KEPT: https://kept.test.picasoft.net/",
				"traefik.http.routers.app.rule: Host(`override.test.picasoft.net`)",
			},
			after: func(t *testing.T, _ *project, _ *catCase, r result) {
				assert.Check(t, !strings.Contains(r.Stdout, "base."), r.Stdout)
				assert.Check(t, !strings.Contains(r.Stdout, "default-override"), "compose.override.yaml is not read with -f")
			},
		},
		{
			name: "override-default", dir: "override-files", args: []string{"config"}, code: 0,
			want: []string{"BASE_URL: https://default-override.test.picasoft.net/", "Host(`base.test.picasoft.net`)"},
		},
		{
			name: "spaces-non-ascii", sub: filepath.Join("dir with spaces", "été-ñ"), args: up(), code: 0,
			want: []string{"is up and healthy"},
			after: func(t *testing.T, p *project, c *catCase, _ result) {
				d := catRun(t, p, filepath.Join(p.Dir, c.sub), false, nil, "config", "--diff")
				assert.Equal(t, d.ExitCode, 0, d)
				assert.Check(t, is.Contains(d.Stdout, "+++ b/conf dir/réglages.json"), d)
				f := p.docker("exec", p.containerOf("app"), "/app", "cat", "/etc/app/réglages.json")
				assert.Equal(t, f.ExitCode, 0, f)
				assert.Check(t, is.Contains(f.Stdout, `"url": "https://app.test.picasoft.net/", "name": "Ñandú"`))
			},
			down: true,
		},
		{
			name: "read-only-tree", args: up(), dropDAC: true, code: 0,
			setup: func(t *testing.T, p *project, _ *catCase) {
				catReadOnlyTree(t, p)
				r := catExec(t, p, p.Dir, true, nil, "touch", filepath.Join(p.Dir, "conf", "new.txt"))
				assert.Equal(t, r.ExitCode, 1, "the tree must refuse writes: %s", r)
			},
			named: []string{"image:picatest-e2e/cat-read-only-tree:1"},
			want:  []string{"is up and healthy"},
			after: func(t *testing.T, p *project, _ *catCase, _ result) {
				c := p.docker("exec", p.containerOf("app"), "/app", "cat", "/etc/app/settings.json")
				assert.Equal(t, c.ExitCode, 0, c)
				assert.Check(t, is.Contains(c.Stdout, "https://app.test.picasoft.net/"))
			},
			down:  true,
			built: []string{"picatest-e2e/cat-read-only-tree:1"},
		},
	}
}

// catRun runs `docker picatest args...` in dir as p.dockerEnv does, without
// CAP_DAC_OVERRIDE when dropDAC is set.
func catRun(t *testing.T, p *project, dir string, dropDAC bool, env []string, args ...string) result {
	t.Helper()
	return catExec(t, p, dir, dropDAC, env, append([]string{"docker", "picatest"}, args...)...)
}

// catExec runs argv in dir with the environment of p.dockerEnv plus env;
// with dropDAC, through setpriv without the capabilities that let root
// ignore file permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
// CAP_FOWNER), so that a read-only or unreadable file stops it as it stops
// any user.
func catExec(t *testing.T, p *project, dir string, dropDAC bool, env []string, argv ...string) result {
	t.Helper()
	if dropDAC && os.Geteuid() == 0 {
		_, err := exec.LookPath("setpriv")
		assert.NilError(t, err, "setpriv is needed to run a command as root without CAP_DAC_OVERRIDE: apt-get install util-linux")
		const caps = "-dac_override,-dac_read_search,-fowner"
		argv = append([]string{"setpriv", "--inh-caps=" + caps, "--bounding-set=" + caps, "--"}, argv...)
	}
	cmd := p.command(context.Background(), env, argv[0], argv[1:]...)
	cmd.Dir = dir
	return runCommand(t, cmd)
}

// catState is what the engine holds for one project: its containers (name,
// state and ID, so that a re-created container shows), volumes, networks
// and images labelled com.docker.compose.project=<project>, and whether
// each named object exists.
type catState struct {
	Containers, Volumes, Networks, Images, Named []string
}

// catEngineState reads the engine state of p; named are "image:NAME",
// "network:NAME" or "volume:NAME".
func catEngineState(t *testing.T, p *project, named ...string) catState {
	t.Helper()
	list := func(kind, format string) []string {
		var lines []string
		for _, line := range p.objects(kind, format) {
			lines = append(lines, strings.ReplaceAll(line, " ", "|"))
		}
		sort.Strings(lines)
		return lines
	}
	s := catState{
		Containers: list("container", "{{.Names}} {{.State}} {{.ID}}"),
		Volumes:    list("volume", "{{.Name}}"),
		Networks:   list("network", "{{.Name}}"),
		Images:     list("image", "{{.Repository}}:{{.Tag}}"),
	}
	for _, n := range named {
		kind, name, _ := strings.Cut(n, ":")
		r := p.docker(kind, "inspect", name)
		s.Named = append(s.Named, fmt.Sprintf("%s present=%v", n, r.ExitCode == 0))
	}
	return s
}

// catServerAPIVersion returns the minor of the engine's API version (41
// for 1.41).
func catServerAPIVersion(t *testing.T, p *project) int {
	t.Helper()
	r := p.docker("version", "--format", "{{.Server.APIVersion}}")
	assert.Equal(t, r.ExitCode, 0, r)
	_, minor, ok := strings.Cut(strings.TrimSpace(r.Stdout), ".")
	assert.Assert(t, ok, r)
	v, err := strconv.Atoi(minor)
	assert.NilError(t, err, r)
	return v
}

// catHoldLock holds the lock of p's up/down (internal/safety: the
// container picatest-lock-<project>, created and never started, its labels
// naming the holder) until the end of the test, as an up run by holder on
// another machine would.
func catHoldLock(t *testing.T, p *project, holder string) {
	t.Helper()
	// A down of the empty project takes and releases the lock: the lock
	// image exists from then on.
	r := p.picatest("down", "--progress", "quiet")
	assert.Equal(t, r.ExitCode, 0, r)
	const l = "net.picasoft.picatest.lock"
	r = p.docker("create", "--name", p.lockName(), "--network", "none",
		"--label", l+"="+p.Name, "--label", l+".user="+holder, "--label", l+".host="+holder+"-laptop",
		"--label", l+".pid=4242", "--label", l+".command=docker picatest up",
		"--label", l+".since="+time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano),
		"picatest-lock:1")
	assert.Equal(t, r.ExitCode, 0, r)
	t.Cleanup(func() { p.docker("rm", "-f", p.lockName()) })
}

// catReadOnlyTree removes the write permission of every file and folder of
// p's work tree (.git excepted), until the end of the test.
func catReadOnlyTree(t *testing.T, p *project) {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(p.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, path)
		}
		return os.Chmod(path, info.Mode().Perm()&^0o222)
	})
	assert.NilError(t, err)
	t.Cleanup(func() {
		for _, d := range dirs {
			_ = os.Chmod(d, 0o755)
		}
	})
}
