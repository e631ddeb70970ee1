package engine

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/exitcode"
)

func TestFeatureError(t *testing.T) {
	p := composetest.Load(t, `
services:
  web:
    image: nginx:1.25
    networks:
      back:
        interface_name: eth7
      front: {}
  db:
    image: postgres:12
networks:
  back: {}
  front: {}
`, nil)
	err := FeatureError(p, "1.41", "")
	assert.Equal(t, exitcode.Of(err), exitcode.Failed)
	for _, want := range []string{"API 1.41", "nothing was created", "service web: interface_name on network back needs Docker Engine 28.1 or later (API 1.49)", "Upgrade the Docker Engine", "override file"} {
		assert.Check(t, is.Contains(err.Error(), want))
	}
	assert.Check(t, !strings.Contains(err.Error(), "DOCKER_API_VERSION"))

	err = FeatureError(p, "1.41", "1.41")
	assert.Check(t, is.Contains(err.Error(), "Unset DOCKER_API_VERSION (1.41)"))

	assert.NilError(t, FeatureError(p, "1.49", ""), "a recent engine runs it")
	plain := composetest.Load(t, "services:\n  web:\n    image: nginx:1.25\n", nil)
	assert.NilError(t, FeatureError(plain, "1.24", ""), "nothing gated is used")
}

func TestRemote(t *testing.T) {
	for host, want := range map[string]bool{
		"unix:///var/run/docker.sock":              false,
		"unix:///run/picatest-engine2/docker.sock": false,
		"npipe:////./pipe/docker_engine":           false,
		"tcp://127.0.0.1:2375":                     true,
		"tcp://pica01-test:2376":                   true,
		"ssh://admin@pica01-test":                  true,
		"":                                         false,
	} {
		assert.Check(t, is.Equal(Remote(host), want), host)
	}
}
