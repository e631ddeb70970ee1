// Package instance implements the "instance" transform (SPEC §9): a copy of
// a test deployment that runs beside the default one, e.g. one per git
// branch, on the same engine and behind the same Traefik.
//
// With instance "feat-x", the project "pad" becomes:
//
//   - the Compose project "pad-feat-x" (service names never change, so
//     depends_on, links and the hostnames between services keep working);
//   - in every test host, the label next to the test domain gets
//     "-feat-x": pad.test.picasoft.net → pad-feat-x.test.picasoft.net,
//     week.pad.test.picasoft.net → week.pad-feat-x.test.picasoft.net,
//     test.picasoft.net → feat-x.test.picasoft.net. A one-label host stays
//     one label under the test domain, so the wildcard certificate
//     *.test.picasoft.net still covers it. The host rule is a
//     transforms.Rewriter (Rewriter), applied after the test-URL rule to the
//     same strings: labels, environment, command, entrypoint, healthcheck,
//     build args, extra_hosts, hostname, network aliases, x- extensions
//     (Transform), and, chained after the test-URL rule, to the config files
//     and build contexts, so that one host is used everywhere;
//   - explicit Traefik router, service, middleware and servers-transport
//     names get "-feat-x", and every reference to them (a router's service
//     and middlewares, a chain) is rewritten with them; names of other
//     providers (auth@file) and names not defined in the project (another
//     container's middleware) are kept. Traefik's own derived names are
//     already per project;
//   - container_name values get "-feat-x";
//   - external volumes become instance volumes "<volume>-feat-x" that
//     Compose manages (created empty by up, removed by down -v), so the
//     shared external volume is never touched; the project's own volumes,
//     networks, configs and secrets are named after the new project (an
//     explicit name gets "-feat-x"); external networks (Traefik's proxy)
//     stay shared;
//   - every container, volume and network the instance creates carries the
//     label net.picasoft.picatest.instance (Label): the reset and down of
//     the instance never remove a volume or network without it.
//
// A name the instance derives that the project itself uses for an object
// of the same kind (instance "db" of a project with the external volumes
// "pad" and "pad-db": "pad" would become "pad-db") is refused with a
// *CollisionError naming both. What exists on the engine is checked
// before the deployment (internal/deploy.CheckInstanceNames).
//
// Instance names are DNS labels of at most MaxLen characters (Check);
// FromBranch derives one from a git branch name, stably. A label that
// would pass 63 characters with the suffix is shortened with a stable hash.
package instance
