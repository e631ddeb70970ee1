package transforms_test

import (
	"testing"

	"gotest.tools/v3/assert"

	"github.com/picasoft/docker-picatest/transforms"
)

func TestDisplayPath(t *testing.T) {
	cases := []struct {
		name, dir, path, want string
	}{
		{"inside", "/home/admin/services/pad", "/home/admin/services/pad/secrets/pad.secrets", "secrets/pad.secrets"},
		{"the project itself", "/home/admin/services/pad", "/home/admin/services/pad", "."},
		{"outside: absolute, not ../../../../srv", "/home/admin/services/pad", "/srv/docker/secrets/x", "/srv/docker/secrets/x"},
		{"a sibling folder", "/home/admin/services/pad", "/home/admin/services/common/compose.yaml", "/home/admin/services/common/compose.yaml"},
		{"a name starting with two dots is inside", "/p", "/p/..env", "..env"},
		{"unclean outside", "/p/q", "/p/q/../r/x", "/p/r/x"},
		{"unclean inside", "/p/q", "/p/q/./a/../b", "b"},
		{"relative: as given", "/p", "conf/app.ini", "conf/app.ini"},
		{"no dir: as given", "", "/p/conf/app.ini", "/p/conf/app.ini"},
		{"relative dir", "pad", "/srv/x", "/srv/x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, transforms.DisplayPath(tc.dir, tc.path), tc.want)
		})
	}
}
