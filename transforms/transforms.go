// Package transforms holds the in-memory transforms that docker picatest
// applies to a Compose project before testing it (SPEC §3).
//
// Each transform lives in its own package (testurls, examplesecrets,
// configfiles, testlabels, verify). A transform is a pure, copy-on-write
// function: it takes a *types.Project, never modifies it, and returns a new
// project plus the list of Changes it made. Which flags configure a
// transform is the business of the plugin package, not of the transforms.
package transforms

import (
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"
)

// Change records one edit made by a transform.
type Change struct {
	// Transform names the transform that made the change, e.g. "test-urls".
	Transform string `json:"transform"`
	// Where locates the change: a model path such as
	// "services.pad.labels.traefik.http.routers.pad.rule", or a file path
	// followed by a line number for rewritten files ("conf/app.ini:12").
	Where string `json:"where"`
	// Old and New are the value before and after the change.
	Old string `json:"old"`
	New string `json:"new"`
}

// String formats the change on one line, as `config --diff` lists it.
func (c Change) String() string {
	return fmt.Sprintf("%s: %s: %q -> %q", c.Transform, c.Where, c.Old, c.New)
}

// Rewriter rewrites the production hostnames found in a string.
// testurls.Rewriter implements it; transforms that rewrite file content
// depend on this interface only.
type Rewriter interface {
	// Rewrite returns s with every production hostname replaced by its test
	// counterpart, and whether anything changed.
	Rewrite(s string) (string, bool)
}

// Func is one step of a transform pipeline: a transform with its settings
// bound, taking a project and returning a new one with the changes made.
type Func func(*types.Project) (*types.Project, []Change, error)

// Apply runs steps in order on p, each on the project the previous one
// returned, and returns the last project with every change, in order. The
// first error stops it.
func Apply(p *types.Project, steps ...Func) (*types.Project, []Change, error) {
	var all []Change
	for _, step := range steps {
		next, changes, err := step(p)
		if err != nil {
			return nil, nil, err
		}
		p = next
		all = append(all, changes...)
	}
	return p, all, nil
}
