//go:build !jotbase

package main

import "github.com/jotauth/jot/guard"

func jwtOptions(remote *guard.Remote) guard.JWTOptions {
	return guard.JWTOptions{Revocations: remote, Cache: guard.NewTokenCache(guard.TokenCacheOptions{})}
}
