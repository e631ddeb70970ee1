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
	"path/filepath"
	"strings"

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
}

// Default returns Picasoft's values.
func Default() Settings {
	return Settings{
		ProdDomain: "picasoft.net",
		TestDomain: "test.picasoft.net",
		Registry:   "registry.picasoft.net",
		TestHosts:  []string{"*-test", "*-test.*"},
		Proxy:      "127.0.0.1",
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
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(s); err != nil && !errors.Is(err, io.EOF) {
		return exitcode.Invalidf("invalid %s: %v\nKnown keys: prod-domain, test-domain, registry, keep-hosts, test-hosts, proxy, traefik-api.", path, err)
	}
	for name, v := range map[string]string{"prod-domain": s.ProdDomain, "test-domain": s.TestDomain, "registry": s.Registry} {
		if v == "" {
			return exitcode.Invalidf("invalid %s: %s is empty\nSet it or remove the key to use the default.", path, name)
		}
	}
	return nil
}

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
	if v := getenv("PICATEST_TEST_HOSTS"); v != "" {
		s.TestHosts = SplitList(v)
	}
	s.ProdDomain = strings.ToLower(strings.TrimSuffix(s.ProdDomain, "."))
	s.TestDomain = strings.ToLower(strings.TrimSuffix(s.TestDomain, "."))
	return s, nil
}
