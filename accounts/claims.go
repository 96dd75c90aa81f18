package accounts

import "github.com/golang-jwt/jwt/v5"

// jwtSubject returns registered claims naming the subject; the issuer
// fills in the rest (iss, aud, iat, nbf, exp, jti).
func jwtSubject(userID string) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{Subject: userID}
}
