package examplesecrets_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/transforms"
	"github.com/picasoft/docker-picatest/transforms/examplesecrets"
)

// relChanges shows the changes' paths relative to the project dir, as
// composetest.YAML does, so that expectations stay readable.
func relChanges(dir string, cs []transforms.Change) []transforms.Change {
	var out []transforms.Change
	for _, c := range cs {
		c.Old = strings.ReplaceAll(c.Old, dir, ".")
		c.New = strings.ReplaceAll(c.New, dir, ".")
		out = append(out, c)
	}
	return out
}

func TestTransform(t *testing.T) {
	change := func(where, old, new string) transforms.Change {
		return transforms.Change{Transform: "example-secrets", Where: where, Old: old, New: new}
	}
	tests := []struct {
		name    string
		compose string
		files   map[string]string
		opts    examplesecrets.Options
		want    []transforms.Change
		wantErr string
		// wantFiles, if set, is the list of MissingError.Files, relative.
		wantFiles []string
		// wantYAML, if set, is the whole transformed project.
		wantYAML string
	}{
		{
			name: "env_file swapped",
			compose: `
services:
  pad:
    image: pad:1
    env_file: db.secrets
`,
			files: map[string]string{"db.secrets": "PASSWORD=prod\n", "db.secrets.example": "PASSWORD=test\n"},
			want:  []transforms.Change{change("services.pad.env_file[0]", "./db.secrets", "./db.secrets.example")},
			wantYAML: `name: test
services:
  pad:
    env_file:
      - path: ./db.secrets.example
    image: pad:1
    networks:
      default: null
networks:
  default:
    name: test_default
`,
		},
		{
			name: "env_file swapped when only the example exists",
			compose: `
services:
  pad:
    image: pad:1
    env_file: db.secrets
`,
			files: map[string]string{"db.secrets.example": "PASSWORD=test\n"},
			want:  []transforms.Change{change("services.pad.env_file[0]", "./db.secrets", "./db.secrets.example")},
		},
		{
			name: "two env files, one with an example, keep their order and options",
			compose: `
services:
  pad:
    image: pad:1
    env_file:
      - common.env
      - path: db.secrets
        format: raw
  db:
    image: postgres:16
    env_file: [db.secrets]
`,
			files: map[string]string{
				"common.env":         "TZ=Europe/Paris\n",
				"db.secrets":         "PASSWORD=prod\n",
				"db.secrets.example": "PASSWORD=test\n",
			},
			want: []transforms.Change{
				change("services.db.env_file[0]", "./db.secrets", "./db.secrets.example"),
				change("services.pad.env_file[1]", "./db.secrets", "./db.secrets.example"),
			},
			wantYAML: `name: test
services:
  db:
    env_file:
      - path: ./db.secrets.example
    image: postgres:16
    networks:
      default: null
  pad:
    env_file:
      - path: ./common.env
      - path: ./db.secrets.example
        format: raw
    image: pad:1
    networks:
      default: null
networks:
  default:
    name: test_default
`,
		},
		{
			name: "secrets file swapped",
			compose: `
services:
  db:
    image: postgres:16
    secrets: [db_password]
secrets:
  db_password:
    file: secrets/db_password
`,
			files: map[string]string{"secrets/db_password": "prod", "secrets/db_password.example": "test"},
			want:  []transforms.Change{change("secrets.db_password", "./secrets/db_password", "./secrets/db_password.example")},
			wantYAML: `name: test
services:
  db:
    image: postgres:16
    networks:
      default: null
    secrets:
      - source: db_password
        target: /run/secrets/db_password
networks:
  default:
    name: test_default
secrets:
  db_password:
    name: test_db_password
    file: ./secrets/db_password.example
`,
		},
		{
			name: "configs file swapped, other kinds of secrets and configs untouched",
			compose: `
services:
  pad:
    image: pad:1
    configs: [app, inline]
    secrets: [token, ext]
configs:
  app:
    file: conf/app.ini
  inline:
    content: hello
secrets:
  token:
    environment: TOKEN
  ext:
    external: true
`,
			files: map[string]string{"conf/app.ini": "prod", "conf/app.ini.example": "test"},
			want:  []transforms.Change{change("configs.app", "./conf/app.ini", "./conf/app.ini.example")},
		},
		{
			name: "bind-mounted secrets file swapped, other bind mounts untouched",
			compose: `
services:
  app:
    image: pad:1
    volumes:
      - ./secrets/app.secrets:/run/app.env:ro
      - ./conf/app.ini:/etc/app.ini
      - ./secrets:/run/secrets
      - ./secrets/token.secrets:/run/token
`,
			files: map[string]string{
				"secrets/app.secrets":         "CANARY=real-value\n",
				"secrets/app.secrets.example": "CANARY=example-value\n",
				"secrets/token.secrets":       "real, no example",
				"conf/app.ini":                "not a secret",
			},
			want: []transforms.Change{change("services.app.volumes[0]", "./secrets/app.secrets", "./secrets/app.secrets.example")},
			wantYAML: `name: test
services:
  app:
    image: pad:1
    networks:
      default: null
    volumes:
      - type: bind
        source: ./secrets/app.secrets.example
        target: /run/app.env
        read_only: true
        bind: {}
      - type: bind
        source: ./conf/app.ini
        target: /etc/app.ini
        bind: {}
      - type: bind
        source: ./secrets
        target: /run/secrets
        bind: {}
      - type: bind
        source: ./secrets/token.secrets
        target: /run/token
        bind: {}
networks:
  default:
    name: test_default
`,
		},
		{
			name: "bind-mounted file with an example is a secrets file whatever its name",
			compose: `
services:
  app:
    image: pad:1
    volumes: ["./conf/app.ini:/etc/app.ini"]
`,
			files: map[string]string{"conf/app.ini": "prod", "conf/app.ini.example": "test"},
			want:  []transforms.Change{change("services.app.volumes[0]", "./conf/app.ini", "./conf/app.ini.example")},
		},
		{
			name: "RealSecrets keeps a bind-mounted secrets file",
			compose: `
services:
  app:
    image: pad:1
    volumes: ["./secrets/app.secrets:/run/app.env"]
`,
			files: map[string]string{"secrets/app.secrets": "A=prod\n", "secrets/app.secrets.example": "A=test\n"},
			opts:  examplesecrets.Options{RealSecrets: true},
			want:  nil,
		},
		{
			name: "RealSecrets keeps P",
			compose: `
services:
  pad:
    image: pad:1
    env_file: db.secrets
    secrets: [pw]
secrets:
  pw:
    file: pw.txt
`,
			files: map[string]string{
				"db.secrets": "PASSWORD=prod\n", "db.secrets.example": "PASSWORD=test\n",
				"pw.txt": "prod", "pw.txt.example": "test",
			},
			opts: examplesecrets.Options{RealSecrets: true},
			want: nil,
		},
		{
			name: "no example, P exists: unchanged",
			compose: `
services:
  pad:
    image: pad:1
    env_file: pad.env
`,
			files: map[string]string{"pad.env": "A=1\n"},
			want:  nil,
		},
		{
			name: "required: false env_file missing is tolerated",
			compose: `
services:
  pad:
    image: pad:1
    env_file:
      - path: local.env
        required: false
`,
			want: nil,
		},
		{
			name: "missing files named across services, secrets and configs",
			compose: `
services:
  pad:
    image: pad:1
    env_file: [pad.secrets, {path: optional.env, required: false}]
  db:
    image: postgres:16
    env_file: [db.secrets, pad.secrets]
secrets:
  pw:
    file: secrets/pw
configs:
  app:
    file: conf/app.ini
  ok:
    file: conf/ok.ini
`,
			files:     map[string]string{"conf/ok.ini.example": "x"},
			wantFiles: []string{"conf/app.ini", "db.secrets", "pad.secrets", "secrets/pw"},
			wantErr: `4 missing files, neither they nor their .example exist:
  conf/app.ini: create conf/app.ini.example with test values (or conf/app.ini itself)
  db.secrets: create db.secrets.example with test values (or db.secrets itself)
  pad.secrets: create pad.secrets.example with test values (or pad.secrets itself)
  secrets/pw: create secrets/pw.example with test values (or secrets/pw itself)`,
		},
		{
			name: "one missing file",
			compose: `
services:
  pad:
    image: pad:1
    env_file: pad.secrets
`,
			wantFiles: []string{"pad.secrets"},
			wantErr: `missing file, neither it nor its .example exists:
  pad.secrets: create pad.secrets.example with test values (or pad.secrets itself)`,
		},
		{
			name: "RealSecrets: P missing is an error even with P.example",
			compose: `
services:
  pad:
    image: pad:1
    env_file: db.secrets
`,
			files:     map[string]string{"db.secrets.example": "A=1\n"},
			opts:      examplesecrets.Options{RealSecrets: true},
			wantFiles: []string{"db.secrets"},
			wantErr: `1 missing file(s), needed with --real-secrets:
  db.secrets: create it, or run without --real-secrets to use db.secrets.example`,
		},
		{
			name: "RealSecrets: optional P missing with P.example is not an error",
			compose: `
services:
  pad:
    image: pad:1
    env_file:
      - path: local.env
        required: false
`,
			files: map[string]string{"local.env.example": "A=1\n"},
			opts:  examplesecrets.Options{RealSecrets: true},
			want:  nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := composetest.Load(t, tc.compose, tc.files)
			before := composetest.YAML(t, p)

			got, changes, err := examplesecrets.Transform(p, tc.opts)

			assert.Equal(t, composetest.YAML(t, p), before, "input project modified")
			if tc.wantErr != "" {
				assert.Error(t, err, tc.wantErr)
				var missing *examplesecrets.MissingError
				assert.Assert(t, errors.As(err, &missing))
				var rel []string
				for _, f := range missing.Files {
					r, err := filepath.Rel(p.WorkingDir, f)
					assert.NilError(t, err)
					rel = append(rel, filepath.ToSlash(r))
				}
				assert.DeepEqual(t, rel, tc.wantFiles)
				assert.Assert(t, got == nil)
				return
			}
			assert.NilError(t, err)
			assert.DeepEqual(t, relChanges(p.WorkingDir, changes), tc.want)
			assert.Assert(t, got != p, "Transform must return a new project")
			if tc.wantYAML != "" {
				assert.Equal(t, composetest.YAML(t, got), tc.wantYAML)
			}
			if len(tc.want) == 0 {
				assert.Equal(t, composetest.YAML(t, got), before)
			}

			// Idempotent: P.example.example does not exist.
			again, changes, err := examplesecrets.Transform(got, tc.opts)
			assert.NilError(t, err)
			assert.Check(t, is.Len(changes, 0))
			assert.Equal(t, composetest.YAML(t, again), composetest.YAML(t, got))
		})
	}
}

