package configfiles_test

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/treefile"
	"github.com/picasoft/docker-picatest/transforms"
	"github.com/picasoft/docker-picatest/transforms/configfiles"
)

func change(where, old, new string) transforms.Change {
	return transforms.Change{Transform: "config-files", Where: where, Old: old, New: new}
}

// outside writes a file with a production host in a directory that is not
// the project and returns its path.
func outside(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "outside.ini")
	assert.NilError(t, os.WriteFile(p, []byte("url = https://pad.picasoft.net\n"), 0o644))
	return p
}

func TestTransform(t *testing.T) {
	tests := []struct {
		name    string
		compose string
		files   map[string]string
		// setup runs on the project directory before loading.
		setup func(t *testing.T, dir string)
		opts  configfiles.Options
		// wantYAML is the whole transformed project; "" means unchanged.
		wantYAML string
		want     []transforms.Change
		wantErr  string
	}{
		{
			name: "bind-mounted file with URLs",
			compose: `
services:
  pad:
    image: pad:1
    volumes:
      - ./conf/app.ini:/etc/app.ini:ro
      - data:/data
volumes:
  data: {}
`,
			files: map[string]string{"conf/app.ini": "[server]\nurl = https://pad.picasoft.net\nmail = https://test.picasoft.net\n"},
			setup: func(t *testing.T, dir string) {
				assert.NilError(t, os.Chmod(filepath.Join(dir, "conf/app.ini"), 0o640))
			},
			wantYAML: `name: test
services:
  pad:
    configs:
      - source: picatest_conf_app.ini_2711c6ed
        target: /etc/app.ini
        mode: "0640"
    image: pad:1
    networks:
      default: null
    volumes:
      - type: volume
        source: data
        target: /data
        volume: {}
networks:
  default:
    name: test_default
volumes:
  data:
    name: test_data
configs:
  picatest_conf_app.ini_2711c6ed:
    name: test_picatest_2711c6ed
    content: |
      [server]
      url = https://pad.test.picasoft.net
      mail = https://test.picasoft.net
`,
			want: []transforms.Change{change("conf/app.ini -> services.pad:/etc/app.ini", "conf/app.ini", "configs.picatest_conf_app.ini_2711c6ed")},
		},
		{
			name: "file mounted by two services becomes one config",
			compose: `
services:
  a:
    image: a:1
    volumes: ["./conf/app.ini:/etc/app.ini"]
  b:
    image: b:1
    volumes: ["./conf/app.ini:/app/app.ini"]
`,
			files: map[string]string{"conf/app.ini": "https://picasoft.net\n"},
			wantYAML: `name: test
services:
  a:
    configs:
      - source: picatest_conf_app.ini_2711c6ed
        target: /etc/app.ini
        mode: "0644"
    image: a:1
    networks:
      default: null
  b:
    configs:
      - source: picatest_conf_app.ini_2711c6ed
        target: /app/app.ini
        mode: "0644"
    image: b:1
    networks:
      default: null
networks:
  default:
    name: test_default
configs:
  picatest_conf_app.ini_2711c6ed:
    name: test_picatest_2711c6ed
    content: |
      https://test.picasoft.net
`,
			want: []transforms.Change{
				change("conf/app.ini -> services.a:/etc/app.ini", "conf/app.ini", "configs.picatest_conf_app.ini_2711c6ed"),
				change("conf/app.ini -> services.b:/app/app.ini", "conf/app.ini", "configs.picatest_conf_app.ini_2711c6ed"),
			},
		},
		{
			name: "file without URLs unchanged",
			compose: `
services:
  pad:
    image: pad:1
    volumes: ["./conf/app.ini:/etc/app.ini:ro", "./web:/srv"]
`,
			files: map[string]string{"conf/app.ini": "url = https://example.org\nmail = a@b.test.picasoft.net\n", "web/index.html": "hello"},
		},
		{
			name: "directory with a URL file, a plain file, a binary file and an empty file",
			compose: `
services:
  web:
    image: web:1
    volumes:
      - type: bind
        source: ./web
        target: /srv
`,
			files: map[string]string{
				"web/index.html":    "<a href=\"https://picasoft.net\">home</a>\n",
				"web/sub/plain.txt": "hello\n",
				"web/logo.bin":      "https://picasoft.net\x00\xff",
				"web/empty":         "",
			},
			setup: func(t *testing.T, dir string) {
				assert.NilError(t, os.Chmod(filepath.Join(dir, "web/sub/plain.txt"), 0o755))
			},
			wantYAML: `name: test
services:
  web:
    configs:
      - source: picatest_web_empty_8edfc02b
        target: /srv/empty
        mode: "0644"
      - source: picatest_web_index.html_8f62b6ce
        target: /srv/index.html
        mode: "0644"
      - source: picatest_web_logo.bin_7227fcb3
        target: /srv/logo.bin
        mode: "0644"
      - source: picatest_web_sub_plain.txt_faeecb2c
        target: /srv/sub/plain.txt
        mode: "0755"
    image: web:1
    networks:
      default: null
networks:
  default:
    name: test_default
configs:
  picatest_web_empty_8edfc02b:
    name: test_picatest_8edfc02b
    file: ./web/empty
  picatest_web_index.html_8f62b6ce:
    name: test_picatest_8f62b6ce
    content: |
      <a href="https://test.picasoft.net">home</a>
  picatest_web_logo.bin_7227fcb3:
    name: test_picatest_7227fcb3
    content: !!binary aHR0cHM6Ly9waWNhc29mdC5uZXQA/w==
  picatest_web_sub_plain.txt_faeecb2c:
    name: test_picatest_faeecb2c
    content: |
      hello
`,
			want: []transforms.Change{change("web/index.html -> services.web:/srv/index.html", "web/index.html", "configs.picatest_web_index.html_8f62b6ce")},
		},
		{
			name: "directory without URLs unchanged",
			compose: `
services:
  web:
    image: web:1
    volumes: ["./web:/srv"]
`,
			files: map[string]string{"web/index.html": "hello", "web/big.txt": "https://picasoft.net\n"},
			opts:  configfiles.Options{MaxFileSize: 4},
		},
		{
			name: "file bigger than MaxFileSize unchanged",
			compose: `
services:
  pad:
    image: pad:1
    volumes: ["./conf/app.ini:/etc/app.ini"]
`,
			files: map[string]string{"conf/app.ini": "https://picasoft.net\n"},
			opts:  configfiles.Options{MaxFileSize: 10},
		},
		{
			name: "file outside the project by absolute path untouched",
			compose: `
services:
  pad:
    image: pad:1
    volumes: ["/etc/hostname:/etc/hostname:ro", "OUTSIDE:/etc/app.ini"]
`,
			setup: func(t *testing.T, dir string) {
				// point the second volume at a file outside the project
				c := filepath.Join(dir, "compose.yaml")
				b, err := os.ReadFile(c)
				assert.NilError(t, err)
				assert.NilError(t, os.WriteFile(c, []byte(strings.ReplaceAll(string(b), "OUTSIDE", outside(t))), 0o644))
			},
		},
		{
			name: "symlink inside the project pointing outside untouched",
			compose: `
services:
  pad:
    image: pad:1
    volumes: ["./conf/app.ini:/etc/app.ini"]
`,
			setup: func(t *testing.T, dir string) {
				assert.NilError(t, os.MkdirAll(filepath.Join(dir, "conf"), 0o755))
				assert.NilError(t, os.Symlink(outside(t), filepath.Join(dir, "conf/app.ini")))
			},
		},
		{
			name: "named volume and missing source untouched",
			compose: `
services:
  pad:
    image: pad:1
    volumes: ["data:/data", "./missing.ini:/etc/app.ini"]
volumes:
  data: {}
`,
		},
		{
			name: "symlink inside the project to a project file is followed",
			compose: `
services:
  pad:
    image: pad:1
    volumes: ["./current.ini:/etc/app.ini"]
`,
			files: map[string]string{"conf/v2.ini": "https://picasoft.net"},
			setup: func(t *testing.T, dir string) {
				assert.NilError(t, os.Symlink("conf/v2.ini", filepath.Join(dir, "current.ini")))
			},
			want: []transforms.Change{change("conf/v2.ini -> services.pad:/etc/app.ini", "conf/v2.ini", "configs.picatest_conf_v2.ini_fff13ae7")},
		},
		{
			name: "configs and secrets files with URLs",
			compose: `
services:
  pad:
    image: pad:1
    configs: [app, {source: plain, target: /plain}]
    secrets: [db, {source: api, target: api.txt, mode: 0400}]
configs:
  app:
    file: ./app.yml
    labels: [a=b]
  plain:
    file: ./plain.yml
secrets:
  db:
    file: ./db.txt
  api:
    name: api_key
    file: ./api.txt
`,
			files: map[string]string{"app.yml": "host: x.picasoft.net\n", "plain.yml": "host: example.org\n", "db.txt": "postgres://db.picasoft.net", "api.txt": "https://api.picasoft.net"},
			wantYAML: `name: test
services:
  pad:
    configs:
      - source: app
        mode: "0644"
      - source: plain
        target: /plain
    image: pad:1
    networks:
      default: null
    secrets:
      - source: db
        target: /run/secrets/db
        mode: "0644"
      - source: api
        target: api.txt
        mode: "0400"
networks:
  default:
    name: test_default
secrets:
  api:
    name: api_key
    environment: PICATEST_SECRET_1F9C674A
  db:
    name: test_db
    environment: PICATEST_SECRET_14A61789
configs:
  app:
    name: test_app
    content: |
      host: x.test.picasoft.net
    labels:
      a: b
  plain:
    name: test_plain
    file: ./plain.yml
`,
			want: []transforms.Change{
				change("api.txt -> secrets.api", "api.txt", "secrets.api"),
				change("app.yml -> configs.app", "app.yml", "configs.app"),
				change("db.txt -> secrets.db", "db.txt", "secrets.db"),
			},
		},
		{
			name: "read_only service",
			compose: `
services:
  pad:
    image: pad:1
    read_only: true
    volumes: ["./conf/app.ini:/etc/app.ini"]
`,
			files:   map[string]string{"conf/app.ini": "https://picasoft.net"},
			wantErr: "service pad is read_only: picatest cannot inject the rewritten file conf/app.ini; ",
		},
		{
			name: "read_only service using a rewritten secret",
			compose: `
services:
  pad:
    image: pad:1
    read_only: true
    secrets: [db]
secrets:
  db:
    file: ./db.txt
`,
			files:   map[string]string{"db.txt": "https://picasoft.net"},
			wantErr: "service pad is read_only: picatest cannot inject the rewritten file db.txt; ",
		},
		{
			name: "too many files",
			compose: `
services:
  web:
    image: web:1
    volumes: ["./web:/srv"]
`,
			files:   map[string]string{"web/a": "a", "web/b": "https://picasoft.net", "web/c": "c"},
			opts:    configfiles.Options{MaxDirFiles: 2},
			wantErr: "service web, volume /srv: directory web/ holds 3 files (limit 2) and web/b contains a production hostname: ",
		},
		{
			name: "symlink leaving the project in a directory to rewrite",
			compose: `
services:
  web:
    image: web:1
    volumes: ["./web:/srv"]
`,
			files: map[string]string{"web/a": "https://picasoft.net"},
			setup: func(t *testing.T, dir string) {
				assert.NilError(t, os.Symlink(outside(t), filepath.Join(dir, "web/link")))
			},
			wantErr: "cannot reproduce web/link (symbolic link to a directory or outside the project)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			all := map[string]string{"compose.yaml": tc.compose}
			for k, v := range tc.files {
				all[k] = v
			}
			dir := composetest.Dir(t, all)
			if tc.setup != nil {
				tc.setup(t, dir)
			}
			p := composetest.LoadDir(t, dir)
			before := composetest.YAML(t, p)

			got, changes, err := configfiles.Transform(p, fakeRewriter{}, tc.opts)
			assert.Check(t, is.Equal(composetest.YAML(t, p), before), "input project modified")
			checkWithFiles(t, p, tc.opts, got, changes, tc.wantErr)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			assert.NilError(t, err)
			assert.Check(t, got != p)
			want := tc.wantYAML
			if want == "" && tc.want == nil {
				want = before
			}
			if want != "" {
				assert.Check(t, is.Equal(composetest.YAML(t, got), want))
			}
			assert.Check(t, is.DeepEqual(changes, tc.want))
		})
	}
}

