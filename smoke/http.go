package smoke

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Kind is the outcome of one smoke check.
type Kind string

const (
	// OK: the app answered through Traefik (status and latency given).
	OK Kind = "ok"
	// NoRouter: Traefik answered its own 404: no router matches the host
	// (the rule does not match, or Traefik has not picked the container up:
	// not on its network, not healthy, traefik.enable missing...).
	NoRouter Kind = "no-router"
	// NoHealthyServer: Traefik answered 502, 503 or 504: the router exists
	// but no server behind it answers (wrong port, container not ready).
	NoHealthyServer Kind = "no-healthy-server"
	// ProxyUnreachable: nothing answers at the proxy address.
	ProxyUnreachable Kind = "proxy-unreachable"
	// TLSError: the TLS handshake failed (self-signed certificate without
	// --insecure, or an http entrypoint given for an https URL).
	TLSError Kind = "tls-error"
	// AppError: the app answered an error (a 5xx other than 502/503/504, or
	// a 4xx on an x-picatest smoke path).
	AppError Kind = "app-error"
	// Skipped: the target's rule gives nothing to request (Target.Skip);
	// not a failure.
	Skipped Kind = "skipped"
)

// Result is the outcome of one Target.
type Result struct {
	Target
	URL     string        `json:"url"`
	Kind    Kind          `json:"result"`
	Status  int           `json:"status,omitempty"`
	Latency time.Duration `json:"-"`
	// After is the time from the start of the checks to this result (for
	// OK: to the first good answer).
	After    time.Duration `json:"-"`
	Attempts int           `json:"attempts"`
	Detail   string        `json:"detail,omitempty"`
	// Cause names why a check failed (a traefikapi Cause) when Traefik's
	// API answers; CauseFrom says where the cause comes from: CauseFromAPI,
	// or CauseInferred from the HTTP answer alone.
	Cause     string `json:"cause,omitempty"`
	CauseFrom string `json:"cause_from,omitempty"`
	// Label is the label the cause comes from, when one does.
	Label string `json:"label,omitempty"`
}

// Where the cause of a failed check comes from.
const (
	// CauseFromAPI: Traefik's API and the engine (API.explain).
	CauseFromAPI = "traefik-api"
	// CauseInferred: the HTTP answer alone.
	CauseInferred = "inferred"
)

// traefikNotFound is the body of Traefik's own 404 (no router matches).
const traefikNotFound = "404 page not found\n"

// Checker requests the targets through the proxy.
type Checker struct {
	// Client sends the requests (NewClient; an httptest server's client in
	// tests).
	Client *http.Client
	// Proxy is shown in the messages (where the requests go).
	Proxy string
	// Timeout: how long a host is retried while Traefik answers its own 404
	// (it has not picked up the router yet): --wait-timeout.
	Timeout time.Duration
	// Settle: how long the other failures (5xx, proxy unreachable, TLS,
	// app errors) are retried after they are first seen, within Timeout.
	Settle time.Duration
	// Interval between two attempts.
	Interval time.Duration
	// Parallel: how many hosts are checked at once (default 8).
	Parallel int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Progress, when not nil, receives one line per final result.
	Progress io.Writer
	// Insecure is reported in the TLS hints.
	Insecure bool
	// API, when not nil, explains the failures from Traefik's API and
	// tells an app's 404 from Traefik's own; without it the causes are
	// inferred from the HTTP answers.
	API *API
}

// Check runs every target and returns one result per target, in the order
// of targets. Targets are grouped by scheme and host: a host is "routed"
// once any of its URLs gets an answer that is not Traefik's own 404; until
// then all its URLs are retried up to Timeout. Once routed, a 404 on "/"
// is the app's own answer (OK), on a smoke path an app error.
func (c *Checker) Check(ctx context.Context, targets []Target) []Result {
	now := c.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	groups := map[string][]int{}
	var keys []string
	results := make([]Result, len(targets))
	for i, t := range targets {
		if t.Skip != "" {
			results[i] = Result{Target: t, Kind: Skipped, Detail: t.Skip}
			if c.Progress != nil {
				fmt.Fprintln(c.Progress, results[i].Line())
			}
			continue
		}
		k := t.Scheme + "://" + t.Host
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], i)
	}
	sort.Strings(keys)
	par := c.Parallel
	if par <= 0 {
		par = 8
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, k := range keys {
		idx := groups[k]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ts := make([]Target, len(idx))
			for j, i := range idx {
				ts[j] = targets[i]
			}
			rs := c.checkHost(ctx, ts, start, now)
			mu.Lock()
			defer mu.Unlock()
			for j, i := range idx {
				results[i] = rs[j]
				if c.Progress != nil {
					fmt.Fprintln(c.Progress, rs[j].Line())
				}
			}
		}()
	}
	wg.Wait()
	return results
}

