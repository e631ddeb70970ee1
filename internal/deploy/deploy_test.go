package deploy

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
)

func loadProject(t *testing.T, yaml string) *types.Project {
	t.Helper()
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  t.TempDir(),
		ConfigFiles: []types.ConfigFile{{Filename: "compose.yaml", Content: []byte(yaml)}},
	}, func(o *loader.Options) { o.SetProjectName("pad", true); o.SkipConsistencyCheck = true })
	assert.NilError(t, err)
	return p
}

// TestNewPlan: what is built, pulled, and started during the build.
func TestNewPlan(t *testing.T) {
	cases := []struct {
		name        string
		yaml        string
		build, pull []string
		early       []string
	}{
		{
			name: "the database starts during the build, the app and what depends on it after",
			yaml: `
services:
  app: {build: ./app, depends_on: [db, cache]}
  worker: {build: ./app, depends_on: [db]}
  db: {image: postgres:12}
  cache: {image: redis:6}
  web: {image: nginx:1.25, depends_on: [app]}
`,
			build: []string{"app", "worker"}, pull: []string{"cache", "db", "web"},
			early: []string{"cache", "db"},
		},
		{
			name: "a service running the image another builds waits for it, and so do its dependents",
			yaml: `
services:
  app: {build: ./app, image: registry.picasoft.net/pica-app:1}
  cron: {image: registry.picasoft.net/pica-app:1}
  proxy: {image: nginx:1.25, depends_on: {cron: {condition: service_started}}}
  db: {image: postgres:12}
`,
			build: []string{"app"}, pull: []string{"db", "proxy"},
			early: []string{"db"},
		},
		{
			name: "a one-shot others wait to complete runs once, after the build",
			yaml: `
services:
  pad:
    build: ./pad
    depends_on:
      db: {condition: service_healthy}
      init: {condition: service_completed_successfully}
  db: {image: postgres:12}
  init: {image: redis:6, depends_on: [db]}
`,
			build: []string{"pad"}, pull: []string{"db", "init"},
			early: []string{"db"},
		},
		{
			name: "nothing built: no start before the others",
			yaml: `
services:
  db: {image: postgres:12}
  web: {image: nginx:1.25, depends_on: [db]}
`,
			pull: []string{"db", "web"},
		},
		{
			name: "a dependency cycle is left to Compose",
			yaml: `
services:
  app: {build: ./app}
  a: {image: x, depends_on: [b]}
  b: {image: y, depends_on: [a]}
`,
			build: []string{"app"}, pull: []string{"a", "b"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := NewPlan(loadProject(t, tc.yaml), true)
			assert.DeepEqual(t, plan.Build, tc.build)
			assert.DeepEqual(t, plan.Pull, tc.pull)
			assert.DeepEqual(t, plan.Early, tc.early)
		})
	}
}

// containers answers ContainerList with its items, whatever the filters.
type containers []container.Summary

func (c containers) ContainerList(context.Context, client.ContainerListOptions) (client.ContainerListResult, error) {
	return client.ContainerListResult{Items: c}, nil
}

func ctr(service string, state container.ContainerState, oneoff bool) container.Summary {
	labels := map[string]string{api.ProjectLabel: "pad", api.ServiceLabel: service}
	if oneoff {
		labels[api.OneoffLabel] = "True"
	}
	return container.Summary{Labels: labels, State: state}
}

// TestStopped: the services started during the build that no longer run.
func TestStopped(t *testing.T) {
	engine := containers{
		ctr("db", container.StateRunning, false),
		ctr("init", container.StateExited, false),  // a one-shot that finished
		ctr("cache", container.StateExited, false), // crashed
		ctr("cache", container.StateRunning, true), // docker compose run: not the service's
		ctr("queue", container.StateRestarting, false),
		ctr("web", container.StateExited, false), // not started during the build
		ctr("pad", container.StateCreated, false),
	}
	got, err := Stopped(context.Background(), engine, "pad", []string{"cache", "db", "init", "pad", "queue", "absent"})
	assert.NilError(t, err)
	assert.DeepEqual(t, got, []string{"cache", "init", "pad"})
}

// TestStartAfterBuild: what Compose's up starts once the images are built.
func TestStartAfterBuild(t *testing.T) {
	p := loadProject(t, `
services:
  pad:
    build: ./pad
    depends_on:
      db: {condition: service_healthy}
      cache: {condition: service_started}
      queue: {condition: service_healthy}
  worker: {build: ./pad, depends_on: [db]}
  db: {image: postgres:12}
  cache: {image: redis:6}
  queue: {image: redis:6}
  mail: {image: nginx:1.25}
`)
	early := []string{"cache", "db", "mail", "queue"}
	cases := []struct {
		name    string
		stopped []string
		want    []string
	}{
		{"all still running: the services waited for healthy are waited for again", nil, []string{"db", "pad", "queue", "worker"}},
		{"a waited service crashed: left to the wait, not restarted", []string{"queue"}, []string{"db", "pad", "worker"}},
		{"a service nobody waits for stopped: left alone", []string{"mail"}, []string{"db", "pad", "queue", "worker"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.DeepEqual(t, StartAfterBuild(p, early, tc.stopped), tc.want)
		})
	}
}

// networks answers NetworkList with its items, whatever the filters.
type networks []network.Summary

func (n networks) NetworkList(context.Context, client.NetworkListOptions) (client.NetworkListResult, error) {
	return client.NetworkListResult{Items: n}, nil
}

func netw(name, key, hash string) network.Summary {
	labels := map[string]string{api.ProjectLabel: "pad", api.NetworkLabel: key}
	if hash != "" {
		labels[api.ConfigHashLabel] = hash
	}
	return network.Summary{Network: network.Network{Name: name, Labels: labels}}
}

// TestDownProject: the reset keeps the networks Compose recorded and
// removes the others.
func TestDownProject(t *testing.T) {
	p := loadProject(t, `
services:
  pad: {image: pad, networks: [default, back, old, proxy]}
networks:
  back: {}
  old: {}
  proxy: {external: true}
  renamed: {name: pad-renamed}
`)
	cases := []struct {
		name     string
		engine   networks
		kept     []string
		networks []string // left in the project down removes
	}{
		{"none exists: down removes them all (nothing)", nil, nil, []string{"back", "default", "old", "proxy", "renamed"}},
		{
			name: "recorded networks kept; one without a record (docker-compose v1) removed",
			engine: networks{
				netw("pad_default", "default", "h1"),
				netw("pad_back", "back", "h2"),
				netw("pad_old", "old", ""),
			},
			kept:     []string{"pad_back", "pad_default"},
			networks: []string{"old", "proxy", "renamed"},
		},
		{
			name: "a network under another name than the project's is not the project's",
			engine: networks{
				netw("pad_renamed", "renamed", "h3"), // the name changed: Compose's up creates pad-renamed
				netw("proxy", "proxy", "h4"),         // external: never down's
			},
			networks: []string{"back", "default", "old", "proxy", "renamed"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			down, kept, err := DownProject(context.Background(), tc.engine, p, nil)
			assert.NilError(t, err)
			assert.DeepEqual(t, kept, tc.kept)
			assert.DeepEqual(t, slices.Sorted(maps.Keys(down.Networks)), tc.networks)
			assert.Equal(t, len(p.Networks), 5, "p is not changed")
		})
	}
}
