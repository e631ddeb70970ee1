package record

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
)

func gitRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	write(t, root, files)
	git := func(args ...string) {
		out, err := exec.Command("git", append([]string{"-C", root}, args...)...).CombinedOutput()
		assert.NilError(t, err, string(out))
	}
	git("init", "-q")
	git("add", "-A")
	git("-c", "user.email=a@b.invalid", "-c", "user.name=a", "commit", "-q", "-m", "m")
	return root
}

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		assert.NilError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		assert.NilError(t, os.WriteFile(path, []byte(text), 0o644))
	}
}

func commitAll(t *testing.T, root string) string {
	t.Helper()
	for _, args := range [][]string{{"add", "-A"}, {"-c", "user.email=a@b.invalid", "-c", "user.name=a", "commit", "-q", "-m", "n"}} {
		out, err := exec.Command("git", append([]string{"-C", root}, args...)...).CombinedOutput()
		assert.NilError(t, err, string(out))
	}
	out, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	assert.NilError(t, err)
	return strings.TrimSpace(string(out))
}

var project = map[string]string{
	"svc/compose.yaml": `
services:
  app:
    image: registry.picasoft.net/app:1
    build:
      context: ../common
      dockerfile: ../docker/app.Dockerfile
  db:
    image: postgres:12
`,
	"common/conf.ini":       "url=https://app.picasoft.net/\n",
	"docker/app.Dockerfile": "FROM scratch\nCOPY conf.ini /\n",
	"other/notes.txt":       "x\n",
}

func TestInputs(t *testing.T) {
	root := gitRepo(t, project)
	p := composetest.LoadDir(t, filepath.Join(root, "svc"))
	assert.DeepEqual(t, Inputs(p), []string{
		filepath.Join(root, "common"),
		filepath.Join(root, "docker", "app.Dockerfile"),
		filepath.Join(root, "svc"),
		filepath.Join(root, "svc", "compose.yaml"),
	})
}

func TestContent(t *testing.T) {
	root := gitRepo(t, project)
	p := composetest.LoadDir(t, filepath.Join(root, "svc"))
	inputs := Inputs(p)
	head := strings.TrimSpace(string(must(exec.Command("git", "-C", root, "rev-parse", "HEAD").Output())))

	committed, err := CommitContent(root, head, inputs)
	assert.NilError(t, err)
	working, err := WorkingContent(root, inputs)
	assert.NilError(t, err)
	// A clean tree: the working files are the commit's.
	assert.Equal(t, working.Hash, committed.Hash)
	assert.DeepEqual(t, working.Files, committed.Files)
	assert.Check(t, is.Len(committed.Files, 3), "%v", committed.Files) // not other/notes.txt
	assert.Check(t, committed.Files["common/conf.ini"] != "")

	// A file outside the inputs changes nothing.
	write(t, root, map[string]string{"other/notes.txt": "y\n"})
	w, err := WorkingContent(root, inputs)
	assert.NilError(t, err)
	assert.Equal(t, w.Hash, committed.Hash)

	// Exactly one untracked file in a context is other content, named.
	write(t, root, map[string]string{"common/new.ini": "n\n"})
	w, err = WorkingContent(root, inputs)
	assert.NilError(t, err)
	assert.Check(t, w.Hash != committed.Hash)
	assert.DeepEqual(t, Diff(committed.Files, w.Files), []string{"common/new.ini"})

	// Committed as they were tested: the commit's content is the tested one.
	write(t, root, map[string]string{"docker/app.Dockerfile": "FROM scratch\nCOPY . /\n"})
	tested, err := WorkingContent(root, inputs)
	assert.NilError(t, err)
	next := commitAll(t, root)
	after, err := CommitContent(root, next, inputs)
	assert.NilError(t, err)
	assert.Equal(t, after.Hash, tested.Hash)
	old, err := CommitContent(root, head, inputs)
	assert.NilError(t, err)
	assert.DeepEqual(t, Diff(old.Files, after.Files), []string{"common/new.ini", "docker/app.Dockerfile"})

	// An input outside the work tree is an error.
	_, err = WorkingContent(root, append(inputs, t.TempDir()))
	assert.ErrorContains(t, err, "outside the git work tree")
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestCompareLayers(t *testing.T) {
	tested := Image{Layers: []string{"base", "conf-test", "bin"}, Steps: []string{"ADD rootfs /", "COPY conf.ini /etc/ # buildkit", "RUN make"}}
	for _, tc := range []struct {
		name      string
		built     Image
		rewritten []string
		same, ok  bool
		testOnly  int
		other     string
	}{
		{name: "same", built: tested, rewritten: []string{"conf.ini"}, same: true, ok: true},
		{name: "copy of a rewritten context", built: Image{Layers: []string{"base", "conf-prod", "bin"}, Steps: tested.Steps}, rewritten: []string{"conf.ini"}, ok: true, testOnly: 1},
		{name: "copy differs but nothing was rewritten", built: Image{Layers: []string{"base", "conf-prod", "bin"}, Steps: tested.Steps}, other: "layer 2: COPY conf.ini"},
		{name: "a RUN after a copy of a rewritten context", built: Image{Layers: []string{"base", "conf-prod", "bin2"}, Steps: tested.Steps}, rewritten: []string{"conf.ini"}, ok: true, testOnly: 2},
		{name: "a RUN step differs", built: Image{Layers: []string{"base", "conf-test", "bin2"}, Steps: tested.Steps}, rewritten: []string{"conf.ini"}, other: "layer 3: RUN make"},
		{name: "copy from another stage", built: Image{Layers: []string{"base", "x", "bin"}, Steps: []string{"ADD rootfs /", "COPY --from=build /x / # buildkit", "RUN make"}}, rewritten: []string{"conf.ini"}, other: "COPY --from=build"},
		{name: "the base differs", built: Image{Layers: []string{"base2", "conf-prod", "bin"}, Steps: tested.Steps, Base: 1}, rewritten: []string{"conf.ini"}, testOnly: 1, other: "layer 1: ADD rootfs / (a layer of the base image"},
		{name: "another count", built: Image{Layers: []string{"base", "conf-test"}}, rewritten: []string{"conf.ini"}, other: "3 layers tested, 2 to push"},
		{name: "no history", built: Image{Layers: []string{"other", "conf-test", "bin"}}, rewritten: []string{"conf.ini"}, other: "layer 1: step unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := CompareLayers(tested, tc.built, tc.rewritten)
			assert.Equal(t, v.Same, tc.same, "%+v", v)
			assert.Equal(t, v.OK(), tc.other == "", "%+v", v)
			assert.Equal(t, len(v.TestOnly), tc.testOnly, "%+v", v)
			if tc.other != "" {
				assert.Check(t, is.Contains(strings.Join(v.Other, "\n"), tc.other))
			}
		})
	}
}

