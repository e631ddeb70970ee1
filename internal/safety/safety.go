// Package safety holds the safety rules of a shared test machine: the
// test-host guard (only a daemon named or labelled as a test host runs a
// test), the per-project lock (two up/down of one project never
// interleave), the owner rule (someone else's deployment is not replaced
// without --takeover) and the confirmation before external volumes are
// emptied. Guard applies the first three in order.
package safety

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"github.com/picasoft/docker-picatest/internal/engine"
	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/settings"
	"github.com/picasoft/docker-picatest/internal/termsafe"
	"github.com/picasoft/docker-picatest/transforms/testlabels"
)

// infoClient is the part of the moby client the test-host guard needs.
type infoClient interface {
	Info(ctx context.Context, options client.InfoOptions) (client.SystemInfoResult, error)
}

// TestHost is why a daemon is a test host (SPEC §5): its name matches a
// test-host glob, or it carries the label net.picasoft.picatest.test-host
// with the value true, or both.
type TestHost struct {
	// Daemon is the daemon's name (`docker info` Name).
	Daemon string
	// Glob is the first test-host glob the name matches, "" for none;
	// From is where the globs come from (settings.Settings.TestHostsFrom:
	// "default", "PICATEST_TEST_HOSTS" or the path of a .picatest.yml).
	Glob, From string
	// Label is true when the daemon carries the test-host label.
	Label bool
}

// String says which rule makes the daemon a test host, e.g.
// `Docker daemon "vm" is a test host: its name matches "*" (from
// PICATEST_TEST_HOSTS)`.
func (h TestHost) String() string {
	var why []string
	if h.Glob != "" {
		w := fmt.Sprintf("its name matches %q", h.Glob)
		if h.From != "" {
			w += " (from " + h.From + ")"
		}
		why = append(why, w)
	}
	if h.Label {
		why = append(why, "it carries the label "+testlabels.TestHost+"=true")
	}
	return fmt.Sprintf("Docker daemon %q is a test host: %s", h.Daemon, strings.Join(why, " and "))
}

// CheckTestHost is the test-host guard of SPEC §5: it refuses (exit 3)
// unless the daemon's name (`docker info` Name) matches one of globs
// (path.Match syntax, case-insensitive) or the daemon carries the label
// net.picasoft.picatest.test-host with the value true (exactly: any other
// value does not count). from is where the globs come from, for the
// messages. It returns why the daemon is a test host, and its name in
// any case once known.
//
// A malformed glob is invalid input (exit 2); an engine that cannot be
// reached is exit 1. It only reads: Guard calls it before anything is
// written to the engine; up --dry-run calls it alone.
func CheckTestHost(ctx context.Context, c infoClient, globs []string, from string) (TestHost, error) {
	for _, g := range globs {
		if _, err := path.Match(strings.ToLower(g), ""); err != nil {
			return TestHost{}, exitcode.Invalidf("invalid test-host glob %q (from %s): %v\nFix PICATEST_TEST_HOSTS or `test-hosts:` in %s (path.Match syntax, e.g. \"*-test\")", g, from, err, settings.File)
		}
	}
	res, err := c.Info(ctx, client.InfoOptions{})
	if err != nil {
		if ctx.Err() != nil {
			return TestHost{}, ctx.Err()
		}
		return TestHost{}, exitcode.With(exitcode.Failed, engine.UnreachableError(c, err))
	}
	info := res.Info
	h := TestHost{Daemon: info.Name}
	lower := strings.ToLower(info.Name)
	for _, g := range globs {
		if ok, _ := path.Match(strings.ToLower(g), lower); ok {
			h.Glob, h.From = g, from
			break
		}
	}
	var labelValues []string
	for _, l := range info.Labels {
		if k, v, _ := strings.Cut(l, "="); k == testlabels.TestHost {
			if v == "true" {
				h.Label = true
			} else {
				labelValues = append(labelValues, strconv.Quote(v))
			}
		}
	}
	if h.Glob != "" || h.Label {
		return h, nil
	}
	globsText := "none are set"
	if len(globs) > 0 {
		globsText = strings.Join(globs, ", ")
		if from != "" {
			globsText += " from " + from
		}
	}
	label := "it lacks the label " + testlabels.TestHost + "=true"
	if len(labelValues) > 0 {
		label = fmt.Sprintf("its label %s is %s, and only the value true counts", testlabels.TestHost, strings.Join(labelValues, ", "))
	}
	return h, exitcode.With(exitcode.Refused, fmt.Errorf(
		"refusing to run on Docker daemon %q: it is not a test host (its name matches none of the test-host globs (%s) and %s).\n"+
			"If this is not the machine you meant, check DOCKER_HOST and the docker context (`docker context ls`).\n"+
			"To allow this daemon: set PICATEST_TEST_HOSTS (comma-separated globs, e.g. PICATEST_TEST_HOSTS=%q), "+
			"or add `\"labels\": [\"%s=true\"]` to /etc/docker/daemon.json on that machine and restart dockerd; "+
			"a repository may also name it in `test-hosts:` of its %s (a glob with a literal part, never one that matches every daemon)",
		info.Name, globsText, label, info.Name, testlabels.TestHost, settings.File))
}

// containerLister is the part of the moby client the owner check needs.
type containerLister interface {
	ContainerList(ctx context.Context, options client.ContainerListOptions) (client.ContainerListResult, error)
}

