package mask

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"go.yaml.in/yaml/v4"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/transforms/testurls"
)

func writeSecrets(t *testing.T, content string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "app.secrets")
	assert.NilError(t, os.WriteFile(f, []byte(content), 0o600))
	return f
}

func TestMaskerValues(t *testing.T) {
	f := writeSecrets(t, "# a comment\nPASSWORD=s3cret-value\nMULTI=\"line-one-value\nline-two-value\"\nSHORT=abc\n")
	r, err := New([]string{f})
	assert.NilError(t, err)
	for in, want := range map[string]string{
		"login with s3cret-value failed": "login with ******** failed",
		`{"password": "s3cret-value"}`:   `{"password": "********"}`,
		"printed alone: line-two-value":  "printed alone: ********",
		"too short to mask: abc":         "too short to mask: abc",
		"a comment":                      "a comment",
	} {
		assert.Check(t, is.Equal(r.String(in), want))
	}
}

// The dotenv parser quotes the line it rejects in its error: the raw text
// after '=' is masked too.
func TestMaskerMalformedFile(t *testing.T) {
	f := writeSecrets(t, "TOKEN=\"unterminated-secret-token\nOTHER=1\n")
	r, err := New([]string{f})
	assert.NilError(t, err)
	assert.Check(t, is.Equal(r.String(`line 1: unterminated quoted value "unterminated-secret-token`), "line 1: unterminated quoted value ********"))
}

// A real secrets file that the command does not use is read when it can
// be, and ignored when it cannot.
func TestMaskerBestEffort(t *testing.T) {
	f := writeSecrets(t, "PASSWORD=best-effort-secret\n")
	r, err := New(nil, filepath.Join(t.TempDir(), "missing.secrets"), f)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(r.String("best-effort-secret"), Masked))
	assert.Check(t, !r.IsSecretsFile(f), "not in use: config --diff may show it")

	_, err = New([]string{filepath.Join(t.TempDir(), "missing.secrets")})
	assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid))
}

// A secrets file is read bounded: a fifo or a symlink to a device is exit
// 2 naming it (never a read that waits or fills the memory), and a
// best-effort one is skipped.
func TestMaskerNotRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.secrets")
	assert.NilError(t, syscall.Mkfifo(fifo, 0o600))
	zero := filepath.Join(dir, "zero.secrets")
	assert.NilError(t, os.Symlink("/dev/zero", zero))
	for _, f := range []string{fifo, zero} {
		_, err := New([]string{f})
		assert.Check(t, is.ErrorContains(err, f+" is a"))
		assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid))
		_, err = New(nil, f)
		assert.Check(t, err)
	}
}

type recordedLogs struct{ lines []string }

func (r *recordedLogs) Log(_, m string) { r.lines = append(r.lines, m) }

func (r *recordedLogs) Err(_, m string) { r.lines = append(r.lines, m) }

func (r *recordedLogs) Status(_, m string) { r.lines = append(r.lines, m) }

func TestSlot(t *testing.T) {
	var slot Slot
	var got recordedLogs
	logs := slot.Logs(&got)
	logs.Log("web-1", "secret-value-1")
	err := slot.Error(errors.New("cannot parse secret-value-1"))
	assert.Check(t, is.Error(err, "cannot parse secret-value-1"), "nothing installed: unchanged")
	assert.Check(t, slot.Error(nil) == nil)

	m, err := New([]string{writeSecrets(t, "X=secret-value-1\n")})
	assert.NilError(t, err)
	slot.Set(m)
	logs.Log("web-1", "out: secret-value-1")
	logs.Err("web-1", "err: secret-value-1")
	logs.Status("web-1", "status")
	assert.Check(t, is.DeepEqual(got.lines, []string{"secret-value-1", "out: ********", "err: ********", "status"}))
	err = slot.Error(exitcode.With(exitcode.Invalid, errors.New("cannot parse secret-value-1")))
	assert.Check(t, is.Error(err, "cannot parse ********"))
	assert.Check(t, is.Equal(exitcode.Of(err), exitcode.Invalid), "the exit code is kept")
	assert.Check(t, is.Equal(slot.String("a secret-value-1"), "a ********"))
}

