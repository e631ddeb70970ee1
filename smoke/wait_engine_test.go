package smoke

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// End-to-end tests of Wait against the real engine (skipped with -short).
// Containers are created with the moby client, labelled as Compose labels
// them, from the test image picatest-test/app:1 (FROM scratch, so the
// healthcheck is the exec form ["CMD", "/app", "health"]).

const testImage = "picatest-test/app:1"

var buildImages sync.Once

// engine returns a client of the real engine, with the test image built.
func engine(t *testing.T) *client.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped in -short mode")
	}
	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		t.Fatalf("the Docker engine is unreachable (run ./test.sh, which starts it): %v", err)
	}
	var buildErr error
	buildImages.Do(func() {
		if out, err := exec.Command("../testdata/images/build.sh").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building the test images: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	if _, err := cli.ImageInspect(ctx, testImage); err != nil {
		t.Fatalf("test image: %v", err)
	}
	return cli
}

// testProject is a Compose project name made from the test's name, whose
// containers are removed before and after the test.
func testProject(t *testing.T, cli *client.Client) string {
	t.Helper()
	name := "picatest-smoke-" + strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	removeProject(t, cli, name)
	t.Cleanup(func() { removeProject(t, cli, name) })
	return name
}

func removeProject(t *testing.T, cli *client.Client, project string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := client.Filters{}
	f.Add("label", labelProject+"="+project)
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Errorf("listing the containers of %s: %v", project, err)
		return
	}
	for _, c := range res.Items {
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			t.Errorf("removing %s: %v", c.ID, err)
		}
	}
}

// svc is one container to create: its service, environment, healthcheck and
// restart policy.
type svc struct {
	name    string
	env     []string
	health  bool // ["CMD", "/app", "health"] every second
	retries int  // healthcheck retries (default 10: a loaded machine may time out a probe)
	restart bool // restart: always
}

func create(t *testing.T, cli *client.Client, project string, s svc) string {
	t.Helper()
	cfg := &container.Config{
		Image:  testImage,
		Env:    s.env,
		Labels: map[string]string{labelProject: project, labelService: s.name},
	}
	if s.health {
		cfg.Healthcheck = &container.HealthConfig{Test: []string{"CMD", "/app", "health"}, Interval: time.Second, Timeout: 10 * time.Second, Retries: cmp.Or(s.retries, 10)}
	}
	hc := &container.HostConfig{}
	if s.restart {
		hc.RestartPolicy = container.RestartPolicy{Name: container.RestartPolicyAlways}
	}
	r, err := cli.ContainerCreate(context.Background(), client.ContainerCreateOptions{Config: cfg, HostConfig: hc, Name: project + "-" + s.name + "-1"})
	if err != nil {
		t.Fatalf("creating %s: %v", s.name, err)
	}
	return r.ID
}

func startAll(t *testing.T, cli *client.Client, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, err := cli.ContainerStart(context.Background(), id, client.ContainerStartOptions{}); err != nil {
			t.Fatalf("starting %s: %v", id, err)
		}
	}
}

// up creates and starts the containers, as Compose's Up without wait does.
func up(t *testing.T, cli *client.Client, project string, services ...svc) {
	t.Helper()
	var ids []string
	for _, s := range services {
		ids = append(ids, create(t, cli, project, s))
	}
	startAll(t, cli, ids...)
}

