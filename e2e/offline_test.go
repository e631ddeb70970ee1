package e2e

import (
	"regexp"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestUpOfflinePull: a pull that fails for an image present locally (the
// test machine is offline) is one warning line per image, with the
// engine's error said once in all the output; Compose's own progress line
// says "Pull failed" without repeating it. `up -d`, typed from the
// docker-compose habit, is the same up.
func TestUpOfflinePull(t *testing.T) {
	p := newProject(t)
	r := p.picatest("up", "-d", "--no-smoke", "--stable", "0s", "--progress", "plain")
	assert.Equal(t, r.ExitCode, 0, r)
	assert.Check(t, is.Contains(r.Stdout, "OK: project "+p.Name), r)
	said := map[string]int{} // engine error -> warnings saying it
	for _, image := range []string{"postgres:12", "redis:6"} {
		var lines []string
		for _, l := range strings.Split(r.Stdout, "\n") {
			if strings.Contains(l, image) && strings.Contains(l, "could not pull") {
				lines = append(lines, l)
			}
		}
		if !assert.Check(t, is.Len(lines, 1), r) {
			continue
		}
		m := regexp.MustCompile(`^WARNING: could not pull (\S+) \(service \w+\), using the local image: (.+)$`).FindStringSubmatch(lines[0])
		if !assert.Check(t, m != nil, "warning line: %q", lines[0]) {
			continue
		}
		engineErr := m[2]
		// The engine names the registry it could not reach, or the image.
		assert.Check(t, strings.Contains(engineErr, "registry") || strings.Contains(engineErr, m[1]), engineErr)
		said[engineErr]++
		assert.Check(t, is.Contains(r.Stderr, "Image "+image+" Pull failed"), r)
	}
	// Both images may fail with the same error (the registry is unreachable):
	// then each warning says it, and nothing else does.
	for engineErr, n := range said {
		assert.Check(t, is.Equal(strings.Count(r.Stdout+r.Stderr, engineErr), n), "the engine's error once a warning in all the output:\n%s", r)
	}
	assert.Check(t, !strings.Contains(r.Stderr, " Error "), "no pull reported as an error: %s", r)
	assert.Equal(t, p.countContainers(), 2)
}
