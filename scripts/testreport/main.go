// Command testreport reads the output of `go test -json` on its standard
// input and makes sure a run cannot go green by doing nothing. test.sh pipes
// every `go test` of the full run through it.
//
// It prints what a person needs from a long run: each top-level test's
// verdict as it ends (with the reason of a skip), the whole output of a
// failed test, the packages' own lines (ok, FAIL, build errors), then a
// table of the tests run, passed, failed and skipped per package and a last
// line "testreport: N passed, N failed, N skipped".
//
// It fails (exit 1) when a test or a package failed, when no test ran, and,
// for each -require-all DIR, when a top-level Test function defined in DIR's
// _test.go files did not run (a -run filter, a GOFLAGS, a TestMain that
// returns early): it names the ones missing.
//
//	go test -json ./... | go run ./scripts/testreport -require-all ./e2e
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

func main() {
	var opts options
	flag.Var(&opts.requireAll, "require-all", "a package `DIR` every top-level test of which must run (repeatable)")
	flag.StringVar(&opts.totals, "totals", "", "append \"passed failed skipped\" to this `FILE` (test.sh adds the runs up)")
	flag.Parse()
	os.Exit(run(os.Stdin, os.Stdout, opts))
}

type options struct {
	requireAll dirs
	totals     string
}

// dirs is a repeatable flag.
type dirs []string

func (d *dirs) String() string     { return strings.Join(*d, ",") }
func (d *dirs) Set(v string) error { *d = append(*d, v); return nil }

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Time        time.Time
	Action      string
	Package     string
	ImportPath  string
	Test        string
	Elapsed     float64
	Output      string
	FailedBuild string
}

// counts are the verdicts of one package's tests, subtests included.
type counts struct {
	passed, failed, skipped int
	// top holds the top-level tests that ended (any verdict).
	top map[string]bool
	// pkgFailed: the package itself failed (build, TestMain, a panic).
	pkgFailed bool
}

func run(in io.Reader, out io.Writer, opts options) int {
	r := newReport(out)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not an event: go's own messages (a package that does not
			// build under some setups prints plain text).
			fmt.Fprintf(out, "%s\n", line)
			continue
		}
		r.add(e)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(out, "testreport: reading go test -json: %v\n", err)
		r.problems = append(r.problems, "the go test output could not be read whole")
	}
	for _, dir := range opts.requireAll {
		missing, pkg, err := r.missing(dir)
		if err != nil {
			r.problems = append(r.problems, err.Error())
			continue
		}
		if len(missing) > 0 {
			r.problems = append(r.problems, fmt.Sprintf("%s: %d of its tests did not run: %s (a -run filter or GOFLAGS? the full run runs them all)",
				pkg, len(missing), strings.Join(missing, ", ")))
		}
	}
	total := r.summary()
	if opts.totals != "" {
		if err := appendTotals(opts.totals, total); err != nil {
			r.problems = append(r.problems, err.Error())
		}
	}
	for _, p := range r.problems {
		fmt.Fprintf(out, "testreport: FAIL: %s\n", p)
	}
	fmt.Fprintf(out, "testreport: %d passed, %d failed, %d skipped\n", total.passed, total.failed, total.skipped)
	if total.failed > 0 || len(r.problems) > 0 || r.anyFailed() {
		return 1
	}
	return 0
}

func appendTotals(file string, c counts) error {
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%d %d %d\n", c.passed, c.failed, c.skipped)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