// checkWithFiles checks that TransformWithFiles agrees with Transform (got,
// changes, or an error containing wantErr) and returns one file per
// rewritten path.
func checkWithFiles(t *testing.T, p *types.Project, opts configfiles.Options, got *types.Project, changes []transforms.Change, wantErr string) {
	t.Helper()
	before := composetest.YAML(t, p)
	got2, changes2, files, err := configfiles.TransformWithFiles(p, fakeRewriter{}, opts)
	assert.Check(t, is.Equal(composetest.YAML(t, p), before), "input project modified by TransformWithFiles")
	if wantErr != "" {
		assert.Check(t, is.ErrorContains(err, wantErr))
		return
	}
	if !assert.Check(t, err) {
		return
	}
	assert.Check(t, is.Equal(composetest.YAML(t, got2), composetest.YAML(t, got)))
	assert.Check(t, is.DeepEqual(got2.Environment, got.Environment)) // secrets' text
	assert.Check(t, is.DeepEqual(changes2, changes))
	rewritten := map[string]bool{}
	for _, c := range changes {
		rewritten[c.Old] = true
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
		assert.Check(t, f.Old != f.New, f.Path)
	}
	assert.Check(t, is.DeepEqual(paths, sortedKeys(rewritten)))
}

func sortedKeys(m map[string]bool) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestContentExact checks that a binary file delivered with its
// directory keeps every byte, and that a secret's rewritten text is in the
// project environment only.
func TestContentExact(t *testing.T) {
	bin := "\x89PNG\r\n\x1a\n\x00\xff\xfe picasoft.net"
	p := composetest.Load(t, `
services:
  web:
    image: web:1
    volumes: ["./web:/srv"]
    secrets: [db]
secrets:
  db:
    file: ./db.txt
`, map[string]string{"web/logo.png": bin, "web/a.txt": "picasoft.net", "db.txt": "pw@db.picasoft.net"})
	got, _, err := configfiles.Transform(p, fakeRewriter{}, configfiles.Options{})
	assert.NilError(t, err)
	var found bool
	for _, c := range got.Configs {
		if strings.HasPrefix(c.Content, "\x89PNG") {
			found = true
			assert.Check(t, is.Equal(c.Content, bin))
		}
	}
	assert.Check(t, found)
	sec := got.Secrets["db"]
	assert.Check(t, is.Equal(sec.File, ""))
	assert.Check(t, is.Equal(got.Environment[sec.Environment], "pw@db.test.picasoft.net"))
	_, ok := p.Environment[sec.Environment]
	assert.Check(t, !ok, "input environment modified")
	assert.Check(t, !strings.Contains(composetest.YAML(t, got), "pw@db"))
}

