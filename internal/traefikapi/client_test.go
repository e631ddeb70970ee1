package traefikapi

import (
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func TestAddress(t *testing.T) {
	cases := []struct {
		setting, proxyHost, want string
		off                      bool
		err                      string
	}{
		{setting: "", proxyHost: "127.0.0.1", want: "127.0.0.1:8080"},
		{setting: "", proxyHost: "::1", want: "[::1]:8080"},
		{setting: "traefik.lan", proxyHost: "127.0.0.1", want: "traefik.lan:8080"},
		{setting: "127.0.0.1:18282", proxyHost: "127.0.0.1", want: "127.0.0.1:18282"},
		{setting: "OFF", proxyHost: "127.0.0.1", off: true},
		{setting: "http://127.0.0.1:8080", err: "without scheme or path"},
		{setting: "127.0.0.1:x", err: "port between 1 and 65535"},
		{setting: ":8080", err: "port between 1 and 65535"},
	}
	for _, tc := range cases {
		got, off, err := Address(tc.setting, tc.proxyHost)
		if tc.err != "" {
			assert.Check(t, is.ErrorContains(err, tc.err), tc.setting)
			continue
		}
		assert.Check(t, err == nil, "%s: %v", tc.setting, err)
		assert.Check(t, is.Equal(got, tc.want), tc.setting)
		assert.Check(t, is.Equal(off, tc.off), tc.setting)
	}
}
