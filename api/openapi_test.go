package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jotauth/jot/accounts"
	"github.com/jotauth/jot/guard"
	"github.com/jotauth/jot/password"
	"github.com/jotauth/jot/sqlite"
	"github.com/jotauth/jot/token"
)

// openAPIOp is the part of an OpenAPI operation the tests look at.
type openAPIOp struct {
	OperationID string                     `json:"operationId"`
	Parameters  []map[string]any           `json:"parameters"`
	Security    *[]map[string][]string     `json:"security"`
	Responses   map[string]json.RawMessage `json:"responses"`
	RequestBody *struct {
		Content map[string]json.RawMessage `json:"content"`
	} `json:"requestBody"`
}

type openAPIDocument struct {
	OpenAPI  string                          `json:"openapi"`
	Paths    map[string]map[string]openAPIOp `json:"paths"`
	Security []map[string][]string           `json:"security"`
}

func loadOpenAPI(t *testing.T) openAPIDocument {
	t.Helper()
	var doc openAPIDocument
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return doc
}

// testServer builds the whole server, every route with the service behind
// it, over a temporary SQLite database. (The program's wiring, in
// cmd/jot/app, imports this package, so an internal test cannot use it.)
func testServer(t *testing.T) *Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, err := sqlite.OpenURL(ctx, "sqlite://"+filepath.Join(t.TempDir(), "jot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	key, err := token.HMACKey([]byte("openapi-test-secret-of-32-bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	const accessTTL = 15 * time.Minute
	keys := token.StaticKeys(token.NewKeySet(token.AlgHS256, []*token.Key{key}, time.Now(), accessTTL, token.DefaultLeeway))
	hasher, err := password.New(10, 1)
	if err != nil {
		t.Fatal(err)
	}
	revoked := guard.NewRevocationSet()
	svc, err := accounts.New(ctx, st, hasher, &token.Issuer{Keys: keys, Issuer: "jot", Audience: "jot", TTL: accessTTL}, revoked, accounts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{
		Store: st, Accounts: svc, Keys: keys, Revoked: revoked, Hashing: hasher.Pool(),
		Verifier: &token.Verifier{Keys: keys, Issuer: "jot", Audience: "jot"},
	})
}

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// routeKey names a route the same way for a ServeMux pattern and an
// OpenAPI path: "GET /v1/tasks/{}". Wildcard names do not matter, and a
// trailing {name...} or {$} would show up as a mismatch to look at.
func routeKey(method, path string) string {
	return strings.ToUpper(method) + " " + wildcard.ReplaceAllString(path, "{}")
}

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	s := testServer(t)
	doc := loadOpenAPI(t)

	registered := map[string]string{}
	for _, p := range s.mux.patterns {
		method, path, ok := strings.Cut(p, " ")
		if !ok || strings.HasPrefix(path, " ") || !strings.HasPrefix(path, "/") {
			t.Errorf("pattern %q: every route must name one method and a path (and no host)", p)
			continue
		}
		registered[routeKey(method, path)] = p
	}
	documented := map[string]string{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if !slices.Contains(openAPIMethods, method) {
				continue // parameters, summary, servers of a path item
			}
			documented[routeKey(method, path)] = strings.ToUpper(method) + " " + path
		}
	}
	var missingDoc, missingRoute []string
	for k, p := range registered {
		if _, ok := documented[k]; !ok {
			missingDoc = append(missingDoc, p)
		}
	}
	for k, p := range documented {
		if _, ok := registered[k]; !ok {
			missingRoute = append(missingRoute, p)
		}
	}
	sort.Strings(missingDoc)
	sort.Strings(missingRoute)
	if len(missingDoc) > 0 {
		t.Errorf("routes registered but not in api/openapi.json:\n  %s", strings.Join(missingDoc, "\n  "))
	}
	if len(missingRoute) > 0 {
		t.Errorf("operations in api/openapi.json that the server does not register:\n  %s", strings.Join(missingRoute, "\n  "))
	}
}

