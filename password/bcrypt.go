package password

import "strings"

// bcryptAlphabet is bcrypt's own base64 alphabet (not RFC 4648's).
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// maxVerifyCost is the highest bcrypt cost Verify accepts (about 4 s a
// verification on current hardware, 16 times the default).
const maxVerifyCost = 16

// IsBcrypt reports whether hash is a bcrypt hash this package verifies, for
// importing users with existing hashes: a $2a$, $2b$ or $2y$ prefix, a cost
// of 04 to 16, a 22-character salt and a 31-character digest.
//
// Two kinds of valid bcrypt hash are refused. Costs above 16: one
// verification at cost 31 runs for days, so a single such hash would let
// anyone who knows its email tie up every worker. And $2x$, crypt_blowfish's
// marker for hashes made by its old sign-extension bug, which do not verify
// correctly for passwords with non-ASCII bytes.
func IsBcrypt(hash string) bool {
	_, ok := parseBcrypt(hash)
	return ok
}

// parseBcrypt checks the whole format itself rather than trusting
// x/crypto/bcrypt, which accepts any minor version letter ($2x$ included)
// and ignores trailing garbage.
func parseBcrypt(hash string) (cost int, ok bool) {
	// $2a$10$ + 22 salt + 31 digest
	if len(hash) != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$' {
		return 0, false
	}
	switch hash[2] {
	case 'a', 'b', 'y':
		// Identical for passwords under 256 bytes and without the
		// long-fixed 8-bit bug; ours are at most 72 bytes.
	default:
		return 0, false
	}
	d1, d2 := hash[4], hash[5]
	if d1 < '0' || d1 > '9' || d2 < '0' || d2 > '9' {
		return 0, false
	}
	cost = int(d1-'0')*10 + int(d2-'0')
	if cost < 4 || cost > maxVerifyCost {
		return 0, false
	}
	for i := 7; i < len(hash); i++ {
		if strings.IndexByte(bcryptAlphabet, hash[i]) < 0 {
			return 0, false
		}
	}
	return cost, true
}
