// Package interop holds the interoperability tests of jot: its tokens
// verified, and its token endpoint used, by client libraries nobody here
// wrote — golang.org/x/oauth2 in Go, and jsonwebtoken, jose, passport-jwt
// and jwks-rsa in Node (see package.json; run `npm ci` in this directory
// first, or the Node tests skip). It has no code of its own: everything is
// in its tests, which start real jot servers.
package interop
