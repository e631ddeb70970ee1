package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// report accumulates the events of one `go test -json` run.
type report struct {
	out      io.Writer
	pkgs     map[string]*counts
	order    []string
	buffered map[string][]string // package + "\x00" + test -> output lines
	problems []string
}

func newReport(out io.Writer) *report {
	return &report{out: out, pkgs: map[string]*counts{}, buffered: map[string][]string{}}
}

func (r *report) pkg(name string) *counts {
	c, ok := r.pkgs[name]
	if !ok {
		c = &counts{top: map[string]bool{}}
		r.pkgs[name] = c
		r.order = append(r.order, name)
	}
	return c
}

func (r *report) add(e event) {
	switch {
	case e.Action == "build-output":
		fmt.Fprint(r.out, e.Output)
		return
	case e.Action == "build-fail":
		return
	case e.Package == "":
		fmt.Fprint(r.out, e.Output)
		return
	}
	c := r.pkg(e.Package)
	if e.Test == "" {
		switch e.Action {
		case "output":
			// The package's own lines: "ok ...", "FAIL ...", a TestMain's
			// prints, "PASS"/"FAIL" alone (redundant with the ok/FAIL line).
			if o := strings.TrimSpace(e.Output); o != "PASS" && o != "FAIL" {
				fmt.Fprint(r.out, e.Output)
			}
		case "fail":
			c.pkgFailed = true
		}
		return
	}
	key := e.Package + "\x00" + e.Test
	top := !strings.Contains(e.Test, "/")
	switch e.Action {
	case "output":
		r.buffered[key] = append(r.buffered[key], e.Output)
	case "pass", "fail", "skip":
		switch e.Action {
		case "pass":
			c.passed++
		case "fail":
			c.failed++
		case "skip":
			c.skipped++
		}
		lines := r.buffered[key]
		delete(r.buffered, key)
		if !top {
			// A subtest's output is part of its parent's: keep it for a
			// failing parent.
			parent := e.Package + "\x00" + e.Test[:strings.LastIndex(e.Test, "/")]
			r.buffered[parent] = append(r.buffered[parent], lines...)
			return
		}
		c.top[e.Test] = true
		switch e.Action {
		case "fail":
			for _, l := range lines {
				fmt.Fprint(r.out, l)
			}
		case "skip":
			fmt.Fprintf(r.out, "--- SKIP: %s (%s): %s\n", e.Test, short(e.Package), skipReason(lines))
		default:
			fmt.Fprintf(r.out, "--- PASS: %s (%s, %.1fs)\n", e.Test, short(e.Package), e.Elapsed)
		}
	}
}

// skipReason is what t.Skip said: the lines between "=== RUN" and "--- SKIP".
func skipReason(lines []string) string {
	var said []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		said = append(said, t)
	}
	if len(said) == 0 {
		return "no reason given"
	}
	return strings.Join(said, " ")
}

func short(pkg string) string {
	return strings.TrimPrefix(pkg, "github.com/picasoft/docker-picatest/")
}

func (r *report) anyFailed() bool {
	for _, c := range r.pkgs {
		if c.pkgFailed {
			return true
		}
	}
	return false
}

// summary prints the table of verdicts per package and returns the totals.
func (r *report) summary() counts {
	var total counts
	if len(r.order) == 0 {
		r.problems = append(r.problems, "no package was tested")
		return total
	}
	fmt.Fprintln(r.out)
	w := tabwriter.NewWriter(r.out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "tests\tpassed\tfailed\tskipped\t  package")
	names := slices.Clone(r.order)
	sort.Strings(names)
	for _, name := range names {
		c := r.pkgs[name]
		verdict := ""
		if c.pkgFailed {
			verdict = " (FAIL)"
		}
		fmt.Fprintf(w, "%d\t%d\t%d\t%d\t  %s%s\n", c.passed+c.failed+c.skipped, c.passed, c.failed, c.skipped, short(name), verdict)
		total.passed += c.passed
		total.failed += c.failed
		total.skipped += c.skipped
	}
	w.Flush()
	if total.passed+total.failed+total.skipped == 0 {
		r.problems = append(r.problems, "no test ran")
	}
	return total
}

// missing returns the top-level tests defined in dir's _test.go files that
// did not run, and dir's import path as the events name it.
func (r *report) missing(dir string) ([]string, string, error) {
	defined, err := definedTests(dir)
	if err != nil {
		return nil, "", err
	}
	if len(defined) == 0 {
		return nil, "", fmt.Errorf("%s: no Test function found (wrong -require-all?)", dir)
	}
	suffix := "/" + filepath.ToSlash(filepath.Clean(dir))
	for _, name := range r.order {
		if name == strings.TrimPrefix(suffix, "/") || strings.HasSuffix(name, suffix) {
			var missing []string
			for _, t := range defined {
				if !r.pkgs[name].top[t] {
					missing = append(missing, t)
				}
			}
			return missing, short(name), nil
		}
	}
	return nil, "", fmt.Errorf("%s: the package was not tested", dir)
}

// definedTests lists the Test functions (func TestXxx(*testing.T)) of the
// _test.go files in dir.
func definedTests(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return nil, err
	}
	var names []string
	fset := token.NewFileSet()
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, file, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if ok && fn.Recv == nil && isTest(fn) {
				names = append(names, fn.Name.Name)
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

// isTest reports whether fn is func TestXxx(t *testing.T), as go test
// decides (TestMain takes *testing.M and is not one).
func isTest(fn *ast.FuncDecl) bool {
	name := fn.Name.Name
	if !strings.HasPrefix(name, "Test") || name == "TestMain" {
		return false
	}
	if rest := name[len("Test"):]; rest != "" {
		if c := rest[0]; c >= 'a' && c <= 'z' {
			return false
		}
	}
	params := fn.Type.Params.List
	if len(params) != 1 {
		return false
	}
	star, ok := params[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "T"
}
