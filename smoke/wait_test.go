package smoke

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// fakeEngine is an Engine made of maps and a channel of events. Tests change
// a container with set, then send its event with emit, as the engine would.
type fakeEngine struct {
	mu     sync.Mutex
	ctrs   map[string]container.InspectResponse
	logs   map[string][]byte
	events chan events.Message
	errs   chan error
}

func newFake() *fakeEngine {
	return &fakeEngine{
		ctrs:   map[string]container.InspectResponse{},
		logs:   map[string][]byte{},
		events: make(chan events.Message),
		errs:   make(chan error, 1),
	}
}

// ctrSpec describes a fake container.
type ctrSpec struct {
	state    string // running, exited, restarting, created
	health   string // "" (no healthcheck), starting, healthy, unhealthy
	exit     int
	restarts int
	tty      bool
}

func (f *fakeEngine) set(id, service string, s ctrSpec) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := &container.State{Status: container.ContainerState(s.state), Running: s.state == "running", ExitCode: s.exit}
	if s.health != "" {
		st.Health = &container.Health{Status: container.HealthStatus(s.health)}
		for i := range 7 {
			st.Health.Log = append(st.Health.Log, &container.HealthcheckResult{ExitCode: 1, Output: fmt.Sprintf("  check %d: %s\n", i, s.health)})
		}
	}
	f.ctrs[id] = container.InspectResponse{
		ID: id, Name: "/p-" + id, State: st, RestartCount: s.restarts,
		Config: &container.Config{Image: "picatest-test/app:1", Tty: s.tty, Labels: map[string]string{labelProject: "p", labelService: service}},
	}
}

func (f *fakeEngine) remove(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.ctrs, id)
}

// emit sends an event for container id (blocks until Wait reads it).
func (f *fakeEngine) emit(t *testing.T, id string, action events.Action, at time.Time) {
	t.Helper()
	m := events.Message{Type: events.ContainerEventType, Action: action, Actor: events.Actor{ID: id}, Time: at.Unix(), TimeNano: at.UnixNano()}
	select {
	case f.events <- m:
	case <-time.After(5 * time.Second):
		t.Fatalf("Wait did not read the event %s of %s", action, id)
	}
}

func (f *fakeEngine) ContainerList(ctx context.Context, o client.ContainerListOptions) (client.ContainerListResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !o.All || !o.Filters["label"][labelProject+"=p"] {
		return client.ContainerListResult{}, errors.New("fake: want All and the project label filter")
	}
	var r client.ContainerListResult
	for id, c := range f.ctrs {
		status := "Up 2 seconds"
		if h := c.State.Health; h != nil {
			status += map[container.HealthStatus]string{"starting": " (health: starting)", "healthy": " (healthy)", "unhealthy": " (unhealthy)"}[h.Status]
		}
		r.Items = append(r.Items, container.Summary{ID: id, Labels: c.Config.Labels, State: c.State.Status, Status: status})
	}
	return r, nil
}

func (f *fakeEngine) ContainerInspect(ctx context.Context, id string, _ client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.ctrs[id]
	if !ok {
		return client.ContainerInspectResult{}, cerrdefs.ErrNotFound.WithMessage("no such container " + id)
	}
	return client.ContainerInspectResult{Container: c}, ctx.Err()
}

func (f *fakeEngine) ContainerLogs(ctx context.Context, id string, _ client.ContainerLogsOptions) (client.ContainerLogsResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return io.NopCloser(bytes.NewReader(f.logs[id])), nil
}

func (f *fakeEngine) Events(ctx context.Context, o client.EventsListOptions) client.EventsResult {
	return client.EventsResult{Messages: f.events, Err: f.errs}
}

// frame is one stdcopy frame: 8-byte header (stream, 0, 0, 0, big-endian size) then the payload.
func frame(stream byte, s string) []byte {
	h := make([]byte, 8)
	h[0] = stream
	binary.BigEndian.PutUint32(h[4:], uint32(len(s)))
	return append(h, s...)
}

type result struct {
	states []ServiceState
	err    error
}

