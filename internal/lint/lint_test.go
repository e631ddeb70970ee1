package lint

import (
	"testing"

	"go.yaml.in/yaml/v4"
	"gotest.tools/v3/assert"
)

func TestYAMLLineFindsLabelsInBothForms(t *testing.T) {
	src := "services:\n  a:\n    labels:\n      traefik.enable: \"true\"\n  b:\n    labels:\n      - traefik.enable=true\n"
	var n yaml.Node
	assert.NilError(t, yaml.Unmarshal([]byte(src), &n))
	assert.Equal(t, yamlLine(&n, []string{"services", "a", "labels", "traefik.enable"}), 4)
	assert.Equal(t, yamlLine(&n, []string{"services", "b", "labels", "traefik.enable"}), 7)
	assert.Equal(t, yamlLine(&n, []string{"services", "c"}), 0)
}
