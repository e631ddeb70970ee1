package testurls_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/picasoft/docker-picatest/transforms/testurls"
)

func FuzzRewrite(f *testing.F) {
	for _, tc := range rewriteCases {
		f.Add(tc.in)
	}
	f.Add("a@x\\.picasoft.net b@y.picasoft.net\\.z")
	f.Add("https://EXAMPLE.ORG/ ops@example.org www.example.test")
	f.Add(benchText(3))
	picasoft := picasoft(f)
	example, err := testurls.New("example.org", "example.test", "keep.example.org")
	if err != nil {
		f.Fatal(err)
	}
	// Tiny domains let the fuzzer reach the boundary rules quickly.
	rewriters := []*testurls.Rewriter{picasoft, example}
	for _, d := range [][]string{{"a.b", "t.a.b", "k.a.b"}, {"a.b", "b.a"}, {"a.b", "a.b.a"}, {"a", "a.a"}} {
		r, err := testurls.New(d[0], d[1], d[2:]...)
		if err != nil {
			f.Fatal(err)
		}
		rewriters = append(rewriters, r)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, r := range rewriters {
			checkRewrite(t, r, in)
		}
	})
}

func checkRewrite(t *testing.T, r *testurls.Rewriter, in string) {
	out, changed := r.Rewrite(in)
	if changed != (out != in) {
		t.Fatalf("Rewrite(%q) = %q, %v: changed flag is wrong", in, out, changed)
	}
	if hosts := r.ProdHosts(in); (len(hosts) > 0) != changed {
		t.Fatalf("ProdHosts(%q) = %q but Rewrite changed: %v", in, hosts, changed)
	}
	if again, changed := r.Rewrite(out); changed {
		t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
	}
	if hosts := r.ProdHosts(out); len(hosts) > 0 {
		t.Fatalf("Rewrite(%q) = %q leaves production hosts %q", in, out, hosts)
	}
	first, _, _ := strings.Cut(r.Prod(), ".")
	if !strings.Contains(asciiLower(in), first) && out != in {
		t.Fatalf("Rewrite(%q) = %q without %q in the input", in, out, first)
	}
	if a, b := emailDomains(in), emailDomains(out); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("Rewrite(%q) = %q changed e-mail domains %q to %q", in, out, a, b)
	}
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// emailDomains returns the domains of the bare e-mail addresses in s (SPEC
// §3.1): an "@" with no "/" between it and the space, quote, "<" or start
// before it (so no URL "scheme://user@"), then the host characters (and
// escaped dots) of the domain, followed by the end of s, a space or one of
// `>,;"')` (so no path, no scp form, no port after it). Rewrite must leave
// them unchanged. Such a domain is returned with its terminator, so that a
// rewritten domain that grew into the terminator is seen too.
func emailDomains(s string) []string {
	var domains []string
	for i := 0; i < len(s); i++ {
		if s[i] != '@' {
			continue
		}
		url := false
		for j := i - 1; j >= 0 && !strings.ContainsRune(" \t\n\r\v\f\"'`<", rune(s[j])); j-- {
			if s[j] == '/' {
				url = true
				break
			}
		}
		j := i + 1
		for j < len(s) {
			c := s[j]
			if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' {
				j++
			} else if c == '\\' && j+1 < len(s) && s[j+1] == '.' {
				j += 2
			} else {
				break
			}
		}
		if url || j < len(s) && !strings.ContainsRune(" \t\n\r\v\f>,;\"')", rune(s[j])) {
			continue
		}
		domains = append(domains, s[i+1:min(j+1, len(s))])
	}
	return domains
}

// benchText returns n lines of a configuration file full of URLs, a fourth
// of them on the production domain.
func benchText(n int) string {
	lines := []string{
		"ROOT_URL = https://pad.picasoft.net/some/path?x=1",
		"# contact admin@picasoft.net for help, see https://wiki.example.com/doku.php",
		"server_name pad.test.picasoft.net www.example.org localhost;",
		"proxy_pass http://backend:8080/api/v1/;",
		"traefik.http.routers.pad.rule=Host(`pad.picasoft.net`) || Host(`www.pad.picasoft.net`)",
		"image: registry.picasoft.net/pica-pad:1.0",
		"ssl_certificate /etc/letsencrypt/live/picasoft.net/fullchain.pem;",
		"nothing interesting on this line at all, just some words and numbers 12345",
	}
	var b strings.Builder
	for i := range n {
		b.WriteString(lines[i%len(lines)])
		b.WriteByte('\n')
	}
	return b.String()
}

func BenchmarkRewrite(b *testing.B) {
	r := picasoft(b)
	text := benchText(200)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		r.Rewrite(text)
	}
}

// BenchmarkRewriteLines rewrites the same text line by line, as a transform
// rewriting files does.
func BenchmarkRewriteLines(b *testing.B) {
	r := picasoft(b)
	lines := strings.SplitAfter(benchText(200), "\n")
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			r.Rewrite(l)
		}
	}
}
