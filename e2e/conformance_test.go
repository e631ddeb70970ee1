package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// TestConfigConformance checks SPEC §2: on a project with no production
// hostname and no secrets file, `docker picatest config` gives the same
// model as `docker compose config`, where docker compose is built from the
// same compose module version: the default YAML output and --format json.
func TestConfigConformance(t *testing.T) {
	p := newProject(t)
	for _, args := range [][]string{nil, {"--profile", "debug"}} {
		for _, format := range [][]string{nil, {"--format", "json"}} {
			compose := p.docker(append(append(append([]string{"compose"}, args...), "config"), format...)...)
			assert.Equal(t, compose.ExitCode, 0, compose)
			picatest := p.picatest(append(append(args, "config"), format...)...)
			assert.Equal(t, picatest.ExitCode, 0, picatest)
			assert.DeepEqual(t, withoutPicatestLabels(t, picatest.Stdout), withoutPicatestLabels(t, compose.Stdout))
		}
	}
}

// TestConfigConformanceRewritten: on a project that picatest rewrites (the
// TestConfig scenario: test URLs, a rewritten config file, example
// secrets, test labels), every difference between picatest's model and
// `docker compose config`'s is one that `config --diff` lists among its
// rewrites and example secrets, or a value of a real secrets file that
// picatest masks; and every listed rewrite is such a difference.
func TestConfigConformanceRewritten(t *testing.T) {
	p := newProject(t, "TestConfig")
	// Compose needs every env_file: a real secrets file the scenario lacks
	// gets the example's variables with other values (picatest reads the
	// example either way).
	examples, err := filepath.Glob(filepath.Join(p.Dir, "secrets", "*.example"))
	assert.NilError(t, err)
	for _, example := range examples {
		if real := strings.TrimSuffix(example, ".example"); !fileExists(real) {
			b, err := os.ReadFile(example)
			assert.NilError(t, err)
			var content strings.Builder
			for _, line := range strings.Split(string(b), "\n") {
				if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "#") {
					fmt.Fprintf(&content, "%s=real-value-of-%s\n", k, k)
				}
			}
			assert.NilError(t, os.WriteFile(real, []byte(content.String()), 0o600))
		}
	}
	compose := p.docker("compose", "config", "--format", "json")
	assert.Equal(t, compose.ExitCode, 0, compose)
	picatest := p.picatest("config", "--format", "json")
	assert.Equal(t, picatest.ExitCode, 0, picatest)
	diff := p.picatest("config", "--diff")
	assert.Equal(t, diff.ExitCode, 0, diff)
	reported := conformanceReported(t, p.Dir, diff.Stdout)

	before, after := conformanceLeaves(t, compose.Stdout), conformanceLeaves(t, picatest.Stdout)
	explained := map[string]bool{}
	var unexplained []string
	for _, path := range conformanceUnion(before, after) {
		old, oldOK := before[path]
		now, nowOK := after[path]
		if oldOK == nowOK && reflect.DeepEqual(old, now) {
			continue
		}
		if now == "********" && oldOK {
			continue // a value of a real secrets file, masked
		}
		found := false
		for _, r := range reported {
			if path == r.path || strings.HasPrefix(path, r.path+".") || strings.HasPrefix(path, r.path+"[") {
				explained[r.line], found = true, true
			}
		}
		if !found {
			unexplained = append(unexplained, fmt.Sprintf("%s: %v -> %v", path, old, now))
		}
	}
	assert.Check(t, is.Len(unexplained, 0), "differences with docker compose config that config --diff does not list:\n%s\n%s", strings.Join(unexplained, "\n"), diff.Stdout)
	for _, r := range reported {
		assert.Check(t, explained[r.line], "listed by config --diff but no difference with docker compose config: %s", r.line)
	}
}

// conformanceChange is a model path that a line of `config --diff`'s lists
// says picatest changed.
type conformanceChange struct{ path, line string }