func TestTransformThenResolveEnvironment(t *testing.T) {
	p := composetest.Load(t, `
services:
  pad:
    image: pad:1
    environment:
      FROM_COMPOSE: yes
    env_file:
      - common.env
      - db.secrets
`, map[string]string{
		"common.env":         "TZ=Europe/Paris\n",
		"db.secrets":         "DB_PASSWORD=prod-password\nDB_USER=pad\n",
		"db.secrets.example": "DB_PASSWORD=test-password\nDB_USER=pad\n",
	})

	got, _, err := examplesecrets.Transform(p, examplesecrets.Options{})
	assert.NilError(t, err)
	resolved, err := got.WithServicesEnvironmentResolved(true)
	assert.NilError(t, err)

	assert.DeepEqual(t, resolved.Services["pad"].Environment, envOf(map[string]string{
		"DB_PASSWORD":  "test-password",
		"DB_USER":      "pad",
		"FROM_COMPOSE": "yes",
		"TZ":           "Europe/Paris",
	}))

	// The untransformed project, resolved, reads the real values: the swap
	// must happen before the resolution.
	unswapped, err := p.WithServicesEnvironmentResolved(true)
	assert.NilError(t, err)
	assert.Equal(t, *unswapped.Services["pad"].Environment["DB_PASSWORD"], "prod-password")
}

