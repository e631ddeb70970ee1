// Package junittest checks JUnit reports in tests: against a JUnit schema
// in the shape of the widely used Jenkins/Ant one (testdata/junit.xsd),
// with xmllint (Debian's libxml2-utils).
package junittest

import (
	_ "embed"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

//go:embed testdata/junit.xsd
var schema []byte

// AssertValid fails t when the JUnit file at path does not validate
// against the schema, or when xmllint is missing.
func AssertValid(t testing.TB, path string) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatalf("xmllint checks the JUnit report: install it with apt-get install -y libxml2-utils (%v)", err)
	}
	xsd := filepath.Join(t.TempDir(), "junit.xsd")
	if err := os.WriteFile(xsd, schema, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--schema", xsd, path).CombinedOutput()
	if err != nil {
		report, _ := os.ReadFile(path)
		t.Fatalf("%s is not valid JUnit: %v\n%s\n%s", path, err, out, report)
	}
}
