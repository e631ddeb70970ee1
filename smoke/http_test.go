package smoke

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

// fakeTraefik answers like Traefik: routes by Host header; an unknown host
// gets Go's (and Traefik's) own "404 page not found".
func fakeTraefik(routes map[string]http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		if h, ok := routes[host]; ok {
			h(w, r)
			return
		}
		http.NotFound(w, r)
	})
}

func app(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/", "/healthz":
		w.Write([]byte("ok\n"))
	case "/boom":
		http.Error(w, "kaput", http.StatusInternalServerError)
	case "/login":
		http.Redirect(w, r, "/sso", http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

func proxyOf(t *testing.T, srv *httptest.Server) Proxy {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseProxy(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func checker(p Proxy, insecure bool, timeout time.Duration) *Checker {
	return &Checker{
		Client: NewClient(p, insecure, time.Second), Proxy: p.String(), Insecure: insecure,
		Timeout: timeout, Settle: 50 * time.Millisecond, Interval: 5 * time.Millisecond,
	}
}

func TestCheckKinds(t *testing.T) {
	var gwCalls atomic.Int32
	srv := httptest.NewServer(fakeTraefik(map[string]http.HandlerFunc{
		"pad.test.example.org": app,
		"bad.test.example.org": func(w http.ResponseWriter, r *http.Request) {
			gwCalls.Add(1)
			http.Error(w, "Bad Gateway", http.StatusBadGateway)
		},
		"busy.test.example.org": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		},
	}))
	defer srv.Close()
	p := proxyOf(t, srv)
	targets := []Target{
		{Service: "pad", Router: "pad", Rule: "Host(`pad.test.example.org`)", Scheme: "http", Host: "pad.test.example.org", Path: "/"},
		{Service: "pad", Router: "pad", Scheme: "http", Host: "pad.test.example.org", Path: "/healthz", Smoke: true},
		{Service: "pad", Router: "pad", Scheme: "http", Host: "pad.test.example.org", Path: "/missing", Smoke: true},
		{Service: "pad", Router: "pad", Scheme: "http", Host: "pad.test.example.org", Path: "/boom", Smoke: true},
		{Service: "pad", Router: "pad", Scheme: "http", Host: "pad.test.example.org", Path: "/login", Smoke: true},
		{Service: "bad", Router: "bad", Scheme: "http", Host: "bad.test.example.org", Path: "/"},
		{Service: "busy", Router: "busy", Scheme: "http", Host: "busy.test.example.org", Path: "/"},
		{Service: "none", Router: "none", Rule: "Host(`none.test.example.org`)", Scheme: "http", Host: "none.test.example.org", Path: "/"},
	}
	// Not a timing assertion: with a timeout of a minute, a check that
	// waited for it instead of the settle time (50ms) would take a minute.
	start := time.Now()
	checker(p, false, time.Minute).Check(context.Background(), targets[:5])
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("a routed host with an app error waits only the settle time (50ms), not the timeout (1m): took %s", d)
	}
	start = time.Now()
	rs := checker(p, false, 200*time.Millisecond).Check(context.Background(), targets)
	elapsed := time.Since(start)
	want := []struct {
		kind   Kind
		status int
		detail string
	}{
		{OK, 200, ""},
		{OK, 200, ""},
		{AppError, 404, "404 Not Found on this smoke path"},
		{AppError, 500, "500 Internal Server Error: kaput"},
		{OK, 302, ""},
		{NoHealthyServer, 502, "no healthy server"},
		{NoHealthyServer, 503, "no healthy server"},
		{NoRouter, 404, "Host(`none.test.example.org`)"},
	}
	for i, w := range want {
		r := rs[i]
		if r.Kind != w.kind || r.Status != w.status || !strings.Contains(r.Detail, w.detail) {
			t.Errorf("%s: got %s %d %q, want %s %d containing %q", r.URL, r.Kind, r.Status, r.Detail, w.kind, w.status, w.detail)
		}
		if r.URL != targets[i].URL() {
			t.Errorf("result %d is for %s, want %s", i, r.URL, targets[i].URL())
		}
	}
	if gwCalls.Load() < 2 {
		t.Errorf("a 502 is retried during the settle time: %d calls", gwCalls.Load())
	}
	if elapsed > 2*time.Second {
		t.Errorf("took %s", elapsed)
	}
	if !strings.HasPrefix(rs[0].Line(), "OK    http://pad.test.example.org/  200 OK") {
		t.Errorf("line: %q", rs[0].Line())
	}
	if !strings.Contains(rs[7].Line(), "FAIL  http://none.test.example.org/  no-router 404") {
		t.Errorf("line: %q", rs[7].Line())
	}
}

// A router that appears after a while (Traefik picking up the container)
// is waited for.
func TestCheckWaitsForRouter(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 4 {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("hello"))
	}))
	defer srv.Close()
	rs := checker(proxyOf(t, srv), false, 5*time.Second).Check(context.Background(), []Target{{Scheme: "http", Host: "a.test.example.org", Path: "/"}})
	if rs[0].Kind != OK || rs[0].Attempts != 4 {
		t.Fatalf("got %+v", rs[0])
	}
}

