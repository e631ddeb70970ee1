package plugin

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/picasoft/docker-picatest/internal/composetest"
)

// The streamed YAML of config is byte for byte the marshalled model.
func TestStreamYAMLIsTheMarshalledModel(t *testing.T) {
	p := composetest.Load(t, `
services:
  web:
    image: nginx:1.25
    command: ["sh", "-c", "echo $$HOME $$$$"]
    environment:
      A: "cost: $$5"
    labels:
      traefik.http.routers.web.rule: Host(`+"`web.picasoft.net`"+`)
configs:
  big:
    content: |
`+strings.Repeat("      line with $$ and https://web.picasoft.net/\n", 5000), nil)
	want, err := marshalModel(p, "yaml", nil)
	assert.NilError(t, err)
	var got strings.Builder
	assert.NilError(t, streamYAML(&got, p))
	assert.Equal(t, got.String(), string(want))
}
