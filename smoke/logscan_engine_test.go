package smoke

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestEngineLogScanFirstLine checks that the log scan sees the very first
// line a container prints, which the engine may stamp before the
// container's StartedAt.
func TestEngineLogScanFirstLine(t *testing.T) {
	cli := engine(t)
	p := testProject(t, cli)
	const n = 10
	var services []svc
	for i := range n {
		services = append(services, svc{name: fmt.Sprintf("web%d", i), env: []string{fmt.Sprintf("LOG_LINES=error: first line of web%d", i)}})
	}
	up(t, cli, p, services...)
	// The containers print at once; give a loaded machine time to start
	// them all.
	deadline := time.Now().Add(time.Minute)
	ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(time.Minute))
	defer cancel()
	var matches []LogMatch
	for {
		var err error
		if matches, err = ScanLogs(ctx, cli, ScanOptions{Project: p}); err != nil {
			t.Fatal(err)
		}
		if len(matches) == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(matches) != n {
		t.Fatalf("the first line of %d of %d containers was found: %+v", len(matches), n, matches)
	}
	for _, m := range matches {
		if want := "error: first line of " + m.Service; len(m.Lines) != 1 || m.Lines[0] != want {
			t.Errorf("%s: lines %q, want [%q]", m.Container, m.Lines, want)
		}
	}
}
