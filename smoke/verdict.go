package smoke

import (
	"context"
	"fmt"
	"sort"
	"time"
)

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