// The free-text rule (FreeTextSafe): a value is masked everywhere it
// appears from MinFreeTextLen characters on, unless it is a short number
// or a common word; the others are named once in a warning.
func TestMaskerFreeTextRule(t *testing.T) {
	f := writeSecrets(t, "A3=abc\nA4=abcd\nN5=12345\nN6=123456\nBOOL=true\nWORD=Postgres\nPORT=5432\n")
	m, err := New([]string{f})
	assert.NilError(t, err)
	for _, tc := range []struct {
		in, want string
	}{
		{"x abc y", "x abc y"},
		{"x abcd y", "x ******** y"},
		{"port 12345", "port 12345"},
		{"pin 123456", "pin ********"},
		{"read_only: true", "read_only: true"},
		{"image: postgres:16, Postgres", "image: postgres:16, Postgres"},
		{"5432/tcp", "5432/tcp"},
	} {
		assert.Check(t, is.Equal(m.String(tc.in), tc.want), tc.in)
	}
	var keys []string
	for _, w := range m.Warnings() {
		assert.Check(t, is.Contains(w, " in "+f+" is too "))
		assert.Check(t, is.Contains(w, " to mask in free text"))
		keys = append(keys, strings.Join(strings.Fields(w)[3:9], " "))
	}
	assert.Check(t, is.DeepEqual(keys, []string{
		"A3 in " + f + " is too short", "BOOL in " + f + " is too common", "N5 in " + f + " is too common",
		"PORT in " + f + " is too common", "WORD in " + f + " is too common",
	}), "once each, in key order")
	for v, safe := range map[string]bool{"abc": false, "abcd": true, "12345": false, "123456": true, "-1234": true, "TRUE": false, "no": false, "localhost": false, "hunter2": true} {
		assert.Check(t, is.Equal(FreeTextSafe(v), safe), v)
	}
}

// A secret prints in other forms: JSON-escaped (with or without HTML
// escaping), Go-quoted, `$` escaped as `$$`. Each is masked.
func TestMaskerEscapedForms(t *testing.T) {
	secret := `q"uu\zz<&>$x`
	f := writeSecrets(t, "PASSWORD='"+secret+"'\n")
	m, err := New([]string{f})
	assert.NilError(t, err)
	for _, tc := range []struct{ name, in string }{
		{"raw", "login " + secret + " failed"},
		{"JSON", `{"password": "q\"uu\\zz\u003c\u0026\u003e$x"}`},
		{"JSON without HTML escaping", `{"password": "q\"uu\\zz<&>$x"}`},
		{"Go-quoted", fmt.Sprintf("cannot use %q", secret)},
		{"$$-escaped", "PASSWORD: q\"uu\\zz<&>$$x"},
	} {
		got := m.String(tc.in)
		assert.Check(t, is.Contains(got, Masked), tc.name)
		assert.Check(t, !strings.Contains(got, "zz"), "%s: %s", tc.name, got)
	}
}

// Secrets that contain or overlap each other are masked whole, as one
// span: no part of either shows.
func TestMaskerNestedSecrets(t *testing.T) {
	f := writeSecrets(t, "OUTER=outer-inner-secret-value\nINNER=inner-secret\nLEFT=1234-abcd\nRIGHT=abcd-efgh-ijkl\n")
	m, err := New([]string{f})
	assert.NilError(t, err)
	for _, tc := range []struct{ in, want string }{
		{"a outer-inner-secret-value b", "a ******** b"},
		{"a inner-secret b", "a ******** b"},
		{"1234-abcd-efgh-ijkl", "********"},
		{"x1234-abcd-efgh-ijklx abcd-efgh-ijkl", "x********x ********"},
		{"inner-secretinner-secret", "****************"},
	} {
		assert.Check(t, is.Equal(m.String(tc.in), tc.want), tc.in)
	}
}

