package testlabels

import (
	"strings"

	"github.com/picasoft/docker-picatest/transforms"
)

// Prefix starts the key of every label of this package.
const Prefix = "net.picasoft.picatest."

// ServiceLabels is what Transform did to one service: the keys of the
// labels set on its containers, and on its image (build.labels), in the
// order of the changes (sorted).
type ServiceLabels struct {
	Service     string
	Labels      []string
	BuildLabels []string
}

// ByService groups the changes of Transform by service, in the order of
// the changes, so that a report says in one line per service which labels
// were set; changes of other transforms are left out.
func ByService(changes []transforms.Change) []ServiceLabels {
	var out []ServiceLabels
	index := map[string]int{}
	for _, c := range changes {
		if c.Transform != Name {
			continue
		}
		service, key, build, ok := parseWhere(c.Where)
		if !ok {
			continue
		}
		i, seen := index[service]
		if !seen {
			i = len(out)
			index[service] = i
			out = append(out, ServiceLabels{Service: service})
		}
		if build {
			out[i].BuildLabels = append(out[i].BuildLabels, key)
		} else {
			out[i].Labels = append(out[i].Labels, key)
		}
	}
	return out
}

// parseWhere splits the Where of a change of Transform,
// "services.<service>.labels.<key>" or
// "services.<service>.build.labels.<key>"; a service name may hold dots,
// a key is one of this package's.
func parseWhere(where string) (service, key string, build, ok bool) {
	rest, found := strings.CutPrefix(where, "services.")
	if !found {
		return "", "", false, false
	}
	for _, k := range []string{TestBuild, Owner, Branch, Commit, Started} {
		if s, found := strings.CutSuffix(rest, ".build.labels."+k); found {
			return s, k, true, true
		}
		if s, found := strings.CutSuffix(rest, ".labels."+k); found {
			return s, k, false, true
		}
	}
	return "", "", false, false
}