func TestOriginalsUntouched(t *testing.T) {
	files := map[string]string{
		"conf/app.ini":   "https://pad.picasoft.net\n",
		"web/index.html": "https://picasoft.net\n",
		"web/logo.bin":   "\x00\x01picasoft.net",
		"app.yml":        "host: picasoft.net\n",
		"db.txt":         "db.picasoft.net",
	}
	p := composetest.Load(t, `
services:
  pad:
    image: pad:1
    volumes: ["./conf/app.ini:/etc/app.ini", "./web:/srv"]
    configs: [app]
    secrets: [db]
configs:
  app:
    file: ./app.yml
secrets:
  db:
    file: ./db.txt
`, files)
	hashes := func() map[string]string {
		h := map[string]string{}
		assert.NilError(t, filepath.WalkDir(p.WorkingDir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			info, _ := d.Info()
			h[path] = fmt.Sprintf("%x %v %v", sha256.Sum256(b), info.Mode(), info.ModTime())
			return err
		}))
		return h
	}
	before, yamlBefore := hashes(), composetest.YAML(t, p)
	copyBefore := p.WithServicesDisabled()

	_, changes, err := configfiles.Transform(p, fakeRewriter{}, configfiles.Options{})
	assert.NilError(t, err)
	assert.Check(t, is.Len(changes, 4))
	files2, err := configfiles.Rewritten(p, fakeRewriter{}, configfiles.Options{})
	assert.NilError(t, err)
	assert.Check(t, is.Len(files2, 4))

	assert.Check(t, is.DeepEqual(hashes(), before))
	assert.Check(t, is.Equal(composetest.YAML(t, p), yamlBefore))
	assert.Check(t, is.DeepEqual(p.Services, copyBefore.Services))
	assert.Check(t, is.DeepEqual(p.Environment, copyBefore.Environment))
}

