package inferbuild

import (
	"testing"

	"gotest.tools/v3/assert"

	"github.com/picasoft/docker-picatest/transforms"
)

func TestServices(t *testing.T) {
	changes := []transforms.Change{
		{Transform: Name, Where: "services.pad.build"},
		{Transform: "test-urls", Where: "services.web.environment.URL"},
		{Transform: Name, Where: "services.api.build"},
	}
	assert.DeepEqual(t, Services(changes), []string{"pad", "api"})
	assert.Check(t, Services(nil) == nil)
}
