// Package guard authenticates HTTP requests to a net/http API: Passport's
// idea in Go's terms. It is a handful of small pieces that compose:
//
//   - an Extractor finds a raw token in a request (header, query, cookie);
//   - a Strategy turns a request into a Principal, or says why it cannot
//     (JWT for bearer tokens, Local for an email and a password);
//   - Guard.Require runs strategies in order and either puts the Principal
//     in the request context or answers with jot's error shape;
//   - RequireRole lets through only some roles.
//
// The protected path touches no database: a TokenVerifier checks the token
// and a RevocationChecker (usually a RevocationSet kept in memory) says
// whether its session has ended. Remote does both for services that trust
// tokens issued by a jot server they do not share a database with.
//
// A minimal protected API:
//
//	v := &token.Verifier{Keys: keys, Issuer: "jot", Audience: "jot"}
//	mux.Handle("GET /v1/things", guard.Require(guard.JWT(v, guard.JWTOptions{}))(things))
package guard
