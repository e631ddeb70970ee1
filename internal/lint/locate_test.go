package lint

import (
	"fmt"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/settings"
)

// TestFindingsOfIncludedAndExtendedServices: a finding about a service
// defined in an include:d file, or in an extends: base, names that file
// and the line, with compose-go's path rules: include paths relative to
// the including file's project directory (the project's for the -f
// files, the included file's folder for its own includes), extends.file
// relative to the file that extends.
func TestFindingsOfIncludedAndExtendedServices(t *testing.T) {
	root := composetest.Dir(t, map[string]string{
		"pad/compose.yaml": `include:
  - ../common/db.yaml
  - path: [./web/compose.yaml]
  - ${MORE_FILE}
  - path: ./x/compose.yaml
    project_directory: ./y
services:
  app:
    extends:
      file: ./base/app.yaml
      service: base
  worker:
    extends: app
    labels:
      traefik.enable: "true"
      traefik.http.routers.worker.rule: Host(` + "`worker.test.picasoft.net`" + `)
`,
		"pad/.env": "MORE_FILE=./more.yaml\n",
		// an include's own includes are relative to its project_directory
		"pad/x/compose.yaml": "include: [./z.yaml]\nservices:\n  x:\n    image: busybox:1.36\n",
		"pad/y/z.yaml":       "services:\n  z:\n    image: busybox:latest\n",
		"pad/more.yaml": `services:
  more:
    image: redis:latest
`,
		"common/db.yaml": `services:
  db:
    image: postgres:latest
`,
		"pad/web/compose.yaml": `include:
  - ./cache.yaml
services:
  web:
    image: nginx
`,
		"pad/web/cache.yaml": `services:
  cache:
    image: memcached:latest
`,
		"pad/base/app.yaml": `services:
  base:
    image: alpine
    extends:
      file: ../../common/root.yaml
      service: root
`,
		"common/root.yaml": `services:
  root:
    labels:
      traefik.enable: "true"
      traefik.http.routers.r.rule: Host(` + "`r.test.picasoft.net`" + `)
`,
	})
	p := composetest.LoadDir(t, filepath.Join(root, "pad"))
	got := map[string]string{}
	for _, f := range Run(p, settings.Default(), RepoGit{}) {
		got[f.Rule+" "+f.Service] = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	common := filepath.Join(root, "common")
	want := map[string]string{
		// outside the project: named absolute
		"image-latest db": filepath.Join(common, "db.yaml") + ":3",
		// included with a list of paths; its own include is relative to it
		"image-untagged web":    "web/compose.yaml:5",
		"image-latest cache":    "web/cache.yaml:3",
		"image-latest more":     "more.yaml:3", // include: [${MORE_FILE}]
		"image-latest z":        "y/z.yaml:3",  // in x/compose.yaml, project_directory ./y
		"image-untagged app":    "base/app.yaml:3",
		"image-untagged worker": "base/app.yaml:3",
		// worker's own label is in compose.yaml; app's comes from root.yaml
		"traefik-test-host worker": "compose.yaml:16",
		"traefik-test-host app":    filepath.Join(common, "root.yaml") + ":5",
		// a service's own key: where the service is
		"traefik-healthcheck app":         "compose.yaml:8",
		"traefik-healthcheck worker":      "compose.yaml:12",
		"traefik-external-network app":    "compose.yaml:8",
		"traefik-external-network worker": "compose.yaml:12",
	}
	for k, v := range want {
		assert.Check(t, is.Equal(got[k], v), k)
	}
	assert.Check(t, is.Len(got, len(want)), "%v", got)
}