// Once the host answers on a smoke path, a 404 on "/" is the app's.
func TestCheckAppNotFoundOnRoot(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api" {
			w.Write([]byte("{}"))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	rs := checker(proxyOf(t, srv), false, 5*time.Second).Check(context.Background(), []Target{
		{Scheme: "http", Host: "a.test.example.org", Path: "/"},
		{Scheme: "http", Host: "a.test.example.org", Path: "/api", Smoke: true},
	})
	if rs[0].Kind != OK || rs[0].Status != 404 || rs[1].Kind != OK {
		t.Fatalf("got %+v", rs)
	}
}

func TestCheckProxyUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p, _ := ParseProxy(addr)
	start := time.Now()
	rs := checker(p, false, 5*time.Second).Check(context.Background(), []Target{{Scheme: "http", Host: "a.test.example.org", Path: "/"}})
	if rs[0].Kind != ProxyUnreachable || !strings.Contains(rs[0].Detail, "not reachable at "+addr+" (connection refused)") || !strings.Contains(rs[0].Detail, "PICATEST_PROXY") {
		t.Fatalf("got %+v", rs[0])
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("an unreachable proxy is retried only during the settle time, not the whole timeout: %s", d)
	}
}

func TestCheckTLS(t *testing.T) {
	var sni atomic.Value
	srv := httptest.NewUnstartedServer(fakeTraefik(map[string]http.HandlerFunc{"pad.test.example.org": app}))
	srv.TLS = &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		sni.Store(h.ServerName)
		return nil, nil
	}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	p := proxyOf(t, srv)
	target := []Target{{Scheme: "https", Host: "pad.test.example.org", Path: "/"}}

	rs := checker(p, false, time.Second).Check(context.Background(), target)
	if rs[0].Kind != TLSError || !strings.Contains(rs[0].Detail, "--insecure") {
		t.Fatalf("self-signed without --insecure: %+v", rs[0])
	}
	rs = checker(p, true, time.Second).Check(context.Background(), target)
	if rs[0].Kind != OK || rs[0].Status != 200 {
		t.Fatalf("with --insecure: %+v", rs[0])
	}
	if sni.Load() != "pad.test.example.org" {
		t.Errorf("SNI %v, want the test host", sni.Load())
	}

	// An https URL sent to a plain http entrypoint.
	plain := httptest.NewServer(fakeTraefik(nil))
	defer plain.Close()
	rs = checker(proxyOf(t, plain), true, time.Second).Check(context.Background(), target)
	if rs[0].Kind != TLSError || !strings.Contains(rs[0].Detail, "https entrypoint") {
		t.Fatalf("https to an http port: %+v", rs[0])
	}
}

func TestCheckCancel(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	checker(proxyOf(t, srv), false, time.Minute).Check(ctx, []Target{{Scheme: "http", Host: "a.test.example.org", Path: "/"}})
	if d := time.Since(start); d > time.Second {
		t.Fatalf("cancel took %s", d)
	}
}