func TestEngineHealthy(t *testing.T) {
	cli := engine(t)
	p := testProject(t, cli)
	up(t, cli, p, svc{name: "web", health: true}, svc{name: "plain"})
	t0 := time.Now()
	states, err := Wait(context.Background(), cli, WaitOptions{
		Project: p, Services: map[string]Expect{"web": {Healthcheck: true}, "plain": {}},
		Timeout: time.Minute, Stable: 2 * time.Second,
		Progress: func(s ServiceState) { t.Logf("%s: %s %s done=%v", s.Service, s.State, s.Health, s.Done) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ready and stable after %v", time.Since(t0).Round(time.Millisecond))
	if len(states) != 2 || states[1].Service != "web" || states[1].Health != "healthy" || !states[1].Done || states[0].Health != "" || !states[0].Done {
		t.Fatalf("states: %+v", states)
	}
}

func TestEngineNeverHealthy(t *testing.T) {
	cli := engine(t)
	p := testProject(t, cli)
	up(t, cli, p, svc{name: "web", health: true, retries: 2, env: []string{"HEALTHY=false", `LOG_LINES=hello\nworld`}})
	_, err := Wait(context.Background(), cli, WaitOptions{Project: p, Services: map[string]Expect{"web": {Healthcheck: true}}, Timeout: time.Minute})
	var we *WaitError
	if !errors.As(err, &we) {
		t.Fatalf("want a *WaitError, got %v", err)
	}
	t.Logf("%v\nhealth log: %q\nlog tail: %q", we, we.State.HealthLog, we.State.LogTail)
	if we.Service != "web" || we.Reason != "unhealthy" {
		t.Errorf("got %q", we)
	}
	if len(we.State.HealthLog) == 0 || !strings.Contains(we.State.HealthLog[len(we.State.HealthLog)-1], "HEALTHY=false") {
		t.Errorf("health log: %q", we.State.HealthLog)
	}
	if got := strings.Join(we.State.LogTail, "\n"); !strings.Contains(got, "hello\nworld\napp: listening on :8080") {
		t.Errorf("log tail: %q", we.State.LogTail)
	}
}

func TestEngineCrashLoop(t *testing.T) {
	cli := engine(t)
	p := testProject(t, cli)
	// Never healthy within the test (HEALTHY_AFTER), so the crash comes first.
	up(t, cli, p, svc{name: "web", health: true, retries: 100, restart: true, env: []string{"CRASH_AFTER=1s", "HEALTHY_AFTER=1h"}})
	_, err := Wait(context.Background(), cli, WaitOptions{Project: p, Services: map[string]Expect{"web": {Healthcheck: true}}, Timeout: time.Minute})
	var we *WaitError
	if !errors.As(err, &we) {
		t.Fatalf("want a *WaitError, got %v", err)
	}
	t.Logf("%v\nlog tail: %q", we, we.State.LogTail)
	if !strings.HasPrefix(we.Reason, "crash loop: restarted") {
		t.Errorf("got %q", we.Reason)
	}
	if !strings.Contains(strings.Join(we.State.LogTail, "\n"), "crashing as asked") {
		t.Errorf("log tail: %q", we.State.LogTail)
	}
}

func TestEngineStabilityWindow(t *testing.T) {
	cli := engine(t)
	p := testProject(t, cli)
	// No healthcheck: ready at once, then crashes within the window.
	up(t, cli, p, svc{name: "web", restart: true, env: []string{"CRASH_AFTER=1s"}})
	_, err := Wait(context.Background(), cli, WaitOptions{Project: p, Services: map[string]Expect{"web": {}}, Timeout: time.Minute, Stable: 20 * time.Second})
	var we *WaitError
	if !errors.As(err, &we) {
		t.Fatalf("want a *WaitError, got %v", err)
	}
	t.Log(we)
	if !strings.HasPrefix(we.Reason, "crash loop: restarted") || !strings.HasSuffix(we.Reason, "during the stability window") {
		t.Errorf("got %q", we.Reason)
	}
}

func TestEngineOneShot(t *testing.T) {
	for _, tc := range []struct {
		name   string
		code   string
		expect Expect
		reason string
	}{
		{"exit 0", "0", Expect{OneShot: true}, ""},
		{"exit 3", "3", Expect{OneShot: true}, "exited with code 3"},
		{"not one-shot", "0", Expect{}, "exited with code 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cli := engine(t)
			p := testProject(t, cli)
			up(t, cli, p, svc{name: "migrate", env: []string{"ONESHOT=1", "EXIT_CODE=" + tc.code}}, svc{name: "web", health: true})
			states, err := Wait(context.Background(), cli, WaitOptions{
				Project: p, Services: map[string]Expect{"migrate": tc.expect, "web": {Healthcheck: true}}, Timeout: time.Minute, Stable: time.Second,
			})
			if tc.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !states[0].Done || states[0].State != "exited" || !states[1].Done {
					t.Errorf("states: %+v", states)
				}
				return
			}
			var we *WaitError
			if !errors.As(err, &we) || we.Service != "migrate" || we.Reason != tc.reason {
				t.Fatalf("got %v, want service migrate: %s", err, tc.reason)
			}
		})
	}
}

// TestHealthyLatency measures, for N containers with a 1 s healthcheck, the
// time from the engine's health_status: healthy event to Wait counting the
// service done (ReadyAt - EventAt). Reported, never asserted.
func TestHealthyLatency(t *testing.T) {
	if os.Getenv("PICATEST_MEASURE") == "" {
		t.Skip("a measurement, not a test: run it with PICATEST_MEASURE=1 (bench/README.md)")
	}
	const n = 20
	cli := engine(t)
	p := testProject(t, cli)
	expect := map[string]Expect{}
	var ids []string
	for i := range n {
		name := fmt.Sprintf("svc%02d", i)
		expect[name] = Expect{Healthcheck: true}
		ids = append(ids, create(t, cli, p, svc{name: name, health: true}))
	}
	// Start Wait first (subscribed and listed: the first Progress call), then
	// the containers, so that every healthy transition is an event.
	listed := make(chan struct{})
	var once sync.Once
	type res struct {
		states []ServiceState
		err    error
	}
	done := make(chan res, 1)
	go func() {
		s, err := Wait(context.Background(), cli, WaitOptions{Project: p, Services: expect, Timeout: 2 * time.Minute,
			Progress: func(ServiceState) { once.Do(func() { close(listed) }) }})
		done <- res{s, err}
	}()
	select {
	case <-listed:
	case r := <-done:
		t.Fatalf("Wait ended before listing the containers: %v", r.err)
	case <-time.After(2 * time.Minute):
		t.Fatal("Wait did not list the containers within 2 minutes")
	}
	// Baseline in the same run: Compose's own wait polls each service every
	// 500 ms (pkg/compose/service_containers.go, waitDependency).
	polled := make([]time.Time, n) // when a 500 ms poll saw container i healthy
	pollCtx, stopPoll := context.WithTimeout(context.Background(), 2*time.Minute)
	defer stopPoll()
	var polls sync.WaitGroup
	for i, id := range ids {
		polls.Go(func() {
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-pollCtx.Done():
					return
				case <-tick.C:
				}
				r, err := cli.ContainerInspect(pollCtx, id, client.ContainerInspectOptions{})
				if err == nil && r.Container.State != nil && r.Container.State.Health != nil && r.Container.State.Health.Status == container.Healthy {
					polled[i] = time.Now()
					return
				}
			}
		})
	}
	t0 := time.Now()
	var wg sync.WaitGroup // in parallel, as Compose starts independent services
	for _, id := range ids {
		wg.Go(func() {
			if _, err := cli.ContainerStart(context.Background(), id, client.ContainerStartOptions{}); err != nil {
				t.Errorf("starting %s: %v", id, err)
			}
		})
	}
	wg.Wait()
	var r res
	select {
	case r = <-done:
	case <-time.After(3 * time.Minute): // Wait's own timeout is 2 minutes
		t.Fatal("Wait did not return after its timeout")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	all := time.Since(t0)
	polls.Wait()
	var lat, base []time.Duration
	for _, s := range r.states {
		if s.EventAt.IsZero() {
			continue
		}
		lat = append(lat, s.ReadyAt.Sub(s.EventAt))
		var i int
		fmt.Sscanf(s.Service, "svc%02d", &i)
		if !polled[i].IsZero() {
			base = append(base, polled[i].Sub(s.EventAt))
		}
	}
	if len(lat) == 0 {
		t.Fatal("no service was counted from an event")
	}
	t.Logf("%d containers, all healthy %v after the first start", n, all.Round(time.Millisecond))
	t.Logf("event -> counted by Wait:        %s", summary(lat))
	t.Logf("event -> seen by a 500 ms poll:  %s", summary(base))
}

// summary is "over N: min, median, p90, max" of durations.
func summary(d []time.Duration) string {
	if len(d) == 0 {
		return "no sample"
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	r := func(x time.Duration) time.Duration { return x.Round(10 * time.Microsecond) }
	return fmt.Sprintf("over %d: min %v, median %v, p90 %v, max %v", len(d), r(d[0]), r(d[len(d)/2]), r(d[len(d)*9/10]), r(d[len(d)-1]))
}