func TestOpenAPIDocument(t *testing.T) {
	doc := loadOpenAPI(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Fatalf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	var raw map[string]any
	if err := json.Unmarshal(openAPIDoc, &raw); err != nil {
		t.Fatal(err)
	}
	// Every $ref points at something in the document.
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				if lookup(raw, ref) == nil {
					t.Errorf("$ref %q does not resolve", ref)
				}
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(raw)
	ids := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if !slices.Contains(openAPIMethods, method) {
				continue
			}
			where := strings.ToUpper(method) + " " + path
			if op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s: operationId %q missing or repeated", where, op.OperationID)
			}
			ids[op.OperationID] = true
			// Each operation says whether it needs a token, rather than
			// inheriting it by accident.
			if op.Security == nil {
				t.Errorf("%s: no security (use [] for a public operation)", where)
			}
			if _, ok := op.Responses["500"]; !ok {
				t.Errorf("%s: no 500 answer", where)
			}
			if op.RequestBody != nil {
				if _, ok := op.RequestBody.Content["application/json"]; !ok {
					t.Errorf("%s: request body without application/json", where)
				}
				for _, code := range []string{"400", "413"} {
					if _, ok := op.Responses[code]; !ok {
						t.Errorf("%s: takes a body but documents no %s", where, code)
					}
				}
			}
			declared := map[string]bool{}
			for _, p := range op.Parameters {
				if ref, ok := p["$ref"].(string); ok {
					p, _ = lookup(raw, ref).(map[string]any)
				}
				if p["in"] == "path" && p["required"] == true {
					declared[p["name"].(string)] = true
				}
			}
			for _, m := range wildcard.FindAllString(path, -1) {
				if name := strings.Trim(m, "{}"); !declared[name] {
					t.Errorf("%s: path parameter %q not declared as required", where, name)
				}
			}
		}
	}
	// The form-encoded bodies docs/api.md allows are documented.
	for _, p := range []string{"/v1/auth/login", "/v1/auth/token"} {
		if _, ok := doc.Paths[p]["post"].RequestBody.Content["application/x-www-form-urlencoded"]; !ok {
			t.Errorf("POST %s: no form-encoded body", p)
		}
	}
}

// lookup returns the value a local JSON pointer names in doc, nil when
// there is none.
func lookup(doc map[string]any, ref string) any {
	if !strings.HasPrefix(ref, "#/") {
		return nil
	}
	var cur any = doc
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[part]; !ok {
			return nil
		}
	}
	return cur
}

// The security the document declares is the one the server enforces: an
// operation with bearer security refuses a request without a token, and
// one without it does not ask for a token.
func TestOpenAPISecurityMatchesServer(t *testing.T) {
	s := testServer(t)
	doc := loadOpenAPI(t)
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if !slices.Contains(openAPIMethods, method) || op.Security == nil {
				continue
			}
			secured := len(*op.Security) > 0
			url := wildcard.ReplaceAllString(path, "0190a0a0-0000-7000-8000-000000000000")
			req := httptest.NewRequest(strings.ToUpper(method), url, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			if _, pattern := s.mux.Handler(req); pattern == "" {
				continue // not registered: TestOpenAPIMatchesRoutes reports it
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			where := strings.ToUpper(method) + " " + path
			switch {
			case secured && w.Code != http.StatusUnauthorized:
				t.Errorf("%s: documented as needing a token, answered %d without one", where, w.Code)
			case !secured && w.Code == http.StatusUnauthorized:
				t.Errorf("%s: documented as public, answered 401 without a token", where)
			}
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	s := testServer(t)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/openapi.json", nil))
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("GET /openapi.json: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if w.Body.String() != string(openAPIDoc) {
		t.Fatal("served document differs from the embedded file")
	}
	if w.Header().Get("X-Request-Id") == "" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", w.Header())
	}
}

// TestOpenAPIDescribesUsersMe405: the methods /v1/users/me refuses are
// not operations (the routes test keeps the document to real routes), so
// its GET operation says what they answer, and the server answers that.
func TestOpenAPIDescribesUsersMe405(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Description string `json:"description"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	d := doc.Paths["/v1/users/me"]["get"].Description
	for _, want := range []string{"DELETE, PUT and POST answer 405", "`method_not_allowed`", "`Allow: GET, PATCH`"} {
		if !strings.Contains(d, want) {
			t.Errorf("/v1/users/me description %q lacks %q", d, want)
		}
	}
	s := testServer(t)
	for _, method := range []string{"DELETE", "PUT", "POST"} {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(method, "/v1/users/me", nil))
		var body struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, PATCH" || body.Error != "method_not_allowed" {
			t.Errorf("%s /v1/users/me: %d, Allow %q, %s", method, w.Code, w.Header().Get("Allow"), w.Body)
		}
	}
}