func TestTransformDoesNotTouchFiles(t *testing.T) {
	p := composetest.Load(t, `
services:
  pad:
    image: pad:1
    env_file: db.secrets
`, map[string]string{"db.secrets": "A=prod\n", "db.secrets.example": "A=test\n"})
	list := func() []string {
		var names []string
		entries, err := os.ReadDir(p.WorkingDir)
		assert.NilError(t, err)
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	before := list()
	_, _, err := examplesecrets.Transform(p, examplesecrets.Options{})
	assert.NilError(t, err)
	assert.DeepEqual(t, list(), before)
	b, err := os.ReadFile(filepath.Join(p.WorkingDir, "db.secrets"))
	assert.NilError(t, err)
	assert.Equal(t, string(b), "A=prod\n")
}

func TestRealSecretsFiles(t *testing.T) {
	const compose = `
services:
  pad:
    image: pad:1
    env_file:
      - common.env
      - pad.secrets
      - db.secrets
      - path: absent.secrets
        required: false
  db:
    image: postgres:16
    env_file: db.secrets
    secrets: [pw, key]
    configs: [app]
    volumes: ["./mounted.secrets:/run/mounted"]
secrets:
  pw:
    file: pw.txt
  key:
    file: key.secrets
configs:
  app:
    file: app.ini
`
	files := map[string]string{
		"common.env":         "TZ=Europe/Paris\n",
		"pad.secrets":        "TOKEN=real\n", // .secrets without example
		"db.secrets":         "PASSWORD=real\n",
		"db.secrets.example": "PASSWORD=test\n",
		"pw.txt":             "real",
		"pw.txt.example":     "test",
		"key.secrets":        "real", // .secrets without example
		"app.ini":            "not a secret",
		"mounted.secrets":    "BIND=real", // bind-mounted, no example
	}
	tests := []struct {
		name      string
		opts      examplesecrets.Options
		transform bool
		want      []string
	}{
		{name: "before Transform", want: []string{"key.secrets", "mounted.secrets", "pad.secrets"}},
		{name: "after Transform", transform: true, want: []string{"key.secrets", "mounted.secrets", "pad.secrets"}},
		{
			name: "RealSecrets before Transform",
			opts: examplesecrets.Options{RealSecrets: true},
			want: []string{"db.secrets", "key.secrets", "mounted.secrets", "pad.secrets", "pw.txt"},
		},
		{
			name: "RealSecrets after Transform", transform: true,
			opts: examplesecrets.Options{RealSecrets: true},
			want: []string{"db.secrets", "key.secrets", "mounted.secrets", "pad.secrets", "pw.txt"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := composetest.Load(t, compose, files)
			if tc.transform {
				var err error
				p, _, err = examplesecrets.Transform(p, tc.opts)
				assert.NilError(t, err)
			}
			var want []string
			for _, f := range tc.want {
				want = append(want, filepath.Join(p.WorkingDir, f))
			}
			assert.DeepEqual(t, examplesecrets.RealSecretsFiles(p, tc.opts), want)
		})
	}
}

func TestIsSecretsFile(t *testing.T) {
	dir := composetest.Dir(t, map[string]string{
		"a.secrets": "", "b.env": "", "b.env.example": "", "c.env": "",
	})
	for name, want := range map[string]bool{
		"a.secrets":     true,  // by name
		"b.env":         true,  // has an example
		"c.env":         false, // neither
		"b.env.example": false, // the example itself
		"d.secrets":     true,  // by name, even missing
	} {
		assert.Check(t, is.Equal(examplesecrets.IsSecretsFile(filepath.Join(dir, name)), want), name)
	}
}

func envOf(m map[string]string) types.MappingWithEquals {
	out := types.MappingWithEquals{}
	for k, v := range m {
		out[k] = &v
	}
	return out
}

// TestMissingErrorNamesOutsideFilesAbsolute: a missing file inside the
// project is named relative to it, one outside (secrets kept under
// /srv/docker, say) by its absolute path, never as ../../../srv/...
func TestMissingErrorNamesOutsideFilesAbsolute(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "srv", "docker", "secrets")
	p := composetest.Load(t, `
services:
  db:
    image: postgres:12
    env_file: ./secrets/db.secrets
secrets:
  token:
    file: `+filepath.Join(outside, "token.secrets")+`
`, nil)
	_, _, err := examplesecrets.Transform(p, examplesecrets.Options{})
	abs := filepath.Join(outside, "token.secrets")
	assert.Error(t, err, "2 missing files, neither they nor their .example exist:\n"+
		"  "+abs+": create "+abs+".example with test values (or "+abs+" itself)\n"+
		"  secrets/db.secrets: create secrets/db.secrets.example with test values (or secrets/db.secrets itself)")
}

