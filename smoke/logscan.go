package smoke

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	engineapi "github.com/picasoft/docker-picatest/internal/engine"
)

// errorLine matches the log lines of SPEC §6: the words error, fatal, panic,
// exception (case-insensitive, with plural and panicked), and CamelCase
// names ending in Error or Exception (TypeError, NullPointerException).
var errorLine = regexp.MustCompile(`(?i:\b(?:errors?|fatal|panic(?:s|ked)?|exceptions?)\b)|[a-z0-9](?:Error|Exception)s?\b`)

// IsErrorLine reports whether a log line looks like an error.
func IsErrorLine(line string) bool { return errorLine.MatchString(line) }

// MatchLines returns the lines of r that look like errors and match none of
// the ignore patterns, at most max of them (max <= 0: all), and how many
// there are in all.
func MatchLines(r io.Reader, ignore []*regexp.Regexp, max int) (lines []string, total int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
next:
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if !IsErrorLine(line) {
			continue
		}
		for _, re := range ignore {
			if re.MatchString(line) {
				continue next
			}
		}
		total++
		if max <= 0 || len(lines) < max {
			lines = append(lines, line)
		}
	}
	return lines, total, sc.Err()
}

// LogMatch is the error lines of one container.
type LogMatch struct {
	Service   string   `json:"service"`
	Container string   `json:"container"`
	Since     string   `json:"since"`
	Lines     []string `json:"lines"`
	Total     int      `json:"total"` // matched lines, Lines holds the first ones
}

// ScanOptions configures ScanLogs.
type ScanOptions struct {
	Project  string                      // com.docker.compose.project label value
	Services map[string][]*regexp.Regexp // services to scan and their ignore patterns (nil: every service, no pattern)
	Max      int                         // lines kept per container (default 20)
	MaxBytes int64                       // log bytes read per container (default 16 MiB)
}

// startSlack is how long before a container's StartedAt its logs are read
// from: the first lines of a process can be stamped before the engine
// records that it started (0.2 ms before was seen).
const startSlack = time.Second

// ScanLogs reads the logs of every container of the project (running or
// exited) since it last started and returns the error lines of each, sorted
// by service then container. Containers without a match are left out.
func ScanLogs(ctx context.Context, e Engine, opts ScanOptions) ([]LogMatch, error) {
	if opts.Max <= 0 {
		opts.Max = 20
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 16 << 20
	}
	f := client.Filters{}
	f.Add("label", labelProject+"="+opts.Project)
	list, err := e.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing the containers of project %s: %w", opts.Project, err)
	}
	var out []LogMatch
	for _, s := range list.Items {
		svc := s.Labels[labelService]
		ignore, ok := opts.Services[svc]
		if opts.Services != nil && !ok {
			continue
		}
		ic, err := e.ContainerInspect(ctx, s.ID, client.ContainerInspectOptions{})
		if err != nil {
			return nil, fmt.Errorf("inspecting container %s: %w", s.ID, err)
		}
		var since string
		tty := false
		if ic.Container.State != nil {
			since = ic.Container.State.StartedAt
		}
		if ic.Container.Config != nil {
			tty = ic.Container.Config.Tty
		}
		if t, err := time.Parse(time.RFC3339Nano, since); err != nil || t.IsZero() || t.Year() < 2000 {
			since = "" // never started: no logs anyway
		} else {
			// The engine records StartedAt once the process runs: its
			// first lines can be stamped a little earlier.
			since = t.Add(-startSlack).Format(time.RFC3339Nano)
		}
		rc, err := e.ContainerLogs(ctx, s.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Since: since})
		if err != nil {
			return nil, fmt.Errorf("reading the logs of container %s: %w", s.ID, err)
		}
		var buf bytes.Buffer
		if tty {
			_, err = io.Copy(&buf, io.LimitReader(rc, opts.MaxBytes))
		} else {
			_, err = stdcopy.StdCopy(&buf, &buf, io.LimitReader(rc, opts.MaxBytes))
		}
		rc.Close()
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		lines, total, _ := MatchLines(&buf, ignore, opts.Max)
		if total == 0 {
			continue
		}
		name := strings.TrimPrefix(ic.Container.Name, "/")
		if name == "" && len(s.Names) > 0 {
			name = strings.TrimPrefix(s.Names[0], "/")
		}
		out = append(out, LogMatch{Service: svc, Container: name, Since: since, Lines: lines, Total: total})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Container < out[j].Container
	})
	return out, nil
}

// Health returns "state" or "state, health" of each service of a project,
// from the container list (the first container of a service with a problem
// wins), for the messages of the smoke checks.
func Health(ctx context.Context, e Engine, project string) (map[string]string, error) {
	f := client.Filters{}
	f.Add("label", labelProject+"="+project)
	list, err := e.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing the containers of project %s: %w", project, err)
	}
	out := map[string]string{}
	for _, s := range list.Items {
		svc := s.Labels[labelService]
		v := StateHealth(string(s.State), engineapi.SummaryHealth(s))
		if old, ok := out[svc]; ok && !(old == "running, healthy" || old == "running") {
			continue // keep the first problem
		}
		out[svc] = v
	}
	return out, nil
}
