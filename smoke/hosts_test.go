package smoke

import (
	"testing"

	"gotest.tools/v3/assert"
)

func TestRuleHosts(t *testing.T) {
	cases := []struct {
		rule string
		want []string
	}{
		{"Host(`pad.test.picasoft.net`)", []string{"pad.test.picasoft.net"}},
		{"Host(`a.test.picasoft.net`, `B.test.picasoft.net`)", []string{"a.test.picasoft.net", "b.test.picasoft.net"}},
		{"Host(`a.x`) || (Host(`b.x`) && PathPrefix(`/api`))", []string{"a.x", "b.x"}},
		{"Host:pad.test.picasoft.net,www.pad.test.picasoft.net", []string{"pad.test.picasoft.net", "www.pad.test.picasoft.net"}},
		{"Host:pad.x;PathPrefix:/a", []string{"pad.x"}},
		{"HostRegexp(`{sub:[a-z]+}.picasoft.net`)", []string{}},
		{"HostSNI(`*`)", []string{}},
		{"PathPrefix(`/`)", []string{}},
	}
	for _, tc := range cases {
		assert.DeepEqual(t, RuleHosts(tc.rule), tc.want)
	}
	assert.DeepEqual(t, UnderDomain([]string{"a.test.x", "test.x", "b.x", "atest.x"}, "test.x"), []string{"a.test.x", "test.x"})
}
