// Package registry talks to a Docker image registry's API (/v2/) with the
// credentials of the Docker config, as the engine does: it checks that the
// registry accepts them before anything is built or pushed, and reads the
// digest of a pushed manifest. UnderRegistry tells whether an image is
// named under a registry.
package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/cli/cli/config/configfile"
	clitypes "github.com/docker/cli/cli/config/types"

	"github.com/picasoft/docker-picatest/internal/exitcode"
	"github.com/picasoft/docker-picatest/internal/settings"
)

// dockerHubAuthKey is where the Docker config keeps Docker Hub's
// credentials.
const dockerHubAuthKey = "https://index.docker.io/v1/"

// Client talks to the registry API (/v2/) with the credentials of
// the Docker config, the way the engine does: plain HTTP for loopback
// registries, HTTPS otherwise; Basic authentication or the token flow,
// whichever the registry asks for.
type Client struct {
	host   string
	scheme string
	auth   clitypes.AuthConfig
	http   *http.Client
	// challenge is the WWW-Authenticate of the registry, set by ping.
	challenge authChallenge
}

type authChallenge struct {
	scheme string // "basic", "bearer" or "" (no authentication)
	params map[string]string
}

// New reads the credentials for host from the Docker config cfg
// (credential stores and helpers included). No credentials: exit 1 naming
// docker login.
func New(cfg *configfile.ConfigFile, host string) (*Client, error) {
	key := host
	if host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io" {
		key = dockerHubAuthKey
	}
	auth, err := cfg.GetAuthConfig(key)
	if err != nil {
		return nil, exitcode.With(exitcode.Failed, fmt.Errorf("cannot read the credentials for %s from the Docker config: %v\nRun 'docker login %s'", host, err, host))
	}
	if auth.Username == "" && auth.Password == "" && auth.IdentityToken == "" && auth.RegistryToken == "" {
		return nil, exitcode.With(exitcode.Failed, fmt.Errorf("not logged in to %s: no credentials for it in the Docker config (%s)\nRun 'docker login %s' first", host, cfg.Filename, host))
	}
	scheme := "https"
	if IsLoopbackHost(host) {
		scheme = "http"
	}
	return &Client{host: host, scheme: scheme, auth: auth, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// IsLoopbackHost reports whether host[:port] is localhost or in
// 127.0.0.0/8 or ::1, which the engine reaches over plain HTTP.
func IsLoopbackHost(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func (r *Client) url(path string) string {
	return r.scheme + "://" + r.host + path
}

// Ping checks that the registry answers and accepts the credentials.
func (r *Client) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url("/v2/"), nil)
	if err != nil {
		return exitcode.Invalidf("invalid registry %q: %v\nCheck --registry (or PICATEST_REGISTRY, %s)", r.host, err, settings.File)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return exitcode.With(exitcode.Failed, fmt.Errorf("the registry %s cannot be reached: %v\nCheck that it is up and that --registry (or PICATEST_REGISTRY, %s) names it; nothing was built or pushed", r.host, err, settings.File))
	}
	drain(resp)
	switch resp.StatusCode {
	case http.StatusOK:
		return nil // no authentication required
	case http.StatusUnauthorized:
	default:
		return exitcode.With(exitcode.Failed, fmt.Errorf("the registry %s answered %s to GET %s: is it a Docker registry?\nCheck --registry (or PICATEST_REGISTRY, %s)", r.host, resp.Status, req.URL, settings.File))
	}
	r.challenge = parseChallenge(resp.Header.Get("WWW-Authenticate"))
	if r.challenge.scheme == "bearer" {
		if _, err := r.token(ctx, ""); err != nil {
			return err
		}
		return nil
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, r.url("/v2/"), nil)
	req.SetBasicAuth(r.auth.Username, r.auth.Password)
	resp, err = r.http.Do(req)
	if err != nil {
		return exitcode.With(exitcode.Failed, fmt.Errorf("the registry %s cannot be reached: %v", r.host, err))
	}
	drain(resp)
	return r.checkAuthStatus(resp)
}

func (r *Client) checkAuthStatus(resp *http.Response) error {
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return exitcode.With(exitcode.Failed, fmt.Errorf("the registry %s refuses the credentials of the Docker config (%s)\nRun 'docker login %s' again with the right user and password", r.host, resp.Status, r.host))
	default:
		return exitcode.With(exitcode.Failed, fmt.Errorf("the registry %s answered %s while checking the credentials\nRun 'docker login %s' again, or check the registry", r.host, resp.Status, r.host))
	}
}