// attempt is one request's outcome.
type attempt struct {
	kind    Kind
	status  int
	latency time.Duration
	detail  string
	traefik bool // Traefik's own 404
}

// checkHost requests the targets of one host in rounds until every one is
// OK, the host's failures have settled, Timeout passes or ctx ends.
func (c *Checker) checkHost(ctx context.Context, ts []Target, start time.Time, now func() time.Time) []Result {
	res := make([]Result, len(ts))
	done := make([]bool, len(ts))
	routed := false
	var settleUntil time.Time
	deadline := start.Add(c.Timeout)
	for {
		last, anyRouted := c.round(ctx, ts, done, res)
		if !anyRouted && !routed && c.API != nil {
			anyRouted = c.apiRoutes(ctx, ts, last, done)
		}
		if anyRouted {
			routed = true
		}
		pending := record(ts, last, done, res, routed, start, now)
		if !pending || ctx.Err() != nil {
			break
		}
		t := now()
		if !t.Before(deadline) {
			break
		}
		if routed || anyUnreachable(last, done) {
			if settleUntil.IsZero() {
				settleUntil = t.Add(c.Settle)
			}
			if !t.Before(settleUntil) && allButNoRouterSettled(last, done) {
				break
			}
		}
		wait := c.Interval
		if rest := deadline.Sub(t); rest < wait {
			wait = rest
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		if ctx.Err() != nil {
			break
		}
	}
	for i := range res {
		c.explain(ctx, &res[i])
	}
	return res
}

// apiRoutes reports whether Traefik's API says it routes a pending
// target that got Traefik's own 404: that 404 is then the app's.
func (c *Checker) apiRoutes(ctx context.Context, ts []Target, last []attempt, done []bool) bool {
	for i, a := range last {
		if !done[i] && a.traefik && c.API.routes(ctx, ts[i]) {
			return true
		}
	}
	return false
}

// round requests once each target of ts not done yet, counting the attempt
// in res. anyRouted: an answer came from behind a Traefik router.
func (c *Checker) round(ctx context.Context, ts []Target, done []bool, res []Result) (last []attempt, anyRouted bool) {
	last = make([]attempt, len(ts))
	for i, t := range ts {
		if done[i] {
			continue
		}
		a := c.request(ctx, t)
		last[i] = a
		res[i].Attempts++
		if a.kind != ProxyUnreachable && a.kind != TLSError && !a.traefik {
			anyRouted = true
		}
	}
	return last, anyRouted
}

// record puts the last attempt of each target not done in res, marks the
// OK ones done, and reports whether any is still pending. Once the host is
// routed, Traefik's own 404 is the app's answer: last is updated to say so.
func record(ts []Target, last []attempt, done []bool, res []Result, routed bool, start time.Time, now func() time.Time) (pending bool) {
	for i, t := range ts {
		if done[i] {
			continue
		}
		a := last[i]
		if a.traefik && routed {
			// The host is routed: this 404 is the app's.
			a.traefik = false
			if t.Smoke {
				a.kind, a.detail = AppError, "the app answers 404 Not Found on this smoke path"
			} else {
				a.kind, a.detail = OK, "the app answers 404 on /"
			}
			last[i] = a
		}
		res[i].Target, res[i].URL = t, t.URL()
		res[i].Kind, res[i].Status, res[i].Latency, res[i].Detail = a.kind, a.status, a.latency, a.detail
		res[i].After = now().Sub(start)
		if a.kind == OK {
			done[i] = true
			continue
		}
		pending = true
	}
	return pending
}

// anyUnreachable: a failure other than Traefik's 404 among the pending.
func anyUnreachable(last []attempt, done []bool) bool {
	for i, a := range last {
		if !done[i] && !a.traefik && a.kind != OK {
			return true
		}
	}
	return false
}

// allButNoRouterSettled: no pending URL is still waiting for its router
// (those are retried up to Timeout).
func allButNoRouterSettled(last []attempt, done []bool) bool {
	for i, a := range last {
		if !done[i] && a.traefik {
			return false
		}
	}
	return true
}

func (c *Checker) request(ctx context.Context, t Target) attempt {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL(), nil)
	if err != nil {
		return attempt{kind: AppError, detail: err.Error()}
	}
	req.Header.Set("User-Agent", "docker-picatest-smoke")
	for k, v := range t.Headers {
		req.Header.Set(k, v)
	}
	t0 := time.Now()
	resp, err := c.Client.Do(req)
	if err != nil {
		return classifyError(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	lat := time.Since(t0)
	a := attempt{status: resp.StatusCode, latency: lat}
	switch {
	case resp.StatusCode == http.StatusNotFound && bytes.Equal(body, []byte(traefikNotFound)):
		a.kind, a.traefik = NoRouter, true
	case resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout:
		a.kind = NoHealthyServer
	case resp.StatusCode >= 500:
		a.kind, a.detail = AppError, "the app answers "+statusText(resp.StatusCode)+firstLine(body)
	case resp.StatusCode >= 400 && t.Smoke:
		a.kind, a.detail = AppError, "the app answers "+statusText(resp.StatusCode)+" on this smoke path"+firstLine(body)
	default:
		a.kind = OK
	}
	return a
}

func firstLine(body []byte) string {
	s := strings.TrimSpace(string(body))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	if s == "" {
		return ""
	}
	return ": " + s
}

func statusText(code int) string {
	return fmt.Sprintf("%d %s", code, http.StatusText(code))
}

func classifyError(err error) attempt {
	var recErr tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &certErr):
		return attempt{kind: TLSError, detail: certErr.Error()}
	case errors.As(err, &recErr) || strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "x509:") ||
		strings.Contains(err.Error(), "HTTP response to HTTPS client"):
		return attempt{kind: TLSError, detail: err.Error()}
	case errors.Is(err, syscall.ECONNREFUSED):
		return attempt{kind: ProxyUnreachable, detail: "connection refused"}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return attempt{kind: ProxyUnreachable, detail: "no answer (timeout)"}
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return attempt{kind: ProxyUnreachable, detail: op.Err.Error()}
	}
	return attempt{kind: ProxyUnreachable, detail: err.Error()}
}

