package jot

import (
	"encoding/json"
	"time"
)

// FormatTime formats t as the API shows every timestamp: RFC 3339 in UTC,
// in whole seconds, e.g. "2026-11-24T10:00:00Z".
func FormatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// MarshalJSON writes the user with its timestamps as FormatTime shows them.
func (u User) MarshalJSON() ([]byte, error) {
	type plain User
	return json.Marshal(struct {
		plain
		CreatedAt string `json:"created_at"`
		UpdatedAt string `json:"updated_at"`
	}{plain(u), FormatTime(u.CreatedAt), FormatTime(u.UpdatedAt)})
}

// MarshalJSON writes the task with its timestamps as FormatTime shows them.
func (t Task) MarshalJSON() ([]byte, error) {
	type plain Task
	return json.Marshal(struct {
		plain
		CreatedAt string `json:"created_at"`
		UpdatedAt string `json:"updated_at"`
	}{plain(t), FormatTime(t.CreatedAt), FormatTime(t.UpdatedAt)})
}

// MarshalJSON writes the recipe with its timestamps as FormatTime shows
// them, and an empty ingredient list as [] rather than null.
func (r Recipe) MarshalJSON() ([]byte, error) {
	type plain Recipe
	if r.Ingredients == nil {
		r.Ingredients = []string{}
	}
	return json.Marshal(struct {
		plain
		CreatedAt string `json:"created_at"`
		UpdatedAt string `json:"updated_at"`
	}{plain(r), FormatTime(r.CreatedAt), FormatTime(r.UpdatedAt)})
}
