package testurls_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/picasoft/docker-picatest/transforms/testurls"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

func picasoft(t testing.TB) *testurls.Rewriter {
	t.Helper()
	r, err := testurls.New("picasoft.net", "test.picasoft.net", "registry.picasoft.net")
	assert.NilError(t, err)
	return r
}

// rewriteCases are Picasoft-style strings (in) and what Rewrite makes of them
// (out) with prod picasoft.net, test test.picasoft.net and
// registry.picasoft.net kept. out == in means unchanged.
var rewriteCases = []struct{ name, in, out string }{
	// Traefik rules.
	{"v1 Host", "Host:pad.picasoft.net", "Host:pad.test.picasoft.net"},
	{"v1 Host list", "Host:pad.picasoft.net,www.pad.picasoft.net", "Host:pad.test.picasoft.net,www.pad.test.picasoft.net"},
	{"v2 Host", "Host(`pad.picasoft.net`)", "Host(`pad.test.picasoft.net`)"},
	{"v2 two hosts", "Host(`a.picasoft.net`, `b.picasoft.net`)", "Host(`a.test.picasoft.net`, `b.test.picasoft.net`)"},
	{"v2 or", "Host(`a.picasoft.net`) || Host(`www.picasoft.net`)", "Host(`a.test.picasoft.net`) || Host(`www.test.picasoft.net`)"},
	{"v2 and path", "Host(`pad.picasoft.net`) && PathPrefix(`/api`)", "Host(`pad.test.picasoft.net`) && PathPrefix(`/api`)"},
	{"apex", "picasoft.net", "test.picasoft.net"},
	{"apex rule", "Host(`picasoft.net`)", "Host(`test.picasoft.net`)"},
	{"www", "www.picasoft.net", "www.test.picasoft.net"},
	{"deep subdomain", "a.b.picasoft.net", "a.b.test.picasoft.net"},
	{"case", "PAD.PicaSoft.NET", "PAD.test.picasoft.net"},
	{"case rule", "Host(`Pad.PICASOFT.net`)", "Host(`Pad.test.picasoft.net`)"},
	{"HostRegexp escaped", "HostRegexp(`^.+\\.picasoft\\.net$`)", "HostRegexp(`^.+\\.test\\.picasoft\\.net$`)"},
	{"HostRegexp v2 variable", "HostRegexp(`{sub:[a-z]+}.picasoft.net`)", "HostRegexp(`{sub:[a-z]+}.test.picasoft.net`)"},
	{"escaped subdomain", `pad\.picasoft\.net`, `pad\.test\.picasoft\.net`},
	{"escaped before only", `pad\.picasoft.net`, `pad\.test.picasoft.net`},
	{"escaped in domain only", `pad.picasoft\.net`, `pad.test\.picasoft\.net`},
	{"v2 HostRegexp several patterns", "HostRegexp(`picasoft.net`, `{sub:[a-z]+}.{app:(pad|wiki)}.picasoft.net`)", "HostRegexp(`test.picasoft.net`, `{sub:[a-z]+}.{app:(pad|wiki)}.test.picasoft.net`)"},
	{"v2 Headers and PathPrefix", "Host(`a.picasoft.net`, `b.picasoft.net`) && Headers(`X-Forwarded-Host`, `a.picasoft.net`) && PathPrefix(`/api`, `/v1`)", "Host(`a.test.picasoft.net`, `b.test.picasoft.net`) && Headers(`X-Forwarded-Host`, `a.test.picasoft.net`) && PathPrefix(`/api`, `/v1`)"},
	{"v3 HostRegexp group", "HostRegexp(`^(pad|wiki)\\.picasoft\\.net$`) && Header(`X-A`, `1`)", "HostRegexp(`^(pad|wiki)\\.test\\.picasoft\\.net$`) && Header(`X-A`, `1`)"},
	{"v3 HostRegexp optional subdomain", "HostRegexp(`^(?:.+\\.)?picasoft\\.net$`)", "HostRegexp(`^(?:.+\\.)?test\\.picasoft\\.net$`)"},
	// Dots as [.] are not recognised: verify reports such a rule (its
	// HostRegexp still matches a production host).
	{"HostRegexp dots as [.]", "HostRegexp(`^pad[.]picasoft[.]net$`)", "HostRegexp(`^pad[.]picasoft[.]net$`)"},
	{"HostRegexp escaped already test", "HostRegexp(`^.+\\.test\\.picasoft\\.net$`)", "HostRegexp(`^.+\\.test\\.picasoft\\.net$`)"},
	// URLs.
	{"https", "https://pad.picasoft.net", "https://pad.test.picasoft.net"},
	{"https path", "https://pad.picasoft.net/path?q=1#x", "https://pad.test.picasoft.net/path?q=1#x"},
	{"port", "http://pad.picasoft.net:8080/", "http://pad.test.picasoft.net:8080/"},
	{"host port", "pad.picasoft.net:443", "pad.test.picasoft.net:443"},
	{"ws", "wss://chat.picasoft.net/socket", "wss://chat.test.picasoft.net/socket"},
	{"url in text", "see https://wiki.picasoft.net/doku.php?id=x and https://pad.picasoft.net.", "see https://wiki.test.picasoft.net/doku.php?id=x and https://pad.test.picasoft.net."},
	{"env assignment", "ROOT_URL=https://git.picasoft.net/", "ROOT_URL=https://git.test.picasoft.net/"},
	{"flag", "--domain=pad.picasoft.net", "--domain=pad.test.picasoft.net"},
	{"quoted", `"pad.picasoft.net"`, `"pad.test.picasoft.net"`},
	{"json", `{"url":"https://pad.picasoft.net"}`, `{"url":"https://pad.test.picasoft.net"}`},
	{"url userinfo is kept", "smtp://user@mail.picasoft.net:587", "smtp://user@mail.picasoft.net:587"},
	{"several lines", "a.picasoft.net\nb.picasoft.net\n", "a.test.picasoft.net\nb.test.picasoft.net\n"},
	{"trailing dot", "see pad.picasoft.net.", "see pad.test.picasoft.net."},
	{"trailing escaped dot", `pad\.picasoft\.net\.`, `pad\.test\.picasoft\.net\.`},
	{"underscore subdomain", "my_pad.picasoft.net", "my_pad.test.picasoft.net"},
	{"hyphen subdomain", "my-pad.picasoft.net", "my-pad.test.picasoft.net"},
	{"test-like subdomain", "y-test.picasoft.net", "y-test.test.picasoft.net"},
	{"test as upper label", "test.pad.picasoft.net", "test.pad.test.picasoft.net"},
	{"nested prod", "a.picasoft.net.picasoft.net", "a.picasoft.net.test.picasoft.net"},
	{"utf-8 around", "→pad.picasoft.net←", "→pad.test.picasoft.net←"},
	// Unchanged.
	{"empty", "", ""},
	{"no host", "Host(`localhost`)", "Host(`localhost`)"},
	{"first label only", "picasoft", "picasoft"},
	{"other tld", "picasoft.org", "picasoft.org"},
	{"email", "admin@picasoft.net", "admin@picasoft.net"},
	{"email subdomain", "x@mail.picasoft.net", "x@mail.picasoft.net"},
	{"email in text", "Contact: Admin <admin@picasoft.net>.", "Contact: Admin <admin@picasoft.net>."},
	{"not prefix", "notpicasoft.net", "notpicasoft.net"},
	{"not underscore", "my_picasoft.net", "my_picasoft.net"},
	{"not hyphen", "my-picasoft.net", "my-picasoft.net"},
	{"longer tld", "picasoft.network", "picasoft.network"},
	{"hyphen after", "picasoft.net-old", "picasoft.net-old"},
	{"host continues", "picasoft.net.example.com", "picasoft.net.example.com"},
	{"file name", "pad.picasoft.net.conf", "pad.picasoft.net.conf"},
	{"escaped host continues", `picasoft\.net\.example`, `picasoft\.net\.example`},
	{"registry kept", "registry.picasoft.net/pica-pad:1.0", "registry.picasoft.net/pica-pad:1.0"},
	{"registry kept case", "Registry.PICASOFT.net", "Registry.PICASOFT.net"},
	{"registry subdomain not kept", "www.registry.picasoft.net", "www.registry.test.picasoft.net"},
	{"already test", "pad.test.picasoft.net", "pad.test.picasoft.net"},
	{"already test apex", "https://test.picasoft.net/", "https://test.picasoft.net/"},
	{"already test case", "Pad.TEST.PicaSoft.Net", "Pad.TEST.PicaSoft.Net"},
	{"path segment", "/etc/letsencrypt/live/picasoft.net/cert.pem", "/etc/letsencrypt/live/picasoft.net/cert.pem"},
	{"path segment subdomain", "/certs/pad.picasoft.net/fullchain.pem", "/certs/pad.picasoft.net/fullchain.pem"},
	{"relative path segment", "./picasoft.net/x", "./picasoft.net/x"},
	// Both.
	{"mixed", "admin@picasoft.net manages https://pad.picasoft.net and registry.picasoft.net", "admin@picasoft.net manages https://pad.test.picasoft.net and registry.picasoft.net"},
	{"mixed test and prod", "pad.test.picasoft.net,pad.picasoft.net", "pad.test.picasoft.net,pad.test.picasoft.net"},
}