// start runs Wait in the background and waits for the end of its first
// list: its first Progress call, once the listed containers are inspected
// (a test that changes a container before that would race the inspect).
func start(t *testing.T, ctx context.Context, f *fakeEngine, opts WaitOptions) <-chan result {
	t.Helper()
	opts.Project = "p"
	listed := make(chan struct{})
	var once sync.Once
	progress := opts.Progress
	opts.Progress = func(s ServiceState) {
		once.Do(func() { close(listed) })
		if progress != nil {
			progress(s)
		}
	}
	done := make(chan result, 1)
	go func() {
		s, err := Wait(ctx, f, opts)
		done <- result{s, err}
	}()
	select {
	case <-listed:
	case r := <-done:
		done <- r
	}
	return done
}

func get(t *testing.T, done <-chan result) result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return")
	}
	return result{}
}

func waitErr(t *testing.T, r result) *WaitError {
	t.Helper()
	var we *WaitError
	if !errors.As(r.err, &we) {
		t.Fatalf("want a *WaitError, got %v", r.err)
	}
	return we
}

func TestWaitHealthy(t *testing.T) {
	f := newFake()
	f.set("w1", "web", ctrSpec{state: "running", health: "starting"})
	f.set("d1", "db", ctrSpec{state: "running"})
	var progress []string
	done := start(t, context.Background(), f, WaitOptions{
		Services: map[string]Expect{"web": {Healthcheck: true}, "db": {}},
		Timeout:  5 * time.Second,
		Progress: func(s ServiceState) { progress = append(progress, s.Service+":"+s.Health+":"+fmt.Sprint(s.Done)) },
	})
	f.set("w1", "web", ctrSpec{state: "running", health: "healthy"})
	at := time.Now()
	f.emit(t, "w1", "health_status: healthy", at)
	r := get(t, done)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.states) != 2 || r.states[0].Service != "db" || r.states[1].Service != "web" {
		t.Fatalf("states: %+v", r.states)
	}
	web := r.states[1]
	if !web.Done || web.Health != "healthy" || web.State != "running" || web.Container != "p-w1" || web.Image != "picatest-test/app:1" {
		t.Errorf("web: %+v", web)
	}
	if !web.EventAt.Equal(time.Unix(0, at.UnixNano())) || web.ReadyAt.Before(web.EventAt) {
		t.Errorf("web: EventAt %v ReadyAt %v, want EventAt %v and ReadyAt after it", web.EventAt, web.ReadyAt, at)
	}
	if db := r.states[0]; !db.Done || !db.EventAt.IsZero() || db.Health != "" {
		t.Errorf("db (done at the first list): %+v", db)
	}
	want := "db::true web:starting:false web:healthy:true"
	if got := strings.Join(progress, " "); got != want {
		t.Errorf("progress: %s, want %s", got, want)
	}
}

func TestWaitUnhealthyFailsFast(t *testing.T) {
	f := newFake()
	f.set("w1", "web", ctrSpec{state: "running", health: "starting"})
	f.logs["w1"] = append(append(frame(1, "out 1\nout 2\n"), frame(2, "err 3\r\n")...), frame(1, "out 4")...)
	done := start(t, context.Background(), f, WaitOptions{Services: map[string]Expect{"web": {Healthcheck: true}}, Timeout: time.Minute})
	t0 := time.Now()
	f.set("w1", "web", ctrSpec{state: "running", health: "unhealthy"})
	f.emit(t, "w1", "health_status: unhealthy", time.Now())
	we := waitErr(t, get(t, done))
	if time.Since(t0) > 20*time.Second { // the timeout is a minute
		t.Errorf("not fail-fast: %v", time.Since(t0))
	}
	if we.Service != "web" || we.Reason != "unhealthy" || we.Error() != "service web: unhealthy" {
		t.Errorf("got %q %q", we.Service, we.Reason)
	}
	if got := strings.Join(we.State.HealthLog, "|"); got != "check 2: unhealthy|check 3: unhealthy|check 4: unhealthy|check 5: unhealthy|check 6: unhealthy" {
		t.Errorf("HealthLog: %q", got)
	}
	if got := strings.Join(we.State.LogTail, "|"); got != "out 1|out 2|err 3|out 4" {
		t.Errorf("LogTail (demultiplexed): %q", got)
	}
	if len(we.States) != 1 || len(we.States[0].LogTail) != 4 {
		t.Errorf("States: %+v", we.States)
	}
}

