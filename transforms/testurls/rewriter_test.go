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
	{"case mixed", "PAD.PicaSoft.NET", "PAD.test.PicaSoft.NET"},
	{"case upper", "EXAMPLE.PICASOFT.NET", "EXAMPLE.TEST.PICASOFT.NET"},
	{"case upper realm", "KRB.PICASOFT.NET = {", "KRB.TEST.PICASOFT.NET = {"},
	{"case upper escaped", `PAD\.PICASOFT\.NET`, `PAD\.TEST\.PICASOFT\.NET`},
	{"case rule", "Host(`Pad.PICASOFT.net`)", "Host(`Pad.test.PICASOFT.net`)"},
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
	// Connections: URL user information and the scp form get the test
	// host; a bare address stays an e-mail address.
	{"url user", "smtp://user@mail.picasoft.net:587", "smtp://user@mail.test.picasoft.net:587"},
	{"url user password", "postgres://pad:pw@db.picasoft.net:5432/pad", "postgres://pad:pw@db.test.picasoft.net:5432/pad"},
	{"url password only", "redis://:pw@redis.picasoft.net:6379/0", "redis://:pw@redis.test.picasoft.net:6379/0"},
	{"url password with @ and :", "redis://:p@ss:w@redis.picasoft.net", "redis://:p@ss:w@redis.test.picasoft.net"},
	{"smtps user", "smtps://mailer@mail.picasoft.net:465", "smtps://mailer@mail.test.picasoft.net:465"},
	{"jdbc", "jdbc:postgresql://db.picasoft.net:5432/x", "jdbc:postgresql://db.test.picasoft.net:5432/x"},
	{"jdbc user", "jdbc:mysql://u:p@db.picasoft.net/x?ssl=true", "jdbc:mysql://u:p@db.test.picasoft.net/x?ssl=true"},
	{"sqlalchemy", "postgresql+psycopg2://u:p@db.picasoft.net/x", "postgresql+psycopg2://u:p@db.test.picasoft.net/x"},
	{"mongodb srv", "mongodb+srv://u:p@cluster.picasoft.net/", "mongodb+srv://u:p@cluster.test.picasoft.net/"},
	{"mongodb hosts", "mongodb://u:p@a.picasoft.net:27017,b.picasoft.net:27017/db", "mongodb://u:p@a.test.picasoft.net:27017,b.test.picasoft.net:27017/db"},
	{"amqp", "amqp://guest:guest@rabbit.picasoft.net:5672/vhost", "amqp://guest:guest@rabbit.test.picasoft.net:5672/vhost"},
	{"ldap", "ldaps://ldap.picasoft.net:636", "ldaps://ldap.test.picasoft.net:636"},
	{"ldap dn user", "ldap://cn=admin,dc=picasoft,dc=net@ldap.picasoft.net", "ldap://cn=admin,dc=picasoft,dc=net@ldap.test.picasoft.net"},
	{"url user in text", "DATABASE_URL=postgres://u:p@db.picasoft.net/x admin@picasoft.net", "DATABASE_URL=postgres://u:p@db.test.picasoft.net/x admin@picasoft.net"},
	{"scp rsync", "backup@backup.picasoft.net:/srv/backups/pad/", "backup@backup.test.picasoft.net:/srv/backups/pad/"},
	{"scp home", "backup@backup.picasoft.net:~/pad", "backup@backup.test.picasoft.net:~/pad"},
	{"scp git", "git@git.picasoft.net:team/repo.git", "git@git.test.picasoft.net:team/repo.git"},
	{"scp git no dir", "git@git.picasoft.net:repo.git", "git@git.test.picasoft.net:repo.git"},
	{"rsync daemon", "backup@backup.picasoft.net::pad", "backup@backup.test.picasoft.net::pad"},
	{"user host port", "backup@backup.picasoft.net:2222", "backup@backup.test.picasoft.net:2222"},
	{"user host path", "u@files.picasoft.net/share", "u@files.test.picasoft.net/share"},
	{"host port pair", "db.picasoft.net:5432", "db.test.picasoft.net:5432"},
	{"host port list", "a.picasoft.net:9092,b.picasoft.net:9092", "a.test.picasoft.net:9092,b.test.picasoft.net:9092"},
	{"ssh url", "ssh://git@git.picasoft.net:2222/team/repo.git", "ssh://git@git.test.picasoft.net:2222/team/repo.git"},
	{"bare address", "noreply@picasoft.net", "noreply@picasoft.net"},
	{"bare address subdomain", "admin@pad.picasoft.net", "admin@pad.picasoft.net"},
	{"mailto", "mailto:admin@picasoft.net", "mailto:admin@picasoft.net"},
	{"mailto query", "mailto:admin@picasoft.net?subject=x", "mailto:admin@picasoft.net?subject=x"},
	{"address then colon in text", "write to admin@picasoft.net: we answer", "write to admin@picasoft.net: we answer"},
	{"address in passwd file", "admin@picasoft.net:{SHA512-CRYPT}$6$abc", "admin@picasoft.net:{SHA512-CRYPT}$6$abc"},
	{"address after url path", "https://social.picasoft.net/@admin@picasoft.net", "https://social.test.picasoft.net/@admin@picasoft.net"},
	{"address in quotes after url", `"https://x.org" "a@picasoft.net"`, `"https://x.org" "a@picasoft.net"`},
	{"address in mail header", "From: Pad <noreply@pad.picasoft.net>", "From: Pad <noreply@pad.picasoft.net>"},
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
		"https://EXAMPLE.ORG:8443/x/y.js": "https://EXAMPLE.TEST:8443/x/y.js",
		"https://Example.Org/":            "https://example.test/",
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

