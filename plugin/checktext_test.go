package plugin

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/picasoft/docker-picatest/internal/lint"
)

// TestCheckTextIsATable: check's text output is a table (severity,
// file:line, rule, message) with each hint on its own line under the
// location; on a terminal, messages and hints are wrapped to its width.
func TestCheckTextIsATable(t *testing.T) {
	report := checkReport{Project: "pad", Errors: 1, Warnings: 1, Findings: []lint.Finding{
		{Severity: lint.Error, File: "compose.yaml", Line: 3, Rule: "image-untagged", Message: "service web uses image nginx without a tag (latest is implied)", Hint: "add an explicit version tag, e.g. nginx:1.0"},
		{Severity: lint.Warning, File: "/srv/common/compose.yaml", Rule: "traefik-healthcheck", Message: "service web is routed by Traefik but has no healthcheck in the Compose file"},
	}}
	cases := []struct {
		name  string
		width int
		want  []string
	}{
		{name: "not a terminal: lines whole", want: []string{
			"SEVERITY  LOCATION                  RULE                 MESSAGE",
			"error     compose.yaml:3            image-untagged       service web uses image nginx without a tag (latest is implied)",
			"          hint: add an explicit version tag, e.g. nginx:1.0",
			"warning   /srv/common/compose.yaml  traefik-healthcheck  service web is routed by Traefik but has no healthcheck in the Compose file",
			"project pad: 1 error, 1 warning",
		}},
		{name: "a terminal of 100 columns", width: 100, want: []string{
			"SEVERITY  LOCATION                  RULE                 MESSAGE",
			"error     compose.yaml:3            image-untagged       service web uses image nginx without a tag",
			"                                                         (latest is implied)",
			"          hint: add an explicit version tag, e.g. nginx:1.0",
			"warning   /srv/common/compose.yaml  traefik-healthcheck  service web is routed by Traefik but has no",
			"                                                         healthcheck in the Compose file",
			"project pad: 1 error, 1 warning",
		}},
		{name: "too narrow to wrap the messages", width: 80, want: []string{
			"SEVERITY  LOCATION                  RULE                 MESSAGE",
			"error     compose.yaml:3            image-untagged       service web uses image nginx without a tag (latest is implied)",
			"          hint: add an explicit version tag, e.g. nginx:1.0",
			"warning   /srv/common/compose.yaml  traefik-healthcheck  service web is routed by Traefik but has no healthcheck in the Compose file",
			"project pad: 1 error, 1 warning",
		}},
		{name: "a hint wrapped under itself", width: 50, want: []string{
			"SEVERITY  LOCATION                  RULE                 MESSAGE",
			"error     compose.yaml:3            image-untagged       service web uses image nginx without a tag (latest is implied)",
			"          hint: add an explicit version tag, e.g.",
			"                nginx:1.0",
			"warning   /srv/common/compose.yaml  traefik-healthcheck  service web is routed by Traefik but has no healthcheck in the Compose file",
			"project pad: 1 error, 1 warning",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			printCheckText(&b, report, tc.width)
			assert.Equal(t, b.String(), strings.Join(tc.want, "\n")+"\n")
			for _, l := range strings.Split(b.String(), "\n") {
				assert.Check(t, tc.width == 0 || len(l) <= tc.width || !strings.HasPrefix(l, " "), "continuation lines fit: %q", l)
			}
		})
	}

	var b strings.Builder
	printCheckText(&b, checkReport{Project: "pad"}, 0)
	assert.Equal(t, b.String(), "project pad: no findings, it follows the conventions\n")
}

func TestWrapWords(t *testing.T) {
	cases := []struct {
		s     string
		width int
		want  []string
	}{
		{"short", 40, []string{"short"}},
		{"no wrap below the minimum width of a column", minWrap - 1, []string{"no wrap below the minimum width of a column"}},
		{"one two three four five six seven eight nine ten", 30, []string{"one two three four five six", "seven eight nine ten"}},
		{"a https://very-long-word.example.org/that/does/not/fit/in/thirty end", 30, []string{"a", "https://very-long-word.example.org/that/does/not/fit/in/thirty", "end"}},
	}
	for _, tc := range cases {
		assert.DeepEqual(t, wrapWords(tc.s, tc.width), tc.want)
	}
}
