// Package traefikapi explains a failed smoke check from Traefik's own API
// (the routers with their status and errors, the services with their
// servers UP or DOWN, the entrypoints) and from the engine (the
// containers of the project, of other projects defining the same router,
// and Traefik's own container). Explain decides the cause in one place;
// the smoke checks and the static checks ask it.
package traefikapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultPort is the port of Traefik's traefik entrypoint, where
// --api.insecure serves the API.
const DefaultPort = "8080"

// Off disables the API: the causes of failed checks are inferred from the
// HTTP answers alone.
const Off = "off"

// Address is the host:port of the API from the setting (host[:port], or
// "off"), given the proxy host: empty, the proxy host on port 8080; a host
// without a port, port 8080. disabled: the setting is "off".
func Address(setting, proxyHost string) (addr string, disabled bool, err error) {
	v := strings.TrimSpace(setting)
	switch {
	case strings.EqualFold(v, Off):
		return "", true, nil
	case v == "":
		return net.JoinHostPort(proxyHost, DefaultPort), false, nil
	case strings.Contains(v, "/"):
		return "", false, fmt.Errorf("traefik API %q: give host[:port] without scheme or path (e.g. 127.0.0.1:8080), or %q", v, Off)
	}
	if host, port, err := net.SplitHostPort(v); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || host == "" {
			return "", false, fmt.Errorf("traefik API %q is not host:port with a port between 1 and 65535 (e.g. 127.0.0.1:8080), or %q", v, Off)
		}
		return v, false, nil
	}
	if strings.ContainsAny(v, ":[]") {
		return "", false, fmt.Errorf("traefik API %q is not host[:port] (e.g. 127.0.0.1:8080), or %q", v, Off)
	}
	return net.JoinHostPort(v, DefaultPort), false, nil
}

// Client reads Traefik's API.
type Client struct {
	// Addr is host:port of the API.
	Addr string
	// HTTP sends the requests (a client with a short timeout when nil).
	HTTP *http.Client
}

// New returns a client of the API at addr whose requests give up after
// timeout.
func New(addr string, timeout time.Duration) *Client {
	return &Client{Addr: addr, HTTP: &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	}}
}

// Router is a router of /api/http/routers.
type Router struct {
	Name        string          `json:"name"`
	Provider    string          `json:"provider"`
	Status      string          `json:"status"`
	Rule        string          `json:"rule"`
	Service     string          `json:"service"`
	EntryPoints []string        `json:"entryPoints"`
	Using       []string        `json:"using"`
	Errors      []string        `json:"error"`
	TLS         json.RawMessage `json:"tls"`
}

// Service is a service of /api/http/services.
type Service struct {
	Name         string            `json:"name"`
	Provider     string            `json:"provider"`
	Status       string            `json:"status"`
	Errors       []string          `json:"error"`
	UsedBy       []string          `json:"usedBy"`
	ServerStatus map[string]string `json:"serverStatus"`
	LoadBalancer *struct {
		Servers []struct {
			URL string `json:"url"`
		} `json:"servers"`
	} `json:"loadBalancer"`
}

// EntryPoint is an entrypoint of /api/entrypoints.
type EntryPoint struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	HTTP    struct {
		TLS json.RawMessage `json:"tls"`
	} `json:"http"`
}

// Port is the port of the entrypoint's address (":80" gives "80").
func (e EntryPoint) Port() string {
	_, port, err := net.SplitHostPort(e.Address)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(port, "/tcp")
}

// TLS reports whether the entrypoint serves TLS to every router on it.
func (e EntryPoint) TLS() bool { return present(e.HTTP.TLS) }

func present(m json.RawMessage) bool {
	s := strings.TrimSpace(string(m))
	return s != "" && s != "null"
}

// Snapshot is what Traefik's API says at one moment.
type Snapshot struct {
	Routers     []Router     `json:"routers"`
	Services    []Service    `json:"services"`
	EntryPoints []EntryPoint `json:"entrypoints"`
}

// ErrNoAPI is returned when nothing answers as Traefik's API at the
// address.
var ErrNoAPI = errors.New("traefik API does not answer")

// Snapshot reads the HTTP routers, the HTTP services and the entrypoints.
func (c *Client) Snapshot(ctx context.Context) (*Snapshot, error) {
	s := &Snapshot{}
	for path, dst := range map[string]any{
		"/api/http/routers?per_page=10000":  &s.Routers,
		"/api/http/services?per_page=10000": &s.Services,
		"/api/entrypoints?per_page=10000":   &s.EntryPoints,
	} {
		if err := c.get(ctx, path, dst); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Ping reports whether Traefik's API answers (GET /api/overview).
func (c *Client) Ping(ctx context.Context) error {
	var overview map[string]any
	return c.get(ctx, "/api/overview", &overview)
}

func (c *Client) get(ctx context.Context, path string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.Addr+path, nil)
	if err != nil {
		return err
	}
	hc := c.HTTP
	if hc == nil {
		hc = New(c.Addr, 2*time.Second).HTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w at %s: %v", ErrNoAPI, c.Addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w at %s: GET %s answers %s", ErrNoAPI, c.Addr, path, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(dst); err != nil {
		return fmt.Errorf("%w at %s: GET %s: %v", ErrNoAPI, c.Addr, path, err)
	}
	return nil
}