// An example that is the real file under another name (a symbolic or hard
// link to it), or that leaves the project, is refused whichever way the
// file is used, naming it and what to do: swapping it in would run the
// test on the real values. With RealSecrets the example is not used.
func TestTransformRefusesExampleThatIsNotAnExample(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "elsewhere")
	assert.NilError(t, os.WriteFile(outside, []byte("CANARY=outside\n"), 0o600))
	links := map[string]func(dir, real, example string) error{
		"symbolic link": func(dir, real, example string) error {
			return os.Symlink(filepath.Base(real), example)
		},
		"hard link": func(dir, real, example string) error { return os.Link(real, example) },
		"symbolic link leaving the project": func(dir, real, example string) error {
			return os.Symlink(outside, example)
		},
	}
	uses := map[string]string{
		"env_file": `
services:
  app:
    image: pad:1
    env_file: secrets/app.secrets
`,
		"bind mount": `
services:
  app:
    image: pad:1
    volumes: ["./secrets/app.secrets:/run/app.env"]
`,
		"secrets": `
services:
  app:
    image: pad:1
    secrets: [app]
secrets:
  app:
    file: secrets/app.secrets
`,
	}
	for lname, link := range links {
		for uname, compose := range uses {
			t.Run(lname+" as "+uname, func(t *testing.T) {
				p := composetest.Load(t, compose, map[string]string{"secrets/app.secrets": "CANARY=real-value\n"})
				real := filepath.Join(p.WorkingDir, "secrets", "app.secrets")
				assert.NilError(t, link(p.WorkingDir, real, real+".example"))

				_, _, err := examplesecrets.Transform(p, examplesecrets.Options{})
				var bad *examplesecrets.ExampleError
				assert.Assert(t, errors.As(err, &bad), "got %v", err)
				assert.Check(t, is.ErrorContains(err, "secrets/app.secrets.example "))
				assert.Check(t, is.ErrorContains(err, "Replace secrets/app.secrets.example by a regular file holding test values"))

				_, changes, err := examplesecrets.Transform(p, examplesecrets.Options{RealSecrets: true})
				assert.NilError(t, err)
				assert.Check(t, is.Len(changes, 0))
			})
		}
	}
}

