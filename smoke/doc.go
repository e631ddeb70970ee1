// Package smoke checks a test deployment, in three steps:
//
//   - Wait waits, driven by the engine's events, until the containers of
//     every service are running and healthy (a one-shot: exited 0), then
//     through the stability window; it fails fast on a crash loop, an exit,
//     an unhealthy or removed container, and on the timeout.
//   - Targets lists the URLs to request, from the services' Traefik router
//     rules and their x-picatest smoke paths; a Checker requests them
//     through Traefik (NewClient sends every request to the proxy address,
//     whatever the URL's host) and tells Traefik's own answers (no router,
//     no healthy server) from the app's.
//   - ScanLogs reads the logs of every container since it last started and
//     returns the lines that look like errors.
package smoke
