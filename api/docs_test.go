package api

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDocsMatchOpenAPI keeps docs/api.md, the reference users read, in
// step with the OpenAPI document the server serves: every method and path
// of one is in the other.
func TestDocsMatchOpenAPI(t *testing.T) {
	md, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	var spec []string
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "put", "post", "patch", "delete":
				spec = append(spec, strings.ToUpper(method)+" "+path)
			}
		}
	}
	// An endpoint in the reference is written `METHOD /path`, with any
	// query after a "?" left out of the comparison.
	re := regexp.MustCompile("`(GET|PUT|POST|PATCH|DELETE) (/[^` ?]*)[^`]*`")
	var docs []string
	for _, m := range re.FindAllStringSubmatch(string(md), -1) {
		docs = append(docs, m[1]+" "+m[2])
	}
	for _, op := range spec {
		if !slices.Contains(docs, op) {
			t.Errorf("%s is in the OpenAPI document but not in docs/api.md", op)
		}
	}
	for _, op := range docs {
		if !slices.Contains(spec, op) {
			t.Errorf("docs/api.md names %s, which the OpenAPI document does not have", op)
		}
	}
}
