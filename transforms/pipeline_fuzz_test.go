package transforms_test

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
	"github.com/picasoft/docker-picatest/internal/traefik"
	"github.com/picasoft/docker-picatest/transforms/configfiles"
	"github.com/picasoft/docker-picatest/transforms/examplesecrets"
	"github.com/picasoft/docker-picatest/transforms/testlabels"
	"github.com/picasoft/docker-picatest/transforms/testurls"
	"github.com/picasoft/docker-picatest/transforms/verify"
)

// pipeline applies the transforms in the plugin's order after loading.
func pipeline(t *testing.T, p *types.Project, rw *testurls.Rewriter) *types.Project {
	t.Helper()
	p, _, err := examplesecrets.Transform(p, examplesecrets.Options{})
	assert.NilError(t, err)
	p, _, err = testurls.Transform(p, rw)
	assert.NilError(t, err)
	p, _, err = configfiles.Transform(p, rw, configfiles.Options{})
	assert.NilError(t, err)
	p, _, err = testlabels.Transform(p, testlabels.Labels{Owner: "fuzz"})
	assert.NilError(t, err)
	return p
}

// FuzzPipeline runs the whole transform pipeline on generated Compose
// projects: 1 to 4 services whose hostnames, labels, environment, image,
// bind-mount paths and mounted file come from the fuzzer, with a secrets
// env file and its example. It checks the properties of SPEC §3: no panic,
// idempotence, image names and file paths unchanged, bare e-mail addresses
// unchanged (a host after "@" followed by a path, port or scp path is a
// connection and is rewritten), no production host left in a Traefik rule
// (the never-rewritten registry included), the input project
// unchanged. The seed corpus is in testdata/fuzz/FuzzPipeline.
func FuzzPipeline(f *testing.F) {
	f.Add("pad.picasoft.net", "https://pad.picasoft.net/x", "url = https://pad.picasoft.net\n", uint8(1))
	rw, err := testurls.New("picasoft.net", "test.picasoft.net", "registry.picasoft.net")
	if err != nil {
		f.Fatal(err)
	}
	strict, err := testurls.New("picasoft.net", "test.picasoft.net")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, host, value, file string, n uint8) {
		// Keep the generated YAML well-formed: the fuzzer explores
		// hostnames and values, not YAML syntax.
		host, value = yamlSafe(host), yamlSafe(value)
		if host == "" || len(host) > 200 || len(value) > 500 || len(file) > 4000 {
			t.Skip()
		}
		services := int(n%4) + 1
		p := composetest.Load(t, generate(host, value, services), map[string]string{
			"conf.ini":                file,
			"certs/" + pathSafe(host): "cert of " + host,
			"app.secrets.example":     "TOKEN=example-" + pathSafe(value) + "\n",
		})
		before := composetest.YAML(t, p)

		once := pipeline(t, p, rw)
		assert.Equal(t, composetest.YAML(t, p), before, "the input project changed")
		twice := pipeline(t, once, rw)
		assert.Equal(t, composetest.YAML(t, twice), composetest.YAML(t, once), "not idempotent")

		for name, in := range p.Services {
			out := once.Services[name]
			assert.Equal(t, out.Image, in.Image, "service %s: the image name changed", name)
			// MAIL is admin@<host>: the address is admin@ and the host
			// characters that follow; what comes after them (" x.picasoft.net"
			// when host starts with a space) is text, rewritten as such.
			// It is a bare address, kept, when no path, port or scp path
			// follows the host (SPEC §3.1); otherwise a connection.
			mail := "admin@" + hostPrefix(host)
			if rest := host[len(hostPrefix(host)):]; rest == "" || strings.ContainsRune(" \t>,;\")", rune(rest[0])) {
				assert.Assert(t, strings.HasPrefix(*out.Environment["MAIL"], mail), "service %s: the e-mail address %q changed: %q", name, mail, *out.Environment["MAIL"])
			}
			assert.DeepEqual(t, mountPaths(out), mountPaths(in))
			for target, src := range bindSources(out) {
				assert.Equal(t, src, bindSources(in)[target], "service %s: the source of %s moved", name, target)
			}
			assert.Check(t, is.Len(out.EnvFiles, len(in.EnvFiles)))
		}
		if err := verify.Check(p, once, strict); err != nil {
			// A rule gets the test host whatever the host, the
			// never-rewritten registry included: only a host the rule
			// itself writes inside an e-mail address or a path is left.
			for _, s := range once.Services {
				for key, rule := range traefik.Rules(s.Labels) {
					assert.Assert(t, is.Len(strict.ProdHosts(rule), 0), "%s: production host left in %q: %v", key, rule, err)
					for _, k := range strict.Kept(rule) {
						assert.Assert(t, k.Reason != testurls.KeptNeverRewritten, "%s: production host %q left in %q: %v", key, k.Host, rule, err)
					}
				}
			}
		}
	})
}

// generate returns a Compose file of n services built around host and
// value.
func generate(host, value string, n int) string {
	var b strings.Builder
	b.WriteString("services:\n")
	for i := range n {
		fmt.Fprintf(&b, `  web%d:
    image: %s
    env_file: [app.secrets]
    environment:
      URL: 'https://%s/'
      VALUE: '%s'
      MAIL: 'admin@%s'
    command: ['--host', '%s']
    labels:
      traefik.http.routers.web%d.rule: 'Host(`+"`%s`"+`) || Host(`+"`www.%s`"+`)'
      traefik.http.routers.web%d.tls.certresolver: letsencrypt
      other: '%s'
    volumes:
      - ./conf.ini:/etc/conf.ini:ro
      - ./certs/%s:/etc/ssl/%s:ro
`, i, image(host, i), host, value, host, host, i, host, host, i, value, pathSafe(host), pathSafe(host))
	}
	return b.String()
}

// image is a valid image reference whose registry or path holds host, when
// host can be part of one.
func image(host string, i int) string {
	if h := strings.ToLower(host); i%2 == 1 && registryHost.MatchString(h) {
		return h + "/pica-web:1.0"
	}
	return "registry.picasoft.net/pica-web:1.0"
}

var registryHost = regexp.MustCompile(`^[a-z0-9]+([.-][a-z0-9]+)*\.[a-z0-9]+$`)

// mountPaths lists every mount target of s, sorted, with the source of the
// bind mounts: the transforms may turn a bind mount into a config (no
// source then) but never move a file.
func mountPaths(s types.ServiceConfig) []string {
	var l []string
	for _, v := range s.Volumes {
		l = append(l, v.Target)
	}
	for _, c := range s.Configs {
		l = append(l, c.Target)
	}
	sort.Strings(l)
	return l
}

// bindSources maps the target of each bind mount of s to its source.
func bindSources(s types.ServiceConfig) map[string]string {
	m := map[string]string{}
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind {
			m[v.Target] = v.Source
		}
	}
	return m
}

// hostPrefix is the leading run of host name characters of s.
func hostPrefix(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-')
	})
	if i < 0 {
		return s
	}
	return s[:i]
}

func yamlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == '\'' || r == 0x7f || r == '$' || r == '`' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

// pathSafe keeps the characters of s that can name a file in a short
// volume syntax.
func pathSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return -1
	}, s)
	s = strings.Trim(s, ".")
	if s == "" {
		return "x"
	}
	return s
}
