package push

import (
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
)

func TestSelectPushTargets(t *testing.T) {
	p := composetest.Load(t, composetest.PushProject, nil)
	targets, skipped := SelectTargets(p, "registry.picasoft.net", nil)
	var names []string
	for _, tg := range targets {
		names = append(names, tg.Service+"="+tg.Image)
	}
	assert.DeepEqual(t, names, []string{"api=registry.picasoft.net/team/api", "pad=registry.picasoft.net/pica-pad:1.9"})
	reasons := map[string]string{}
	for _, s := range skipped {
		reasons[s.Service] = s.Reason
	}
	assert.Equal(t, len(reasons), 5)
	assert.Check(t, is.Equal(reasons["db"], "official image"))
	assert.Check(t, is.Equal(reasons["cache"], "not built (no build section)"))
	assert.Check(t, is.Contains(reasons["mirror"], "other registry (ghcr.io/someone/mirror"))
	assert.Check(t, is.Contains(reasons["hub"], "other registry (docker.io/someone/hub"))
	assert.Check(t, is.Contains(reasons["noname"], "no image name"))
}

func TestSelectPushTargetsRegistryWithPathAndPort(t *testing.T) {
	p := composetest.Load(t, `
services:
  a:
    build: ./a
    image: localhost:5000/team/a:1
  b:
    build: ./b
    image: localhost:5000/other/b:1
  c:
    build: ./c
    image: LOCALHOST:5000/team/c:1
`, nil)
	targets, skipped := SelectTargets(p, "localhost:5000/team", nil)
	// Host names compare case-insensitively; the path must be under the
	// registry's.
	assert.Equal(t, len(targets), 2, "%v %v", targets, skipped)
	assert.Equal(t, targets[0].Service, "a")
	assert.Equal(t, targets[1].Service, "c")
	assert.Equal(t, skipped[0].Service, "b")
	// Only the services named are considered.
	targets, skipped = SelectTargets(p, "localhost:5000", []string{"b"})
	assert.Equal(t, len(targets), 1)
	assert.Equal(t, targets[0].Service, "b")
	assert.Equal(t, len(skipped), 0)
}

func TestSelectPushTargetsRegistryPathBoundary(t *testing.T) {
	p := composetest.Load(t, `
services:
  a:
    build: ./a
    image: host.example/team/a:1
  b:
    build: ./b
    image: host.example/team2/x:1
  c:
    build: ./c
    image: host.example/team:1
`, nil)
	targets, skipped := SelectTargets(p, "host.example/team", nil)
	// team2/x is not under team: the prefix ends at a '/'; nor is the
	// image named team itself.
	assert.Equal(t, len(targets), 1, "%v %v", targets, skipped)
	assert.Equal(t, targets[0].Service, "a")
	assert.Equal(t, len(skipped), 2)
	assert.Check(t, is.Contains(skipped[0].Reason, "other registry"))
	assert.Check(t, is.Contains(skipped[1].Reason, "other registry"))
}
