package smoke

import (
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Expect describes what "done" means for one service.
type Expect struct {
	// Healthcheck: the service declares a healthcheck in compose that is not
	// disabled. Informational: Wait decides from the container's inspect
	// (State.Health != nil), which also covers an image HEALTHCHECK.
	Healthcheck bool
	// OneShot: another service depends on it with condition
	// service_completed_successfully: exiting 0 counts as done.
	OneShot bool
}

// HasHealthcheck reports whether s declares a healthcheck in the Compose
// file that is not disabled (disable: true, or test: ["NONE"]).
func HasHealthcheck(s types.ServiceConfig) bool {
	hc := s.HealthCheck
	return hc != nil && !hc.Disable && len(hc.Test) > 0 && !strings.EqualFold(hc.Test[0], "NONE")
}

// StateHealth is "state" or "state, health", as reports and messages show
// a container.
func StateHealth(state, health string) string {
	if health == "" {
		return state
	}
	return state + ", " + health
}

// ExpectFromProject derives Expect for every service of a (transformed)
// compose-go project. A service scaled to 0 is left out (it has no
// container to wait for). A healthcheck that comes from the image is detected
// later from the container's inspect, so Healthcheck here is only "declared
// in compose and not disabled".
func ExpectFromProject(p *types.Project) map[string]Expect {
	out := map[string]Expect{}
	for name, s := range p.Services {
		if s.GetScale() == 0 {
			continue
		}
		out[name] = Expect{Healthcheck: HasHealthcheck(s)}
	}
	for _, s := range p.Services {
		for dep, d := range s.DependsOn {
			if x, ok := out[dep]; ok && d.Condition == types.ServiceConditionCompletedSuccessfully {
				x.OneShot = true
				out[dep] = x
			}
		}
	}
	return out
}
