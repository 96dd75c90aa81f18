package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	texttemplate "text/template"
)

// The kinds of mail, each a pair of templates KIND.txt and KIND.html.
const (
	KindReset             = "reset"
	KindVerify            = "verify"
	KindEmailChange       = "email_change"
	KindEmailChangeNotice = "email_change_notice"
	KindEmailTaken        = "email_taken"
)

// Kinds lists every kind of mail.
var Kinds = []string{KindReset, KindVerify, KindEmailChange, KindEmailChangeNotice, KindEmailTaken}

//go:embed templates/*
var builtin embed.FS

// layoutFile holds the shared pieces of the HTML templates ("top",
// "button", "bottom"); a folder may replace it too.
const layoutFile = "layout.html"

// Templates renders mails. KIND.txt is the text part, whose first line is
// "Subject: ..." and is followed by an empty line; KIND.html is the HTML
// part, with the data and "subject". Data values are strings: link,
// email, new_email, name, expires and app.
type Templates struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

func funcs() map[string]any {
	return map[string]any{
		// dict builds the data of a nested template call.
		"dict": func(kv ...string) (map[string]string, error) {
			if len(kv)%2 != 0 {
				return nil, errors.New("dict needs key and value pairs")
			}
			m := map[string]string{}
			for i := 0; i < len(kv); i += 2 {
				m[kv[i]] = kv[i+1]
			}
			return m, nil
		},
	}
}

// LoadTemplates returns the built-in templates, each replaced by the file
// of the same name in dir when dir is not "" and holds one. Every template
// is tried on sample data, so a broken one stops the program at start
// rather than at its first mail.
func LoadTemplates(dir string) (*Templates, error) {
	read := func(name string) (string, error) {
		if dir != "" {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err == nil {
				return string(b), nil
			} else if !errors.Is(err, fs.ErrNotExist) {
				return "", err
			}
		}
		b, err := builtin.ReadFile("templates/" + name)
		return string(b), err
	}
	if dir != "" {
		if st, err := os.Stat(dir); err != nil {
			return nil, err
		} else if !st.IsDir() {
			return nil, fmt.Errorf("%s is not a folder", dir)
		}
	}
	layout, err := read(layoutFile)
	if err != nil {
		return nil, err
	}
	t := &Templates{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, kind := range Kinds {
		src, err := read(kind + ".txt")
		if err != nil {
			return nil, err
		}
		tt, err := texttemplate.New(kind + ".txt").Option("missingkey=error").Funcs(funcs()).Parse(src)
		if err != nil {
			return nil, err
		}
		src, err = read(kind + ".html")
		if err != nil {
			return nil, err
		}
		ht, err := htmltemplate.New(kind + ".html").Option("missingkey=error").Funcs(funcs()).Parse(src)
		if err == nil {
			_, err = ht.New(layoutFile).Parse(layout)
		}
		if err != nil {
			return nil, err
		}
		t.text[kind], t.html[kind] = tt, ht
	}
	sample := map[string]string{
		"link": "https://jot.example/account/x?token=sample", "email": "ann@example.com",
		"new_email": "ann@example.org", "name": "Ann", "expires": "1 hour", "app": "jot",
	}
	for _, kind := range Kinds {
		if _, _, _, err := t.Render(kind, sample); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Render returns the subject, text and HTML of a mail of the kind.
func (t *Templates) Render(kind string, data map[string]string) (subject, text, html string, err error) {
	tt, ok := t.text[kind]
	if !ok {
		return "", "", "", fmt.Errorf("no mail template %q", kind)
	}
	full := map[string]string{"link": "", "email": "", "new_email": "", "name": "", "expires": "", "app": ""}
	for k, v := range data {
		full[k] = v
	}
	var b bytes.Buffer
	if err := tt.Execute(&b, full); err != nil {
		return "", "", "", err
	}
	head, body, ok := strings.Cut(strings.ReplaceAll(b.String(), "\r\n", "\n"), "\n\n")
	subject, found := strings.CutPrefix(head, "Subject:")
	if !ok || !found || strings.Contains(head, "\n") {
		return "", "", "", fmt.Errorf("%s.txt: must start with a line \"Subject: ...\" and an empty line", kind)
	}
	subject = strings.TrimSpace(subject)
	full["subject"] = subject
	b.Reset()
	if err := t.html[kind].Execute(&b, full); err != nil {
		return "", "", "", err
	}
	return subject, strings.TrimLeft(body, "\n"), b.String(), nil
}