func TestBaseImage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ dockerfile, want string }{
		{"FROM picatest-test/app:1\nCOPY . /\n", "picatest-test/app:1"},
		{"# syntax=docker/dockerfile:1\nFROM --platform=linux/amd64 golang:1.26 AS build\nRUN make\nfrom alpine:3.20\nCOPY --from=build /x /\n", "alpine:3.20"},
		{"FROM golang:1.26 AS build\nFROM build\n", ""},
		{"ARG BASE=alpine\nFROM $BASE\n", ""},
		{"FROM scratch\n", "scratch"},
	} {
		path := filepath.Join(dir, "Dockerfile")
		assert.NilError(t, os.WriteFile(path, []byte(tc.dockerfile), 0o644))
		assert.Check(t, is.Equal(BaseImage(path), tc.want), tc.dockerfile)
	}
	assert.Equal(t, BaseImage(filepath.Join(dir, "none")), "")
}

func TestLayerSteps(t *testing.T) {
	// Oldest first, as ReadImage orders them.
	history := []Step{
		{"/bin/sh -c #(nop) ADD file:abc in / ", 100},
		{"/bin/sh -c #(nop)  CMD [\"sh\"]", 0},
		{"ARG PUBLIC_URL", 0},
		{"ENV PUBLIC_URL=https://app.picasoft.net/", 0},
		{"COPY conf.ini /etc/ # buildkit", 10},
		{"RUN |1 PUBLIC_URL=x /bin/sh -c make # buildkit", 0},
		{"LABEL a=b", 0},
	}
	assert.DeepEqual(t, LayerSteps(history, 3), []string{"ADD file:abc in /", "COPY conf.ini /etc/ # buildkit", "RUN |1 PUBLIC_URL=x /bin/sh -c make # buildkit"})
	// The classic builder makes no layer for a RUN that changes nothing
	// (docker history of TestHomeImage's image).
	assert.DeepEqual(t, LayerSteps(history, 2), []string{"ADD file:abc in /", "COPY conf.ini /etc/ # buildkit"})
	assert.Check(t, is.Nil(LayerSteps(history, 4)), "a count that does not match tells nothing")
}

// fakeEngine stores imported images by reference, with their labels.
type fakeEngine struct {
	images map[string]*image.InspectResponse // by reference and by ID
	n      int
}