// A secret holding a production host reaches the model, the containers and
// the list of rewrites rewritten: both forms are masked, in free text and
// in documents.
func TestMaskerRewrittenForm(t *testing.T) {
	rw, err := testurls.New("picasoft.net", "test.picasoft.net")
	assert.NilError(t, err)
	f := writeSecrets(t, "WEBHOOK=https://team.picasoft.net/hooks/tok-3f9a1c\n")
	m, err := New([]string{f})
	assert.NilError(t, err)
	m = m.WithRewriters(rw)
	for _, in := range []string{
		"https://team.picasoft.net/hooks/tok-3f9a1c",
		"services.web.environment.WEBHOOK: https://team.picasoft.net/hooks/tok-3f9a1c -> https://team.test.picasoft.net/hooks/tok-3f9a1c",
		`{"new": "https://team.test.picasoft.net/hooks/tok-3f9a1c"}`,
	} {
		got := m.String(in)
		assert.Check(t, !strings.Contains(got, "tok-3f9a1c"), got)
	}
	doc, err := m.JSON([]byte(`{"environment":{"WEBHOOK":"https://team.test.picasoft.net/hooks/tok-3f9a1c"}}`))
	assert.NilError(t, err)
	assert.Check(t, is.Equal(string(doc), `{"environment":{"WEBHOOK":"********"}}`))
	assert.Check(t, m.WithRewriters(nil).Masks(), "a nil rewriter is ignored")
	var none *Masker
	assert.Check(t, none.WithRewriters(rw) == nil)
}

// shortSecrets is a secrets file of short common values, and one long
// value, as a database service has.
const shortSecrets = "POSTGRES_USER=postgres\nPOSTGRES_PORT=5432\nREAD_ONLY=true\nPOSTGRES_PASSWORD=long-db-password\nTAG=16\n"

// The model, in JSON: string values of the secret-bearing fields are
// masked whole whatever their length; strings that hold a long secret
// have it replaced; numbers, booleans and the other strings are never
// touched: the output is valid JSON of the same types.
func TestMaskerJSONDocument(t *testing.T) {
	m, err := New([]string{writeSecrets(t, shortSecrets)})
	assert.NilError(t, err)
	in := `{
  "services": {
    "db": {
      "image": "postgres:16",
      "read_only": true,
      "environment": {
        "POSTGRES_USER": "postgres",
        "POSTGRES_PORT": "5432",
        "READ_ONLY": "true",
        "POSTGRES_PASSWORD": "long-db-password",
        "TAG": "16",
        "OTHER_USER": "postgres",
        "URL": "postgres://postgres:long-db-password@db:5432/app"
      },
      "command": ["postgres", "-c", "password=long-db-password"],
      "ports": [{"target": 5432, "published": "5432"}],
      "labels": {"long-db-password": "key holds a secret"},
      "x-pin": 123456789,
      "x-nil": null
    }
  }
}
`
	out, err := m.JSON([]byte(in))
	assert.NilError(t, err)
	var got any
	assert.NilError(t, json.Unmarshal(out, &got), string(out))
	want := map[string]any{"services": map[string]any{"db": map[string]any{
		"image":     "postgres:16",
		"read_only": true,
		"environment": map[string]any{
			"POSTGRES_USER": Masked, "POSTGRES_PORT": Masked, "READ_ONLY": Masked, "POSTGRES_PASSWORD": Masked, "TAG": Masked,
			"OTHER_USER": "postgres",
			"URL":        "postgres://postgres:********@db:5432/app",
		},
		"command": []any{"postgres", "-c", "password=********"},
		"ports":   []any{map[string]any{"target": 5432.0, "published": "5432"}},
		"labels":  map[string]any{Masked: "key holds a secret"},
		"x-pin":   123456789.0,
		"x-nil":   nil,
	}}}
	assert.Check(t, is.DeepEqual(got, want))
	assert.Check(t, strings.HasPrefix(string(out), "{\n  \"services\": {\n    \"db\": {\n      \"image\": \"postgres:16\",\n      \"read_only\": true,"), "the layout is kept:\n%s", out)

	// Nothing to mask: the document itself.
	plain := []byte(`{"b": 1, "a": "x"}`)
	out, err = m.JSON(plain)
	assert.NilError(t, err)
	assert.Check(t, is.Equal(string(out), string(plain)))
	_, err = m.JSON([]byte(`{"a": `))
	assert.Check(t, err != nil)
}

