package transforms_test

import (
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"gotest.tools/v3/assert"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/transforms/configfiles"
	"github.com/picasoft/docker-picatest/transforms/testlabels"
	"github.com/picasoft/docker-picatest/transforms/testurls"
	"github.com/picasoft/docker-picatest/transforms/verify"
)

// pipeline applies the transforms as the plugin does after loading.
func pipeline(t *testing.T, p *types.Project, rw *testurls.Rewriter) *types.Project {
	t.Helper()
	p, _, err := testurls.Transform(p, rw)
	assert.NilError(t, err)
	p, _, err = configfiles.Transform(p, rw, configfiles.Options{})
	assert.NilError(t, err)
	p, _, err = testlabels.Transform(p, testlabels.Labels{Owner: "fuzz"})
	assert.NilError(t, err)
	return p
}

// FuzzPipeline runs the whole transform pipeline on generated Compose
// projects whose hostnames, labels, environment and mounted file come from
// the fuzzer, and checks the properties of SPEC §3: idempotence, image
// names unchanged, e-mail addresses unchanged, no production host left in
// a Traefik rule, the input project unchanged.
func FuzzPipeline(f *testing.F) {
	for _, seed := range []struct{ host, value, file string }{
		{"pad.picasoft.net", "https://pad.picasoft.net/x", "url = https://pad.picasoft.net\n"},
		{"PicaSoft.NET", "admin@picasoft.net", "mail: admin@picasoft.net\n"},
		{"a.test.picasoft.net", "notpicasoft.net", ""},
		{"registry.picasoft.net", `^.+\.picasoft\.net$`, "\x00binary"},
		{"www.pad.picasoft.net", "$$HOME picasoft.net.", "/etc/picasoft.net/cert.pem"},
	} {
		f.Add(seed.host, seed.value, seed.file)
	}
	rw, err := testurls.New("picasoft.net", "test.picasoft.net", "registry.picasoft.net")
	if err != nil {
		f.Fatal(err)
	}
	strict, err := testurls.New("picasoft.net", "test.picasoft.net")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, host, value, file string) {
		clean := func(s string) string {
			// Keep the generated YAML well-formed: the fuzzer explores
			// hostnames and values, not YAML syntax.
			return strings.Map(func(r rune) rune {
				if r < 0x20 || r == '\'' || r == 0x7f || r == '$' || r == '`' || r == '\\' {
					return -1
				}
				return r
			}, s)
		}
		host, value = clean(host), clean(value)
		if host == "" || len(host) > 200 || len(value) > 500 || len(file) > 4000 {
			t.Skip()
		}
		compose := `services:
  web:
    image: registry.picasoft.net/pica-web:1.0
    environment:
      URL: 'https://` + host + `/'
      VALUE: '` + value + `'
      MAIL: 'admin@` + host + `'
    command: ['--host', '` + host + `']
    labels:
      traefik.http.routers.web.rule: 'Host(` + "`" + host + "`" + `)'
      other: '` + value + `'
    volumes:
      - ./conf.ini:/etc/conf.ini:ro
`
		p := composetest.Load(t, compose, map[string]string{"conf.ini": file})
		before := composetest.YAML(t, p)

		once := pipeline(t, p, rw)
		assert.Equal(t, composetest.YAML(t, p), before, "the input project changed")
		twice := pipeline(t, once, rw)
		assert.Equal(t, composetest.YAML(t, twice), composetest.YAML(t, once), "not idempotent")

		web := once.Services["web"]
		assert.Equal(t, web.Image, "registry.picasoft.net/pica-web:1.0")
		assert.Equal(t, *web.Environment["MAIL"], *p.Services["web"].Environment["MAIL"], "an e-mail address changed")
		err := verify.Check(p, once, strict)
		if err != nil {
			// Only the never-rewritten registry host may be left in a rule.
			for _, h := range strict.ProdHosts(web.Labels["traefik.http.routers.web.rule"]) {
				assert.Assert(t, strings.EqualFold(strings.Trim(h, "."), "registry.picasoft.net"), "production host %q left in the rule: %v", h, err)
			}
		}
	})
}
