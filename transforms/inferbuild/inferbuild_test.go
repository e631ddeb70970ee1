package inferbuild_test

import (
	"errors"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/transforms/inferbuild"
)

func homeMade(image string) bool { return strings.HasPrefix(image, "registry.picasoft.net/") }

func TestTransform(t *testing.T) {
	tests := []struct {
		name        string
		yaml        string
		dockerfiles []string
		built       []string // services given a build section
		err         string
	}{
		{
			name: "home image without build, one Dockerfile: built from the folder",
			yaml: `
services:
  pad:
    image: registry.picasoft.net/pica-nobuild:1.0
  db:
    image: postgres:16
`,
			dockerfiles: []string{"Dockerfile"},
			built:       []string{"pad"},
		},
		{
			name: "two services share the home image: built once, by the first",
			yaml: `
services:
  worker:
    image: registry.picasoft.net/pica-app:2
  web:
    image: registry.picasoft.net/pica-app:2
`,
			dockerfiles: []string{"Dockerfile"},
			built:       []string{"web"},
		},
		{
			name: "a service already builds the image: the other runs it",
			yaml: `
services:
  web:
    image: registry.picasoft.net/pica-app:2
    build: .
  worker:
    image: registry.picasoft.net/pica-app:2
`,
			dockerfiles: []string{"Dockerfile"},
		},
		{
			name: "official and other registries are pulled, never built",
			yaml: `
services:
  db:
    image: postgres:16
  mirror:
    image: ghcr.io/someone/mirror:2
`,
		},
		{
			name: "no Dockerfile",
			yaml: `
services:
  pad:
    image: registry.picasoft.net/pica-nobuild:1.0
`,
			err: "service pad: the home-made image registry.picasoft.net/pica-nobuild:1.0 has no build section and no Dockerfile in the project directory",
		},
		{
			name: "several candidates",
			yaml: `
services:
  pad:
    image: registry.picasoft.net/pica-nobuild:1.0
`,
			dockerfiles: []string{"Dockerfile", "Dockerfile.prod"},
			err:         "several Dockerfiles in the project directory (Dockerfile, Dockerfile.prod)",
		},
		{
			name: "only Dockerfile.prod: the one to use is not Dockerfile, say which to write",
			yaml: `
services:
  pad:
    image: registry.picasoft.net/pica-nobuild:1.0
`,
			dockerfiles: []string{"Dockerfile.prod"},
			err:         "dockerfile: Dockerfile.prod",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"compose.yaml": tc.yaml}
			for _, f := range tc.dockerfiles {
				files[f] = "FROM scratch\n"
			}
			dir := composetest.Dir(t, files)
			p := composetest.LoadDir(t, dir)
			out, changes, err := inferbuild.Transform(p, homeMade)
			if tc.err != "" {
				var e *inferbuild.Error
				assert.Check(t, errors.As(err, &e), "%v", err)
				assert.Check(t, is.ErrorContains(err, tc.err))
				return
			}
			assert.NilError(t, err)
			var built []string
			for _, name := range out.ServiceNames() {
				s := out.Services[name]
				if s.Build != nil && p.Services[name].Build == nil {
					built = append(built, name)
					assert.Check(t, is.Equal(s.Build.Context, dir))
					assert.Check(t, is.Equal(s.Build.Dockerfile, "Dockerfile"))
				}
				assert.Check(t, is.Equal(s.Image, p.Services[name].Image), "image unchanged")
			}
			assert.Check(t, is.DeepEqual(built, tc.built))
			assert.Check(t, is.Len(changes, len(tc.built)))
			for _, c := range changes {
				assert.Check(t, is.Equal(c.New, "build: ."))
			}
		})
	}
}

func TestTransformDoesNotModifyItsInput(t *testing.T) {
	p := composetest.Load(t, "services:\n  pad:\n    image: registry.picasoft.net/pad:1\n", map[string]string{"Dockerfile": "FROM scratch\n"})
	_, _, err := inferbuild.Transform(p, homeMade)
	assert.NilError(t, err)
	assert.Check(t, p.Services["pad"].Build == nil)
}
