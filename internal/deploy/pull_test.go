package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/compose/v5/pkg/api"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// failingPuller fails every pull with err.
type failingPuller struct{ err error }

func (f failingPuller) Pull(context.Context, *types.Project, api.PullOptions) error { return f.err }

// localImages answers ImageInspect: found for the images listed.
type localImages map[string]bool

func (l localImages) ImageInspect(_ context.Context, image string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	if l[image] {
		return client.ImageInspectResult{}, nil
	}
	return client.ImageInspectResult{}, cerrdefs.ErrNotFound.WithMessage("no such image: " + image)
}

// TestPullImagesSaysTheEngineErrorOnce: the Compose SDK returns the error
// of a failed pull joined with itself; the warning (image present locally)
// and the error (absent) say it once, on one line.
func TestPullImagesSaysTheEngineErrorOnce(t *testing.T) {
	engineErr := errors.New(`Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host`)
	p := &types.Project{Name: "pad", Services: types.Services{"db": {Name: "db", ContainerSpec: types.ContainerSpec{Image: "postgres:12"}}}}
	cases := []struct {
		name string
		err  error
	}{
		{"as the SDK returns it", errors.Join(engineErr, engineErr, nil)},
		{"wrapped then joined", errors.Join(fmt.Errorf("pull: %w", engineErr), errors.Join(engineErr))},
		{"alone", engineErr},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			warnings, err := PullImages(context.Background(), failingPuller{tc.err}, localImages{"postgres:12": true}, p, []string{"db"})
			assert.NilError(t, err)
			assert.Assert(t, is.Len(warnings, 1))
			assert.Check(t, !strings.Contains(warnings[0], "\n"), "one line: %q", warnings[0])
			assert.Check(t, is.Equal(strings.Count(warnings[0], "no such host"), 1), warnings[0])
			assert.Check(t, strings.HasPrefix(warnings[0], "could not pull postgres:12 (service db), using the local image: "), warnings[0])

			_, err = PullImages(context.Background(), failingPuller{tc.err}, localImages{}, p, []string{"db"})
			assert.Check(t, is.ErrorContains(err, "image postgres:12 (service db: "))
			assert.Check(t, is.Equal(strings.Count(err.Error(), "no such host"), 1), err.Error())
			assert.Check(t, !strings.Contains(err.Error(), "\n"), err.Error())
		})
	}
}

func TestPullReason(t *testing.T) {
	a, b := errors.New("pull access denied"), errors.New("no such host")
	cases := []struct {
		err  error
		want string
	}{
		{a, "pull access denied"},
		{errors.Join(a, a), "pull access denied"},
		{errors.Join(a, nil, b, a), "pull access denied; no such host"},
		{errors.Join(errors.Join(a, b), fmt.Errorf("lookup: %w", b)), "pull access denied; lookup: no such host"},
		{errors.New("line one\n\nline one\nline two"), "line one; line two"},
	}
	for _, tc := range cases {
		assert.Check(t, is.Equal(pullReason(tc.err), tc.want), "%q", tc.err)
	}
}

// events records what reaches the renderer.
type events struct{ got []api.Resource }

func (e *events) Start(context.Context, string) {}
func (e *events) Done(string, bool)             {}
func (e *events) On(resources ...api.Resource)  { e.got = append(e.got, resources...) }

// TestPullProgressLeavesTheFailureToPicatest: the SDK's error event of a
// failed pull becomes a warning without the engine's error (PullImages
// reports it); every other event passes unchanged.
func TestPullProgressLeavesTheFailureToPicatest(t *testing.T) {
	rec := &events{}
	in := []api.Resource{
		{ID: "Image postgres:12", Status: api.Working, Text: api.StatusPulling},
		{ID: "Image postgres:12", Status: api.Error, Text: api.StatusError, Details: "no such host"},
		{ID: "Container pad-db-1", Status: api.Error, Text: api.StatusError, Details: "Error while Stopping"},
		{ID: "Image pica-pad:1.0", Status: api.Done, Text: api.StatusBuilt},
	}
	sent := append([]api.Resource(nil), in...)
	PullProgress(rec).On(sent...)
	assert.DeepEqual(t, sent, in) // the caller's events are not changed
	want := append([]api.Resource(nil), in...)
	want[1] = api.Resource{ID: "Image postgres:12", Status: api.Warning, Text: "Pull failed"}
	assert.DeepEqual(t, rec.got, want)
}
