package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/accounts"
	"github.com/jotauth/jot/internal/storage"
	"github.com/jotauth/jot/password"
)

// cmdUsersImport runs `jot users import [--skip-existing] FILE`: it moves
// users with existing bcrypt hashes (an Express/Passport app's users file,
// say) into jot, so nobody has to reset a password. The hashes are kept as
// they are; the login path upgrades each to the configured cost on its
// first successful login.
func cmdUsersImport(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("jot users import", flag.ContinueOnError)
	skip := fs.Bool("skip-existing", false, "skip records whose email is already registered instead of importing nothing")
	cfg, rest, err := loadConfig(fs, args, "JOT_DATABASE_URL")
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: jot users import [--skip-existing] FILE", errUsage)
	}
	data, err := os.ReadFile(rest[0])
	if err != nil {
		return err
	}
	recs, err := importParse(data)
	if err != nil {
		return err
	}
	st, err := storage.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()

	users, skipped, err := importPlan(ctx, st, recs, *skip, time.Now().UTC())
	if err != nil {
		return err
	}
	if len(users) > 0 {
		// One transaction: a failure here (an email registered since the
		// check above) leaves the database as it was.
		if err := st.CreateUsers(ctx, users); err != nil {
			if jot.ErrorCode(err) == jot.ECONFLICT {
				return fmt.Errorf("%s; nothing imported", jot.ErrorMessage(err))
			}
			return fmt.Errorf("nothing imported: %w", err)
		}
	}
	// Each skipped record is listed with the account that made it skip,
	// so an account registered ahead of the import under a migrated
	// user's email (a squatter) is noticed rather than silently kept.
	for _, sk := range skipped {
		fmt.Fprintln(stdout, sk)
	}
	summary := fmt.Sprintf("imported %d %s", len(users), importPlural(len(users), "user", "users"))
	if *skip {
		summary += fmt.Sprintf(", skipped %d existing", len(skipped))
	}
	fmt.Fprintln(stdout, summary)
	return nil
}

// importRecord is one user of an import file after validation.
type importRecord struct {
	line  int
	email string
	hash  string
	name  string
	role  jot.Role
}

// importProblems is every bad record of a file, so that one run shows
// them all rather than one per attempt.
type importProblems []string

// importMaxShown caps the problems printed: a file of the wrong shape
// would otherwise flood the terminal with one line per record.
const importMaxShown = 20

