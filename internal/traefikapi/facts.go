package traefikapi

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/picasoft/docker-picatest/internal/engine"
)

// Engine is the part of the moby client that Gather uses.
type Engine interface {
	ContainerList(ctx context.Context, options client.ContainerListOptions) (client.ContainerListResult, error)
}

// Container is what the explanations need of one container.
type Container struct {
	Name    string `json:"name"`
	Project string `json:"project,omitempty"`
	Service string `json:"service,omitempty"`
	State   string `json:"state"`
	Health  string `json:"health,omitempty"`
	// Labels of the container.
	Labels map[string]string `json:"labels,omitempty"`
	// Networks: network name -> the container's IP on it.
	Networks map[string]string `json:"networks,omitempty"`
	// Exposed are the TCP ports the container exposes (image EXPOSE,
	// Compose expose and ports).
	Exposed []string `json:"exposed,omitempty"`
	// Published: host port -> container port, of the ports published.
	Published map[string]string `json:"published,omitempty"`
}

// Facts are what the engine says, for the explanations.
type Facts struct {
	// Project is the Compose project of the checks.
	Project string `json:"project"`
	// Containers are every container of the engine (running or not).
	Containers []Container `json:"containers"`
	// Traefik is Traefik's own container when found (the one publishing
	// the API port or the proxy port), nil otherwise.
	Traefik *Container `json:"traefik,omitempty"`
}

const (
	labelProject = "com.docker.compose.project"
	labelService = "com.docker.compose.service"
)

// Gather lists the containers of the engine. apiPort and proxyPort (host
// ports, "" when unknown) find Traefik's container: the one publishing
// the API port, else the proxy port.
func Gather(ctx context.Context, e Engine, project, apiPort, proxyPort string) (*Facts, error) {
	res, err := e.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		return nil, fmt.Errorf("listing the containers: %w", err)
	}
	f := &Facts{Project: project}
	for _, s := range res.Items {
		f.Containers = append(f.Containers, fromSummary(s))
	}
	sort.Slice(f.Containers, func(i, j int) bool { return f.Containers[i].Name < f.Containers[j].Name })
	for _, port := range []string{apiPort, proxyPort} {
		if f.Traefik != nil || port == "" {
			continue
		}
		for i, c := range f.Containers {
			if _, ok := c.Published[port]; ok && c.State == "running" {
				f.Traefik = &f.Containers[i]
				break
			}
		}
	}
	return f, nil
}

func fromSummary(s container.Summary) Container {
	c := Container{State: string(s.State), Labels: s.Labels, Health: engine.SummaryHealth(s),
		Project: s.Labels[labelProject], Service: s.Labels[labelService]}
	if len(s.Names) > 0 {
		c.Name = strings.TrimPrefix(s.Names[0], "/")
	}
	if s.NetworkSettings != nil {
		c.Networks = map[string]string{}
		for name, ep := range s.NetworkSettings.Networks {
			ip := ""
			if ep != nil && ep.IPAddress.IsValid() {
				ip = ep.IPAddress.String()
			}
			c.Networks[name] = ip
		}
	}
	seen := map[string]bool{}
	for _, p := range s.Ports {
		if p.Type != "" && p.Type != "tcp" {
			continue
		}
		priv := strconv.Itoa(int(p.PrivatePort))
		if !seen[priv] {
			seen[priv] = true
			c.Exposed = append(c.Exposed, priv)
		}
		if p.PublicPort != 0 {
			if c.Published == nil {
				c.Published = map[string]string{}
			}
			c.Published[strconv.Itoa(int(p.PublicPort))] = priv
		}
	}
	sort.Strings(c.Exposed)
	return c
}

// ServiceContainers are the containers of a service of the project.
func (f *Facts) ServiceContainers(service string) []Container {
	var out []Container
	for _, c := range f.Containers {
		if c.Project == f.Project && c.Service == service {
			out = append(out, c)
		}
	}
	return out
}

// RouterDefiners are the containers of other projects whose labels define
// the HTTP router name (traefik.http.routers.<name>.*).
func (f *Facts) RouterDefiners(name string) []Container {
	prefix := "traefik.http.routers." + strings.ToLower(name) + "."
	var out []Container
	for _, c := range f.Containers {
		if c.Project == f.Project {
			continue
		}
		for k := range c.Labels {
			if strings.HasPrefix(strings.ToLower(k), prefix) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// hostPort splits a server URL (http://172.18.0.5:8080) into its IP and
// port.
func hostPort(url string) (ip, port string) {
	u := url
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexByte(u, '/'); i >= 0 {
		u = u[:i]
	}
	h, p, err := net.SplitHostPort(u)
	if err != nil {
		return u, ""
	}
	return h, p
}
