package smoke

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

func TestIsErrorLine(t *testing.T) {
	for line, want := range map[string]bool{
		"ERROR: database unreachable":                         true,
		"level=error msg=boom":                                true,
		"Fatal: cannot bind":                                  true,
		"panic: runtime error: index out of range":            true,
		"goroutine panicked":                                  true,
		"java.lang.NullPointerException at Foo.bar":           true,
		"TypeError: x is undefined":                           true,
		"Unhandled exception":                                 true,
		"3 errors":                                            true,
		"listening on :8080":                                  false,
		"terror and errorless are not errors-words? no: fine": true, // "errors" is a word here
		"terrorist attack averted":                            false,
		"errorless":                                           false,
		"infatuated":                                          false,
	} {
		if got := IsErrorLine(line); got != want {
			t.Errorf("IsErrorLine(%q) = %v, want %v", line, got, want)
		}
	}
}

func TestMatchLines(t *testing.T) {
	in := "starting\nERROR: cache miss for key 1\nerror: db down\r\nall good\nFATAL boom\n"
	lines, total, err := MatchLines(strings.NewReader(in), nil, 0)
	if err != nil || total != 3 || len(lines) != 3 || lines[1] != "error: db down" {
		t.Fatalf("got %q %d %v", lines, total, err)
	}
	lines, total, _ = MatchLines(strings.NewReader(in), []*regexp.Regexp{regexp.MustCompile(`cache miss`)}, 1)
	if total != 2 || len(lines) != 1 || lines[0] != "error: db down" {
		t.Fatalf("with ignore and max 1: %q %d", lines, total)
	}
}

func TestScanLogs(t *testing.T) {
	f := newFake()
	f.set("a", "pad", ctrSpec{state: "running", health: "healthy"})
	f.set("b", "db", ctrSpec{state: "running"})
	f.set("c", "worker", ctrSpec{state: "exited", tty: true})
	f.logs["a"] = append(frame(1, "listening\nERROR: cache miss\n"), frame(2, "panic: boom\n")...)
	f.logs["b"] = frame(1, "ready\n")
	f.logs["c"] = []byte("Exception in thread main\n")
	ms, err := ScanLogs(context.Background(), f, ScanOptions{Project: "p", Services: map[string][]*regexp.Regexp{
		"pad": {regexp.MustCompile("cache miss")}, "db": nil, "worker": nil,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Service != "pad" || ms[0].Container != "p-a" || strings.Join(ms[0].Lines, "|") != "panic: boom" ||
		ms[1].Service != "worker" || ms[1].Lines[0] != "Exception in thread main" {
		t.Fatalf("got %+v", ms)
	}
	// Only the services asked for.
	ms, _ = ScanLogs(context.Background(), f, ScanOptions{Project: "p", Services: map[string][]*regexp.Regexp{"db": nil}})
	if len(ms) != 0 {
		t.Fatalf("got %+v", ms)
	}
	h, err := Health(context.Background(), f, "p")
	if err != nil || h["pad"] != "running, healthy" || h["worker"] != "exited" {
		t.Fatalf("health %v %v", h, err)
	}
}
