// Command app is the program inside the test images of docker-picatest
// (picatest-test/app:1 and its stand-ins postgres:12, redis:6, nginx:1.25).
// The images are built FROM scratch, so everything a test needs is here:
//
//	app              serve HTTP on $PORT (default 8080)
//	app health       GET http://127.0.0.1:$PORT/healthz, exit 0 if 200 else 1
//	app cat PATH...  print files and exit (1 if one is missing)
//	app sleep SECONDS  print "app: sleeping Ns", sleep, exit 0 (a slow build
//	                   step; $VAR in SECONDS is expanded, as the exec form of
//	                   RUN has no shell: RUN ["/app", "sleep", "$BUILD_SLEEP"])
//
// Environment read by the server:
//
//	PORT            listen port (default 8080)
//	SHOW_FILES      comma-separated paths whose content GET / returns
//	UNHEALTHY_FILE  /healthz answers 503 while this file exists
//	HEALTHY=false   /healthz answers 503
//	HEALTHY_AFTER   duration (e.g. 5s): /healthz answers 503 until then
//	CRASH_AFTER     duration (e.g. 2s): exit 1 after that delay
//	LOG_LINES       lines printed to stdout at start ("\n" separated,
//	                a literal backslash-n is accepted too)
//	ONESHOT=1       print LOG_LINES and exit at once with $EXIT_CODE
//	EXIT_CODE       exit code of a one-shot run (default 0)
//	IGNORE_SIGTERM=1  print "app: SIGTERM ignored" and keep serving (a
//	                container slow to stop: it lasts until its
//	                stop_grace_period, then is killed)
//
// Endpoints: GET / (JSON: hostname, env, files), GET /file?path=/x (the file,
// 404 if absent), GET /healthz. SIGTERM and SIGINT exit 0 promptly (SIGTERM
// is ignored with IGNORE_SIGTERM=1).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 {
		switch args[0] {
		case "health":
			os.Exit(health())
		case "cat":
			os.Exit(cat(args[1:]))
		case "sleep":
			os.Exit(sleep(args[1:]))
		case "serve":
			// explicit form of the default
		case "-h", "--help", "help":
			fmt.Println("usage: app [serve] | app health | app cat PATH... | app sleep SECONDS")
			return
		default:
			fmt.Fprintf(os.Stderr, "app: unknown command %q (want serve, health, cat or sleep)\n", args[0])
			os.Exit(2)
		}
	}
	os.Exit(serve())
}

func port() string {
	if p := os.Getenv("PORT"); p != "" {
		return p
	}
	return "8080"
}

// logLines returns LOG_LINES split on real newlines and on a literal "\n".
func logLines() []string {
	v := os.Getenv("LOG_LINES")
	if v == "" {
		return nil
	}
	v = strings.ReplaceAll(v, `\n`, "\n")
	return strings.Split(strings.TrimRight(v, "\n"), "\n")
}

func serve() int {
	for _, l := range logLines() {
		fmt.Println(l)
	}
	if os.Getenv("ONESHOT") == "1" {
		code := 0
		if v := os.Getenv("EXIT_CODE"); v != "" {
			c, err := strconv.Atoi(v)
			if err != nil {
				fmt.Fprintf(os.Stderr, "app: EXIT_CODE %q is not an integer\n", v)
				return 2
			}
			code = c
		}
		return code
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if ok, why := healthy(); !ok {
			http.Error(w, "unhealthy: "+why, http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Query().Get("path")
		if p == "" {
			http.Error(w, "missing ?path=", http.StatusBadRequest)
			return
		}
		b, err := os.ReadFile(p)
		if err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, os.ErrNotExist) {
				code = http.StatusNotFound
			}
			http.Error(w, err.Error(), code)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(b)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		host, _ := os.Hostname()
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		files := map[string]*string{}
		for _, p := range strings.Split(os.Getenv("SHOW_FILES"), ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if b, err := os.ReadFile(p); err == nil {
				s := string(b)
				files[p] = &s
			} else {
				files[p] = nil // JSON null: absent or unreadable
			}
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(map[string]any{"hostname": host, "env": env, "files": files})
	})

	srv := &http.Server{Addr: ":" + port(), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Printf("app: listening on :%s\n", port())

	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT)
	ignoreTerm := os.Getenv("IGNORE_SIGTERM") == "1"

	var crash <-chan time.Time
	if v := os.Getenv("CRASH_AFTER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "app: CRASH_AFTER %q is not a duration\n", v)
			return 2
		}
		crash = time.After(d)
	}

	for {
		select {
		case err := <-errc:
			fmt.Fprintf(os.Stderr, "app: %v\n", err)
			return 1
		case <-crash:
			fmt.Fprintf(os.Stderr, "app: crashing as asked (CRASH_AFTER=%s)\n", os.Getenv("CRASH_AFTER"))
			return 1
		case s := <-sigc:
			if s == syscall.SIGTERM && ignoreTerm {
				fmt.Println("app: SIGTERM ignored (IGNORE_SIGTERM=1)")
				continue
			}
			fmt.Printf("app: %v, shutting down\n", s)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
			return 0
		}
	}
}

// startedAt is when the server process started, for HEALTHY_AFTER.
var startedAt = time.Now()

func healthy() (bool, string) {
	if strings.EqualFold(os.Getenv("HEALTHY"), "false") {
		return false, "HEALTHY=false"
	}
	if d, err := time.ParseDuration(os.Getenv("HEALTHY_AFTER")); err == nil && time.Since(startedAt) < d {
		return false, "not ready before HEALTHY_AFTER=" + d.String()
	}
	if f := os.Getenv("UNHEALTHY_FILE"); f != "" {
		if _, err := os.Stat(f); err == nil {
			return false, f + " exists"
		}
	}
	return true, ""
}

func health() int {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://127.0.0.1:" + port() + "/healthz")
	if err != nil {
		fmt.Fprintf(os.Stderr, "unhealthy: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Print(string(body))
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}

func cat(paths []string) int {
	if len(paths) == 0 {
		fmt.Fprintln(os.Stderr, "usage: app cat PATH...")
		return 2
	}
	rc := 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "app: %v\n", err)
			rc = 1
			continue
		}
		os.Stdout.Write(b)
	}
	return rc
}

// sleep waits for the given number of seconds, for a slow build step.
func sleep(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: app sleep SECONDS")
		return 2
	}
	// The exec form of RUN has no shell: expand $VAR here, so that a build
	// arg sets the time (RUN ["/app", "sleep", "$BUILD_SLEEP"]).
	v := os.ExpandEnv(args[0])
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		fmt.Fprintf(os.Stderr, "app: sleep %q: not a number of seconds\n", v)
		return 2
	}
	fmt.Printf("app: sleeping %ds\n", n)
	time.Sleep(time.Duration(n) * time.Second)
	return 0
}
