package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/joho/godotenv"
)

// dotenvValue is one setting read from a .env file, with its line for
// error messages.
type dotenvValue struct {
	text string
	line int
}

// readDotenv reads the JOT_ settings of a .env file. Its errors never quote
// the file: a line that fails to parse may hold a secret.
func readDotenv(path string, rows []setting) (map[string]dotenvValue, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	vars, err := godotenv.UnmarshalBytes(src)
	if err != nil {
		problem := "malformed line (want NAME=value)"
		if strings.HasPrefix(err.Error(), "unterminated quoted value") {
			problem = "unterminated quoted value"
		}
		return nil, fmt.Errorf("%s line %d: %s", path, badLine(src), problem)
	}
	// In file order, so that the first of several bad lines is reported.
	type entry struct {
		name, text string
		line       int
	}
	entries := make([]entry, 0, len(vars))
	for name, text := range vars {
		entries = append(entries, entry{name, text, keyLine(src, name)})
	}
	slices.SortFunc(entries, func(a, b entry) int { return a.line - b.line })
	known := make(map[string]bool, len(rows))
	for _, s := range rows {
		known[s.env] = true
	}
	out := make(map[string]dotenvValue)
	for _, e := range entries {
		switch {
		case !validName.MatchString(e.name):
			// godotenv takes "=x" and a last line without "=" for a value
			// with an empty name, and "A B=x" for one named "A B".
			line := e.line
			if line == 0 {
				line = lastStatement(src)
			}
			return nil, fmt.Errorf("%s line %d: malformed line (want NAME=value)", path, line)
		case !strings.HasPrefix(e.name, "JOT_"):
			// The file may serve other programs too.
		case !known[e.name]:
			// Nothing else reads it (the environment is not modified), so
			// it is a typo that would otherwise pass silently.
			return nil, fmt.Errorf("%s line %d: unknown setting %s (JOT_ names are reserved for jot's settings)", path, e.line, e.name)
		default:
			out[e.name] = dotenvValue{text: e.text, line: e.line}
		}
	}
	return out, nil
}

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

// badLine finds the line a parse error is on: the one after the longest
// run of lines that parses. (Shorter runs can fail only by cutting a quoted
// multi-line value in two.) godotenv's errors carry no line number, and
// quote the rest of the file.
func badLine(src []byte) int {
	lines := bytes.SplitAfter(src, []byte("\n"))
	good := 0
	for k := 1; k <= len(lines); k++ {
		if _, err := godotenv.UnmarshalBytes(bytes.Join(lines[:k], nil)); err == nil {
			good = k
		}
	}
	return good + 1
}

// lastStatement returns the number of the last line that is neither blank
// nor a comment.
func lastStatement(src []byte) int {
	n := 0
	for i, l := range bytes.Split(src, []byte("\n")) {
		if t := bytes.TrimSpace(l); len(t) > 0 && t[0] != '#' {
			n = i + 1
		}
	}
	return n
}

// keyLine returns the line of the last assignment to name (the one that
// wins), or 0 if it cannot be found.
func keyLine(src []byte, name string) int {
	re := regexp.MustCompile(`(?m)^[ \t]*(?:export[ \t]+)?` + regexp.QuoteMeta(name) + `[ \t]*[=:]`)
	locs := re.FindAllIndex(src, -1)
	if len(locs) == 0 {
		return 0
	}
	return 1 + bytes.Count(src[:locs[len(locs)-1][0]], []byte("\n"))
}
