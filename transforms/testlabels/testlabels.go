// Package testlabels labels what a test deploys (SPEC §3.4): images built by
// a test carry TestBuild=true (so that `push` can refuse them), and every
// container carries who started the test, from which branch and commit, and
// when.
//
// Transform is pure and copy-on-write; FromLabels reads the labels back from
// a container, for `status`, the owner check and `push`.
package testlabels

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"sort"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/picasoft/docker-picatest/transforms"
)

// Label keys.
const (
	// TestBuild, with value "true", marks an image built by a test
	// (set in build.labels).
	TestBuild = "net.picasoft.picatest.test-build"
	// Owner is the user who started the test deployment.
	Owner = "net.picasoft.picatest.owner"
	// Branch is the git branch of the project when the test started.
	Branch = "net.picasoft.picatest.branch"
	// Commit is the git commit of the project when the test started.
	Commit = "net.picasoft.picatest.commit"
	// Started is when the test started, RFC 3339 in UTC.
	Started = "net.picasoft.picatest.started"
	// TestHost, with value "true" on a Docker daemon, allows the destructive
	// commands (up, down) on that daemon (SPEC §5).
	TestHost = "net.picasoft.picatest.test-host"
)

// Name is the Transform name used in the changes this package reports.
const Name = "test-labels"

// Labels describes a test deployment.
type Labels struct {
	Owner   string
	Branch  string
	Commit  string
	Started time.Time
}

// Map returns the container labels for l, empty values omitted. Started is
// formatted as RFC 3339 in UTC.
func (l Labels) Map() map[string]string {
	m := map[string]string{}
	for k, v := range map[string]string{Owner: l.Owner, Branch: l.Branch, Commit: l.Commit} {
		if v != "" {
			m[k] = v
		}
	}
	if !l.Started.IsZero() {
		m[Started] = l.Started.UTC().Format(time.RFC3339)
	}
	return m
}

// FromLabels reads Labels back from a container's labels. ok is false when
// none of Owner, Branch, Commit and Started is present, i.e. the container
// was not started by docker picatest. An unparsable Started is left zero.
func FromLabels(m map[string]string) (l Labels, ok bool) {
	var found bool
	get := func(k string) string {
		v, present := m[k]
		found = found || present
		return v
	}
	l.Owner = get(Owner)
	l.Branch = get(Branch)
	l.Commit = get(Commit)
	if s := get(Started); s != "" {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			l.Started = t.UTC()
		}
	}
	return l, found
}

// OwnerFromEnv returns the user running the test: SUDO_USER when set (the
// user behind sudo), else USER. getenv is os.Getenv outside tests.
func OwnerFromEnv(getenv func(string) string) string {
	if u := getenv("SUDO_USER"); u != "" {
		return u
	}
	return getenv("USER")
}

// Transform returns a copy of p where every service with build: has
// TestBuild=true in build.labels, and every service has the non-empty labels
// of l (Owner, Branch, Commit, Started) in labels. A label that already has
// the value is left as is; one with another value is replaced. The changes
// (Transform "test-labels", Where e.g.
// "services.pad.labels.net.picasoft.picatest.owner" or
// "services.pad.build.labels.net.picasoft.picatest.test-build", Old the
// previous value or "", New the value) are sorted by Where. p is never
// modified.
func Transform(p *types.Project, l Labels) (*types.Project, []transforms.Change, error) {
	if p == nil {
		return nil, nil, errors.New("testlabels: nil project")
	}
	add := l.Map()
	keys := make([]string, 0, len(add))
	for k := range add {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	out := p.WithServicesDisabled() // no argument: a deep copy
	var changes []transforms.Change
	set := func(labels types.Labels, where, k, v string) types.Labels {
		old, present := labels[k]
		if present && old == v {
			return labels
		}
		if labels == nil {
			labels = types.Labels{}
		}
		labels[k] = v
		changes = append(changes, transforms.Change{
			Transform: Name,
			Where:     where + "." + k,
			Old:       old,
			New:       v,
		})
		return labels
	}
	for _, name := range out.ServiceNames() {
		s := out.Services[name]
		if s.Build != nil {
			s.Build.Labels = set(s.Build.Labels, fmt.Sprintf("services.%s.build.labels", name), TestBuild, "true")
		}
		for _, k := range keys {
			s.Labels = set(s.Labels, fmt.Sprintf("services.%s.labels", name), k, add[k])
		}
		out.Services[name] = s
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].Where < changes[j].Where })
	return out, changes, nil
}

// CurrentOwner is the owner of a test run: SUDO_USER, else USER, else the
// account running the plugin (cron and some shells set neither).
func CurrentOwner() string {
	if o := OwnerFromEnv(os.Getenv); o != "" {
		return o
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}
