// Package settings resolves docker picatest's own settings (the production
// and test domains, the home registry, the hosts never rewritten, the test
// hosts, the Traefik entrypoint) with the precedence flag > environment >
// .picatest.yml (looked up from the project directory to the git root) >
// default.
package settings

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v4"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/gitrepo"
	"github.com/picasoft/docker-picatest/internal/treefile"
)

// File is the name of picatest's own configuration file, looked up
// from the project directory upwards to the git root (SPEC §2).
const File = ".picatest.yml"

// Settings are picatest's own settings (SPEC §2), resolved with the
// precedence flag > environment > .picatest.yml > default.
type Settings struct {
	ProdDomain string   `yaml:"prod-domain" json:"prod-domain"`
	TestDomain string   `yaml:"test-domain" json:"test-domain"`
	Registry   string   `yaml:"registry" json:"registry"`
	KeepHosts  []string `yaml:"keep-hosts" json:"keep-hosts"`
	TestHosts  []string `yaml:"test-hosts" json:"test-hosts"`
	Proxy      string   `yaml:"proxy" json:"proxy"`
	// TraefikAPI is host[:port] of Traefik's API, "off" for none; empty:
	// the proxy host on port 8080 (traefikapi.Address).
	TraefikAPI string `yaml:"traefik-api" json:"traefik-api,omitempty"`

	// File is the .picatest.yml that was read, if any.
	File string `yaml:"-" json:"file,omitempty"`
	// TestHostsFrom is where TestHosts come from: DefaultSource,
	// TestHostsEnv, or the path of the .picatest.yml that sets them.
	TestHostsFrom string `yaml:"-" json:"test-hosts-from,omitempty"`
}

// The sources of the test-host globs (Settings.TestHostsFrom) besides a
// .picatest.yml.
const (
	// DefaultSource: the globs are the defaults.
	DefaultSource = "default"
	// TestHostsEnv is the environment variable of the test-host globs,
	// comma-separated.
	TestHostsEnv = "PICATEST_TEST_HOSTS"
)

// Default returns Picasoft's values.
func Default() Settings {
	return Settings{
		ProdDomain: "picasoft.net",
		TestDomain: "test.picasoft.net",
		Registry:   "registry.picasoft.net",
		TestHosts:  []string{"*-test", "*-test.*"},
		Proxy:      "127.0.0.1",

		TestHostsFrom: DefaultSource,
	}
}

// NeverRewritten returns the hosts that test URLs never rewrite: the
// registry host and the keep-hosts.
func (s Settings) NeverRewritten() []string {
	host := s.Registry
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	return append([]string{host}, s.KeepHosts...)
}

// SplitList splits a comma-separated list, dropping blanks.
func SplitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// findFile looks for .picatest.yml from dir upwards, stopping at the
// git root (the directory holding .git). Outside a git work tree only dir
// itself is looked at.
func findFile(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	root := gitrepo.Root(dir)
	for {
		p := filepath.Join(dir, File)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", exitcode.Invalidf("cannot read %s: %v\nFix its permissions or remove it.", p, err)
		}
		parent := filepath.Dir(dir)
		if root == "" || dir == root || parent == dir {
			return "", nil
		}
		dir = parent
	}
}

func readFile(path string, s *Settings) error {
	// The file comes from the tree (a branch may commit a symlink to
	// /dev/zero): read it bounded.
	b, err := treefile.ReadFile(path, treefile.SmallFile)
	if exitcode.Of(err) == exitcode.Invalid {
		return err
	}
	if err != nil {
		return exitcode.Invalidf("cannot read %s: %v\nFix its permissions or remove it.", path, err)
	}
	// The file's test hosts, if it has the key, replace the defaults.
	defaults := s.TestHosts
	s.TestHosts = nil
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(s); err != nil && !errors.Is(err, io.EOF) {
		return exitcode.Invalidf("invalid %s: %v\nKnown keys: prod-domain, test-domain, registry, keep-hosts, test-hosts, proxy, traefik-api.", path, err)
	}
	if s.TestHosts == nil {
		s.TestHosts = defaults
	} else {
		s.TestHostsFrom = path
		if err := checkFileTestHosts(path, s.TestHosts); err != nil {
			return err
		}
	}
	for name, v := range map[string]string{"prod-domain": s.ProdDomain, "test-domain": s.TestDomain, "registry": s.Registry} {
		if v == "" {
			return exitcode.Invalidf("invalid %s: %s is empty\nSet it or remove the key to use the default.", path, name)
		}
	}
	return nil
}

