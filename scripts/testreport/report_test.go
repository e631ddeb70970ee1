package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// Lines as `go test -json` prints them (cmd/test2json), trimmed to the
// fields testreport reads.
const (
	startE2E = `{"Action":"start","Package":"example.com/m/e2e"}
`
	passA = `{"Action":"run","Package":"example.com/m/e2e","Test":"TestA"}
{"Action":"output","Package":"example.com/m/e2e","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"run","Package":"example.com/m/e2e","Test":"TestA/sub"}
{"Action":"output","Package":"example.com/m/e2e","Test":"TestA/sub","Output":"    a_test.go:9: detail of A\n"}
{"Action":"pass","Package":"example.com/m/e2e","Test":"TestA/sub","Elapsed":0.5}
{"Action":"pass","Package":"example.com/m/e2e","Test":"TestA","Elapsed":1.25}
`
	skipB = `{"Action":"run","Package":"example.com/m/e2e","Test":"TestB"}
{"Action":"output","Package":"example.com/m/e2e","Test":"TestB","Output":"=== RUN   TestB\n"}
{"Action":"output","Package":"example.com/m/e2e","Test":"TestB","Output":"    b_test.go:3: needs setpriv\n"}
{"Action":"output","Package":"example.com/m/e2e","Test":"TestB","Output":"--- SKIP: TestB (0.00s)\n"}
{"Action":"skip","Package":"example.com/m/e2e","Test":"TestB","Elapsed":0}
`
	failC = `{"Action":"run","Package":"example.com/m/e2e","Test":"TestC"}
{"Action":"output","Package":"example.com/m/e2e","Test":"TestC","Output":"=== RUN   TestC\n"}
{"Action":"run","Package":"example.com/m/e2e","Test":"TestC/case"}
{"Action":"output","Package":"example.com/m/e2e","Test":"TestC/case","Output":"    c_test.go:7: assertion failed: 1 != 2\n"}
{"Action":"fail","Package":"example.com/m/e2e","Test":"TestC/case","Elapsed":0.1}
{"Action":"output","Package":"example.com/m/e2e","Test":"TestC","Output":"--- FAIL: TestC (0.10s)\n"}
{"Action":"fail","Package":"example.com/m/e2e","Test":"TestC","Elapsed":0.1}
`
	endOK = `{"Action":"output","Package":"example.com/m/e2e","Output":"PASS\n"}
{"Action":"output","Package":"example.com/m/e2e","Output":"ok  \texample.com/m/e2e\t1.3s\n"}
{"Action":"pass","Package":"example.com/m/e2e","Elapsed":1.3}
`
	endFail = `{"Action":"output","Package":"example.com/m/e2e","Output":"FAIL\texample.com/m/e2e\t1.3s\n"}
{"Action":"fail","Package":"example.com/m/e2e","Elapsed":1.3}
`
	buildFail = `{"ImportPath":"example.com/m/x","Action":"build-output","Output":"x/x.go:3:1: syntax error\n"}
{"ImportPath":"example.com/m/x","Action":"build-fail"}
{"Action":"start","Package":"example.com/m/x"}
{"Action":"output","Package":"example.com/m/x","Output":"FAIL\texample.com/m/x [build failed]\n"}
{"Action":"fail","Package":"example.com/m/x","Elapsed":0,"FailedBuild":"example.com/m/x"}
`
)

// e2eDir makes a package folder e2e/ defining the tests named, in a
// temporary working directory.
func e2eDir(t *testing.T, tests ...string) {
	t.Helper()
	root := t.TempDir()
	t.Chdir(root)
	src := "package e2e\n\nimport \"testing\"\n\nfunc TestMain(m *testing.M) {}\nfunc helper(t *testing.T) {}\nfunc Testlower(t *testing.T) {}\n"
	for _, name := range tests {
		src += "func " + name + "(t *testing.T) {}\n"
	}
	assert.NilError(t, os.MkdirAll(filepath.Join(root, "e2e"), 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(root, "e2e", "x_test.go"), []byte(src), 0o644))
}

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name       string
		in         string
		defined    []string
		require    bool
		wantCode   int
		wantOut    []string
		wantNotOut []string
	}{
		{
			name: "all pass", in: startE2E + passA + skipB + endOK,
			defined: []string{"TestA", "TestB"}, require: true,
			wantOut: []string{
				"--- PASS: TestA (example.com/m/e2e, 1.2s)",
				"--- SKIP: TestB (example.com/m/e2e): b_test.go:3: needs setpriv",
				"ok  \texample.com/m/e2e\t1.3s",
				"testreport: 2 passed, 0 failed, 1 skipped",
			},
			wantNotOut: []string{"detail of A", "FAIL"},
		},
		{
			name: "a failed test prints its output", in: startE2E + passA + failC + endFail,
			wantCode: 1,
			wantOut: []string{
				"c_test.go:7: assertion failed: 1 != 2",
				"--- FAIL: TestC (0.10s)",
				"testreport: 2 passed, 2 failed, 0 skipped",
			},
		},
		{
			name: "a defined test that did not run", in: startE2E + passA + endOK,
			defined: []string{"TestA", "TestB", "TestZ"}, require: true,
			wantCode: 1,
			wantOut:  []string{"testreport: FAIL: example.com/m/e2e: 2 of its tests did not run: TestB, TestZ"},
		},
		{
			name: "nothing tested", in: "",
			wantCode: 1,
			wantOut:  []string{"testreport: FAIL: no package was tested", "testreport: 0 passed, 0 failed, 0 skipped"},
		},
		{
			name: "a package with no test", in: `{"Action":"start","Package":"example.com/m/e2e"}` + "\n" + endOK,
			wantCode: 1,
			wantOut:  []string{"testreport: FAIL: no test ran"},
		},
		{
			name: "a package that does not build", in: startE2E + passA + endOK + buildFail,
			wantCode: 1,
			wantOut:  []string{"x/x.go:3:1: syntax error", "FAIL\texample.com/m/x [build failed]", "(FAIL)"},
		},
		{
			name: "plain text lines pass through", in: "go: downloading example.com/y v1.0.0\n" + startE2E + passA + endOK,
			wantOut: []string{"go: downloading example.com/y v1.0.0"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e2eDir(t, tc.defined...)
			var opts options
			if tc.require {
				opts.requireAll = dirs{"./e2e"}
			}
			opts.totals = filepath.Join(t.TempDir(), "totals")
			var out bytes.Buffer
			code := run(strings.NewReader(tc.in), &out, opts)
			assert.Equal(t, code, tc.wantCode, out.String())
			for _, w := range tc.wantOut {
				assert.Check(t, is.Contains(out.String(), w))
			}
			for _, w := range tc.wantNotOut {
				assert.Check(t, !strings.Contains(out.String(), w), "unexpected %q in:\n%s", w, out.String())
			}
		})
	}
}

func TestTotalsAddUp(t *testing.T) {
	file := filepath.Join(t.TempDir(), "totals")
	for range 2 {
		run(strings.NewReader(startE2E+passA+skipB+endOK), &bytes.Buffer{}, options{totals: file})
	}
	b, err := os.ReadFile(file)
	assert.NilError(t, err)
	assert.Equal(t, string(b), "2 0 1\n2 0 1\n")
}