// A symbolic link inside the project to another file of the project is a
// fine example.
func TestTransformAcceptsLinkedExampleInsideProject(t *testing.T) {
	p := composetest.Load(t, `
services:
  app:
    image: pad:1
    env_file: secrets/app.secrets
`, map[string]string{"secrets/app.secrets": "A=real\n", "examples/app.env": "A=test\n"})
	assert.NilError(t, os.Symlink("../examples/app.env", filepath.Join(p.WorkingDir, "secrets", "app.secrets.example")))
	_, changes, err := examplesecrets.Transform(p, examplesecrets.Options{})
	assert.NilError(t, err)
	assert.Check(t, is.Len(changes, 1))
}

// The env files that the environment resolution reads (Compose reads them
// whole) must be regular files of bounded size: a fifo or a link to
// /dev/zero is exit 2 naming it, never a read that blocks or fills memory.
func TestTransformRefusesEnvFileNotRegular(t *testing.T) {
	for name, create := range map[string]func(path string) error{
		"fifo":         func(path string) error { return syscall.Mkfifo(path, 0o644) },
		"/dev/zero":    func(path string) error { return os.Symlink("/dev/zero", path) },
		"huge (2 MiB)": func(path string) error { return os.WriteFile(path, make([]byte, 2<<20), 0o644) },
	} {
		for _, file := range []string{"app.env", "app.secrets.example"} {
			t.Run(name+" as "+file, func(t *testing.T) {
				p := composetest.Load(t, `
services:
  app:
    image: pad:1
    env_file: [app.env, app.secrets]
`, map[string]string{"app.env": "A=1\n", "app.secrets.example": "B=2\n"})
				path := filepath.Join(p.WorkingDir, file)
				assert.NilError(t, os.Remove(path))
				assert.NilError(t, create(path))
				_, _, err := examplesecrets.Transform(p, examplesecrets.Options{})
				assert.Check(t, is.ErrorContains(err, path))
				assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid))
			})
		}
	}
}

