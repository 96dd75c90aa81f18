package accounts

import (
	"strings"
	"unicode"
)

// invisibleInEmail reports whether r may not appear in an email: a control
// (Cc), a format character (Cf: bidi controls, the soft hyphen, zero-width
// spaces and joiners), or a default-ignorable code point (variation
// selectors, Hangul fillers and the rest of Unicode's
// Other_Default_Ignorable_Code_Point). Each renders as nothing, or changes
// how its neighbours render, so an email holding one would look like
// another account's.
func invisibleInEmail(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

// refusedInName reports whether r may not appear in a display name:
// controls (Cc, C0 and C1 alike), the bidi embedding, override and isolate
// controls, which can make a name read backwards in a list, and the
// zero-width spaces. The zero-width joiner and non-joiner stay allowed:
// Indic scripts, Persian and emoji sequences need them.
func refusedInName(r rune) bool {
	switch {
	case unicode.Is(unicode.Cc, r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x200B, r == 0xFEFF:
		return true
	}
	return false
}

// scriptSets are the combinations of scripts one word of an email may mix,
// after the "Highly Restrictive" level of Unicode TR #39 §5.2: one script,
// or Latin with the scripts written beside it in Chinese, Japanese and
// Korean. Anything else (Latin with Cyrillic or Greek, above all) is how a
// look-alike of another address is made: "аda" with a Cyrillic а.
var scriptSets = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// mixesScripts reports whether word uses letters of several scripts beyond
// what scriptSets allow. Digits, punctuation and combining marks (scripts
// Common and Inherited) belong to every script.
func mixesScripts(word string) bool {
	var seen []string
	for _, r := range word {
		s := scriptOf(r)
		if s == "" {
			continue
		}
		found := false
		for _, x := range seen {
			found = found || x == s
		}
		if !found {
			seen = append(seen, s)
		}
	}
	if len(seen) <= 1 {
		return false
	}
	for _, set := range scriptSets {
		all := true
		for _, s := range seen {
			in := false
			for _, x := range set {
				in = in || x == s
			}
			all = all && in
		}
		if all {
			return false
		}
	}
	return true
}

// scriptOf returns the Unicode script of r, or "" for Common and Inherited.
func scriptOf(r rune) string {
	switch {
	case r < 0x80:
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
			return "Latin"
		}
		return ""
	case unicode.Is(unicode.Latin, r):
		return "Latin"
	case unicode.Is(unicode.Common, r), unicode.Is(unicode.Inherited, r):
		return ""
	}
	for name, table := range unicode.Scripts {
		if unicode.Is(table, r) {
			return name
		}
	}
	return ""
}

// emailLookAlike returns what makes an (already normalized) email a
// possible look-alike of another, or "" when nothing does.
func emailLookAlike(email string) string {
	if strings.IndexFunc(email, invisibleInEmail) >= 0 {
		return "must not contain invisible, format or control characters"
	}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	words := append([]string{email[:at]}, strings.Split(email[at+1:], ".")...)
	for _, w := range words {
		if mixesScripts(w) {
			return "must not mix letters of different scripts (such as Latin and Cyrillic) in one part"
		}
	}
	return ""
}