// diffProject is a project with a file mounted twice, a directory holding
// one rewritten file among others, and a config; diffFiles is what
// Rewritten and TransformWithFiles return for it.
func diffProject(t *testing.T) *types.Project {
	return composetest.Load(t, `
services:
  a:
    image: a:1
    volumes: ["./conf/app.ini:/etc/app.ini", "./web:/srv"]
  b:
    image: b:1
    volumes: ["./conf/app.ini:/etc/app.ini"]
    configs: [app]
configs:
  app:
    file: ./app.yml
`, map[string]string{
		"conf/app.ini":   "url = https://pad.picasoft.net\n",
		"web/index.html": "https://picasoft.net\n",
		"web/plain.txt":  "plain\n",
		"app.yml":        "host: picasoft.net\n",
	})
}

var diffFiles = []configfiles.File{
	{Path: "app.yml", Old: "host: picasoft.net\n", New: "host: test.picasoft.net\n"},
	{Path: "conf/app.ini", Old: "url = https://pad.picasoft.net\n", New: "url = https://pad.test.picasoft.net\n"},
	{Path: "web/index.html", Old: "https://picasoft.net\n", New: "https://test.picasoft.net\n"},
}

func TestRewritten(t *testing.T) {
	p := diffProject(t)
	files, err := configfiles.Rewritten(p, fakeRewriter{}, configfiles.Options{})
	assert.NilError(t, err)
	assert.Check(t, is.DeepEqual(files, diffFiles))
}

