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

// checkTestHost is the test-host guard of SPEC §5: it refuses (exit 3)
// unless the daemon's name (`docker info` Name) matches one of globs
// (path.Match syntax, case-insensitive) or the daemon carries the label
// net.picasoft.picatest.test-host=true. It returns the daemon's name.
//
// A malformed glob is invalid input (exit 2); an engine that cannot be
// reached is exit 1.
func checkTestHost(ctx context.Context, c infoClient, globs []string) (daemonName string, err error) {
	for _, g := range globs {
		if _, err := path.Match(strings.ToLower(g), ""); err != nil {
			return "", exitcode.Invalidf("invalid test-host glob %q: %v\nFix PICATEST_TEST_HOSTS or `test-hosts:` in %s (path.Match syntax, e.g. \"*-test\")", g, err, settings.File)
		}
	}
	res, err := c.Info(ctx, client.InfoOptions{})
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", exitcode.With(exitcode.Failed, engine.UnreachableError(c, err))
	}
	info := res.Info
	name := info.Name
	lower := strings.ToLower(name)
	for _, g := range globs {
		if ok, _ := path.Match(strings.ToLower(g), lower); ok {
			return name, nil
		}
	}
	for _, l := range info.Labels {
		k, v, _ := strings.Cut(l, "=")
		if strings.TrimSpace(k) == testlabels.TestHost && strings.EqualFold(strings.TrimSpace(v), "true") {
			return name, nil
		}
	}
	globsText := "none are set"
	if len(globs) > 0 {
		globsText = strings.Join(globs, ", ")
	}
	return name, exitcode.With(exitcode.Refused, fmt.Errorf(
		"refusing to run on Docker daemon %q: it is not a test host (its name matches none of the test-host globs (%s) and it lacks the label %s=true).\n"+
			"If this is not the machine you meant, check DOCKER_HOST and the docker context (`docker context ls`).\n"+
			"To allow this daemon: set PICATEST_TEST_HOSTS (comma-separated globs, e.g. PICATEST_TEST_HOSTS=%q) or `test-hosts:` in %s, "+
			"or add `\"labels\": [\"%s=true\"]` to /etc/docker/daemon.json on that machine and restart dockerd",
		name, globsText, testlabels.TestHost, name, settings.File, testlabels.TestHost))
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
