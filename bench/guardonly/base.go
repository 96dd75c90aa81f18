//go:build jotbase

package main

import "github.com/jotauth/jot/guard"

// jwtOptions for a tree from before guard.TokenCache, to measure it.
func jwtOptions(remote *guard.Remote) guard.JWTOptions {
	return guard.JWTOptions{Revocations: remote}
}
