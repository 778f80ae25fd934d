// Package auth finds registry credentials and uses them.
//
// A [Credential] is a username and password, an OAuth2 identity (refresh)
// token, or a registry bearer token; the zero Credential is anonymous. A
// [CredentialStore] gives the credential of a registry host, and answers anonymous
// for hosts it knows nothing about, so a credential only ever goes to the
// host it belongs to.
//
// # Where credentials come from
//
//   - [Static]: one credential for one host.
//   - [DockerConfig] and [FromDockerConfig]: Docker's config.json, with its
//     "auths" entries, "credsStore" and "credHelpers", as the docker CLI
//     reads them. [DockerConfigStore.Save] writes a credential back, as
//     docker login does.
//   - [Helper]: a Docker credential helper program
//     (docker-credential-pass, -secretservice, -osxkeychain, -ecr-login, …).
//   - [ContainersAuthFile]: the auth.json of podman, buildah and skopeo,
//     falling back to Docker's files as they do.
//   - [Chain]: the first of several stores that knows the host.
//   - [CredentialFunc]: any function.
//
// Docker Hub has three names, "docker.io", "index.docker.io" and
// "registry-1.docker.io", which every store of this package treats as one
// host; Docker keys it "https://index.docker.io/v1/" in config.json and
// gives that URL to credential helpers. Hosts are compared without regard
// to case.
//
// [Login] checks a credential against a registry, as docker login does,
// before it is saved.
//
// # Using them
//
// A [RoundTripper] is an [net/http.RoundTripper] that adds credentials to
// the requests of one registry: it answers the registry's 401 challenges with
// Basic, or with a Bearer token fetched from the challenge's realm for the
// scopes the request needs (GET with Basic for a password, as docker sends
// it; an OAuth2 refresh-token grant for an identity token), and caches
// tokens per scope until they expire. Most
// programs do not make one themselves:
//
//	reg, err := registry.New("ghcr.io", registry.WithAuth(auth.FromDockerConfig()))
//
// puts one under the registry's HTTP client (see
// github.com/regkit/regkit/registry.WithAuth). A push, or a copy within one
// registry, asks for one token that covers all of it; [WithScopes] does the
// same for operations of your own.
//
// # Secrets
//
// Secrets never appear in what this package prints: a Credential formats
// as `{user alice, password ***}` with every fmt verb, the stores print as
// their source, and errors ([*ConfigError], [*HelperError], those of
// [Login]) name files, entries, hosts and users, never passwords or
// tokens.
//
// The formats are described in
// https://github.com/docker/cli/blob/master/docs/reference/commandline/login.md
// (config.json and credential helpers) and containers-auth.json(5).
package auth
