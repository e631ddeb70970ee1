// Package engine knows what docker picatest says about the Docker engine
// itself: that it cannot be reached (and what to check), and that its API
// version is too old for a feature the project uses.
package engine

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client/pkg/versions"

	"github.com/picasoft/docker-picatest/internal/exitcode"
)

// Unreachable is an error of UnreachableError: it already says what to
// do.
type Unreachable struct{ error }

// Unwrap returns the error of the engine.
func (e Unreachable) Unwrap() error { return e.error }

// UnreachableError explains that the engine could not be reached, or that
// it answered but refuses the API version of the request, and what to do.
// c may be nil.
func UnreachableError(c any, err error) error {
	where := ""
	if h, ok := c.(interface{ DaemonHost() string }); ok && h.DaemonHost() != "" {
		where = " at " + h.DaemonHost()
	}
	env := "not set"
	if v := os.Getenv("DOCKER_HOST"); v != "" {
		env = v
	}
	if msg := err.Error(); strings.Contains(msg, "client version") && (strings.Contains(msg, "too old") || strings.Contains(msg, "too new")) {
		// The engine answered: it refuses the API version of the request.
		if v := os.Getenv("DOCKER_API_VERSION"); v != "" {
			return Unreachable{fmt.Errorf("the Docker engine%s refuses the API version %s asked by DOCKER_API_VERSION: %w\n"+
				"Unset DOCKER_API_VERSION, so that the client negotiates a version the engine supports, or set it within the range the engine names", where, v, err)}
		}
		return Unreachable{fmt.Errorf("the Docker engine%s refuses the API version of this client: %w\n"+
			"Set DOCKER_API_VERSION to a version the engine supports, or upgrade the Docker Engine", where, err)}
	}
	dctx := "`docker context ls`"
	if v := os.Getenv("DOCKER_CONTEXT"); v != "" {
		dctx = "DOCKER_CONTEXT=" + v + ", " + dctx
	}
	return Unreachable{fmt.Errorf("cannot reach the Docker engine%s: %w\n"+
		"Check DOCKER_HOST (%s) and the docker context (%s, `--context`), then check that `docker info` works", where, err, env, dctx)}
}

// engineFeature is a Compose feature that Compose refuses below an Engine
// API version.
type engineFeature struct {
	apiVersion, engine string
}

var (
	// featureInterfaceName is networks.<net>.interface_name of a service.
	featureInterfaceName = engineFeature{apiVersion: "1.49", engine: "28.1"}
	// featureImageVolume is a volume of type image.
	featureImageVolume = engineFeature{apiVersion: "1.48", engine: "28.0"}
)

// FeatureError returns an error (exit 1) naming each use in p of a
// feature that Compose refuses with the negotiated API version, nil when
// there is none. pinned is DOCKER_API_VERSION.
func FeatureError(p *types.Project, version, pinned string) error {
	var uses []string
	for _, name := range p.ServiceNames() {
		svc := p.Services[name]
		for _, net := range slices.Sorted(maps.Keys(svc.Networks)) {
			if cfg := svc.Networks[net]; cfg != nil && cfg.InterfaceName != "" && versions.LessThan(version, featureInterfaceName.apiVersion) {
				uses = append(uses, fmt.Sprintf("service %s: interface_name on network %s needs Docker Engine %s or later (API %s)", name, net, featureInterfaceName.engine, featureInterfaceName.apiVersion))
			}
		}
		for _, v := range svc.Volumes {
			if v.Type == types.VolumeTypeImage && versions.LessThan(version, featureImageVolume.apiVersion) {
				uses = append(uses, fmt.Sprintf("service %s: the volume of type image at %s needs Docker Engine %s or later (API %s)", name, v.Target, featureImageVolume.engine, featureImageVolume.apiVersion))
			}
		}
	}
	if len(uses) == 0 {
		return nil
	}
	const upgrade = "the Docker Engine of the test machine, or leave these out of the test with an override file ('docker picatest -f compose.yaml -f test.override.yaml up')"
	next := "Upgrade " + upgrade
	if pinned != "" {
		next = fmt.Sprintf("Unset DOCKER_API_VERSION (%s), or upgrade %s", pinned, upgrade)
	}
	return exitcode.With(exitcode.Failed, fmt.Errorf("the Docker engine speaks API %s, too old for the project; nothing was created:\n  %s\n%s", version, strings.Join(uses, "\n  "), next))
}

// Remote reports whether the engine at daemonHost (the client's DaemonHost:
// DOCKER_HOST, or the endpoint of the docker context) may run on another
// machine: any endpoint but a local socket (unix://, npipe://). It is the
// one place that decides it.
func Remote(daemonHost string) bool {
	scheme, _, ok := strings.Cut(daemonHost, "://")
	if !ok {
		return false
	}
	return scheme != "unix" && scheme != "npipe"
}

// SummaryHealth is the health of a listed container: Summary.Health on
// recent engines, else the "(healthy)" of its Status (API 1.41); "" when
// it has no health check.
func SummaryHealth(s container.Summary) string {
	if s.Health != nil {
		if s.Health.Status == container.NoHealthcheck {
			return ""
		}
		return string(s.Health.Status)
	}
	switch {
	case strings.Contains(s.Status, "(healthy)"):
		return "healthy"
	case strings.Contains(s.Status, "(unhealthy)"):
		return "unhealthy"
	case strings.Contains(s.Status, "(health: starting)"):
		return "starting"
	}
	return ""
}
