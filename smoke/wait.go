package smoke

import (
	"context"
	"fmt"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// WaitOptions configures Wait.
type WaitOptions struct {
	Project  string             // com.docker.compose.project label value
	Services map[string]Expect  // services to wait for
	Timeout  time.Duration      // --wait-timeout (0: no timeout, the context decides)
	Stable   time.Duration      // --stable: window after all are ready during which no container may exit or restart
	Now      func() time.Time   // clock (time.Now when nil)
	Progress func(ServiceState) // called on every state change (may be nil)
}

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
