package interop_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeSnippetsAreTested keeps the README's section on verifying
// tokens elsewhere in step with the code these tests run: each of its code
// blocks must be, verbatim, the part between the snippet markers of one of
// the files below.
func TestReadmeSnippetsAreTested(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const heading = "## Verify jot tokens in another service\n"
	_, section, ok := strings.Cut(string(readme), heading)
	if !ok {
		t.Fatalf("README.md has no section %q", strings.TrimSpace(heading))
	}
	if next := strings.Index(section, "\n## "); next >= 0 {
		section = section[:next]
	}
	blocks := codeBlocks(section)

	snippets := map[string]string{}
	for _, file := range []string{"remote_test.go", "jose-verify.mjs", "express-app.mjs"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		_, rest, ok1 := strings.Cut(string(b), "// snippet:start\n")
		snippet, _, ok2 := strings.Cut(rest, "// snippet:end")
		if !ok1 || !ok2 {
			t.Fatalf("%s has no snippet markers", file)
		}
		snippets[file] = strings.Trim(snippet, "\n")
	}

	used := map[string]bool{}
	for _, block := range blocks {
		found := false
		for file, snippet := range snippets {
			if block == snippet {
				used[file], found = true, true
			}
		}
		if !found {
			t.Errorf("README code block is not the snippet of any tested file:\n%s", block)
		}
	}
	for file := range snippets {
		if !used[file] {
			t.Errorf("the snippet of %s is not in the README (or differs from it)", file)
		}
	}
}

// codeBlocks returns the contents of the fenced code blocks of a Markdown
// text.
func codeBlocks(md string) []string {
	var blocks []string
	for {
		_, rest, ok := strings.Cut(md, "\n```")
		if !ok {
			return blocks
		}
		_, rest, _ = strings.Cut(rest, "\n") // the info string, e.g. go
		body, after, ok := strings.Cut(rest, "\n```")
		if !ok {
			return blocks
		}
		blocks = append(blocks, strings.Trim(body, "\n"))
		md = after
	}
}