func TestMounted(t *testing.T) {
	p := composetest.Load(t, `
services:
  app:
    image: pad:1
    env_file: db.secrets
    volumes: ["./app.secrets:/run/app.env"]
`, map[string]string{"db.secrets.example": "A=1\n", "app.secrets.example": "B=2\n"})
	_, changes, err := examplesecrets.Transform(p, examplesecrets.Options{})
	assert.NilError(t, err)
	assert.DeepEqual(t, examplesecrets.Mounted(changes), map[string]bool{filepath.Join(p.WorkingDir, "app.secrets.example"): true})
}

// Compose's project-level env files (--env-file) follow the rule of
// Transform: the example is read for the interpolation, unless
// RealSecrets; the real file read is listed for masking.
func TestEnvFiles(t *testing.T) {
	dir := composetest.Dir(t, map[string]string{
		"app.secrets":         "TAG=real-value\n",
		"app.secrets.example": "TAG=example-value\n",
		"plain.env":           "A=1\n",
		"nox.secrets":         "B=real\n",
	})
	t.Chdir(dir)
	abs := func(f string) string { return filepath.Join(dir, f) }
	given := []string{"plain.env", "app.secrets", "nox.secrets"}

	got, changes, err := examplesecrets.EnvFiles(given, examplesecrets.Options{})
	assert.NilError(t, err)
	assert.DeepEqual(t, got, []string{"plain.env", "app.secrets.example", "nox.secrets"})
	assert.DeepEqual(t, changes, []transforms.Change{{
		Transform: "example-secrets", Where: "--env-file[1]", Old: abs("app.secrets"), New: abs("app.secrets.example"),
	}})
	assert.DeepEqual(t, given, []string{"plain.env", "app.secrets", "nox.secrets"}) // input kept
	assert.DeepEqual(t, examplesecrets.RealEnvFiles(given, examplesecrets.Options{}), []string{abs("nox.secrets")})
	assert.NilError(t, examplesecrets.CheckEnvFiles(changes, dir))

	real := examplesecrets.Options{RealSecrets: true}
	got, changes, err = examplesecrets.EnvFiles(given, real)
	assert.NilError(t, err)
	assert.DeepEqual(t, got, given)
	assert.Check(t, is.Len(changes, 0))
	assert.DeepEqual(t, examplesecrets.RealEnvFiles(given, real), []string{abs("app.secrets"), abs("nox.secrets")})
}

func TestEnvFilesRefusesLinkedExample(t *testing.T) {
	dir := composetest.Dir(t, map[string]string{"app.secrets": "TAG=real-value\n"})
	t.Chdir(dir)
	assert.NilError(t, os.Symlink("app.secrets", "app.secrets.example"))
	_, _, err := examplesecrets.EnvFiles([]string{"app.secrets"}, examplesecrets.Options{})
	var bad *examplesecrets.ExampleError
	assert.Assert(t, errors.As(err, &bad), "got %v", err)
	assert.Check(t, is.ErrorContains(err, "app.secrets.example is the real file"))

	// Outside the project: known after the load.
	outside := filepath.Join(t.TempDir(), "other.env")
	assert.NilError(t, os.WriteFile(outside, []byte("TAG=x\n"), 0o600))
	assert.NilError(t, os.WriteFile("b.secrets", []byte("TAG=real\n"), 0o600))
	assert.NilError(t, os.Symlink(outside, "b.secrets.example"))
	_, changes, err := examplesecrets.EnvFiles([]string{"b.secrets"}, examplesecrets.Options{})
	assert.NilError(t, err)
	err = examplesecrets.CheckEnvFiles(changes, dir)
	assert.Assert(t, errors.As(err, &bad), "got %v", err)
	assert.Check(t, is.ErrorContains(err, "b.secrets.example resolves to "+outside+", outside the project"))
}

func TestEnvFilesNotRegular(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	assert.NilError(t, syscall.Mkfifo("fifo.env", 0o644))
	_, _, err := examplesecrets.EnvFiles([]string{"fifo.env"}, examplesecrets.Options{})
	assert.Check(t, is.ErrorContains(err, filepath.Join(dir, "fifo.env")+" is a named pipe"))
	assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid))
}
