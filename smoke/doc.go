// Package smoke checks a test deployment: waits for its containers to be
// running and healthy, then (later) HTTP checks through Traefik and a log
// scan.
package smoke
