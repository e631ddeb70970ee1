package smoke

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
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

// Expect describes what "done" means for one service.
type Expect struct {
	// Healthcheck: the service declares a healthcheck in compose that is not
	// disabled. Informational: Wait decides from the container's inspect
	// (State.Health != nil), which also covers an image HEALTHCHECK.
	Healthcheck bool
	// OneShot: another service depends on it with condition
	// service_completed_successfully: exiting 0 counts as done.
	OneShot bool
}

// ExpectFromProject derives Expect for every service of a (transformed)
// compose-go project. A service scaled to 0 is left out (it has no
// container to wait for). A healthcheck that comes from the image is detected
// later from the container's inspect, so Healthcheck here is only "declared
// in compose and not disabled".
func ExpectFromProject(p *types.Project) map[string]Expect {
	out := map[string]Expect{}
	for name, s := range p.Services {
		if s.GetScale() == 0 {
			continue
		}
		hc := s.HealthCheck
		out[name] = Expect{Healthcheck: hc != nil && !hc.Disable && len(hc.Test) > 0 && !strings.EqualFold(hc.Test[0], "NONE")}
	}
	for _, s := range p.Services {
		for dep, d := range s.DependsOn {
			if x, ok := out[dep]; ok && d.Condition == types.ServiceConditionCompletedSuccessfully {
				x.OneShot = true
				out[dep] = x
			}
		}
	}
	return out
}

// WaitOptions configures Wait.
type WaitOptions struct {
	Project  string             // com.docker.compose.project label value
	Services map[string]Expect  // services to wait for
	Timeout  time.Duration      // --wait-timeout (0: no timeout, the context decides)
	Stable   time.Duration      // --stable: window after all are ready during which no container may exit or restart
	Now      func() time.Time   // clock (time.Now when nil)
	Progress func(ServiceState) // called on every state change (may be nil)
}

// ServiceState is what Wait knows about one service. With several
// containers (scale > 1) it describes the first container with a problem,
// else the first not done, else the first one (by name).
type ServiceState struct {
	Service, Container, Image string
	State                     string // running, exited, restarting, created, removed, missing...
	Health                    string // healthy, unhealthy, starting, "" (no healthcheck)
	ExitCode                  int
	Restarts                  int       // highest RestartCount of the service's containers
	Done                      bool      // running(+healthy) or one-shot exited 0
	ReadyAt                   time.Time // when picatest counted it done
	EventAt                   time.Time // time of the engine event that made it done (zero when seen by a list)
	HealthLog                 []string  // last health-check outputs (from inspect State.Health.Log), newest last
	LogTail                   []string  // last log lines (filled on failure only), up to 20
}

// WaitError is a failed wait: which service, why, and its state with the
// last health-check outputs and log lines.
type WaitError struct {
	Service string
	Reason  string // "unhealthy", "exited with code 1", "crash loop: restarted 2 times", "timed out after 5m0s while starting", "... during the stability window"
	State   ServiceState
	States  []ServiceState
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("service %s: %s", e.Service, e.Reason)
}

const (
	labelProject = "com.docker.compose.project"
	labelService = "com.docker.compose.service"
	healthLogLen = 5
	logTailLen   = 20
)

// relistInterval is the period of the safety re-list (in case an event was
// lost). A variable so that tests can shorten it.
var relistInterval = 2 * time.Second

