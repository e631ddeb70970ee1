package testlabels_test

import (
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/transforms"
	"github.com/picasoft/docker-picatest/transforms/testlabels"
)

var started = time.Date(2026, 3, 14, 15, 9, 26, 0, time.FixedZone("CET", 3600))

func TestTransform(t *testing.T) {
	change := func(where, old, new string) transforms.Change {
		return transforms.Change{Transform: "test-labels", Where: where, Old: old, New: new}
	}
	all := testlabels.Labels{Owner: "alice", Branch: "feat/x", Commit: "0123abc", Started: started}
	tests := []struct {
		name     string
		compose  string
		labels   testlabels.Labels
		want     []transforms.Change
		wantYAML string
	}{
		{
			name: "built and pulled services",
			compose: `
services:
  pad:
    build: .
    image: registry.picasoft.net/pad:1.9
    labels:
      traefik.enable: "true"
  db:
    image: postgres:16
`,
			labels: all,
			want: []transforms.Change{
				change("services.db.labels.net.picasoft.picatest.branch", "", "feat/x"),
				change("services.db.labels.net.picasoft.picatest.commit", "", "0123abc"),
				change("services.db.labels.net.picasoft.picatest.owner", "", "alice"),
				change("services.db.labels.net.picasoft.picatest.started", "", "2026-03-14T14:09:26Z"),
				change("services.pad.build.labels.net.picasoft.picatest.test-build", "", "true"),
				change("services.pad.labels.net.picasoft.picatest.branch", "", "feat/x"),
				change("services.pad.labels.net.picasoft.picatest.commit", "", "0123abc"),
				change("services.pad.labels.net.picasoft.picatest.owner", "", "alice"),
				change("services.pad.labels.net.picasoft.picatest.started", "", "2026-03-14T14:09:26Z"),
			},
			wantYAML: `name: test
services:
  db:
    image: postgres:16
    labels:
      net.picasoft.picatest.branch: feat/x
      net.picasoft.picatest.commit: 0123abc
      net.picasoft.picatest.owner: alice
      net.picasoft.picatest.started: "2026-03-14T14:09:26Z"
    networks:
      default: null
  pad:
    image: registry.picasoft.net/pad:1.9
    labels:
      net.picasoft.picatest.branch: feat/x
      net.picasoft.picatest.commit: 0123abc
      net.picasoft.picatest.owner: alice
      net.picasoft.picatest.started: "2026-03-14T14:09:26Z"
      traefik.enable: "true"
    networks:
      default: null
    build:
      context: .
      dockerfile: Dockerfile
      labels:
        net.picasoft.picatest.test-build: "true"
networks:
  default:
    name: test_default
`,
		},
		{
			name: "empty values omitted, existing build labels kept",
			compose: `
services:
  pad:
    build:
      context: .
      labels:
        org.opencontainers.image.source: https://example.org/pad
    image: pad:dev
`,
			labels: testlabels.Labels{Owner: "alice"},
			want: []transforms.Change{
				change("services.pad.build.labels.net.picasoft.picatest.test-build", "", "true"),
				change("services.pad.labels.net.picasoft.picatest.owner", "", "alice"),
			},
			wantYAML: `name: test
services:
  pad:
    image: pad:dev
    labels:
      net.picasoft.picatest.owner: alice
    networks:
      default: null
    build:
      context: .
      dockerfile: Dockerfile
      labels:
        net.picasoft.picatest.test-build: "true"
        org.opencontainers.image.source: https://example.org/pad
networks:
  default:
    name: test_default
`,
		},
		{
			name: "existing values: same kept, other replaced",
			compose: `
services:
  pad:
    build:
      context: .
      labels:
        net.picasoft.picatest.test-build: "false"
    image: pad:dev
    labels:
      net.picasoft.picatest.owner: alice
      net.picasoft.picatest.branch: main
`,
			labels: testlabels.Labels{Owner: "alice", Branch: "feat/x"},
			want: []transforms.Change{
				change("services.pad.build.labels.net.picasoft.picatest.test-build", "false", "true"),
				change("services.pad.labels.net.picasoft.picatest.branch", "main", "feat/x"),
			},
		},
		{
			name: "nothing to add",
			compose: `
services:
  db:
    image: postgres:16
`,
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := composetest.Load(t, tc.compose, nil)
			before := composetest.YAML(t, p)

			got, changes, err := testlabels.Transform(p, tc.labels)
			assert.NilError(t, err)

			assert.Equal(t, composetest.YAML(t, p), before, "input project modified")
			assert.DeepEqual(t, changes, tc.want)
			if tc.wantYAML != "" {
				assert.Equal(t, composetest.YAML(t, got), tc.wantYAML)
			}
			if len(tc.want) == 0 {
				assert.Equal(t, composetest.YAML(t, got), before)
			}

			// Idempotent.
			again, changes, err := testlabels.Transform(got, tc.labels)
			assert.NilError(t, err)
			assert.Check(t, is.Len(changes, 0))
			assert.Equal(t, composetest.YAML(t, again), composetest.YAML(t, got))
		})
	}
}

func TestOwnerFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "USER", env: map[string]string{"USER": "alice"}, want: "alice"},
		{name: "SUDO_USER wins", env: map[string]string{"USER": "root", "SUDO_USER": "alice"}, want: "alice"},
		{name: "empty SUDO_USER ignored", env: map[string]string{"USER": "bob", "SUDO_USER": ""}, want: "bob"},
		{name: "neither", env: map[string]string{}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string { return tc.env[k] }
			assert.Equal(t, testlabels.OwnerFromEnv(getenv), tc.want)
		})
	}
}

func TestFromLabels(t *testing.T) {
	tests := []struct {
		name   string
		labels map[string]string
		want   testlabels.Labels
		wantOK bool
	}{
		{
			name: "all",
			labels: map[string]string{
				"com.docker.compose.project":    "pad",
				"net.picasoft.picatest.owner":   "alice",
				"net.picasoft.picatest.branch":  "feat/x",
				"net.picasoft.picatest.commit":  "0123abc",
				"net.picasoft.picatest.started": "2026-03-14T14:09:26Z",
			},
			want:   testlabels.Labels{Owner: "alice", Branch: "feat/x", Commit: "0123abc", Started: started.UTC()},
			wantOK: true,
		},
		{
			name:   "owner only",
			labels: map[string]string{"net.picasoft.picatest.owner": "alice"},
			want:   testlabels.Labels{Owner: "alice"},
			wantOK: true,
		},
		{
			name:   "bad time left zero",
			labels: map[string]string{"net.picasoft.picatest.started": "yesterday"},
			wantOK: true,
		},
		{
			name:   "not a test deployment",
			labels: map[string]string{"com.docker.compose.project": "pad"},
		},
		{name: "nil"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := testlabels.FromLabels(tc.labels)
			assert.Equal(t, ok, tc.wantOK)
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

func TestMapRoundTrip(t *testing.T) {
	l := testlabels.Labels{Owner: "alice", Branch: "main", Commit: "0123abc", Started: started}
	got, ok := testlabels.FromLabels(l.Map())
	assert.Assert(t, ok)
	assert.Check(t, got.Started.Equal(started))
	assert.DeepEqual(t, got, testlabels.Labels{Owner: "alice", Branch: "main", Commit: "0123abc", Started: started.UTC()})
}