// token runs the token flow of the registry for scope ("" to check the
// credentials only) and returns the bearer token.
func (r *Client) token(ctx context.Context, scope string) (string, error) {
	realm := r.challenge.params["realm"]
	if realm == "" {
		return "", exitcode.With(exitcode.Failed, fmt.Errorf("the registry %s asks for a token without a realm", r.host))
	}
	q := url.Values{}
	if s := r.challenge.params["service"]; s != "" {
		q.Set("service", s)
	}
	if scope != "" {
		q.Set("scope", scope)
	}
	var req *http.Request
	var err error
	if r.auth.IdentityToken != "" {
		q.Set("grant_type", "refresh_token")
		q.Set("refresh_token", r.auth.IdentityToken)
		q.Set("client_id", "docker-picatest")
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, realm, strings.NewReader(q.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		u := realm
		if enc := q.Encode(); enc != "" {
			sep := "?"
			if strings.Contains(realm, "?") {
				sep = "&"
			}
			u += sep + enc
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err == nil {
			req.SetBasicAuth(r.auth.Username, r.auth.Password)
		}
	}
	if err != nil {
		return "", exitcode.With(exitcode.Failed, fmt.Errorf("invalid token realm %q of the registry %s: %v", realm, r.host, err))
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return "", exitcode.With(exitcode.Failed, fmt.Errorf("the token service %s of the registry %s cannot be reached: %v", realm, r.host, err))
	}
	defer drain(resp)
	if err := r.checkAuthStatus(resp); err != nil {
		return "", err
	}
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return "", exitcode.With(exitcode.Failed, fmt.Errorf("invalid answer of the token service of %s: %v", r.host, err))
	}
	if body.Token == "" {
		body.Token = body.AccessToken
	}
	return body.Token, nil
}

// authorize adds the credentials the registry asked for to req.
func (r *Client) authorize(ctx context.Context, req *http.Request, scope string) error {
	switch r.challenge.scheme {
	case "basic":
		req.SetBasicAuth(r.auth.Username, r.auth.Password)
	case "bearer":
		tok, err := r.token(ctx, scope)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return nil
}

// manifestMediaTypes are the manifests the engine pushes.
var manifestMediaTypes = []string{
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
}

// ManifestDigest returns the digest of the manifest of repo:tag in the
// registry (Docker-Content-Digest).
func (r *Client) ManifestDigest(ctx context.Context, repo, tag string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, r.url("/v2/"+repo+"/manifests/"+tag), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", strings.Join(manifestMediaTypes, ", "))
	if err := r.authorize(ctx, req, "repository:"+repo+":pull"); err != nil {
		return "", err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return "", err
	}
	drain(resp)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HEAD %s: %s", req.URL, resp.Status)
	}
	d := resp.Header.Get("Docker-Content-Digest")
	if d == "" {
		return "", fmt.Errorf("HEAD %s: no Docker-Content-Digest header", req.URL)
	}
	return d, nil
}

// parseChallenge parses a WWW-Authenticate header such as
// `Bearer realm="https://auth.example/token",service="registry"`.
func parseChallenge(h string) authChallenge {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	c := authChallenge{scheme: strings.ToLower(scheme), params: map[string]string{}}
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`)
			if end < 0 {
				c.params[k] = v[1:]
				break
			}
			c.params[k] = v[1 : end+1]
			rest = v[end+2:]
		} else {
			val, next, _ := strings.Cut(v, ",")
			c.params[k] = strings.TrimSpace(val)
			rest = next
		}
	}
	return c
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
}

// UnderRegistry reports whether named is under registry (host[/path]):
// same domain, case-insensitively, and under the path if there is one.
func UnderRegistry(named reference.Named, registry string) bool {
	regHost, regPath, _ := strings.Cut(strings.TrimSuffix(registry, "/"), "/")
	domain, path := reference.Domain(named), reference.Path(named)
	return strings.EqualFold(domain, regHost) && (regPath == "" || strings.HasPrefix(path, regPath+"/"))
}

// HomeMade returns whether an image is named under the home registry
// (host[/path]): the images a team builds itself. An image that does not
// parse is not.
func HomeMade(home string) func(image string) bool {
	return func(image string) bool {
		named, err := reference.ParseNormalizedNamed(image)
		return err == nil && UnderRegistry(named, home)
	}
}