func (f *fakeEngine) ImageImport(_ context.Context, src client.ImageImportSource, ref string, o client.ImageImportOptions) (client.ImageImportResult, error) {
	_, _ = io.Copy(io.Discard, src.Source)
	f.n++
	labels := map[string]string{}
	for _, c := range o.Changes {
		kv := strings.TrimPrefix(c, "LABEL ")
		k, v, _ := strings.Cut(kv, "=")
		labels[k] = v
	}
	// The image config's type is another module's: built from JSON.
	doc, _ := json.Marshal(map[string]any{"Id": "sha256:" + strings.Repeat(string(rune('0'+f.n)), 8), "Config": map[string]any{"Labels": labels}})
	img := &image.InspectResponse{}
	if err := json.Unmarshal(doc, img); err != nil {
		return nil, err
	}
	f.images[ref+":"+o.Tag] = img
	f.images[img.ID] = img
	return io.NopCloser(bytes.NewReader(nil)), nil
}

func (f *fakeEngine) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	img, ok := f.images[ref]
	if !ok {
		return client.ImageInspectResult{}, cerrdefs.ErrNotFound
	}
	out := *img
	out.RepoTags = nil
	for r, i := range f.images {
		if i == img && !strings.HasPrefix(r, "sha256:") {
			out.RepoTags = append(out.RepoTags, r)
		}
	}
	return client.ImageInspectResult{InspectResponse: out}, nil
}

func (f *fakeEngine) ImageTag(_ context.Context, o client.ImageTagOptions) (client.ImageTagResult, error) {
	f.images[o.Target] = f.images[o.Source]
	return client.ImageTagResult{}, nil
}

// ImageRemove removes the image and every tag naming it, as the engine
// does for an image named by one tag, or unforced by its ID.
func (f *fakeEngine) ImageRemove(_ context.Context, id string, _ client.ImageRemoveOptions) (client.ImageRemoveResult, error) {
	img := f.images[id]
	for r, i := range f.images {
		if i == img {
			delete(f.images, r)
		}
	}
	return client.ImageRemoveResult{}, nil
}

func TestWriteAndRead(t *testing.T) {
	ctx := context.Background()
	e := &fakeEngine{images: map[string]*image.InspectResponse{}}
	r, err := Last(ctx, e, "pad")
	assert.NilError(t, err)
	assert.Check(t, is.Nil(r), "no record yet")

	at := time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)
	pass := Record{Project: "pad", Commit: "abc", Clean: true, Content: "c1", Owner: "alice", Time: at, Verdict: Passed,
		Images:    []Image{{Service: "app", ID: "sha256:1", Layers: []string{"l1"}}},
		Rewritten: []Rewrite{{Services: []string{"app"}, Path: "conf.ini"}}}
	assert.NilError(t, Write(ctx, e, pass))
	fail := Record{Project: "pad", Commit: "def", Content: "c2", Owner: "bob", Time: at.Add(time.Minute), Verdict: Failed, Reason: "service app: unhealthy"}
	assert.NilError(t, Write(ctx, e, fail))

	last, err := Last(ctx, e, "pad")
	assert.NilError(t, err)
	assert.DeepEqual(t, *last, fail)
	byContent, err := OfContent(ctx, e, "pad", "c1")
	assert.NilError(t, err)
	assert.Check(t, byContent.Passed())
	assert.DeepEqual(t, byContent.RewrittenFor("app"), []string{"conf.ini"})
	assert.Equal(t, byContent.Image("app").ID, "sha256:1")
	// A third test of the first content: the first record is replaced,
	// the second (still the last of its content) stays.
	again := pass
	again.Time = at.Add(2 * time.Minute)
	assert.NilError(t, Write(ctx, e, again))
	byContent, err = OfContent(ctx, e, "pad", "c2")
	assert.NilError(t, err)
	assert.Check(t, byContent != nil && byContent.Verdict == Failed, "the record of c2 is kept")
	byContent, err = OfContent(ctx, e, "pad", "c1")
	assert.NilError(t, err)
	assert.Check(t, byContent.Time.Equal(again.Time))
	ids := map[*image.InspectResponse]bool{}
	for _, img := range e.images {
		ids[img] = true
	}
	assert.Equal(t, len(ids), 2, "one image per content, the replaced one removed")

	none, err := OfContent(ctx, e, "pad", "c3")
	assert.NilError(t, err)
	assert.Check(t, is.Nil(none))
	none, err = OfContent(ctx, e, "other", "c1")
	assert.NilError(t, err)
	assert.Check(t, is.Nil(none), "records are per project")
	last, err = Last(ctx, e, "pad")
	assert.NilError(t, err)
	assert.Check(t, last.Passed())
	assert.Check(t, is.Contains(fail.Summary(at.Add(2*time.Minute)), "failed 1m0s ago by bob, commit def (uncommitted changes): service app: unhealthy"))
}
