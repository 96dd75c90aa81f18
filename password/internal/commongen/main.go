// Command commongen writes the password package's list of common passwords
// (common-passwords.txt) and the note that records where it came from
// (common-passwords.md), from the ranked password frequency data shipped in
// the Go module github.com/trustelem/zxcvbn (a port of Dropbox's zxcvbn,
// MIT licensed), fetched through the Go module proxy.
//
// Run it from the password directory with `go generate`. The module is
// downloaded into the module cache only: it is not a dependency of jot.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	module  = "github.com/trustelem/zxcvbn"
	version = "v1.0.1"
	// dataFile is zxcvbn's ranked password list: one "password count"
	// line each, most frequent first.
	dataFile = "data/passwords.txt"
	// minChars and maxBytes mirror password.MinChars and
	// password.MaxBytes: a shorter or longer password is refused by those
	// rules already, so listing it would only cost memory.
	minChars = 8
	maxBytes = 72
)

func main() {
	log.SetFlags(0)
	out, err := exec.Command("go", "mod", "download", "-json", module+"@"+version).Output()
	if err != nil {
		log.Fatalf("go mod download %s@%s: %v", module, version, err)
	}
	var info struct{ Dir, Sum, Error string }
	if err := json.Unmarshal(out, &info); err != nil || info.Error != "" || info.Dir == "" {
		log.Fatalf("go mod download %s@%s: %v %s", module, version, err, info.Error)
	}
	license, err := os.ReadFile(filepath.Join(info.Dir, "LICENSE.txt"))
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Open(filepath.Join(info.Dir, dataFile))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	var list bytes.Buffer
	seen := map[string]bool{}
	total, kept := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 {
			log.Fatalf("%s line %d: want \"password count\", got %q", dataFile, total+1, sc.Text())
		}
		total++
		// The package compares lower-cased passwords.
		pw := strings.ToLower(fields[0])
		if seen[pw] || !longEnough(pw) || len(pw) > maxBytes {
			continue
		}
		seen[pw] = true
		kept++
		list.WriteString(pw)
		list.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	if kept < 10000 {
		log.Fatalf("only %d passwords kept, want at least 10000", kept)
	}
	if err := os.WriteFile("common-passwords.txt", list.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	note := fmt.Sprintf(`# common-passwords.txt

The passwords jot refuses as too common (NIST SP 800-63B §5.1.1.2: "passwords
obtained from previous breach corpuses"), compared case-insensitively.

- Source: the Go module %[1]s %[2]s (module sum %[3]s), file %[4]s:
  zxcvbn's ranked list of %[5]d common passwords, most frequent first, the list
  the zxcvbn password strength estimator matches against.
- Kept: every entry, lower-cased and in rank order, of at least %[6]d characters
  and at most %[7]d bytes: %[8]d passwords. A shorter one is refused by the
  length rule already.
- Made by: `+"`go generate ./password/`"+` (password/internal/commongen), which fetches
  the module through the Go module proxy; the module is not a dependency of jot.
- License of the source (MIT), reproduced as it ships in the module:

`+"```"+`
%[9]s`+"```"+`
`, module, version, info.Sum, dataFile, total, minChars, maxBytes, kept, license)
	if err := os.WriteFile("common-passwords.md", []byte(note), 0o644); err != nil {
		log.Fatal(err)
	}
	log.Printf("common-passwords.txt: %d of %d passwords", kept, total)
}

// longEnough counts characters the way password.Validate does: combining
// marks do not count.
func longEnough(s string) bool {
	n := 0
	for _, r := range s {
		if r == utf8.RuneError || !unicode.Is(unicode.M, r) {
			n++
		}
	}
	return n >= minChars
}
