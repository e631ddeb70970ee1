package lint

import (
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v4"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/settings"
)

func TestYAMLLineFindsLabelsInBothForms(t *testing.T) {
	src := "services:\n  a:\n    labels:\n      traefik.enable: \"true\"\n  b:\n    labels:\n      - traefik.enable=true\n"
	var n yaml.Node
	assert.NilError(t, yaml.Unmarshal([]byte(src), &n))
	assert.Equal(t, yamlLine(&n, []string{"services", "a", "labels", "traefik.enable"}), 4)
	assert.Equal(t, yamlLine(&n, []string{"services", "b", "labels", "traefik.enable"}), 7)
	assert.Equal(t, yamlLine(&n, []string{"services", "c"}), 0)
}

func TestBuildMissing(t *testing.T) {
	const compose = "services:\n  pad:\n    image: registry.picasoft.net/pica-nobuild:1.0\n  db:\n    image: postgres:16\n"
	noGit := RepoGit{}
	p := composetest.Load(t, compose, map[string]string{"Dockerfile": "FROM scratch\n"})
	fs := Run(p, settings.Default(), noGit)
	assert.Assert(t, is.Len(fs, 1), "%+v", fs)
	assert.Check(t, is.Equal(fs[0].Rule, "build-missing"))
	assert.Check(t, is.Equal(fs[0].Severity, Warning))
	assert.Check(t, is.Equal(fs[0].File, "compose.yaml"))
	assert.Check(t, is.Equal(fs[0].Line, 3))
	assert.Check(t, is.Contains(fs[0].Hint, "'build: .'"))

	p = composetest.Load(t, compose, nil)
	fs = Run(p, settings.Default(), noGit)
	assert.Assert(t, is.Len(fs, 1), "%+v", fs)
	assert.Check(t, is.Equal(fs[0].Severity, Error))
	assert.Check(t, is.Contains(fs[0].Message, "no Dockerfile"))
	assert.Check(t, is.Contains(fs[0].Hint, "build: {context:"))
}

// TestFilesOutsideTheProjectAreNamedAbsolute: a secrets file under
// /srv/docker, say, is named by its absolute path, one of the project
// relative to it.
func TestFilesOutsideTheProjectAreNamedAbsolute(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "srv", "docker", "db.secrets")
	p := composetest.Load(t, "services:\n  db:\n    image: postgres:12\n    env_file: [./app.secrets, "+outside+"]\n", nil)
	var msgs []string
	for _, f := range Run(p, settings.Default(), RepoGit{}) {
		if f.Rule == "secrets-example" {
			msgs = append(msgs, f.Message)
		}
	}
	assert.DeepEqual(t, msgs, []string{
		"secrets file " + outside + " has no " + outside + ".example",
		"secrets file app.secrets has no app.secrets.example",
	})
}