func (p importProblems) Error() string {
	if len(p) == 1 {
		return p[0] + "; nothing imported"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d bad records; nothing imported:", len(p))
	for i, s := range p {
		if i == importMaxShown {
			fmt.Fprintf(&b, "\n  ... and %d more", len(p)-i)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(s)
	}
	return b.String()
}

// importSkip is a record skipped for an account already registered.
type importSkip struct {
	line     int
	existing *jot.User
}

// String is the report line of the skip: enough to tell a migrated
// user's own account from a look-alike registered before the import.
func (s importSkip) String() string {
	return fmt.Sprintf("skipped line %d: %s, an existing account created %s (email_verified: %t)",
		s.line, s.existing.Email, jot.FormatTime(s.existing.CreatedAt), s.existing.EmailVerified)
}

// importPlan checks the records against the database and returns the
// users to create and the existing ones skipped. A duplicate within the
// file is always an error; an email already registered is one unless
// skipExisting.
func importPlan(ctx context.Context, st jot.UserStore, recs []importRecord, skipExisting bool, now time.Time) ([]*jot.User, []importSkip, error) {
	var (
		problems importProblems
		users    []*jot.User
		skipped  []importSkip
	)
	for _, r := range recs {
		existing, err := st.UserByEmail(ctx, r.email)
		switch {
		case err == nil && skipExisting:
			skipped = append(skipped, importSkip{line: r.line, existing: existing})
			continue
		case err == nil:
			problems = append(problems, fmt.Sprintf("line %d: email %s is already registered", r.line, r.email))
			continue
		case jot.ErrorCode(err) != jot.ENOTFOUND:
			return nil, nil, fmt.Errorf("look up %s: %w", r.email, err)
		}
		users = append(users, &jot.User{
			ID: jot.NewID(), Email: r.email, Name: r.name, Role: r.role,
			PasswordHash: r.hash, CreatedAt: now, UpdatedAt: now,
		})
	}
	if len(problems) > 0 {
		return nil, nil, problems
	}
	return users, skipped, nil
}

// importParse reads a JSON array of user objects, or JSON Lines (one
// object a line; concatenated objects spanning lines are read too), and
// validates every record. Errors name the line where the record's value
// starts. A syntax error stops the reading; every other problem is
// collected, and any problem means an error.
func importParse(data []byte) ([]importRecord, error) {
	// Editors on Windows save a byte order mark, which JSON does not allow.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	start := importSkipSpace(data, 0)
	if start == len(data) {
		return nil, errors.New("the file is empty: no users to import")
	}
	lines := importLineIndex(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	isArray := data[start] == '['
	if isArray {
		if _, err := dec.Token(); err != nil {
			return nil, importSyntax(lines, data, err)
		}
	}

	var (
		recs     []importRecord
		problems importProblems
		seen     = make(map[string]int) // email → line of its first record
	)
	for dec.More() {
		// The decoder's offset is the end of the previous value; the next
		// one starts after the blanks (and, in an array, the comma).
		at := importSkipSpace(data, int(dec.InputOffset()))
		if isArray && at < len(data) && data[at] == ',' {
			at = importSkipSpace(data, at+1)
		}
		line := lines.line(at)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, importSyntax(lines, data, err)
		}
		r, problem := importRecordOf(line, raw)
		if problem != "" {
			problems = append(problems, fmt.Sprintf("line %d: %s", line, problem))
			continue
		}
		if first, ok := seen[r.email]; ok {
			problems = append(problems, fmt.Sprintf("line %d: duplicate of line %d", line, first))
			continue
		}
		seen[r.email] = line
		recs = append(recs, r)
	}
	if isArray {
		if _, err := dec.Token(); err != nil {
			return nil, importSyntax(lines, data, err)
		}
		if end := importSkipSpace(data, int(dec.InputOffset())); end != len(data) {
			return nil, fmt.Errorf("line %d: unexpected data after the array", lines.line(end))
		}
	} else if end := importSkipSpace(data, int(dec.InputOffset())); end != len(data) {
		// More stops at a closing bracket, which is not a record: a file
		// holding "]" or "{}}" must not pass as zero records.
		return nil, fmt.Errorf("line %d: invalid JSON: unexpected %q", lines.line(end), data[end])
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return recs, nil
}

// importFields are the members of a record that jot reads; any other
// (an old id, created_at, ...) is ignored.
type importFields struct {
	Email        *string `json:"email"`
	Password     *string `json:"password"`
	PasswordHash *string `json:"password_hash"`
	Name         *string `json:"name"`
	Role         *string `json:"role"`
}

// importRecordOf validates one record; problem is empty when it is good.
// A problem never quotes the password field: it may be a hash, or a
// plaintext password exported by mistake.
func importRecordOf(line int, raw json.RawMessage) (r importRecord, problem string) {
	if len(raw) == 0 || raw[0] != '{' {
		return r, "not a JSON object"
	}
	var f importFields
	if err := json.Unmarshal(raw, &f); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return r, te.Field + " must be a string"
		}
		return r, "not a user object: " + err.Error()
	}
	r.line = line
	if f.Email == nil || strings.TrimSpace(*f.Email) == "" {
		return r, "email is required"
	}
	r.email = jot.NormalizeEmail(*f.Email)
	if msg := accounts.ValidateEmail(r.email); msg != "" {
		return r, fmt.Sprintf("email %q %s", r.email, msg)
	}
	switch {
	case f.Password != nil && f.PasswordHash != nil && *f.Password != *f.PasswordHash:
		return r, "password and password_hash differ; give the hash once"
	case f.PasswordHash != nil:
		r.hash = *f.PasswordHash
	case f.Password != nil:
		r.hash = *f.Password
	default:
		return r, "the bcrypt hash is required (as password or password_hash)"
	}
	if !password.IsBcrypt(r.hash) {
		return r, "the password is not a bcrypt hash jot accepts ($2a$, $2b$ or $2y$)"
	}
	// Cheaper hashes fall to an offline attack on a leaked database; a
	// dearer one makes every failed login (all of them are padded to the
	// dearest stored cost) take seconds.
	if c := password.HashCost(r.hash); c < password.MinCost || c > password.MaxCost {
		return r, fmt.Sprintf("bcrypt cost %d is outside %d to %d; reset this user's password instead", c, password.MinCost, password.MaxCost)
	}
	if f.Name != nil {
		r.name = strings.TrimSpace(*f.Name)
		if msg := accounts.ValidateName(r.name); msg != "" {
			return r, "name " + msg
		}
	}
	r.role = jot.RoleUser
	if f.Role != nil && *f.Role != "" {
		r.role = jot.Role(*f.Role)
		if !r.role.Valid() {
			return r, fmt.Sprintf("role %q must be \"user\" or \"admin\"", *f.Role)
		}
	}
	return r, ""
}

// importSyntax turns a decoding error into one naming the line.
func importSyntax(lines importLines, data []byte, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("line %d: invalid JSON: %v", lines.line(int(se.Offset)), se)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("line %d: invalid JSON: unexpected end of file", lines.line(len(data)))
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// importLines maps byte offsets to 1-based line numbers.
type importLines []int // offsets where lines 2, 3, ... start

func importLineIndex(data []byte) importLines {
	var idx importLines
	for i, c := range data {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func (l importLines) line(off int) int {
	return sort.SearchInts(l, off+1) + 1
}

// importSkipSpace returns the offset of the first non-blank byte at or
// after i (len(data) if none), with JSON's notion of blank.
func importSkipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

func importPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