func TestRewrite(t *testing.T) {
	r := picasoft(t)
	for _, tc := range rewriteCases {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := r.Rewrite(tc.in)
			assert.Check(t, is.Equal(got, tc.out))
			assert.Check(t, is.Equal(changed, tc.in != tc.out))
		})
	}
}

func TestRewriteIdempotent(t *testing.T) {
	r := picasoft(t)
	for _, tc := range rewriteCases {
		once, _ := r.Rewrite(tc.in)
		twice, changed := r.Rewrite(once)
		assert.Check(t, is.Equal(twice, once), "case %q", tc.name)
		assert.Check(t, !changed, "case %q", tc.name)
		assert.Check(t, is.Len(r.ProdHosts(once), 0), "case %q", tc.name)
	}
}

// TestRewriteTestNotUnderProd uses a test domain that is not a subdomain of
// the production domain.
func TestRewriteTestNotUnderProd(t *testing.T) {
	r, err := testurls.New("example.org", "example.test")
	assert.NilError(t, err)
	for in, out := range map[string]string{
		"www.example.org":                 "www.example.test",
		"example.org":                     "example.test",
		"www.example.test":                "www.example.test",
		`^.+\.example\.org$`:              `^.+\.example\.test$`,
		"a.example.org.example.test":      "a.example.org.example.test",
		"ops@example.org, example.org.":   "ops@example.org, example.test.",
		"https://EXAMPLE.ORG:8443/x/y.js": "https://example.test:8443/x/y.js",
	} {
		got, _ := r.Rewrite(in)
		assert.Check(t, is.Equal(got, out), "in %q", in)
		again, _ := r.Rewrite(got)
		assert.Check(t, is.Equal(again, got), "in %q", in)
	}

	// A test domain that extends the production domain on the right.
	r, err = testurls.New("example.org", "example.org.test")
	assert.NilError(t, err)
	got, _ := r.Rewrite("a.example.org b.example.org.test")
	assert.Check(t, is.Equal(got, "a.example.org.test b.example.org.test"))
}

