package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// TestConfigConformance checks SPEC §2: on a project with no production
// hostname and no secrets file, `docker picatest config --format json`
// gives the same model as `docker compose config --format json`, where
// docker compose is built from the same compose module version.
func TestConfigConformance(t *testing.T) {
	p := newProject(t)
	for _, args := range [][]string{nil, {"--profile", "debug"}} {
		compose := p.docker(append(append([]string{"compose"}, args...), "config", "--format", "json")...)
		assert.Equal(t, compose.ExitCode, 0, compose)
		picatest := p.picatest(append(args, "config", "--format", "json")...)
		assert.Equal(t, picatest.ExitCode, 0, picatest)
		assert.DeepEqual(t, withoutPicatestLabels(t, picatest.Stdout), withoutPicatestLabels(t, compose.Stdout))
	}
}

// withoutPicatestLabels decodes a JSON model and drops picatest's labels.
func withoutPicatestLabels(t *testing.T, s string) map[string]any {
	t.Helper()
	var model map[string]any
	assert.NilError(t, json.Unmarshal([]byte(s), &model), s)
	services, _ := model["services"].(map[string]any)
	for _, svc := range services {
		svc := svc.(map[string]any)
		strip := func(m map[string]any, key string) {
			labels, ok := m[key].(map[string]any)
			if !ok {
				return
			}
			for k := range labels {
				if strings.HasPrefix(k, "net.picasoft.picatest.") {
					delete(labels, k)
				}
			}
			if len(labels) == 0 {
				delete(m, key)
			}
		}
		strip(svc, "labels")
		if build, ok := svc["build"].(map[string]any); ok {
			strip(build, "labels")
		}
	}
	return model
}
