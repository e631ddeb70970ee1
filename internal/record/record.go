// Package record owns the test record: what every `docker picatest up`
// leaves on the daemon about the test it ran, and what `push` relies on to
// upload only what passed a test (SPEC §7).
//
// A record is a local image, imported by picatest itself from a one-file
// tar (the record as JSON) as the lock image is (internal/safety): nothing
// is pulled, and the record is in the image's labels, so that any client of
// the daemon reads it with one image inspect. It is tagged
// Repository(<project>):<content hash> (the last test of that content) and
// Repository(<project>):last (the last test of the project). An image,
// unlike a container, a volume or a network, survives `down -v
// --remove-orphans`, `docker container prune`, `docker volume prune` and
// `docker image prune` (it is tagged, never dangling); only `docker image
// prune -a` or `docker rmi` remove it, and then push says the content was
// never tested, which is safe. It lives on the daemon, so a new client
// machine sees it, and costs one small layer.
package record

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/picasoft/docker-picatest/internal/engine"
)

// RepositoryPrefix is the repository of the records of a project, before
// the project name.
const RepositoryPrefix = "picatest-record/"

// Label holds the record (base64 of its JSON) on the record image; the
// labels after it repeat a few fields for `docker image inspect`.
const Label = "net.picasoft.picatest.record"

// LastTag is the tag of the last record of a project.
const LastTag = "last"

// maxFiles is the number of files above which a record keeps only the
// content hash, not the list of files (which names the files that differ).
const maxFiles = 400

// Verdicts of a test.
const (
	Passed      = "passed"
	Failed      = "failed"
	Interrupted = "interrupted"
)

// Record is what one up tested and how it ended.
type Record struct {
	// Project is the project name (without the instance), Instance the
	// instance tested ("" for the default deployment).
	Project  string `json:"project"`
	Instance string `json:"instance,omitempty"`
	// Commit is the commit checked out; Clean, whether every input was
	// committed (else the working files were tested).
	Commit string `json:"commit,omitempty"`
	Clean  bool   `json:"clean"`
	// Content is the hash of the files tested (Content.Hash); Files,
	// their blob IDs by path when there are not too many.
	Content string            `json:"content"`
	Files   map[string]string `json:"files,omitempty"`
	Owner   string            `json:"owner"`
	// Host is the client machine; Daemon the daemon's name.
	Host   string    `json:"host,omitempty"`
	Daemon string    `json:"daemon,omitempty"`
	Time   time.Time `json:"time"`
	// Verdict is Passed, Failed or Interrupted; Reason says why it failed.
	Verdict string `json:"verdict"`
	Reason  string `json:"reason,omitempty"`
	// Images are the images built by the test.
	Images []Image `json:"images,omitempty"`
	// Rewritten are the files of the build contexts rewritten for the
	// test (test URLs).
	Rewritten []Rewrite `json:"rewritten,omitempty"`
}

// Image is an image built by a test.
type Image struct {
	Service string `json:"service"`
	Image   string `json:"image"`
	ID      string `json:"id"`
	// Layers are the image's filesystem layers (RootFS diff IDs), base
	// first; Steps the history step (created_by) of each, when known.
	Layers []string `json:"layers"`
	Steps  []string `json:"steps,omitempty"`
	// Base is the number of layers of the base image (the FROM of the
	// Dockerfile's last stage), 0 when unknown: those must never differ.
	Base int `json:"base,omitempty"`
}

// Rewrite is a file of a build context rewritten for the test.
type Rewrite struct {
	Services []string `json:"services"`
	// Path is the file's path in its build context, with slashes.
	Path string `json:"path"`
}

// Passed reports whether the test passed.
func (r *Record) Passed() bool { return r != nil && r.Verdict == Passed }

// Image returns the image the test built for service, or nil.
func (r *Record) Image(service string) *Image {
	for i := range r.Images {
		if r.Images[i].Service == service {
			return &r.Images[i]
		}
	}
	return nil
}

// RewrittenFor returns the files rewritten in the build context of service.
func (r *Record) RewrittenFor(service string) []string {
	var out []string
	for _, w := range r.Rewritten {
		for _, s := range w.Services {
			if s == service {
				out = append(out, w.Path)
			}
		}
	}
	return out
}

// ShortCommit is the commit's first 12 characters.
func (r *Record) ShortCommit() string {
	if len(r.Commit) > 12 {
		return r.Commit[:12]
	}
	return r.Commit
}