func TestRewriteFastPathDoesNotAllocate(t *testing.T) {
	r := picasoft(t)
	s := strings.Repeat("nothing to see here: https://example.com/path, admin@example.org\n", 20)
	allocs := testing.AllocsPerRun(100, func() {
		if _, changed := r.Rewrite(s); changed {
			t.Fatal("changed")
		}
	})
	assert.Check(t, is.Equal(allocs, 0.0))
	// Nor when the first label is present but nothing is rewritten.
	s = "admin@picasoft.net notpicasoft.net pad.test.picasoft.net registry.picasoft.net/x"
	allocs = testing.AllocsPerRun(100, func() { r.Rewrite(s) })
	assert.Check(t, is.Equal(allocs, 0.0))
	// One allocation when something changes.
	s = "Host(`a.picasoft.net`) || Host(`b.picasoft.net`)"
	allocs = testing.AllocsPerRun(100, func() { r.Rewrite(s) })
	assert.Check(t, is.Equal(allocs, 1.0))
}

func TestRewriteConcurrent(t *testing.T) {
	r := picasoft(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, tc := range rewriteCases {
				if got, _ := r.Rewrite(tc.in); got != tc.out {
					t.Errorf("%s: got %q, want %q", tc.name, got, tc.out)
				}
			}
		})
	}
	wg.Wait()
}

