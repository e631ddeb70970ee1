package push

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/record"
)

// fakeRecords is a daemon holding test records only.
type fakeRecords struct {
	images map[string]*image.InspectResponse
	n      int
}

func (f *fakeRecords) ImageImport(_ context.Context, src client.ImageImportSource, ref string, o client.ImageImportOptions) (client.ImageImportResult, error) {
	_, _ = io.Copy(io.Discard, src.Source)
	f.n++
	labels := map[string]string{}
	for _, c := range o.Changes {
		k, v, _ := strings.Cut(strings.TrimPrefix(c, "LABEL "), "=")
		labels[k] = v
	}
	doc, _ := json.Marshal(map[string]any{"Id": "sha256:" + strings.Repeat(string(rune('a'+f.n)), 8), "Config": map[string]any{"Labels": labels}})
	img := &image.InspectResponse{}
	if err := json.Unmarshal(doc, img); err != nil {
		return nil, err
	}
	f.images[ref+":"+o.Tag] = img
	return io.NopCloser(bytes.NewReader(nil)), nil
}

func (f *fakeRecords) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	if img, ok := f.images[ref]; ok {
		return client.ImageInspectResult{InspectResponse: *img}, nil
	}
	return client.ImageInspectResult{}, cerrdefs.ErrNotFound
}

func (f *fakeRecords) ImageTag(_ context.Context, o client.ImageTagOptions) (client.ImageTagResult, error) {
	f.images[o.Target] = f.images[o.Source]
	return client.ImageTagResult{}, nil
}

func (f *fakeRecords) ImageRemove(context.Context, string, client.ImageRemoveOptions) (client.ImageRemoveResult, error) {
	return client.ImageRemoveResult{}, nil
}

func TestFindTest(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 19, 0, 0, 0, time.UTC)
	tested := record.Content{Hash: "c1", Files: map[string]string{"compose.yaml": "b1", "app/Dockerfile": "b2"}}
	other := record.Content{Hash: "c2", Files: map[string]string{"compose.yaml": "b1", "app/Dockerfile": "b3"}}
	write := func(e *fakeRecords, c record.Content, verdict string) {
		assert.NilError(t, record.Write(ctx, e, record.Record{Project: "pad", Commit: "abc", Clean: true, Content: c.Hash, Files: c.Files,
			Owner: "alice", Daemon: "testhost", Time: now.Add(-5 * time.Minute), Verdict: verdict}))
	}

	e := &fakeRecords{images: map[string]*image.InspectResponse{}}
	_, err := FindTest(ctx, e, "pad", tested, "abc", now)
	assert.Equal(t, exitcode.Of(err), exitcode.Refused)
	assert.ErrorContains(t, err, "never tested")
	assert.ErrorContains(t, err, "--untested")

	write(e, tested, record.Passed)
	rec, err := FindTest(ctx, e, "pad", tested, "abc", now)
	assert.NilError(t, err)
	assert.Check(t, rec.Passed())
	assert.Equal(t, TestedOK(rec, now), "tested OK 5m0s ago on testhost by alice, commit abc")

	// Another commit: tested on other content, the files named.
	_, err = FindTest(ctx, e, "pad", other, "def", now)
	assert.Equal(t, exitcode.Of(err), exitcode.Refused)
	assert.ErrorContains(t, err, "tested other content: files that differ: app/Dockerfile")

	// The last test of this content failed: refused, even after a pass.
	write(e, tested, record.Failed)
	_, err = FindTest(ctx, e, "pad", tested, "abc", now)
	assert.Equal(t, exitcode.Of(err), exitcode.Refused)
	assert.ErrorContains(t, err, "did not pass")

	// Another project's records count for nothing.
	_, err = FindTest(ctx, e, "other", tested, "abc", now)
	assert.ErrorContains(t, err, "never tested")
}

func TestCheckLayers(t *testing.T) {
	now := time.Date(2026, 12, 6, 19, 0, 0, 0, time.UTC)
	rec := &record.Record{Commit: "abc", Owner: "alice", Daemon: "testhost", Time: now.Add(-time.Minute), Verdict: record.Passed, Clean: true,
		Images:    []record.Image{{Service: "app", ID: "sha256:1111", Layers: []string{"base", "conf"}, Steps: []string{"ADD x /", "COPY conf.ini / # buildkit"}}},
		Rewritten: []record.Rewrite{{Services: []string{"app"}, Path: "conf.ini"}}}

	text, err := CheckLayers(rec, record.Image{Service: "app", ID: "sha256:2222", Layers: []string{"base", "conf"}}, now)
	assert.NilError(t, err)
	assert.Equal(t, text, "tested OK 1m0s ago on testhost by alice, commit abc, same layers")

	text, err = CheckLayers(rec, record.Image{Service: "app", Layers: []string{"base", "conf-prod"}, Steps: []string{"ADD x /", "COPY conf.ini / # buildkit"}}, now)
	assert.NilError(t, err)
	assert.Check(t, is.Contains(text, "layers differ only by the test URLs (layer 2: COPY conf.ini"))

	_, err = CheckLayers(rec, record.Image{Service: "app", Image: "r/app:1", Layers: []string{"base2", "conf"}, Steps: []string{"RUN apk add x", "COPY conf.ini /"}}, now)
	assert.Equal(t, exitcode.Of(err), exitcode.Refused)
	assert.ErrorContains(t, err, "layer 1: RUN apk add x")

	_, err = CheckLayers(rec, record.Image{Service: "api", Layers: []string{"base"}}, now)
	assert.Equal(t, exitcode.Of(err), exitcode.Refused)
	assert.ErrorContains(t, err, "service api was not built by the test")
}
