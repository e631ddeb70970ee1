package instance

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/picasoft/docker-picatest/transforms"
	"github.com/picasoft/docker-picatest/transforms/testurls"
)

func TestRewriter(t *testing.T) {
	r, err := NewRewriter("test.picasoft.net", "feat-x")
	assert.NilError(t, err)
	cases := []struct {
		in, want string
	}{
		{"pad.test.picasoft.net", "pad-feat-x.test.picasoft.net"},
		{"week.pad.test.picasoft.net", "week.pad-feat-x.test.picasoft.net"},
		{"test.picasoft.net", "feat-x.test.picasoft.net"},
		{"https://pad.test.picasoft.net/path?q=1", "https://pad-feat-x.test.picasoft.net/path?q=1"},
		{"Host(`pad.test.picasoft.net`) || Host(`www.pad.test.picasoft.net`)", "Host(`pad-feat-x.test.picasoft.net`) || Host(`www.pad-feat-x.test.picasoft.net`)"},
		{"Host(`a.test.picasoft.net`, `test.picasoft.net`)", "Host(`a-feat-x.test.picasoft.net`, `feat-x.test.picasoft.net`)"},
		{"PAD.Test.PicaSoft.NET:8443", "PAD-feat-x.Test.PicaSoft.NET:8443"},
		// HostRegexp: escaped dots, v2 templates, v3 regexps
		{"HostRegexp(`pad\\.test\\.picasoft\\.net`)", "HostRegexp(`pad-feat-x\\.test\\.picasoft\\.net`)"},
		{"HostRegexp(`{sub:[a-z]+}.pad.test.picasoft.net`)", "HostRegexp(`{sub:[a-z]+}.pad-feat-x.test.picasoft.net`)"},
		{"HostRegexp(`{sub:[a-z]+}.test.picasoft.net`)", "HostRegexp(`{sub:[a-z]+}-feat-x.test.picasoft.net`)"},
		{"HostRegexp(`^(www\\.)?test\\.picasoft\\.net$`)", "HostRegexp(`^(www\\.)?feat-x\\.test\\.picasoft\\.net$`)"},
		{"HostRegexp(`^[a-z]+\\.test\\.picasoft\\.net$`)", "HostRegexp(`^[a-z]+-feat-x\\.test\\.picasoft\\.net$`)"},
		// several in one string, e.g. a config file
		{"url=https://pad.test.picasoft.net/\nauth=https://auth.test.picasoft.net/\n", "url=https://pad-feat-x.test.picasoft.net/\nauth=https://auth-feat-x.test.picasoft.net/\n"},
		// left alone: not under the test domain, e-mail, path, other hosts
		{"pad.picasoft.net", "pad.picasoft.net"},
		{"mytest.picasoft.net", "mytest.picasoft.net"},
		{"admin@test.picasoft.net", "admin@test.picasoft.net"},
		{"admin@pad.test.picasoft.net", "admin@pad.test.picasoft.net"},
		{"/etc/ssl/pad.test.picasoft.net/cert.pem", "/etc/ssl/pad.test.picasoft.net/cert.pem"},
		{"test.picasoft.network", "test.picasoft.network"},
		{"pad.test.picasoft.net.example.org", "pad.test.picasoft.net.example.org"},
		{"registry.picasoft.net/pica-pad:1.0", "registry.picasoft.net/pica-pad:1.0"},
		{"", ""},
	}
	for _, tc := range cases {
		got, changed := r.Rewrite(tc.in)
		assert.Equal(t, got, tc.want, tc.in)
		assert.Equal(t, changed, tc.in != tc.want, tc.in)
	}
}

func TestRewriterLongLabel(t *testing.T) {
	inst := "feature-refonte-compl-dfaef698"
	r, err := NewRewriter("test.picasoft.net", inst)
	assert.NilError(t, err)
	l := "a-very-long-service-name-for-the-test-machine"
	got := r.Host(l + ".test.picasoft.net")
	first, _, _ := strings.Cut(got, ".")
	assert.Equal(t, len(first), 63)
	assert.Equal(t, got, "a-very-long-service-nam-a4b7dbef-"+inst+".test.picasoft.net")
	assert.Equal(t, r.Host(l+".test.picasoft.net"), got, "stable")
}

// The chain of the test-URL rule and the instance rule gives the
// instance's test host of a production host, as config files get it.
func TestChain(t *testing.T) {
	tu, err := testurls.New("picasoft.net", "test.picasoft.net", "registry.picasoft.net")
	assert.NilError(t, err)
	r, err := NewRewriter("test.picasoft.net", "b2")
	assert.NilError(t, err)
	chain := transforms.Chain{tu, r}
	cases := []struct{ in, want string }{
		{`{"url": "https://pad.picasoft.net/"}`, `{"url": "https://pad-b2.test.picasoft.net/"}`},
		{"picasoft.net and pad.test.picasoft.net", "b2.test.picasoft.net and pad-b2.test.picasoft.net"},
		{"admin@picasoft.net registry.picasoft.net", "admin@picasoft.net registry.picasoft.net"},
	}
	for _, tc := range cases {
		got, changed := chain.Rewrite(tc.in)
		assert.Equal(t, got, tc.want)
		assert.Equal(t, changed, tc.in != tc.want)
	}
}

func TestNewRewriterErrors(t *testing.T) {
	_, err := NewRewriter("test.picasoft.net", "Feat")
	assert.ErrorContains(t, err, "character 'F'")
	_, err = NewRewriter("", "feat")
	assert.ErrorContains(t, err, "empty test domain")
}
