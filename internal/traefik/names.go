package traefik

import (
	"strings"
)

// Object is a named object of Traefik's dynamic configuration that a
// label defines: traefik.<Protocol>.<Kind>.<Name>.<option>, e.g. the
// router "pad" of traefik.http.routers.pad.rule. Protocol and Kind are in
// lower case; Name is as written (Traefik's names are case-sensitive).
type Object struct {
	Protocol string // http, tcp or udp
	Kind     string // routers, services, middlewares or serverstransports
	Name     string
}

// kinds are the object kinds each protocol defines in labels.
var kinds = map[string][]string{
	"http": {"routers", "services", "middlewares", "serverstransports"},
	"tcp":  {"routers", "services", "middlewares", "serverstransports"},
	"udp":  {"routers", "services"},
}

// ObjectOf returns the object that the label key defines or configures
// (traefik.http.routers.pad.rule: the HTTP router "pad"), and the offset
// of its name in key. v1 labels (traefik.frontend.rule) define no object.
func ObjectOf(key string) (Object, int, bool) {
	parts := strings.SplitN(key, ".", 5)
	if len(parts) < 5 || !strings.EqualFold(parts[0], "traefik") || parts[3] == "" {
		return Object{}, 0, false
	}
	proto, kind := strings.ToLower(parts[1]), strings.ToLower(parts[2])
	for _, k := range kinds[proto] {
		if k == kind {
			off := len(parts[0]) + len(parts[1]) + len(parts[2]) + 3
			return Object{Protocol: proto, Kind: kind, Name: parts[3]}, off, true
		}
	}
	return Object{}, 0, false
}

// Reference says which kind of object the value of the label key names,
// as a comma-separated list of names (a name may carry a provider, as in
// "auth@file"): a router's service and middlewares, a chain middleware's
// middlewares, a service's servers transport. ok is false for labels
// whose value names no object.
func Reference(key string) (protocol, kind string, ok bool) {
	obj, off, ok := ObjectOf(key)
	if !ok {
		return "", "", false
	}
	option := strings.ToLower(key[off+len(obj.Name):])
	switch {
	case obj.Kind == "routers" && option == ".service":
		return obj.Protocol, "services", true
	case obj.Kind == "routers" && option == ".middlewares":
		return obj.Protocol, "middlewares", true
	case obj.Kind == "middlewares" && option == ".chain.middlewares":
		return obj.Protocol, "middlewares", true
	case obj.Kind == "services" && option == ".loadbalancer.serverstransport":
		return obj.Protocol, "serverstransports", true
	}
	return "", "", false
}

// RenameObjects returns labels with the objects that rename gives a new
// name renamed: in the label keys that define them, and in every
// reference to them (see Reference) that names no provider or the docker
// provider (names@file, @internal... belong to other providers and are
// kept). rename returns the new name and true for an object to rename.
// The second result maps each changed key (by its new key) to its old key
// and value; labels itself is never modified.
func RenameObjects(labels map[string]string, rename func(Object) (string, bool)) (map[string]string, map[string][2]string) {
	out := make(map[string]string, len(labels))
	changed := map[string][2]string{}
	for k, v := range labels {
		nk := k
		if obj, off, ok := ObjectOf(k); ok {
			if name, ok := rename(obj); ok {
				nk = k[:off] + name + k[off+len(obj.Name):]
			}
		}
		nv := v
		if proto, kind, ok := Reference(k); ok {
			nv = renameList(v, func(name string) (string, bool) {
				return rename(Object{Protocol: proto, Kind: kind, Name: name})
			})
		}
		out[nk] = nv
		if nk != k || nv != v {
			changed[nk] = [2]string{k, v}
		}
	}
	return out, changed
}

// renameList renames the names of a comma-separated list, keeping the
// spaces around them and the @docker provider.
func renameList(list string, rename func(string) (string, bool)) string {
	items := strings.Split(list, ",")
	for i, item := range items {
		name := strings.TrimSpace(item)
		base, provider, hasProvider := strings.Cut(name, "@")
		if base == "" || hasProvider && provider != "docker" {
			continue
		}
		if n, ok := rename(base); ok {
			items[i] = strings.Replace(item, base, n, 1)
		}
	}
	return strings.Join(items, ",")
}
