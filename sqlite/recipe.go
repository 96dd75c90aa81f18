package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
)

const recipeColumns = `id, owner_id, title, ingredients, instructions, created_at, updated_at`

func scanRecipe(s scanner) (*jot.Recipe, error) {
	var r jot.Recipe
	var ingredients string
	var created, updated int64
	if err := s.Scan(&r.ID, &r.OwnerID, &r.Title, &ingredients, &r.Instructions, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(ingredients), &r.Ingredients); err != nil {
		return nil, fmt.Errorf("recipe %s ingredients: %w", r.ID, err)
	}
	// An empty list reads as [] rather than null in JSON.
	if r.Ingredients == nil {
		r.Ingredients = []string{}
	}
	r.CreatedAt = fromNanos(created)
	r.UpdatedAt = fromNanos(updated)
	return &r, nil
}

// ingredientsJSON encodes a recipe's ingredients, nil as an empty list.
func ingredientsJSON(r *jot.Recipe) (string, error) {
	list := r.Ingredients
	if list == nil {
		list = []string{}
	}
	b, err := json.Marshal(list)
	if err != nil {
		return "", fmt.Errorf("recipe ingredients: %w", err)
	}
	return string(b), nil
}

// CreateRecipe inserts r; an owner that does not exist is ENOTFOUND.
func (db *DB) CreateRecipe(ctx context.Context, r *jot.Recipe) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	ingredients, err := ingredientsJSON(r)
	if err != nil {
		return err
	}
	_, err = db.write.ExecContext(ctx, `INSERT INTO recipes (`+recipeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.OwnerID, r.Title, ingredients, r.Instructions, nanos(r.CreatedAt), nanos(r.UpdatedAt))
	return createError(err, "recipe")
}

// RecipeByID returns the recipe, or ENOTFOUND.
func (db *DB) RecipeByID(ctx context.Context, id string) (*jot.Recipe, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	r, err := scanRecipe(db.read.QueryRowContext(ctx, `SELECT `+recipeColumns+` FROM recipes WHERE id = ?`, id))
	return sqlstore.One(r, err, sql.ErrNoRows, "recipe", "recipe by id")
}

// UpdateRecipe writes Title, Ingredients, Instructions and UpdatedAt of r;
// an unknown recipe is ENOTFOUND.
func (db *DB) UpdateRecipe(ctx context.Context, r *jot.Recipe) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	ingredients, err := ingredientsJSON(r)
	if err != nil {
		return err
	}
	res, err := db.write.ExecContext(ctx,
		`UPDATE recipes SET title = ?, ingredients = ?, instructions = ?, updated_at = ? WHERE id = ?`,
		r.Title, ingredients, r.Instructions, nanos(r.UpdatedAt), r.ID)
	return affectedOne(res, err, "recipe")
}

// DeleteRecipe deletes the recipe; an unknown recipe is ENOTFOUND.
func (db *DB) DeleteRecipe(ctx context.Context, id string) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	res, err := db.write.ExecContext(ctx, `DELETE FROM recipes WHERE id = ?`, id)
	return affectedOne(res, err, "recipe")
}

// ListRecipes lists all recipes ordered by id; a Limit of 0 or less means all.
func (db *DB) ListRecipes(ctx context.Context, p jot.Page) ([]*jot.Recipe, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return queryAll(ctx, db.read, "list recipes", scanRecipe, `SELECT `+recipeColumns+` FROM recipes
		WHERE id > ? ORDER BY id LIMIT ?`, p.After, limit(p))
}

// CreateRecipeWithin inserts r only while its owner has fewer than max
// recipes; see CreateTaskWithin.
func (db *DB) CreateRecipeWithin(ctx context.Context, r *jot.Recipe, max int) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	ingredients, err := ingredientsJSON(r)
	if err != nil {
		return err
	}
	res, err := db.write.ExecContext(ctx, `INSERT INTO recipes (`+recipeColumns+`)
		SELECT ?, ?, ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM recipes WHERE owner_id = ?) < ?`,
		r.ID, r.OwnerID, r.Title, ingredients, r.Instructions, nanos(r.CreatedAt), nanos(r.UpdatedAt), r.OwnerID, max)
	if err := createError(err, "recipe"); err != nil {
		return err
	}
	return quotaCheck(res, max, "recipes")
}