// checkFileTestHosts refuses (exit 2) a test-host glob of a .picatest.yml
// that is malformed, empty, or matches every daemon (MatchesEveryDaemon):
// the file comes with a branch, and a branch must not make every daemon a
// test host, production included, for whoever checks it out (SPEC §5).
func checkFileTestHosts(file string, globs []string) error {
	const machine = "To make this machine a test host whatever the branch, do it on the machine: set PICATEST_TEST_HOSTS " +
		"(e.g. PICATEST_TEST_HOSTS=\"$(docker info --format '{{.Name}}')\"), or add the label net.picasoft.picatest.test-host=true " +
		"to the daemon (\"labels\" in /etc/docker/daemon.json, then restart dockerd)."
	for _, g := range globs {
		if strings.TrimSpace(g) == "" {
			return exitcode.Invalidf("invalid %s: test-hosts holds an empty glob\nRemove it.", file)
		}
		if _, err := path.Match(g, ""); err != nil {
			return exitcode.Invalidf("invalid %s: test-hosts: invalid glob %q: %v\nFix it (path.Match syntax, e.g. \"*-test\").", file, g, err)
		}
		if MatchesEveryDaemon(g) {
			return exitcode.Invalidf("invalid %s: test-hosts: %q matches every Docker daemon: a repository may name test hosts, "+
				"but never make every daemon one (production included) for whoever checks the branch out.\n"+
				"Name the test machines in %s with a literal part (e.g. \"*-test\", \"pica01-test\"). %s", file, g, File, machine)
		}
	}
	return nil
}

// MatchesEveryDaemon reports whether the test-host glob g (path.Match
// syntax, as the test-host guard reads it) matches every daemon name, or
// practically every one: it holds no literal letter or digit (outside a
// [...] class; an escaped one counts). A daemon's name is a host name,
// letters and digits separated by '.', '-' or '_'; a glob without a
// literal letter or digit constrains only the length and the punctuation
// of a name, which every name ("*", "?*", "**", "*?"), every qualified
// one ("*.*") or every hyphenated one ("*-*") satisfies; a class stands
// for any letter ("[a-z]*"). A glob with a literal letter or digit
// ("*-test", "pica0?", "vm") matches only the names that hold it.
func MatchesEveryDaemon(g string) bool {
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*', '?':
		case '[':
			// Skip the class up to its closing ']', escapes included.
			j := i + 1
			for j < len(g) && g[j] != ']' {
				if g[j] == '\\' {
					j++
				}
				j++
			}
			i = j
		case '\\':
			if i+1 < len(g) && isAlnum(rune(g[i+1])) {
				return false
			}
			i++
		default:
			if isAlnum(rune(c)) || c >= 0x80 {
				return false
			}
		}
	}
	return true
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func (s Settings) String() string {
	return fmt.Sprintf("prod-domain=%s test-domain=%s registry=%s", s.ProdDomain, s.TestDomain, s.Registry)
}

// Env are the environment variables of the settings, by flag name.
var Env = map[string]string{
	"prod-domain": "PICATEST_PROD_DOMAIN",
	"test-domain": "PICATEST_TEST_DOMAIN",
	"registry":    "PICATEST_REGISTRY",
	"proxy":       "PICATEST_PROXY",
	"traefik-api": "PICATEST_TRAEFIK_API",
}

// Resolve applies flag > environment > .picatest.yml (found from dir up to
// the git root) > default. flags holds the value of each flag given on the
// command line, by flag name (prod-domain, test-domain, registry, proxy,
// traefik-api).
func Resolve(dir string, flags map[string]string, getenv func(string) string) (Settings, error) {
	s := Default()
	file, err := findFile(dir)
	if err != nil {
		return s, err
	}
	if file != "" {
		if err := readFile(file, &s); err != nil {
			return s, err
		}
		s.File = file
	}
	for flag, dst := range map[string]*string{"prod-domain": &s.ProdDomain, "test-domain": &s.TestDomain, "registry": &s.Registry, "proxy": &s.Proxy, "traefik-api": &s.TraefikAPI} {
		if v, ok := flags[flag]; ok {
			*dst = v
		} else if v := getenv(Env[flag]); v != "" {
			*dst = v
		}
	}
	if v := getenv(TestHostsEnv); v != "" {
		s.TestHosts = SplitList(v)
		s.TestHostsFrom = TestHostsEnv
	}
	s.ProdDomain = strings.ToLower(strings.TrimSuffix(s.ProdDomain, "."))
	s.TestDomain = strings.ToLower(strings.TrimSuffix(s.TestDomain, "."))
	return s, nil
}
