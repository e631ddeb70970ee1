// Package examples has no code: its tests check the examples that users
// copy (gitlab-ci.yml, issue 18).
package examples
