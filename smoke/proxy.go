package smoke

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Proxy is a parsed --proxy value: the address of Traefik's entrypoints.
type Proxy struct {
	Host string
	// Port is the port given in host:port, "" when none: then http goes to
	// port 80 and https to 443 of Host. With a port, every request goes to
	// that port (the scheme is still the router's: give the https
	// entrypoint's port, with --insecure for a self-signed certificate, to
	// check TLS routers).
	Port string
}

// ParseProxy parses host[:port] (IPv6 as [::1]:port).
func ParseProxy(v string) (Proxy, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return Proxy{}, errors.New("the proxy address is empty: give host[:port], e.g. 127.0.0.1 or 127.0.0.1:8443")
	}
	if strings.Contains(v, "://") || strings.Contains(v, "/") {
		return Proxy{}, fmt.Errorf("proxy %q: give host[:port] without scheme or path, e.g. 127.0.0.1:8080", v)
	}
	if host, port, err := net.SplitHostPort(v); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return Proxy{}, fmt.Errorf("proxy %q: port %q is not a number between 1 and 65535", v, port)
		}
		if host == "" {
			return Proxy{}, fmt.Errorf("proxy %q: the host is missing, e.g. 127.0.0.1:%s", v, port)
		}
		return Proxy{Host: host, Port: port}, nil
	}
	if strings.Count(v, ":") > 1 && !strings.HasPrefix(v, "[") { // bare IPv6
		return Proxy{Host: v}, nil
	}
	if strings.ContainsAny(v, ":[]") {
		return Proxy{}, fmt.Errorf("proxy %q is not host[:port]", v)
	}
	return Proxy{Host: v}, nil
}

// String is host[:port] as given.
func (p Proxy) String() string {
	if p.Port == "" {
		return p.Host
	}
	return net.JoinHostPort(p.Host, p.Port)
}

// Addr is the address dialled for a URL of the given scheme.
func (p Proxy) Addr(scheme string) string {
	if p.Port != "" {
		return net.JoinHostPort(p.Host, p.Port)
	}
	if scheme == "https" {
		return net.JoinHostPort(p.Host, "443")
	}
	return net.JoinHostPort(p.Host, "80")
}

// NewClient returns an HTTP client that sends every request to the proxy,
// whatever the URL's host (no DNS, no HTTP_PROXY): the URL's host is the
// Host header and the TLS SNI. insecure skips the verification of the
// certificate (Traefik's self-signed default certificate). It follows no
// redirect: a 3xx is the app's answer.
func NewClient(p Proxy, insecure bool, requestTimeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: requestTimeout}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			scheme := "http"
			if _, port, _ := net.SplitHostPort(addr); port == "443" {
				scheme = "https"
			}
			return dialer.DialContext(ctx, network, p.Addr(scheme))
		},
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: insecure}, //nolint:gosec // --insecure, for self-signed test certificates
		TLSHandshakeTimeout: requestTimeout,
		DisableKeepAlives:   true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
