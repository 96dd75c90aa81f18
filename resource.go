package jot

import "time"

// Task is a private resource: only its owner (or an admin) may see it.
type Task struct {
	ID        string    `json:"id"`
	OwnerID   string    `json:"owner_id"`
	Title     string    `json:"title"`
	Done      bool      `json:"done"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Recipe is public to read; only its owner (or an admin) may change it.
type Recipe struct {
	ID           string    `json:"id"`
	OwnerID      string    `json:"owner_id"`
	Title        string    `json:"title"`
	Ingredients  []string  `json:"ingredients"`
	Instructions string    `json:"instructions"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Page asks for one page of a list ordered by id: the items after the id
// After (empty: from the start), at most Limit of them.
type Page struct {
	After string
	Limit int
}
