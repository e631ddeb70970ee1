package deploy

import (
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/picasoft/docker-picatest/internal/composetest"
)

func TestClientPathsWarning(t *testing.T) {
	p := composetest.Load(t, `
services:
  web:
    image: app:1
    volumes:
      - ./data:/data
      - cache:/cache
      - /var/run/docker.sock:/var/run/docker.sock:ro
    configs:
      - source: inline
      - source: plain
    secrets:
      - token
  db:
    image: db:1
    volumes:
      - ./data:/var/lib/data
configs:
  inline:
    content: "hello"
  plain:
    file: ./conf/plain.txt
secrets:
  token:
    file: ./secrets/token.example
volumes:
  cache: {}
`, map[string]string{"conf/plain.txt": "x", "secrets/token.example": "t"})

	assert.Check(t, is.DeepEqual(ClientPaths(p), []string{
		"services.db: data",
		"services.web: data",
		"services.web: /var/run/docker.sock",
		"services.web: conf/plain.txt",
		"services.web: secrets/token.example",
	}))
	for host, remote := range map[string]bool{"unix:///var/run/docker.sock": false, "tcp://127.0.0.1:2375": true, "ssh://pica01-test": true} {
		w := ClientPathsWarning(p, host)
		if !remote {
			assert.Check(t, is.Equal(w, ""), host)
			continue
		}
		assert.Check(t, strings.HasPrefix(w, "the Docker engine is not local ("+host+"): these paths are resolved on the daemon's host, not on this machine: services.db: data, "), w)
		assert.Check(t, !strings.Contains(w, "\n"), "one line: %q", w)
	}

	none := composetest.Load(t, "services:\n  web:\n    image: app:1\n    configs: [inline]\nconfigs:\n  inline:\n    content: hi\n", nil)
	assert.Check(t, is.Equal(ClientPathsWarning(none, "tcp://127.0.0.1:2375"), ""))
}