func TestProdHosts(t *testing.T) {
	r := picasoft(t)
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"nothing here", nil},
		{"Host(`pad.picasoft.net`)", []string{"pad.picasoft.net"}},
		{"Host(`a.picasoft.net`, `b.picasoft.net`) || Host(`a.picasoft.net`)", []string{"a.picasoft.net", "b.picasoft.net"}},
		{"Host(`picasoft.net`) || Host(`www.picasoft.net`)", []string{"picasoft.net", "www.picasoft.net"}},
		{"Host(`PAD.PicaSoft.NET`) || Host(`pad.picasoft.net`)", []string{"PAD.PicaSoft.NET", "pad.picasoft.net"}},
		{"HostRegexp(`^pad\\.picasoft\\.net$`)", []string{`pad\.picasoft\.net`}},
		{"HostRegexp(`^.+\\.picasoft\\.net$`)", []string{`picasoft\.net`}},
		{"HostRegexp(`{sub:[a-z]+}.picasoft.net`)", []string{"picasoft.net"}},
		{"Host(`pad.test.picasoft.net`)", nil},
		{"Host(`registry.picasoft.net`)", nil},
		{"admin@picasoft.net /live/picasoft.net/cert.pem notpicasoft.net", nil},
		{"https://pad.picasoft.net:8443/x", []string{"pad.picasoft.net"}},
	} {
		assert.Check(t, is.DeepEqual(r.ProdHosts(tc.in), tc.want), "in %q", tc.in)
	}
}

func TestNew(t *testing.T) {
	r, err := testurls.New("PicaSoft.NET", "Test.PicaSoft.Net", "Registry.PicaSoft.Net:5000", "", " ")
	assert.NilError(t, err)
	assert.Check(t, is.Equal(r.Prod(), "picasoft.net"))
	assert.Check(t, is.Equal(r.Test(), "test.picasoft.net"))
	got, _ := r.Rewrite("registry.picasoft.net/x pad.picasoft.net")
	assert.Check(t, is.Equal(got, "registry.picasoft.net/x pad.test.picasoft.net"))

	_, err = testurls.New("localhost", "test.localhost")
	assert.Check(t, err)
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		prod, test string
		keep       []string
		err        string
	}{
		{"", "test.picasoft.net", nil, "testurls: empty production domain"},
		{"picasoft.net", "", nil, "testurls: empty test domain"},
		{"picasoft.net", "picasoft.net", nil, `testurls: production and test domains are both "picasoft.net": choose a different test domain`},
		{"picasoft.net", "PICASOFT.net", nil, `testurls: production and test domains are both "picasoft.net": choose a different test domain`},
		{"test.picasoft.net", "picasoft.net", nil, `testurls: production domain "test.picasoft.net" lies under test domain "picasoft.net": choose a test domain outside the production domain, e.g. "test.test.picasoft.net"`},
		{"picasoft.net.", "test.picasoft.net", nil, `testurls: invalid production domain "picasoft.net.": empty label`},
		{".picasoft.net", "test.picasoft.net", nil, `testurls: invalid production domain ".picasoft.net": empty label`},
		{"picasoft..net", "test.picasoft.net", nil, `testurls: invalid production domain "picasoft..net": empty label`},
		{"https://picasoft.net", "test.picasoft.net", nil, `testurls: invalid production domain "https://picasoft.net": invalid character ':'`},
		{"pica soft.net", "test.picasoft.net", nil, `testurls: invalid production domain "pica soft.net": invalid character ' '`},
		{"*.picasoft.net", "test.picasoft.net", nil, `testurls: invalid production domain "*.picasoft.net": invalid character '*'`},
		{"picasoft.net", "-test.picasoft.net", nil, `testurls: invalid test domain "-test.picasoft.net": label "-test" starts or ends with '-'`},
		{"picasoft.net", "test_x.picasoft.net", nil, `testurls: invalid test domain "test_x.picasoft.net": invalid character '_'`},
		{"picasoft.net", strings.Repeat("a", 64) + ".net", nil, `testurls: invalid test domain "` + strings.Repeat("a", 64) + `.net": label "` + strings.Repeat("a", 64) + `" longer than 63 characters`},
		{"picasoft.net", "test.picasoft.net", []string{"registry.picasoft.net/x"}, `testurls: invalid host to keep "registry.picasoft.net/x": invalid character '/'`},
	} {
		_, err := testurls.New(tc.prod, tc.test, tc.keep...)
		assert.Check(t, is.Error(err, tc.err), "New(%q, %q, %q)", tc.prod, tc.test, tc.keep)
	}
}