// A number that holds a long secret becomes the string "********": the
// secret never shows, the document stays valid.
func TestMaskerNumberHoldingASecret(t *testing.T) {
	m, err := New([]string{writeSecrets(t, "PIN=123456789\n")})
	assert.NilError(t, err)
	out, err := m.JSON([]byte(`{"a": [123456789, 5], "b": -123456789}`))
	assert.NilError(t, err)
	assert.Check(t, is.Equal(string(out), `{"a": ["********", 5], "b": "********"}`))
	out, err = m.YAML([]byte("a:\n  - 123456789\n  - 5\n"))
	assert.NilError(t, err)
	assert.Check(t, is.Equal(string(out), "a:\n  - '********'\n  - 5\n"))
}

// The model, in YAML: as in JSON, only strings are masked and a masked
// value is quoted (a plain ******** would be an alias).
func TestMaskerYAMLDocument(t *testing.T) {
	m, err := New([]string{writeSecrets(t, shortSecrets)})
	assert.NilError(t, err)
	in := `services:
  db:
    command:
      - postgres
      - -c
      - password=long-db-password
    environment:
      OTHER_USER: postgres
      POSTGRES_PASSWORD: long-db-password
      POSTGRES_PORT: "5432"
      POSTGRES_USER: postgres
      READ_ONLY: "true"
      TAG: "16"
    image: postgres:16
    ports:
      - target: 5432
        published: "5432"
    read_only: true
`
	out, err := m.YAML([]byte(in))
	assert.NilError(t, err)
	assert.Check(t, is.Equal(string(out), `services:
  db:
    command:
      - postgres
      - -c
      - password=********
    environment:
      OTHER_USER: postgres
      POSTGRES_PASSWORD: '********'
      POSTGRES_PORT: "********"
      POSTGRES_USER: '********'
      READ_ONLY: "********"
      TAG: "********"
    image: postgres:16
    ports:
      - target: 5432
        published: "5432"
    read_only: true
`))
	var got map[string]any
	assert.NilError(t, yaml.Unmarshal(out, &got))
	db := got["services"].(map[string]any)["db"].(map[string]any)
	assert.Check(t, is.Equal(db["read_only"], true))
	assert.Check(t, is.Equal(db["environment"].(map[string]any)["POSTGRES_USER"], Masked))

	out, err = m.YAML([]byte(in[:len(in)-len("    read_only: true\n")]))
	assert.NilError(t, err)
	assert.Check(t, is.Contains(string(out), "'********'"))
	var nothing *Masker
	out, err = nothing.YAML([]byte("a: b\n"))
	assert.NilError(t, err)
	assert.Check(t, is.Equal(string(out), "a: b\n"))
}

// Masking a Compose model touches the masked values only: the rest of the
// document is byte for byte what compose-go prints (styles, long lines,
// block scalars, empty values).
func TestMaskerModelUntouchedElsewhere(t *testing.T) {
	p := composetest.Load(t, `services:
  web:
    image: nginx:1.25
    command: ["sh", "-c", "echo 'a long line that goes on and on and on and on and on and on and on and on and on and on and on' && exit 0"]
    environment:
      TOKEN: tok-41c9e7d0-long
      A: "cost: $$5"
      B: "yes"
      C: "with\nnewline"
      D: "  leading spaces"
      E: "#hash"
      F: ""
      G:
    labels:
      traefik.http.routers.web.rule: Host(`+"`web.picasoft.net`"+`)
configs:
  big:
    content: |
`+strings.Repeat("      line with $$ and https://web.picasoft.net/\n", 20), nil)
	m, err := New([]string{writeSecrets(t, "TOKEN=tok-41c9e7d0-long\n")})
	assert.NilError(t, err)
	for _, format := range []string{"yaml", "json"} {
		var doc []byte
		var masked []byte
		if format == "yaml" {
			doc, err = p.MarshalYAML()
			assert.NilError(t, err)
			masked, err = m.YAML(doc)
		} else {
			doc, err = p.MarshalJSON()
			assert.NilError(t, err)
			masked, err = m.JSON(doc)
		}
		assert.NilError(t, err)
		want := strings.Replace(string(doc), "tok-41c9e7d0-long", "'********'", 1)
		if format == "json" {
			want = strings.Replace(string(doc), "tok-41c9e7d0-long", "********", 1)
		}
		assert.Check(t, is.Equal(string(masked), want), format)
	}
}