func TestParseProxy(t *testing.T) {
	for in, want := range map[string]Proxy{
		"127.0.0.1":       {Host: "127.0.0.1"},
		"127.0.0.1:18080": {Host: "127.0.0.1", Port: "18080"},
		"traefik.local":   {Host: "traefik.local"},
		"[::1]:8443":      {Host: "::1", Port: "8443"},
		"::1":             {Host: "::1"},
	} {
		got, err := ParseProxy(in)
		if err != nil || got != want {
			t.Errorf("ParseProxy(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "http://127.0.0.1", "127.0.0.1:http", "127.0.0.1:0", ":80", "127.0.0.1/x"} {
		if _, err := ParseProxy(in); err == nil {
			t.Errorf("ParseProxy(%q) accepted", in)
		}
	}
	p := Proxy{Host: "127.0.0.1"}
	if p.Addr("http") != "127.0.0.1:80" || p.Addr("https") != "127.0.0.1:443" {
		t.Errorf("default ports: %s %s", p.Addr("http"), p.Addr("https"))
	}
	p.Port = "18443"
	if p.Addr("http") != "127.0.0.1:18443" || p.Addr("https") != "127.0.0.1:18443" {
		t.Errorf("explicit port: %s %s", p.Addr("http"), p.Addr("https"))
	}
}

func TestTargets(t *testing.T) {
	p := &types.Project{Services: types.Services{
		"pad": {Name: "pad", ContainerSpec: types.ContainerSpec{Labels: types.Labels{
			"traefik.enable":                       "true",
			"traefik.http.routers.pad.rule":        "Host(`pad.test.example.org`) || Host(`www.pad.test.example.org`, `example.com`)",
			"traefik.http.routers.pad.entrypoints": "websecure",
			"traefik.tcp.routers.db.rule":          "HostSNI(`db.test.example.org`)",
		}}, Extensions: types.Extensions{ExtensionKey: map[string]any{"smoke": []any{"/healthz"}, "log-ignore": []any{"cache miss"}}}},
		"off": {Name: "off", ContainerSpec: types.ContainerSpec{Labels: types.Labels{
			"traefik.enable":                "false",
			"traefik.http.routers.off.rule": "Host(`off.test.example.org`)",
		}}},
		"db": {Name: "db"},
	}}
	ts, err := Targets(p, "test.example.org")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, t := range ts {
		got = append(got, t.Service+" "+t.Router+" "+t.URL())
	}
	want := "pad pad https://pad.test.example.org/ | pad pad https://pad.test.example.org/healthz | pad pad https://www.pad.test.example.org/ | pad pad https://www.pad.test.example.org/healthz"
	if strings.Join(got, " | ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " | "), want)
	}
	if !ts[1].Smoke || ts[0].Smoke {
		t.Errorf("smoke flags: %+v", ts[:2])
	}

	for ext, msg := range map[string]any{
		`must start with "/"`:            map[string]any{"smoke": []any{"healthz"}},
		"not a valid regular expression": map[string]any{"log-ignore": []any{"("}},
		"x-picatest":                     "oops",
	} {
		bad := &types.Project{Services: types.Services{"s": {Name: "s", Extensions: types.Extensions{ExtensionKey: msg}}}}
		if _, err := Targets(bad, "test.example.org"); err == nil || !strings.Contains(err.Error(), ext) || !strings.Contains(err.Error(), "service s") {
			t.Errorf("%v: error %v, want %q", msg, err, ext)
		}
	}
}

// TestURLs: the test URLs that report and status show are the hosts Targets
// checks with path "/": HTTP routers of an enabled service only.
func TestURLs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   string
	}{
		{"http and https routers, deduplicated", map[string]string{
			"traefik.http.routers.a.rule":        "Host(`pad.test.example.org`) || Host(`example.com`)",
			"traefik.http.routers.b.rule":        "Host(`pad.test.example.org`)",
			"traefik.http.routers.s.rule":        "Host(`pad.test.example.org`)",
			"traefik.http.routers.s.entrypoints": "websecure",
		}, "http://pad.test.example.org/ https://pad.test.example.org/"},
		{"a TCP router is not a URL", map[string]string{
			"traefik.tcp.routers.db.rule": "HostSNI(`db.test.example.org`)",
		}, ""},
		{"traefik.enable=false", map[string]string{
			"traefik.enable":              "false",
			"traefik.http.routers.x.rule": "Host(`x.test.example.org`)",
		}, ""},
		{"v1 frontend", map[string]string{
			"traefik.frontend.rule": "Host:old.test.example.org",
		}, "http://old.test.example.org/"},
		{"no label", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(URLs(tc.labels, "test.example.org"), " "); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