// checkOwner is the owner check of SPEC §5. It lists the containers of
// project (label com.docker.compose.project=<project>, stopped ones too) and
// reads their picatest labels. Unless takeover is set it refuses (exit 3)
// when one of them is owned by someone other than me, or when one of them was
// not started by docker picatest at all (production or a manual test).
//
// It returns the labels of the current deployment, nil when there is none:
// the owner other than me when there is one (also returned with the
// refusal), else the most recently started.
func checkOwner(ctx context.Context, c containerLister, project, me string, takeover bool) (*testlabels.Labels, error) {
	res, err := c.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", "com.docker.compose.project="+project),
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("cannot list the containers of project %s: %w\nCheck that `docker ps -a` works", project, err)
	}
	var (
		mine, other *testlabels.Labels
		foreign     []string
	)
	newer := func(cur *testlabels.Labels, l testlabels.Labels) *testlabels.Labels {
		if cur == nil || l.Started.After(cur.Started) {
			return &l
		}
		return cur
	}
	for _, ctr := range res.Items {
		l, ok := testlabels.FromLabels(ctr.Labels)
		switch {
		case !ok:
			foreign = append(foreign, containerName(ctr.Names, ctr.ID))
		case l.Owner == me:
			mine = newer(mine, l)
		default:
			other = newer(other, l)
		}
	}
	current := mine
	if other != nil {
		current = other
	}
	if takeover {
		return current, nil
	}
	if other != nil {
		return current, exitcode.With(exitcode.Refused, fmt.Errorf("project %s is deployed by %s%s; ask them, or pass --takeover to replace their deployment",
			project, ownerName(other.Owner), deploymentDetails(*other)))
	}
	if len(foreign) > 0 {
		sort.Strings(foreign)
		return current, exitcode.With(exitcode.Refused, fmt.Errorf("project %s is running containers not started by docker picatest (production or a manual test?): %s; "+
			"stop them with `docker compose -p %s down`, or pass --takeover", project, listSome(foreign, 5), project))
	}
	return current, nil
}

// ownerName is owner, or a placeholder when the label is empty.
func ownerName(owner string) string {
	if owner == "" {
		return "an unknown user"
	}
	return termsafe.String(owner)
}

// deploymentDetails is " (branch b, commit c, started t, d ago)", the
// unknown parts left out.
func deploymentDetails(l testlabels.Labels) string {
	var parts []string
	if l.Branch != "" {
		parts = append(parts, "branch "+termsafe.String(l.Branch))
	}
	if l.Commit != "" {
		c := l.Commit
		if len(c) > 7 {
			c = c[:7]
		}
		parts = append(parts, "commit "+termsafe.String(c))
	}
	if !l.Started.IsZero() {
		parts = append(parts, "started "+Time(l.Started), Ago(l.Started)+" ago")
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// containerName is the first name of a container without its leading '/',
// else its short ID.
func containerName(names []string, id string) string {
	for _, n := range names {
		if n = strings.TrimPrefix(n, "/"); n != "" {
			return n
		}
	}
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

// listSome joins the first n items of l, telling how many were left out.
func listSome(l []string, n int) string {
	if len(l) <= n {
		return strings.Join(l, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(l[:n], ", "), len(l)-n)
}

// Confirm asks question on out and reads the answer from in when
// isTerminal (dockerCli.In().IsTerminal()); only y or yes (any case)
// confirms, anything else, end of input included, refuses (exit 3). yes
// (-y/--yes) confirms without asking. Without a terminal and without yes it
// refuses (exit 3) without asking.
func Confirm(in io.Reader, out io.Writer, isTerminal, yes bool, question string) error {
	if yes {
		return nil
	}
	q := strings.TrimSpace(question)
	if !isTerminal {
		return exitcode.With(exitcode.Refused, fmt.Errorf("%q needs confirmation: pass -y/--yes to Confirm (no terminal to ask)", q))
	}
	if _, err := fmt.Fprintf(out, "%s [y/N] ", q); err != nil {
		return err
	}
	answer, err := readLine(in)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("cannot read the answer to %q: %w\nPass -y/--yes to Confirm without asking", q, err)
	}
	if errors.Is(err, io.EOF) && answer == "" {
		fmt.Fprintln(out)
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return exitcode.With(exitcode.Refused, fmt.Errorf("aborted: %q was not confirmed; run the command again and answer y, or pass -y/--yes", q))
}

// readLine reads one line from in, byte by byte so that nothing after the
// line is consumed. The line is returned without its end of line.
func readLine(in io.Reader) (string, error) {
	var (
		b    strings.Builder
		buf  [1]byte
		read int
	)
	for read < 4096 {
		n, err := in.Read(buf[:])
		if n == 1 {
			read++
			if buf[0] == '\n' {
				return strings.TrimSuffix(b.String(), "\r"), nil
			}
			b.WriteByte(buf[0])
		}
		if err != nil {
			return b.String(), err
		}
	}
	return b.String(), nil
}

// Time formats t for people, in local time.
func Time(t time.Time) string {
	return t.Local().Format("2006-01-02 15:04:05 MST")
}

// Ago is the time elapsed since t, for people: "42s", "5m12s",
// "3h5m", "2d4h".
func Ago(t time.Time) string {
	d := time.Since(t)
	if d < 0 {
		d = 0
	}
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%ds", s/60, s%60)
	case s < 48*3600:
		return fmt.Sprintf("%dh%dm", s/3600, s%3600/60)
	default:
		return fmt.Sprintf("%dd%dh", s/86400, s%86400/3600)
	}
}
