package termsafe

import (
	"encoding/json"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct {
		name, in, str, line, text string
	}{
		{"plain", "GET /health 200 in 3ms", "GET /health 200 in 3ms", "", ""},
		{"utf-8 kept", "café ✓ 日本語 🎉 \\x1b", "café ✓ 日本語 🎉 \\x1b", "", ""},
		{"clear screen", "\x1b[2J\x1b[HOK: project pad is up", `\x1b[2J\x1b[HOK: project pad is up`, "", ""},
		{"OSC 52 clipboard", "\x1b]52;c;cm0gLXJmIH4=\x07", `\x1b]52;c;cm0gLXJmIH4=\x07`, "", ""},
		{"OSC 8 link", "\x1b]8;;http://evil\x1b\\ok\x1b]8;;\x1b\\", `\x1b]8;;http://evil\x1b\ok\x1b]8;;\x1b\`, "", ""},
		{"carriage return", "error\rOK", `error\x0dOK`, "", ""},
		{"tab and newline", "a\tb\nc", `a\x09b\x0ac`, "a\tb\\x0ac", "a\tb\nc"},
		{"C1 CSI", "x\u009b2Jy", `x\u{009b}2Jy`, "", ""},
		{"bidi override", "user\u202etxt.exe", `user\u{202e}txt.exe`, "", ""},
		{"DEL and NUL", "a\x7fb\x00", `a\x7fb\x00`, "", ""},
		{"invalid UTF-8", "a\xff\xc3b", `a\xff\xc3b`, "", ""},
		{"non-character", "a\uffffb", `a\u{ffff}b`, "", ""},
	} {
		if tc.line == "" {
			tc.line = tc.str
		}
		if tc.text == "" {
			tc.text = tc.line
		}
		assert.Check(t, is.Equal(String(tc.in), tc.str), tc.name)
		assert.Check(t, is.Equal(Line(tc.in), tc.line), tc.name)
		assert.Check(t, is.Equal(Text(tc.in), tc.text), tc.name)
		for _, out := range []string{String(tc.in), Line(tc.in), Text(tc.in)} {
			for _, r := range out {
				assert.Check(t, r >= 0x20 && r != 0x7f && !unsafeRune(r) || r == '\t' || r == '\n', "%s: %q left in %q", tc.name, r, out)
			}
		}
	}
}

func TestJSON(t *testing.T) {
	v := map[string]string{"line": "\x1b[2J\u009b2J\u202e\x7f ok é"}
	b, err := json.Marshal(v)
	assert.NilError(t, err)
	got := JSON(b)
	assert.Check(t, is.Equal(string(got), `{"line":"\u001b[2J\u009b2J\u202e\u007f ok é"}`))
	var back map[string]string
	assert.NilError(t, json.Unmarshal(got, &back))
	assert.Check(t, is.DeepEqual(back, v), "the same strings to a JSON reader")
	plain := []byte(`{"a":"b"}`)
	assert.Check(t, &JSON(plain)[0] == &plain[0], "no copy when nothing is escaped")
}

type record struct{ calls []string }

func (r *record) Log(n, m string)    { r.calls = append(r.calls, "log "+n+" "+m) }
func (r *record) Err(n, m string)    { r.calls = append(r.calls, "err "+n+" "+m) }
func (r *record) Status(n, m string) { r.calls = append(r.calls, "status "+n+" "+m) }

func TestConsumer(t *testing.T) {
	r := &record{}
	c := Consumer(r)
	c.Log("pad-1", "line one\x1b[2J\r\nOK\tdone\r")
	c.Err("pad-1", "\x1b]52;c;eA==\x07")
	c.Status("pad-1", "exited with code 1")
	assert.Check(t, is.DeepEqual(r.calls, []string{
		"log pad-1 line one\\x1b[2J\nOK\tdone",
		`err pad-1 \x1b]52;c;eA==\x07`,
		"status pad-1 exited with code 1",
	}))
	assert.Check(t, !strings.ContainsRune(strings.Join(r.calls, ""), 0x1b))
}
