package config

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
)

// Load builds the Config of a command. It registers a flag for every
// setting on fs, parses args and returns the arguments left after the flags.
//
// Each setting comes from, in order of precedence: its flag; the
// environment, read with getenv (os.Getenv in production); the .env file at
// path dotenv; its default. An empty environment or .env value counts as
// unset. dotenv "" skips the file, and a missing file is fine; a malformed
// one, or one naming a JOT_ setting that does not exist, is an error naming
// the line. The process environment is never modified.
//
// The result is validated: a bad setting is a *SettingError naming the
// setting and, for a flag or a .env line, where the value came from.
// Parsing errors of fs itself (an unknown flag, flag.ErrHelp) are returned
// as they are.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string, dotenv string) (*Config, []string, error) {
	return loadSome(fs, args, getenv, dotenv, nil)
}

// LoadOnly is Load for a command that uses a few settings: only those
// named (by env name) get a flag, so its -h lists what it reads and a flag
// of another command is a usage error. Every setting is still read from
// the environment and .env, and validated.
func LoadOnly(fs *flag.FlagSet, args []string, getenv func(string) string, dotenv string, only ...string) (*Config, []string, error) {
	if only == nil {
		only = []string{}
	}
	return loadSome(fs, args, getenv, dotenv, only)
}

// loadSome is Load with flags for the settings in only, or all when only is nil.
func loadSome(fs *flag.FlagSet, args []string, getenv func(string) string, dotenv string, only []string) (*Config, []string, error) {
	rows := settings()
	def := Default()
	flags := make([]*flagValue, len(rows))
	for i, s := range rows {
		flags[i] = &flagValue{text: s.get(&def)}
		if only != nil && !slices.Contains(only, s.env) {
			continue
		}
		fs.Var(flags[i], s.flag, fmt.Sprintf("%s (%s)", s.usage, s.env))
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}

	var file map[string]dotenvValue
	if dotenv != "" {
		var err error
		if file, err = readDotenv(dotenv, rows); err != nil {
			return nil, nil, err
		}
	}

	c := def
	sources := make(map[string]string)
	for i, s := range rows {
		var raw, source string
		found := false
		if v, ok := file[s.env]; ok && v.text != "" {
			raw, source, found = v.text, dotenv, true
			if v.line > 0 {
				source = fmt.Sprintf("%s line %d", dotenv, v.line)
			}
		}
		if getenv != nil {
			if v := getenv(s.env); v != "" {
				raw, source, found = v, "", true
			}
		}
		if flags[i].set {
			raw, source, found = flags[i].text, "--"+s.flag, true
		}
		if !found {
			continue
		}
		if s.env != "JOT_JWT_SECRET" {
			// Stray spaces are a copy-paste accident; in a secret they
			// might be meant.
			raw = strings.TrimSpace(raw)
		}
		if err := s.set(&c, raw); err != nil {
			return nil, nil, &SettingError{Setting: s.env, Source: source, Problem: err.Error()}
		}
		sources[s.env] = source
	}

	if err := c.Validate(); err != nil {
		var se *SettingError
		if errors.As(err, &se) {
			se.Source = sources[se.Setting]
		}
		return nil, nil, err
	}
	return &c, fs.Args(), nil
}

// flagValue records a flag's text; parsing waits until every source is
// read, so that a bad value gets the same message from a flag as from the
// environment.
type flagValue struct {
	text string
	set  bool
}

// String returns the text, which for a flag not given is the default.
func (v *flagValue) String() string {
	if v == nil {
		return ""
	}
	return v.text
}

// Set records s; it never fails, see flagValue.
func (v *flagValue) Set(s string) error {
	v.text, v.set = s, true
	return nil
}
