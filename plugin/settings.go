package plugin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v4"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/gitrepo"
)

// SettingsFile is the name of picatest's own configuration file, looked up
// from the project directory upwards to the git root (SPEC §2).
const SettingsFile = ".picatest.yml"

// Settings are picatest's own settings (SPEC §2), resolved with the
// precedence flag > environment > .picatest.yml > default.
type Settings struct {
	ProdDomain string   `yaml:"prod-domain" json:"prod-domain"`
	TestDomain string   `yaml:"test-domain" json:"test-domain"`
	Registry   string   `yaml:"registry" json:"registry"`
	KeepHosts  []string `yaml:"keep-hosts" json:"keep-hosts"`
	TestHosts  []string `yaml:"test-hosts" json:"test-hosts"`
	Proxy      string   `yaml:"proxy" json:"proxy"`

	// File is the .picatest.yml that was read, if any.
	File string `yaml:"-" json:"file,omitempty"`
}

// DefaultSettings are Picasoft's values.
func DefaultSettings() Settings {
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

// settingsOptions are the flags that set Settings.
type settingsOptions struct {
	prodDomain string
	testDomain string
	registry   string
	proxy      string
	flags      []*pflag.FlagSet
}

func (o *settingsOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.prodDomain, "prod-domain", "", `Production domain, rewritten to the test domain (env PICATEST_PROD_DOMAIN, default "picasoft.net")`)
	f.StringVar(&o.testDomain, "test-domain", "", `Test domain (env PICATEST_TEST_DOMAIN, default "test.picasoft.net")`)
	f.StringVar(&o.registry, "registry", "", `Home registry, never rewritten (env PICATEST_REGISTRY, default "registry.picasoft.net")`)
	f.StringVar(&o.proxy, "proxy", "", `Traefik entrypoint for smoke checks, host[:port] (env PICATEST_PROXY, default "127.0.0.1")`)
	o.flags = append(o.flags, f)
}

// resolve applies flag > environment > .picatest.yml (found from dir up to
// the git root) > default.
func (o *settingsOptions) resolve(dir string, getenv func(string) string) (Settings, error) {
	s := DefaultSettings()
	file, err := findSettingsFile(dir)
	if err != nil {
		return s, err
	}
	if file != "" {
		if err := readSettingsFile(file, &s); err != nil {
			return s, err
		}
		s.File = file
	}
	pick := func(dst *string, flag, value, env string) {
		if o.changed(flag) {
			*dst = value
		} else if v := getenv(env); v != "" {
			*dst = v
		}
	}
	pick(&s.ProdDomain, "prod-domain", o.prodDomain, "PICATEST_PROD_DOMAIN")
	pick(&s.TestDomain, "test-domain", o.testDomain, "PICATEST_TEST_DOMAIN")
	pick(&s.Registry, "registry", o.registry, "PICATEST_REGISTRY")
	pick(&s.Proxy, "proxy", o.proxy, "PICATEST_PROXY")
	if v := getenv("PICATEST_TEST_HOSTS"); v != "" {
		s.TestHosts = splitList(v)
	}
	s.ProdDomain = strings.ToLower(strings.TrimSuffix(s.ProdDomain, "."))
	s.TestDomain = strings.ToLower(strings.TrimSuffix(s.TestDomain, "."))
	return s, nil
}

// changed reports whether flag was set on the command line, before or
// after the subcommand.
func (o *settingsOptions) changed(flag string) bool {
	for _, f := range o.flags {
		if f.Changed(flag) {
			return true
		}
	}
	return false
}

func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// findSettingsFile looks for .picatest.yml from dir upwards, stopping at the
// git root (the directory holding .git). Outside a git work tree only dir
// itself is looked at.
func findSettingsFile(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	root := gitrepo.Root(dir)
	for {
		p := filepath.Join(dir, SettingsFile)
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

func readSettingsFile(path string, s *Settings) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return exitcode.Invalidf("cannot read %s: %v\nFix its permissions or remove it.", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(s); err != nil && !errors.Is(err, io.EOF) {
		return exitcode.Invalidf("invalid %s: %v\nKnown keys: prod-domain, test-domain, registry, keep-hosts, test-hosts, proxy.", path, err)
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
