package auth

import "github.com/regkit/regkit/internal/origin"

// OriginError is a request refused because it would have carried a
// credential where the client's origin rules forbid. [Login] and the
// [RoundTripper]'s token requests return it (wrapped; match it with
// [errors.As]) for:
//
//   - a redirect off the origin (scheme, host and port) of the registry or
//     of its token realm: to another host, another port, or from HTTPS to
//     plain HTTP;
//   - a token realm that is plain HTTP, unless the registry is plain HTTP
//     itself and the realm is on its host, or both are on loopback; or a
//     realm holding user information.
//
// These are the rules [github.com/regkit/regkit/remote.Client] keeps for
// the registry's own requests: its round tripper, which adds credentials,
// only sees requests to the registry's origin. Its fields are For (the
// origin the credential is for, as in "https://ghcr.io:443"), To (where it
// would have gone, without query or user information) and Reason. It never
// holds a secret.
type OriginError = origin.Error
