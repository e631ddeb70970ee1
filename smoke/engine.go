package smoke

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	engineapi "github.com/picasoft/docker-picatest/internal/engine"
)

// Engine is the part of the moby client (github.com/moby/moby/client, as
// returned by dockerCli.Client()) that the wait uses; *client.Client
// implements it; tests may use it for real.
type Engine interface {
	ContainerList(ctx context.Context, options client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerInspect(ctx context.Context, id string, options client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	ContainerLogs(ctx context.Context, id string, options client.ContainerLogsOptions) (client.ContainerLogsResult, error)
	Events(ctx context.Context, options client.EventsListOptions) client.EventsResult
}

var _ Engine = (*client.Client)(nil)

const (
	labelProject = "com.docker.compose.project"
	labelService = "com.docker.compose.service"
	healthLogLen = 5
	logTailLen   = 20
)

// subscribe starts the event stream; the next relist inspects every container
// again, as events may have been missed before it.
func (w *waiter) subscribe(ctx context.Context) client.EventsResult {
	w.resync = true
	f := client.Filters{}
	f.Add("type", string(events.ContainerEventType))
	f.Add("label", labelProject+"="+w.opts.Project)
	f.Add("event", "die", "start", "restart", "health_status", "oom", "destroy")
	return w.e.Events(ctx, client.EventsListOptions{Filters: f})
}

// relist lists the project's containers and inspects the new ones and those
// whose listed state or health differs from what the events said.
func (w *waiter) relist(ctx context.Context) error {
	f := client.Filters{}
	f.Add("label", labelProject+"="+w.opts.Project)
	res, err := w.e.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("listing the containers of project %s: %w", w.opts.Project, err)
	}
	seen := map[string]bool{}
	for _, s := range res.Items {
		if _, ok := w.opts.Services[s.Labels[labelService]]; !ok {
			continue
		}
		seen[s.ID] = true
		c, known := w.ctrs[s.ID]
		if known && !w.resync && string(s.State) == c.state && (c.state != "running" || engineapi.SummaryHealth(s) == c.health) {
			continue // nothing missed: no need to inspect
		}
		if err := w.inspect(ctx, w.get(s.ID)); err != nil {
			return err
		}
	}
	w.resync = false
	for id, c := range w.ctrs {
		if !seen[id] {
			c.gone = true
		}
	}
	w.settle(time.Time{})
	return nil
}

func (w *waiter) inspect(ctx context.Context, c *ctr) error {
	r, err := w.e.ContainerInspect(ctx, c.id, client.ContainerInspectOptions{})
	if err != nil {
		if cerrdefs.IsNotFound(err) && ctx.Err() == nil {
			c.gone = true
			return nil
		}
		return fmt.Errorf("inspecting container %s: %w", c.id, err)
	}
	ic := r.Container
	c.name = strings.TrimPrefix(ic.Name, "/")
	c.restarts = ic.RestartCount
	if ic.Config != nil {
		c.image, c.tty, c.service = ic.Config.Image, ic.Config.Tty, ic.Config.Labels[labelService]
	}
	c.hasHealth, c.health, c.healthLog = false, "", nil
	if st := ic.State; st != nil {
		c.state, c.exitCode = string(st.Status), st.ExitCode
		if h := st.Health; h != nil && h.Status != "none" && h.Status != "" {
			c.hasHealth, c.health = true, string(h.Status)
			for _, l := range h.Log {
				if l != nil {
					c.healthLog = append(c.healthLog, strings.TrimSpace(l.Output))
				}
			}
			if len(c.healthLog) > healthLogLen {
				c.healthLog = c.healthLog[len(c.healthLog)-healthLogLen:]
			}
		}
	}
	return nil
}

// logTail returns the last log lines of a container (stdout and stderr
// interleaved as the engine stored them), demultiplexed unless it has a TTY.
func (w *waiter) logTail(ctx context.Context, c *ctr) []string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rc, err := w.e.ContainerLogs(ctx, c.id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: fmt.Sprint(logTailLen)})
	if err != nil {
		return nil
	}
	defer rc.Close()
	var buf bytes.Buffer
	if c.tty {
		_, _ = io.Copy(&buf, io.LimitReader(rc, 1<<20))
	} else {
		_, _ = stdcopy.StdCopy(&buf, &buf, rc) // partial output is still useful
	}
	return lastLines(buf.String(), logTailLen)
}

func lastLines(s string, n int) []string {
	s = strings.TrimRight(s, "\r\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, "\r")
	}
	return lines
}

func eventTime(m events.Message) time.Time {
	switch {
	case m.TimeNano != 0:
		return time.Unix(0, m.TimeNano)
	case m.Time != 0:
		return time.Unix(m.Time, 0)
	}
	return time.Time{}
}