func TestWaitLogTailTTY(t *testing.T) {
	f := newFake()
	f.set("w1", "web", ctrSpec{state: "exited", exit: 1, tty: true})
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, "line %d\r\n", i)
	}
	f.logs["w1"] = []byte(b.String())
	we := waitErr(t, get(t, start(t, context.Background(), f, WaitOptions{Services: map[string]Expect{"web": {}}})))
	if we.Reason != "exited with code 1" || len(we.State.LogTail) != 20 || we.State.LogTail[0] != "line 10" || we.State.LogTail[19] != "line 29" {
		t.Errorf("%q %q", we.Reason, we.State.LogTail)
	}
}

func TestWaitCrashLoop(t *testing.T) {
	for _, tc := range []struct {
		name   string
		after  ctrSpec
		action events.Action
		reason string
	}{
		{"restarting", ctrSpec{state: "restarting", exit: 1, restarts: 1}, "die", "crash loop: restarted 1 time"},
		{"restarted twice", ctrSpec{state: "running", health: "starting", restarts: 2}, "start", "crash loop: restarted 2 times"},
		{"exited", ctrSpec{state: "exited", exit: 137}, "die", "exited with code 137"},
		{"manual restart", ctrSpec{state: "running", health: "starting"}, "restart", "restarted"},
		{"removed", ctrSpec{}, "destroy", "removed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.set("w1", "web", ctrSpec{state: "running", health: "starting"})
			done := start(t, context.Background(), f, WaitOptions{Services: map[string]Expect{"web": {Healthcheck: true}}, Timeout: time.Minute})
			if tc.action == "destroy" {
				f.remove("w1")
			} else {
				f.set("w1", "web", tc.after)
			}
			f.emit(t, "w1", tc.action, time.Now())
			we := waitErr(t, get(t, done))
			if we.Service != "web" || we.Reason != tc.reason {
				t.Errorf("got %q, want %q", we.Reason, tc.reason)
			}
		})
	}
}

func TestWaitOneShot(t *testing.T) {
	for _, tc := range []struct {
		code   int
		reason string
	}{{0, ""}, {1, "exited with code 1"}} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			f := newFake()
			f.set("m1", "migrate", ctrSpec{state: "running"})
			f.set("w1", "web", ctrSpec{state: "running"})
			done := start(t, context.Background(), f, WaitOptions{Services: map[string]Expect{"migrate": {OneShot: true}, "web": {}}, Timeout: time.Minute, Stable: 20 * time.Millisecond})
			f.set("m1", "migrate", ctrSpec{state: "exited", exit: tc.code})
			f.emit(t, "m1", "die", time.Now())
			r := get(t, done)
			if tc.reason == "" {
				if r.err != nil || !r.states[0].Done || r.states[0].State != "exited" {
					t.Fatalf("%v %+v", r.err, r.states)
				}
				return
			}
			if we := waitErr(t, r); we.Service != "migrate" || we.Reason != tc.reason {
				t.Errorf("got %s: %q", we.Service, we.Reason)
			}
		})
	}
}

// A one-shot that exited 0 before the first list, whose die event is read
// afterwards, is not a failure of the stability window.
func TestWaitOneShotLateDieEvent(t *testing.T) {
	f := newFake()
	f.set("m1", "migrate", ctrSpec{state: "exited"})
	done := start(t, context.Background(), f, WaitOptions{Services: map[string]Expect{"migrate": {OneShot: true}}, Stable: 50 * time.Millisecond})
	f.emit(t, "m1", "die", time.Now())
	if r := get(t, done); r.err != nil {
		t.Fatal(r.err)
	}
}

func TestWaitTimeout(t *testing.T) {
	f := newFake()
	f.set("w1", "web", ctrSpec{state: "running", health: "starting"})
	f.set("d1", "db", ctrSpec{state: "running"})
	we := waitErr(t, get(t, start(t, context.Background(), f, WaitOptions{
		Services: map[string]Expect{"web": {Healthcheck: true}, "db": {}, "zz": {}}, Timeout: 50 * time.Millisecond,
	})))
	if we.Service != "web" || we.Reason != "timed out after 50ms while starting" || we.State.Health != "starting" || len(we.State.HealthLog) != 5 {
		t.Errorf("got %s %q %+v", we.Service, we.Reason, we.State)
	}

	f = newFake()
	we = waitErr(t, get(t, start(t, context.Background(), f, WaitOptions{Services: map[string]Expect{"web": {}}, Timeout: 10 * time.Millisecond})))
	if we.Reason != "timed out after 10ms: no container" || we.State.State != "missing" {
		t.Errorf("got %q %+v", we.Reason, we.State)
	}
}

