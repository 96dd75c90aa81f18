package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2Params are the tunable parameters of an argon2id hash.
type argon2Params struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	saltLen int
	keyLen  int
}

// defaultArgon2 is OWASP's first recommended argon2id configuration (19 MiB,
// 2 passes, 1 lane). The memory is per running hash; with the pool bounding
// hashes to about one per core, a burst of logins costs at most
// workers × 19 MiB instead of growing with the number of requests.
var defaultArgon2 = argon2Params{memory: 19 * 1024, time: 2, threads: 1, saltLen: 16, keyLen: 32}

// Limits on parameters read from a stored hash, so a corrupt or planted
// hash cannot make one verification take gigabytes or minutes.
const (
	maxArgon2Memory = 1 << 20 // KiB, 1 GiB
	maxArgon2Time   = 64
	minArgon2Salt   = 8
	minArgon2Key    = 16
	maxArgon2Key    = 1024
)

var errMalformedArgon2 = errors.New("password: malformed argon2id hash")

// argon2Hash is a parsed argon2id PHC string.
type argon2Hash struct {
	params argon2Params
	salt   []byte
	key    []byte
}

func hashArgon2(password string, p argon2Params) (string, error) {
	salt := make([]byte, p.saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(p.keyLen))
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// parseArgon2 parses "$argon2id$v=19$m=M,t=T,p=P$SALT$KEY" (unpadded
// standard base64), the form the reference implementation, libsodium, PHP
// and most libraries write. Errors never quote the hash: it is a secret of
// its own.
func parseArgon2(hash string) (*argon2Hash, error) {
	parts := strings.Split(hash, "$")
	if len(parts) < 2 || parts[0] != "" {
		return nil, errors.New("password: unknown hash scheme")
	}
	if parts[1] != "argon2id" {
		if strings.HasPrefix(parts[1], "2") {
			return nil, errors.New("password: malformed or unsupported bcrypt hash")
		}
		return nil, errors.New("password: unknown hash scheme")
	}
	if len(parts) != 6 {
		return nil, errMalformedArgon2
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, errors.New("password: unsupported argon2id version")
	}
	m, t, p, ok := parseMTP(parts[3])
	if !ok || m < 8*uint64(p) || m > maxArgon2Memory || t < 1 || t > maxArgon2Time || p < 1 || p > 255 {
		return nil, errMalformedArgon2
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < minArgon2Salt {
		return nil, errMalformedArgon2
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < minArgon2Key || len(key) > maxArgon2Key {
		return nil, errMalformedArgon2
	}
	return &argon2Hash{
		params: argon2Params{memory: uint32(m), time: uint32(t), threads: uint8(p), saltLen: len(salt), keyLen: len(key)},
		salt:   salt,
		key:    key,
	}, nil
}

// parseMTP parses "m=M,t=T,p=P" in that order, the only order writers use.
func parseMTP(s string) (m, t, p uint64, ok bool) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return 0, 0, 0, false
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, found := strings.CutPrefix(fields[i], name)
		if !found || v == "" || (len(v) > 1 && v[0] == '0') {
			return 0, 0, 0, false
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return 0, 0, 0, false
		}
		vals[i] = n
	}
	return vals[0], vals[1], vals[2], true
}

func (a *argon2Hash) verify(password string) (bool, error) {
	p := a.params
	key := argon2.IDKey([]byte(password), a.salt, p.time, p.memory, p.threads, uint32(p.keyLen))
	return subtle.ConstantTimeCompare(key, a.key) == 1, nil
}