// TestTransformWithFiles: one call gives what Transform and Rewritten give,
// and reads each file once (Rewrite is called once per text read).
func TestTransformWithFiles(t *testing.T) {
	p := diffProject(t)
	var calls atomic.Int64
	got, changes, files, err := configfiles.TransformWithFiles(p, countingRewriter{&calls}, configfiles.Options{})
	assert.NilError(t, err)
	assert.Check(t, is.Equal(calls.Load(), int64(4)), "each of the 4 files is read once")
	assert.Check(t, is.DeepEqual(files, diffFiles))

	calls.Store(0)
	want, wantChanges, err := configfiles.Transform(p, countingRewriter{&calls}, configfiles.Options{})
	assert.NilError(t, err)
	assert.Check(t, is.Equal(calls.Load(), int64(4)))
	assert.Check(t, is.Equal(composetest.YAML(t, got), composetest.YAML(t, want)))
	assert.Check(t, is.DeepEqual(changes, wantChanges))
}

// TestTransformWithFilesReadOnly: like Transform, and unlike Rewritten,
// TransformWithFiles refuses a read_only service that gets a rewritten file.
func TestTransformWithFilesReadOnly(t *testing.T) {
	p := composetest.Load(t, `
services:
  pad:
    image: pad:1
    read_only: true
    volumes: ["./conf/app.ini:/etc/app.ini"]
`, map[string]string{"conf/app.ini": "url = https://pad.picasoft.net\n"})
	_, _, files, err := configfiles.TransformWithFiles(p, fakeRewriter{}, configfiles.Options{})
	assert.Check(t, is.ErrorContains(err, "service pad is read_only: picatest cannot inject the rewritten file conf/app.ini; "))
	assert.Check(t, is.Nil(files))
	files, err = configfiles.Rewritten(p, fakeRewriter{}, configfiles.Options{})
	assert.NilError(t, err)
	assert.Check(t, is.Len(files, 1))
}