// conformanceReported reads the lists "Rewrites (N):" and "Example secrets
// used (N):" of `config --diff` into the model paths they change:
//   - a rewrite "<transform>  <model path>: <old> -> <new>": that path;
//   - config-files "<file> -> services.<s>:<target>: <file> -> configs.<c>":
//     the service's volume and config at the target, and the config c;
//   - test-labels "services.<s>: labels a, b; build.labels c (<prefix>*)":
//     those labels of the service and of its build;
//   - an example secret "services.<s>.env_file[i]: <example> instead of
//     <file>": the service's environment variables the example sets.
func conformanceReported(t *testing.T, dir, out string) []conformanceChange {
	t.Helper()
	var changes []conformanceChange
	add := func(line string, paths ...string) {
		for _, p := range paths {
			changes = append(changes, conformanceChange{path: p, line: line})
		}
	}
	section := ""
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "Rewrites ("), strings.HasPrefix(line, "Example secrets used ("):
			section = line
			continue
		case !strings.HasPrefix(line, "  ") || section == "":
			section = ""
			continue
		}
		entry := strings.TrimSpace(line)
		if strings.HasPrefix(section, "Example secrets") {
			where, rest, _ := strings.Cut(entry, ": ")
			example, _, _ := strings.Cut(rest, " instead of ")
			service, _, _ := strings.Cut(where, ".env_file[")
			b, err := os.ReadFile(filepath.Join(dir, example))
			assert.NilError(t, err, line)
			for _, kv := range strings.Split(string(b), "\n") {
				if k, _, ok := strings.Cut(kv, "="); ok && !strings.HasPrefix(k, "#") {
					add(line, service+".environment."+strings.TrimSpace(k))
				}
			}
			continue
		}
		transform, rest, _ := strings.Cut(entry, "  ")
		switch transform {
		case "test-labels":
			service, labels, _ := strings.Cut(rest, ": ")
			labels, _, _ = strings.Cut(labels, " (")
			for _, part := range strings.Split(labels, "; ") {
				kind, keys, _ := strings.Cut(part, " ")
				for _, k := range strings.Split(keys, ", ") {
					add(line, service+"."+kind+".net.picasoft.picatest."+k)
				}
			}
		case "config-files":
			where, change, _ := strings.Cut(rest, ": ")
			_, mount, _ := strings.Cut(where, " -> ")
			service, target, _ := strings.Cut(mount, ":")
			_, config, _ := strings.Cut(change, " -> ")
			add(line, service+".volumes["+target+"]", service+".configs["+target+"]", config)
		default:
			where, _, _ := strings.Cut(rest, ": ")
			add(line, where)
		}
	}
	assert.Assert(t, len(changes) > 0, "no rewrite listed:\n%s", out)
	return changes
}

// conformanceLeaves flattens a JSON model into its leaf values by path
// ("services.pad.labels.traefik.enable", "services.pad.command[1]"); the
// volumes and configs of a service are keyed by their target, as their
// order changes when a bind mount becomes a config.
func conformanceLeaves(t *testing.T, s string) map[string]any {
	t.Helper()
	var model any
	assert.NilError(t, json.Unmarshal([]byte(s), &model), s)
	leaves := map[string]any{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(strings.TrimPrefix(path+"."+k, "."), e)
			}
		case []any:
			keyed := strings.HasSuffix(path, ".volumes") || strings.HasSuffix(path, ".configs")
			for i, e := range v {
				key := strconv.Itoa(i)
				if m, ok := e.(map[string]any); ok && keyed && m["target"] != nil {
					key = fmt.Sprint(m["target"])
				}
				walk(path+"["+key+"]", e)
			}
		default:
			leaves[path] = v
		}
	}
	walk("", model)
	return leaves
}

// conformanceUnion is the sorted paths of a and b.
func conformanceUnion(a, b map[string]any) []string {
	var paths []string
	for k := range a {
		paths = append(paths, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			paths = append(paths, k)
		}
	}
	sort.Strings(paths)
	return paths
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// withoutPicatestLabels decodes a YAML or JSON model and drops picatest's
// labels.
func withoutPicatestLabels(t *testing.T, s string) map[string]any {
	t.Helper()
	var model map[string]any
	assert.NilError(t, yaml.Unmarshal([]byte(s), &model), s)
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