// explain completes Detail with what to do: the cause from Traefik's API
// when it answers, else the one the HTTP answer suggests.
func (c *Checker) explain(ctx context.Context, r *Result) {
	if r.Kind == OK || r.Kind == Skipped {
		return
	}
	if c.API != nil && c.API.explain(ctx, r) {
		r.CauseFrom = CauseFromAPI
		return
	}
	r.CauseFrom = CauseInferred
	switch r.Kind {
	case NoRouter:
		r.Detail = fmt.Sprintf("Traefik has no router for this URL after %s (its own 404): the rule %s of router %s does not match, or Traefik does not route the container (not healthy, not on Traefik's network, traefik.enable missing)",
			c.Timeout.Round(time.Millisecond), r.Rule, r.Router)
	case NoHealthyServer:
		r.Detail = fmt.Sprintf("Traefik answers %s: the router matches but no healthy server answers behind it (wrong port in traefik.http.services.*.loadbalancer.server.port? container not ready?)", statusText(r.Status))
	case ProxyUnreachable:
		r.Detail = fmt.Sprintf("Traefik is not reachable at %s (%s): start it, or point --proxy / PICATEST_PROXY at its entrypoint (host[:port], e.g. 127.0.0.1:8080)", c.Proxy, r.Detail)
	case TLSError:
		hint := "use --insecure to accept a self-signed certificate"
		if c.Insecure {
			hint = "is the port in --proxy / PICATEST_PROXY the https entrypoint?"
		}
		r.Detail = fmt.Sprintf("TLS handshake with %s failed (%s): %s", c.Proxy, r.Detail, hint)
	}
}

// Line is the one-line text form of a result.
func (r Result) Line() string {
	switch r.Kind {
	case OK:
		s := fmt.Sprintf("OK    %s  %s  %s", r.Display(), statusText(r.Status), r.Latency.Round(time.Millisecond))
		if r.Detail != "" {
			s += " (" + r.Detail + ")"
		}
		return s
	case Skipped:
		return fmt.Sprintf("SKIP  router %s: %s", r.Router, r.Detail)
	default:
		s := fmt.Sprintf("FAIL  %s  %s", r.Display(), r.Kind)
		if r.Status != 0 {
			s += " " + strconv.Itoa(r.Status)
		}
		return s + ": " + r.Detail
	}
}