func TestWaitStabilityWindow(t *testing.T) {
	f := newFake()
	f.set("w1", "web", ctrSpec{state: "running", health: "healthy"})
	done := start(t, context.Background(), f, WaitOptions{Services: map[string]Expect{"web": {Healthcheck: true}}, Timeout: time.Minute, Stable: time.Minute})
	f.set("w1", "web", ctrSpec{state: "exited", health: "healthy", exit: 2})
	f.emit(t, "w1", "die", time.Now())
	we := waitErr(t, get(t, done))
	if we.Reason != "exited with code 2 during the stability window" {
		t.Errorf("got %q", we.Reason)
	}

	f = newFake()
	f.set("w1", "web", ctrSpec{state: "running", health: "healthy"})
	t0 := time.Now()
	r := get(t, start(t, context.Background(), f, WaitOptions{Services: map[string]Expect{"web": {Healthcheck: true}}, Stable: 30 * time.Millisecond}))
	if r.err != nil || time.Since(t0) < 30*time.Millisecond {
		t.Errorf("stable window: %v after %v", r.err, time.Since(t0))
	}
}

func TestWaitCancel(t *testing.T) {
	f := newFake()
	f.set("w1", "web", ctrSpec{state: "running", health: "starting"})
	ctx, cancel := context.WithCancel(context.Background())
	done := start(t, ctx, f, WaitOptions{Services: map[string]Expect{"web": {Healthcheck: true}}})
	cancel()
	if r := get(t, done); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("got %v", r.err)
	}
}

// A lost event is caught by the safety re-list; a broken event stream is
// re-subscribed.
func TestWaitRelist(t *testing.T) {
	defer func(d time.Duration) { relistInterval = d }(relistInterval)
	relistInterval = 10 * time.Millisecond
	f := newFake()
	f.set("w1", "web", ctrSpec{state: "running", health: "starting"})
	f.errs <- errors.New("stream broken")
	done := start(t, context.Background(), f, WaitOptions{Services: map[string]Expect{"web": {Healthcheck: true}}, Timeout: 5 * time.Second})
	f.set("w1", "web", ctrSpec{state: "running", health: "healthy"}) // no event
	r := get(t, done)
	if r.err != nil || !r.states[0].Done || !r.states[0].EventAt.IsZero() {
		t.Fatalf("%v %+v", r.err, r.states)
	}
}

func TestWaitScaled(t *testing.T) {
	f := newFake()
	f.set("w1", "web", ctrSpec{state: "running", health: "healthy"})
	f.set("w2", "web", ctrSpec{state: "running", health: "starting"})
	f.set("x1", "other", ctrSpec{state: "exited", exit: 1}) // not waited for
	done := start(t, context.Background(), f, WaitOptions{Services: map[string]Expect{"web": {Healthcheck: true}}, Timeout: 5 * time.Second})
	f.emit(t, "x1", "die", time.Now())
	f.set("w2", "web", ctrSpec{state: "running", health: "healthy"})
	f.emit(t, "w2", "health_status: healthy", time.Now())
	r := get(t, done)
	if r.err != nil || len(r.states) != 1 || !r.states[0].Done {
		t.Fatalf("%v %+v", r.err, r.states)
	}
}

func TestExpectFromProject(t *testing.T) {
	zero := 0
	web := types.ServiceConfig{Name: "web"}
	web.HealthCheck = &types.HealthCheckConfig{Test: []string{"CMD", "/app", "health"}}
	web.DependsOn = types.DependsOnConfig{
		"migrate": {Condition: types.ServiceConditionCompletedSuccessfully},
		"db":      {Condition: types.ServiceConditionHealthy},
	}
	db := types.ServiceConfig{Name: "db"}
	db.HealthCheck = &types.HealthCheckConfig{Disable: true}
	migrate := types.ServiceConfig{Name: "migrate"}
	migrate.HealthCheck = &types.HealthCheckConfig{Test: []string{"NONE"}}
	p := &types.Project{Services: types.Services{
		"web": web, "db": db, "migrate": migrate,
		"plain": {Name: "plain"},
		"off":   {Name: "off", Scale: &zero},
	}}
	got := ExpectFromProject(p)
	want := map[string]Expect{"web": {Healthcheck: true}, "db": {}, "migrate": {OneShot: true}, "plain": {}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