// TestKept: every production host Rewrite leaves, with the rule that keeps
// it; test hosts and non-hosts are not listed.
func TestKept(t *testing.T) {
	r := picasoft(t)
	e, p, n := testurls.KeptEmail, testurls.KeptPath, testurls.KeptNeverRewritten
	for _, tc := range []struct {
		in   string
		want []testurls.Kept
	}{
		{"https://pad.picasoft.net pad.test.picasoft.net notpicasoft.net", nil},
		{"noreply@picasoft.net", []testurls.Kept{{Host: "picasoft.net", Reason: e}}},
		{"postgres://u:p@db.picasoft.net/x", nil},
		{"sites/erp.picasoft.net/x", []testurls.Kept{{Host: "erp.picasoft.net", Reason: p}}},
		{"registry.picasoft.net/pad:1 Registry.picasoft.net", []testurls.Kept{{Host: "registry.picasoft.net", Reason: n}, {Host: "Registry.picasoft.net", Reason: n}}},
		{"a@x.picasoft.net a@x.picasoft.net /x.picasoft.net", []testurls.Kept{{Host: "x.picasoft.net", Reason: e}, {Host: "x.picasoft.net", Reason: p}}},
	} {
		assert.Check(t, is.DeepEqual(r.Kept(tc.in), tc.want), "in %q", tc.in)
	}
}

// TestModes: a Traefik rule gets the test host of every production host,
// the never-rewritten ones included; WithPaths rewrites hosts inside paths.
func TestModes(t *testing.T) {
	r := picasoft(t)
	rules := r.ForRules()
	for in, out := range map[string]string{
		"Host(`registry.picasoft.net`)":                           "Host(`registry.test.picasoft.net`)",
		"Host(`REGISTRY.PICASOFT.NET`) || Host(`a.picasoft.net`)": "Host(`REGISTRY.TEST.PICASOFT.NET`) || Host(`a.test.picasoft.net`)",
		"HostRegexp(`^registry\\.picasoft\\.net$`)":               "HostRegexp(`^registry\\.test\\.picasoft\\.net$`)",
	} {
		got, _ := rules.Rewrite(in)
		assert.Check(t, is.Equal(got, out), "in %q", in)
		kept, _ := r.Rewrite(in)
		assert.Check(t, kept != out, "the rewriter itself must keep the registry in %q", in)
	}
	got, _ := r.Rewrite("image registry.picasoft.net/x")
	assert.Check(t, is.Equal(got, "image registry.picasoft.net/x"), "ForRules must return a copy")

	paths := r.WithPaths()
	for in, out := range map[string]string{
		"sites/erp.picasoft.net/site_config.json": "sites/erp.test.picasoft.net/site_config.json",
		"/etc/letsencrypt/live/picasoft.net/x":    "/etc/letsencrypt/live/test.picasoft.net/x",
		"admin@picasoft.net":                      "admin@picasoft.net",
		"registry.picasoft.net/pad:1":             "registry.picasoft.net/pad:1",
	} {
		got, _ := paths.Rewrite(in)
		assert.Check(t, is.Equal(got, out), "in %q", in)
	}
	got, _ = r.Rewrite("sites/erp.picasoft.net/x")
	assert.Check(t, is.Equal(got, "sites/erp.picasoft.net/x"), "WithPaths must return a copy")
}
