package lint

import (
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/settings"
)

// An example that would put the real values in a test is an error of
// check: a link to the real file, or a copy of its values; a bind-mounted
// secrets file is reviewed as an env_file is.
func TestSecretsExampleReal(t *testing.T) {
	const compose = `
services:
  app:
    image: postgres:12
    env_file: ./app.secrets
    volumes: ["./mounted.secrets:/run/app.env"]
`
	for _, tc := range []struct {
		name  string
		files map[string]string
		setup func(t *testing.T, dir string)
		want  []string // messages of secrets-example-real and secrets-example
	}{
		{
			name: "fake values: nothing to say",
			files: map[string]string{
				"app.secrets": "PASSWORD=real-1\n", "app.secrets.example": "PASSWORD=fake\n",
				"mounted.secrets": "TOKEN=real-2\n", "mounted.secrets.example": "TOKEN=fake\n",
			},
		},
		{
			name: "same values, other layout; bind-mounted file without example",
			files: map[string]string{
				"app.secrets": "PASSWORD=real-1\nUSER=pad\n", "app.secrets.example": "# example\nUSER=pad\nPASSWORD=\"real-1\"\n",
				"mounted.secrets": "TOKEN=real-2\n",
			},
			want: []string{
				"example app.secrets.example holds the values of the real secrets file app.secrets: tests would run on them",
				"secrets file mounted.secrets has no mounted.secrets.example",
			},
		},
		{
			name: "symbolic link to the real file",
			files: map[string]string{
				"app.secrets": "PASSWORD=real-1\n", "app.secrets.example": "PASSWORD=fake\n",
				"mounted.secrets": "TOKEN=real-2\n",
			},
			setup: func(t *testing.T, dir string) {
				ex := filepath.Join(dir, "mounted.secrets.example")
				assert.NilError(t, os.Symlink("mounted.secrets", ex))
			},
			want: []string{"mounted.secrets.example is the real file mounted.secrets itself (a symbolic or hard link to it): a test would run on its values. Replace mounted.secrets.example by a regular file holding test values, or run with --real-secrets to use the real file on purpose"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := composetest.Load(t, compose, tc.files)
			if tc.setup != nil {
				tc.setup(t, p.WorkingDir)
			}
			var got []string
			for _, f := range Run(p, settings.Default(), RepoGit{}) {
				if f.Rule == "secrets-example-real" || f.Rule == "secrets-example" {
					assert.Check(t, is.Equal(f.Severity, Error))
					got = append(got, f.Message)
				}
			}
			assert.Check(t, is.DeepEqual(got, tc.want))
		})
	}
}
