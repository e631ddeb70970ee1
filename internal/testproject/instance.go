package testproject

import (
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/gitrepo"
	"github.com/picasoft/docker-picatest/internal/settings"
	"github.com/picasoft/docker-picatest/transforms/instance"
)

// InstanceFromBranch is the value of --instance that takes the instance
// name from the git branch checked out in the project directory.
const InstanceFromBranch = "branch"

// InstanceName resolves --instance for the project in dir: "" (the
// default deployment), a name checked by instance.Check, or
// InstanceFromBranch, the instance of the git branch (instance.FromBranch).
func (o Options) InstanceName(dir string) (string, error) {
	switch o.Instance {
	case "":
		return "", nil
	case InstanceFromBranch:
		branch, _ := gitrepo.Head(dir)
		switch branch {
		case "":
			return "", exitcode.Invalidf("--instance %s: %s is not in a git work tree: name the instance with --instance NAME", InstanceFromBranch, dir)
		case "HEAD":
			return "", exitcode.Invalidf("--instance %s: no branch is checked out in %s (detached HEAD): check out a branch or name the instance with --instance NAME", InstanceFromBranch, dir)
		}
		name, err := instance.FromBranch(branch)
		if err != nil {
			return "", exitcode.With(exitcode.Invalid, err)
		}
		return name, nil
	}
	if err := instance.Check(o.Instance); err != nil {
		hint := "lower-case letters, digits and '-', at most " + fmt.Sprint(instance.MaxLen) + " characters"
		if n, ferr := instance.FromBranch(o.Instance); ferr == nil {
			hint = "e.g. --instance " + n
		}
		return "", exitcode.Invalidf("--instance: %v: %s (or --instance %s for the git branch's)", err, hint, InstanceFromBranch)
	}
	return o.Instance, nil
}

// instanceRewriter is the host rule of the instance of --instance for the
// project in dir, or nil for the default deployment.
func (o Options) instanceRewriter(dir string, s settings.Settings) (*instance.Rewriter, error) {
	name, err := o.InstanceName(dir)
	if err != nil || name == "" {
		return nil, err
	}
	r, err := instance.NewRewriter(s.TestDomain, name)
	if err != nil {
		return nil, exitcode.With(exitcode.Invalid, err)
	}
	return r, nil
}

// withInstance is the deployment p as the instance of --instance, for the
// commands that act on a deployment by name (down, status, logs): the
// instance transform when p has services (down then knows the instance's
// volumes), else just the instance's project name.
func (o Options) withInstance(p *types.Project, s settings.Settings) (*types.Project, error) {
	r, err := o.instanceRewriter(p.WorkingDir, s)
	if err != nil || r == nil {
		return p, err
	}
	if len(p.Services) == 0 {
		n := *p
		n.Name = instance.ProjectName(p.Name, r.Instance())
		return &n, nil
	}
	out, _, err := instance.Transform(p, r)
	if err != nil {
		return nil, exitcode.With(exitcode.Invalid, err)
	}
	return out, nil
}