// Engine is the part of the moby client the records need.
type Engine interface {
	ImageImport(ctx context.Context, source client.ImageImportSource, ref string, options client.ImageImportOptions) (client.ImageImportResult, error)
	ImageInspect(ctx context.Context, image string, opts ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImageTag(ctx context.Context, options client.ImageTagOptions) (client.ImageTagResult, error)
	ImageRemove(ctx context.Context, imageID string, options client.ImageRemoveOptions) (client.ImageRemoveResult, error)
}

// Repository is the repository of the records of project.
func Repository(project string) string { return RepositoryPrefix + project }

// contentTag is the tag of the last record of a content.
func contentTag(hash string) string {
	if len(hash) > 32 {
		hash = hash[:32]
	}
	return "c-" + hash
}

// Write stores r on the daemon as the last record of its project and of
// its content, replacing the previous ones (their images are removed once
// no tag names them: one image per content tested stays, a few hundred
// bytes each).
func Write(ctx context.Context, c Engine, r Record) error {
	if len(r.Files) > maxFiles {
		r.Files = nil
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	repo := Repository(r.Project)
	tags := []string{LastTag}
	if r.Content != "" {
		tags = append(tags, contentTag(r.Content))
	}
	var old []string
	for _, tag := range tags {
		if img, err := c.ImageInspect(ctx, repo+":"+tag); err == nil {
			old = append(old, img.ID)
		}
	}
	changes := []string{
		"LABEL " + Label + "=" + base64.StdEncoding.EncodeToString(data),
		"LABEL " + Label + ".project=" + strconv.Quote(r.Project),
		"LABEL " + Label + ".commit=" + strconv.Quote(r.Commit),
		"LABEL " + Label + ".verdict=" + strconv.Quote(r.Verdict),
		"LABEL " + Label + ".time=" + strconv.Quote(r.Time.UTC().Format(time.RFC3339)),
	}
	err = engine.Import(ctx, c, engine.OneFileImage{
		Repo: repo, Tag: tags[0], File: "picatest-record.json", Content: data, ModTime: r.Time,
		Message: "docker picatest test record", Changes: changes,
	})
	if err != nil {
		return fmt.Errorf("cannot write the test record of project %s (docker import of a one-file image %s): %w\nCheck that `docker import` works on this engine", r.Project, repo, err)
	}
	for _, tag := range tags[1:] {
		if _, err := c.ImageTag(ctx, client.ImageTagOptions{Source: repo + ":" + tags[0], Target: repo + ":" + tag}); err != nil {
			return fmt.Errorf("cannot tag the test record %s:%s: %w", repo, tag, err)
		}
	}
	// The records replaced: removed once no tag names them (one that is
	// still the last record of its content stays).
	for _, id := range old {
		if img, err := c.ImageInspect(ctx, id); err == nil && len(img.RepoTags) == 0 {
			_, _ = c.ImageRemove(ctx, id, client.ImageRemoveOptions{})
		}
	}
	return nil
}

// Last returns the last record of project, nil when there is none.
func Last(ctx context.Context, c Engine, project string) (*Record, error) {
	return read(ctx, c, Repository(project)+":"+LastTag)
}

// OfContent returns the last record of project whose tested content has
// hash, nil when there is none.
func OfContent(ctx context.Context, c Engine, project, hash string) (*Record, error) {
	if hash == "" {
		return nil, nil
	}
	return read(ctx, c, Repository(project)+":"+contentTag(hash))
}

func read(ctx context.Context, c Engine, ref string) (*Record, error) {
	img, err := c.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the test record %s: %w", ref, err)
	}
	if img.Config == nil {
		return nil, fmt.Errorf("the test record %s has no labels: remove it with 'docker rmi %s'", ref, ref)
	}
	return Decode(img.Config.Labels[Label])
}

// Decode reads a record from the value of its Label.
func Decode(label string) (*Record, error) {
	data, err := base64.StdEncoding.DecodeString(label)
	if err != nil {
		return nil, fmt.Errorf("unreadable test record: %w", err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("unreadable test record: %w", err)
	}
	return &r, nil
}

// Summary is one line about r: "passed 5m ago on host by alice, commit
// abc (clean tree)".
func (r *Record) Summary(now time.Time) string {
	tree := "clean tree"
	if !r.Clean {
		tree = "uncommitted changes"
	}
	s := fmt.Sprintf("%s %s ago", r.Verdict, now.Sub(r.Time).Round(time.Second))
	if r.Instance != "" {
		s += " (instance " + r.Instance + ")"
	}
	if r.Daemon != "" {
		s += " on " + r.Daemon
	}
	s += fmt.Sprintf(" by %s, commit %s (%s)", r.Owner, cmpOr(r.ShortCommit(), "none"), tree)
	if r.Reason != "" {
		s += ": " + r.Reason
	}
	return s
}

func cmpOr(a, b string) string {
	if a == "" {
		return b
	}
	return a
}

// shortID is an image ID without "sha256:", 12 characters.
func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