// Wait waits until every expected service has at least one container and all
// its containers are done, then watches the stability window. It is driven by
// the engine's events: it subscribes first, then lists and inspects, so no
// transition is missed; every relevant event re-inspects its container.
//
// It fails fast on an unhealthy container, a restart (crash loop), an exited
// container (or a one-shot that exited non-zero), a removed container, and on
// the timeout. It returns the final state of every service, sorted by name;
// on failure a *WaitError (with HealthLog and LogTail filled), on
// cancellation ctx.Err().
func Wait(ctx context.Context, e Engine, opts WaitOptions) ([]ServiceState, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &waiter{e: e, opts: opts, ctrs: map[string]*ctr{}, ready: map[string]readyMark{}, last: map[string]ServiceState{}}

	sub := w.subscribe(ctx)
	if err := w.relist(ctx); err != nil {
		return w.finish(ctx, err)
	}

	var deadline, stableEnd <-chan time.Time
	if opts.Timeout > 0 {
		t := time.NewTimer(opts.Timeout)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(relistInterval)
	defer tick.Stop()
	stabilizing := false
	for {
		if svc, why := w.failure(stabilizing); svc != "" {
			return w.fail(ctx, svc, why)
		}
		if !stabilizing && w.allDone() {
			if opts.Stable <= 0 {
				return w.states(), nil
			}
			stabilizing, deadline = true, nil
			t := time.NewTimer(opts.Stable)
			defer t.Stop()
			stableEnd = t.C
		}

		var err error
		select {
		case <-ctx.Done():
			return w.finish(ctx, ctx.Err())
		case m, ok := <-sub.Messages:
			if !ok {
				sub = client.EventsResult{} // re-subscribed on the next tick
				continue
			}
			err = w.handle(ctx, m)
		case <-sub.Err:
			// The stream broke (daemon restart, proxy...): re-subscribe and
			// re-list on the next tick, the list catches what was missed.
			sub = client.EventsResult{}
		case <-tick.C:
			if sub.Messages == nil {
				sub = w.subscribe(ctx)
			}
			err = w.relist(ctx)
		case <-deadline:
			svc := w.firstNotDone()
			return w.fail(ctx, svc, fmt.Sprintf("timed out after %s%s", opts.Timeout, w.waitingFor(svc)))
		case <-stableEnd:
			return w.states(), nil
		}
		if err != nil {
			return w.finish(ctx, err)
		}
	}
}

// ctr is one container as last inspected, plus the events seen for it.
type ctr struct {
	id, name, service, image string
	state                    string
	exitCode                 int
	restarts                 int // RestartCount
	hasHealth                bool
	health                   string
	healthLog                []string
	tty                      bool
	dies, restartEvents      int // die and restart events seen
	gone                     bool
}

type readyMark struct{ readyAt, eventAt time.Time }

type waiter struct {
	e     Engine
	opts  WaitOptions
	ctrs  map[string]*ctr         // by container ID
	ready map[string]readyMark    // services counted done
	last  map[string]ServiceState // last state given to Progress
	// resync: the next relist inspects every container (after a
	// (re)subscription); otherwise only those whose listed state differs.
	resync bool
}

// summaryHealth is the health of a listed container: Summary.Health on
// recent engines, else the "(healthy)" in its Status (API 1.41).
func summaryHealth(s container.Summary) string {
	if s.Health != nil {
		if s.Health.Status == container.NoHealthcheck {
			return ""
		}
		return string(s.Health.Status)
	}
	switch {
	case strings.Contains(s.Status, "(healthy)"):
		return "healthy"
	case strings.Contains(s.Status, "(unhealthy)"):
		return "unhealthy"
	case strings.Contains(s.Status, "(health: starting)"):
		return "starting"
	}
	return ""
}

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
		if known && !w.resync && string(s.State) == c.state && (c.state != "running" || summaryHealth(s) == c.health) {
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

// handle applies one event: count it, re-inspect the container.
func (w *waiter) handle(ctx context.Context, m events.Message) error {
	if m.Type != "" && m.Type != events.ContainerEventType {
		return nil
	}
	id := m.Actor.ID
	if svc, ok := m.Actor.Attributes[labelService]; ok && w.ctrs[id] == nil {
		if _, want := w.opts.Services[svc]; !want {
			return nil
		}
	}
	c := w.get(id)
	switch m.Action {
	case events.ActionDie:
		c.dies++
	case events.ActionRestart:
		c.restartEvents++
	case events.ActionDestroy:
		c.gone = true
	}
	if !c.gone {
		if err := w.inspect(ctx, c); err != nil {
			return err
		}
	}
	if _, want := w.opts.Services[c.service]; !want {
		delete(w.ctrs, id)
		return nil
	}
	w.settle(eventTime(m))
	return nil
}

func (w *waiter) get(id string) *ctr {
	c := w.ctrs[id]
	if c == nil {
		c = &ctr{id: id, state: "created"}
		w.ctrs[id] = c
	}
	return c
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

// done: running and healthy (when it has a healthcheck); a one-shot: exited 0.
func (c *ctr) done(x Expect) bool {
	if c.gone {
		return false
	}
	if x.OneShot {
		return c.state == "exited" && c.exitCode == 0
	}
	return c.state == "running" && (!c.hasHealth || c.health == "healthy")
}

// problem says why the container fails the test, "" when it does not.
func (c *ctr) problem(x Expect) string {
	switch {
	case c.gone:
		return "removed"
	case c.restarts > 0 || c.state == "restarting":
		return "crash loop: restarted " + times(max(c.restarts, 1))
	case c.dies >= 2:
		return "crash loop: exited " + times(c.dies)
	case c.state == "exited" || c.state == "dead":
		if x.OneShot && c.exitCode == 0 {
			return ""
		}
		return fmt.Sprintf("exited with code %d", c.exitCode)
	case c.health == "unhealthy":
		return "unhealthy"
	case !x.OneShot && (c.dies > 0 || c.restartEvents > 0):
		return "restarted" // e.g. docker restart: the die was seen, the state is running again
	}
	return ""
}

func times(n int) string {
	if n == 1 {
		return "1 time"
	}
	return fmt.Sprintf("%d times", n)
}

// containers returns the service's containers sorted by name.
func (w *waiter) containers(svc string) []*ctr {
	var cs []*ctr
	for _, c := range w.ctrs {
		if c.service == svc {
			cs = append(cs, c)
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	return cs
}

func (w *waiter) services() []string {
	var names []string
	for s := range w.opts.Services {
		names = append(names, s)
	}
	sort.Strings(names)
	return names
}

func (w *waiter) serviceDone(svc string) bool {
	cs := w.containers(svc)
	for _, c := range cs {
		if !c.done(w.opts.Services[svc]) {
			return false
		}
	}
	return len(cs) > 0
}

func (w *waiter) allDone() bool {
	for _, s := range w.services() {
		if !w.serviceDone(s) {
			return false
		}
	}
	return true
}

func (w *waiter) firstNotDone() string {
	for _, s := range w.services() {
		if !w.serviceDone(s) {
			return s
		}
	}
	return ""
}

// failure returns the first service that fails the test and why. In the
// stability window, a service that is no longer done fails too.
func (w *waiter) failure(stabilizing bool) (svc, why string) {
	for _, s := range w.services() {
		x := w.opts.Services[s]
		for _, c := range w.containers(s) {
			if p := c.problem(x); p != "" {
				if stabilizing {
					p += " during the stability window"
				}
				return s, p
			}
		}
		if stabilizing && !w.serviceDone(s) {
			return s, "no longer ready during the stability window" + w.waitingFor(s)
		}
	}
	return "", ""
}

// waitingFor describes what a service not done is waiting for.
func (w *waiter) waitingFor(svc string) string {
	st := w.serviceState(svc)
	switch {
	case st.State == "missing":
		return ": no container"
	case st.State == "running" && st.Health != "":
		return " while " + st.Health
	default:
		return " while " + st.State
	}
}

// settle records the services that became done (at is the time of the event
// being applied, zero for a list) and reports the changes to Progress.
func (w *waiter) settle(at time.Time) {
	for _, s := range w.services() {
		_, marked := w.ready[s]
		switch done := w.serviceDone(s); {
		case done && !marked:
			w.ready[s] = readyMark{readyAt: w.opts.Now(), eventAt: at}
		case !done && marked:
			delete(w.ready, s)
		}
		if w.opts.Progress == nil {
			continue
		}
		st := w.serviceState(s)
		if prev, ok := w.last[s]; !ok || changed(prev, st) {
			w.last[s] = st
			w.opts.Progress(st)
		}
	}
}

func changed(a, b ServiceState) bool {
	return a.Container != b.Container || a.State != b.State || a.Health != b.Health ||
		a.ExitCode != b.ExitCode || a.Restarts != b.Restarts || a.Done != b.Done
}

func (w *waiter) serviceState(svc string) ServiceState {
	st := ServiceState{Service: svc, State: "missing"}
	cs := w.containers(svc)
	if len(cs) == 0 {
		return st
	}
	x := w.opts.Services[svc]
	rep := cs[0]
	for _, c := range cs {
		if c.problem(x) != "" {
			rep = c
			break
		}
	}
	if rep.problem(x) == "" {
		for _, c := range cs {
			if !c.done(x) {
				rep = c
				break
			}
		}
	}
	st.Container, st.Image, st.State, st.Health, st.ExitCode = rep.name, rep.image, rep.state, rep.health, rep.exitCode
	if rep.gone {
		st.State = "removed"
	}
	st.HealthLog = append([]string(nil), rep.healthLog...)
	for _, c := range cs {
		st.Restarts = max(st.Restarts, c.restarts)
	}
	if m, ok := w.ready[svc]; ok {
		st.Done, st.ReadyAt, st.EventAt = true, m.readyAt, m.eventAt
	}
	return st
}

func (w *waiter) states() []ServiceState {
	var out []ServiceState
	for _, s := range w.services() {
		out = append(out, w.serviceState(s))
	}
	return out
}

// finish returns the states with err, ctx.Err() when the context ended.
func (w *waiter) finish(ctx context.Context, err error) ([]ServiceState, error) {
	if ctx.Err() != nil {
		return w.states(), ctx.Err()
	}
	return w.states(), err
}

// fail builds the *WaitError of svc, with its last log lines.
func (w *waiter) fail(ctx context.Context, svc, why string) ([]ServiceState, error) {
	st := w.serviceState(svc)
	for _, c := range w.containers(svc) {
		if c.name == st.Container && !c.gone {
			st.LogTail = w.logTail(ctx, c)
		}
	}
	if ctx.Err() != nil {
		return w.states(), ctx.Err()
	}
	states := w.states()
	for i := range states {
		if states[i].Service == svc {
			states[i] = st
		}
	}
	return states, &WaitError{Service: svc, Reason: why, State: st, States: states}
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
