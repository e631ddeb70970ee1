package smoke

import (
	"context"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/picasoft/docker-picatest/internal/traefikapi"
)

// API explains failed checks from Traefik's API and the engine
// (traefikapi.Explain) and tells an app's 404 from Traefik's own
// (traefikapi.Routes).
type API struct {
	Client *traefikapi.Client
	// Engine lists the containers (nil: the API alone).
	Engine traefikapi.Engine
	// Project is the Compose project of the checks.
	Project string
	// Proxy is where the checks' requests go.
	Proxy Proxy

	mu      sync.Mutex
	traefik *traefikapi.Facts // first facts, for Traefik's published ports
}

// snapshot is the API's answer now (never an older one: it must be
// taken after the answer it explains), nil when it does not answer.
func (a *API) snapshot(ctx context.Context) *traefikapi.Snapshot {
	s, err := a.Client.Snapshot(ctx)
	if err != nil {
		return nil
	}
	return s
}

// facts lists the containers now; cached: the first list, for Routes.
func (a *API) facts(ctx context.Context, cached bool) *traefikapi.Facts {
	if a.Engine == nil {
		return nil
	}
	a.mu.Lock()
	if cached && a.traefik != nil {
		defer a.mu.Unlock()
		return a.traefik
	}
	a.mu.Unlock()
	_, apiPort, _ := net.SplitHostPort(a.Client.Addr)
	f, err := traefikapi.Gather(ctx, a.Engine, a.Project, apiPort, a.Proxy.Port)
	if err != nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.traefik == nil {
		a.traefik = f
	}
	return f
}

func (a *API) check(t Target, kind Kind, status int) traefikapi.Check {
	_, port, _ := net.SplitHostPort(a.Proxy.Addr(t.Scheme))
	return traefikapi.Check{Service: t.Service, Router: t.Router, Rule: t.Rule, Scheme: t.Scheme,
		Kind: string(kind), Status: status, ProxyPort: port}
}

// routes reports whether Traefik routes t's request to the app.
func (a *API) routes(ctx context.Context, t Target) bool {
	s := a.snapshot(ctx)
	if s == nil {
		return false
	}
	return traefikapi.Routes(a.check(t, NoRouter, 404), s, a.facts(ctx, true))
}

// explain sets the cause of a failed result from the API; false when the
// API does not answer or says nothing about it.
func (a *API) explain(ctx context.Context, r *Result) bool {
	if r.Kind == ProxyUnreachable && !strings.Contains(r.Detail, "timeout") {
		return false // nothing answers: Traefik's routers are not the cause
	}
	s := a.snapshot(ctx)
	if s == nil {
		return false
	}
	e, ok := traefikapi.Explain(a.check(r.Target, r.Kind, r.Status), s, a.facts(ctx, false))
	if !ok {
		return false
	}
	r.Cause, r.Label, r.Detail = e.Cause, e.Label, e.Text
	if e.App() {
		switch {
		case r.Kind == NoRouter && !r.Smoke:
			r.Kind = OK
		case r.Kind == NoRouter || r.Kind == NoHealthyServer:
			r.Kind = AppError
		}
	}
	return true
}

// NewAPI returns the API of Traefik at addr ("" when off) when it
// answers, nil otherwise: it is asked once, with a short timeout, and
// quietly given up.
func NewAPI(ctx context.Context, addr string, e traefikapi.Engine, project string, proxy Proxy) *API {
	if addr == "" {
		return nil
	}
	c := traefikapi.New(addr, 2*time.Second)
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if c.Ping(pctx) != nil {
		return nil
	}
	return &API{Client: c, Engine: e, Project: project, Proxy: proxy}
}