func TestNothingToDoReturnsCopy(t *testing.T) {
	p := composetest.Load(t, "services:\n  a:\n    image: a:1\n", nil)
	got, changes, err := configfiles.Transform(p, fakeRewriter{}, configfiles.Options{})
	assert.NilError(t, err)
	assert.Check(t, is.Len(changes, 0))
	assert.Check(t, got != p)
	delete(got.Services, "a")
	_, ok := p.Services["a"]
	assert.Check(t, ok)
}

// A bind source listed in Options.Copy (the example swapped in for a
// bind-mounted secrets file) reaches the container through the API even
// without a production host: it is never bind-mounted from the tree. It is
// rewritten when it holds one, and refused on a read_only service.
func TestCopy(t *testing.T) {
	p := composetest.Load(t, `
services:
  app:
    image: app:1
    volumes:
      - ./secrets/app.secrets.example:/run/app.env:ro
      - ./secrets/url.secrets.example:/run/url.env
      - ./conf/plain.ini:/etc/plain.ini
`, map[string]string{
		"secrets/app.secrets.example": "CANARY=example-value\n",
		"secrets/url.secrets.example": "URL=https://pad.picasoft.net\n",
		"conf/plain.ini":              "not copied\n",
	})
	src := func(rel string) string { return filepath.Join(p.WorkingDir, rel) }
	opts := configfiles.Options{Copy: map[string]bool{
		src("secrets/app.secrets.example"): true,
		src("secrets/url.secrets.example"): true,
	}}
	got, changes, err := configfiles.Transform(p, fakeRewriter{}, opts)
	assert.NilError(t, err)
	assert.Equal(t, composetest.YAML(t, got), `name: test
services:
  app:
    configs:
      - source: picatest_secrets_app.secrets.example_`+hash8("secrets/app.secrets.example")+`
        target: /run/app.env
        mode: "0644"
      - source: picatest_secrets_url.secrets.example_`+hash8("secrets/url.secrets.example")+`
        target: /run/url.env
        mode: "0644"
    image: app:1
    networks:
      default: null
    volumes:
      - type: bind
        source: ./conf/plain.ini
        target: /etc/plain.ini
        bind: {}
networks:
  default:
    name: test_default
configs:
  picatest_secrets_app.secrets.example_`+hash8("secrets/app.secrets.example")+`:
    name: test_picatest_`+hash8("secrets/app.secrets.example")+`
    content: |
      CANARY=example-value
  picatest_secrets_url.secrets.example_`+hash8("secrets/url.secrets.example")+`:
    name: test_picatest_`+hash8("secrets/url.secrets.example")+`
    content: |
      URL=https://pad.test.picasoft.net
`)
	assert.Check(t, is.Len(changes, 2))
	assert.Check(t, is.Equal(changes[0].Where, "secrets/app.secrets.example -> services.app:/run/app.env"))

	// Without Copy, only the file with a production host is delivered.
	_, changes, err = configfiles.Transform(p, fakeRewriter{}, configfiles.Options{})
	assert.NilError(t, err)
	assert.Check(t, is.Len(changes, 1))

	ro := p.WithServicesDisabled()
	svc := ro.Services["app"]
	svc.ReadOnly = true
	ro.Services["app"] = svc
	_, _, err = configfiles.Transform(ro, fakeRewriter{}, opts)
	assert.Check(t, is.ErrorContains(err, "service app is read_only: picatest cannot inject secrets/app.secrets.example, the example of the bind-mounted secrets file"))
}

func hash8(rel string) string {
	h := sha256.Sum256([]byte(rel))
	return fmt.Sprintf("%x", h[:4])
}

// A copied file is read whole, bounded: one over treefile.TextFile is exit
// 2 naming it.
func TestCopyTooBig(t *testing.T) {
	p := composetest.Load(t, `
services:
  app:
    image: app:1
    volumes: ["./big.secrets.example:/run/app.env"]
`, map[string]string{"big.secrets.example": "x"})
	big := filepath.Join(p.WorkingDir, "big.secrets.example")
	assert.NilError(t, os.Truncate(big, treefile.TextFile+1)) // sparse
	_, _, err := configfiles.Transform(p, fakeRewriter{}, configfiles.Options{Copy: map[string]bool{big: true}})
	assert.Check(t, is.ErrorContains(err, big+" is larger than 64 MiB"))
	assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid))
}
