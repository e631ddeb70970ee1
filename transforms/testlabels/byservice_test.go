package testlabels_test

import (
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/transforms"
	"github.com/picasoft/docker-picatest/transforms/testlabels"
)

func TestByService(t *testing.T) {
	p := composetest.Load(t, `
services:
  pad:
    image: registry.picasoft.net/pica-pad:1.0
    build: .
  db.primary:
    image: postgres:12
    labels:
      net.picasoft.picatest.owner: alice
`, map[string]string{"Dockerfile": "FROM scratch\n"})
	_, changes, err := testlabels.Transform(p, testlabels.Labels{Owner: "alice", Branch: "main", Commit: "abc", Started: time.Unix(0, 0)})
	assert.NilError(t, err)
	changes = append(changes, transforms.Change{Transform: "test-urls", Where: "services.pad.labels.traefik.http.routers.pad.rule"})
	assert.DeepEqual(t, testlabels.ByService(changes), []testlabels.ServiceLabels{
		// owner already alice: not changed
		{Service: "db.primary", Labels: []string{testlabels.Branch, testlabels.Commit, testlabels.Started}},
		{Service: "pad", Labels: []string{testlabels.Branch, testlabels.Commit, testlabels.Owner, testlabels.Started}, BuildLabels: []string{testlabels.TestBuild}},
	})
	assert.Check(t, testlabels.ByService(nil) == nil)
}
