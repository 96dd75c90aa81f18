package config

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// JOT_KEY_ENCRYPTION_KEY: 32 bytes in standard or URL base64, padded or
// not; anything else is one line naming the setting, never quoting it.
func TestKeyEncryptionKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xfb, 0xff, 0x3e}, 11)[:32] // bytes that differ between the two alphabets
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		v := enc.EncodeToString(key)
		c, _, err := load(t, nil, env{"JOT_KEY_ENCRYPTION_KEY": " " + v + "\n"}, "")
		if err != nil || !bytes.Equal(c.KeyEncryptionKey, key) {
			t.Errorf("%q: %v", v, err)
		}
		if s := fmt.Sprintf("%v %+v", c, c.KeyEncryptionKey); strings.Contains(s, v) || !strings.Contains(s, "key_encryption_key=[redacted]") {
			t.Errorf("the key prints: %s", s)
		}
	}
	for v, want := range map[string]string{
		"not base64 at all!": "JOT_KEY_ENCRYPTION_KEY: is not base64 (make one with: openssl rand -base64 32)",
		base64.StdEncoding.EncodeToString(make([]byte, 31)): "JOT_KEY_ENCRYPTION_KEY: must be 32 bytes in base64, got 31 bytes (make one with: openssl rand -base64 32)",
		base64.StdEncoding.EncodeToString(make([]byte, 64)): "JOT_KEY_ENCRYPTION_KEY: must be 32 bytes in base64, got 64 bytes (make one with: openssl rand -base64 32)",
	} {
		_, _, err := load(t, nil, env{"JOT_KEY_ENCRYPTION_KEY": v}, "")
		if err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %q", v, err, want)
		}
	}
	if c, _, err := load(t, nil, env{}, ""); err != nil || len(c.KeyEncryptionKey) != 0 {
		t.Errorf("unset: %v %v", c.KeyEncryptionKey, err)
	}
}
