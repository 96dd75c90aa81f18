package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jotauth/jot"
	"github.com/jotauth/jot/internal/sqlstore"
)

const recipeColumns = `id, owner_id, title, ingredients, instructions, created_at, updated_at`

func scanRecipe(s scanner) (*jot.Recipe, error) {
	var r jot.Recipe
	if err := s.Scan(&r.ID, &r.OwnerID, &r.Title, &r.Ingredients, &r.Instructions, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return nil, err
	}
	// An empty list reads as [] rather than null in JSON.
	if r.Ingredients == nil {
		r.Ingredients = []string{}
	}
	return &r, nil
}

// ingredients returns a recipe's ingredients for the NOT NULL text[]
// column: pgx sends a nil slice as NULL.
func ingredients(r *jot.Recipe) []string {
	if r.Ingredients == nil {
		return []string{}
	}
	return r.Ingredients
}

// CreateRecipe inserts r; an owner that does not exist is ENOTFOUND.
func (db *DB) CreateRecipe(ctx context.Context, r *jot.Recipe) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	_, err := db.pool.Exec(ctx, `INSERT INTO recipes (`+recipeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.ID, r.OwnerID, r.Title, ingredients(r), r.Instructions, r.CreatedAt, r.UpdatedAt)
	return createError(err, "recipe")
}

// RecipeByID returns the recipe, or ENOTFOUND.
func (db *DB) RecipeByID(ctx context.Context, id string) (*jot.Recipe, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	r, err := scanRecipe(db.pool.QueryRow(ctx, `SELECT `+recipeColumns+` FROM recipes WHERE id = $1`, id))
	return sqlstore.One(r, err, pgx.ErrNoRows, "recipe", "recipe by id")
}

// UpdateRecipe writes Title, Ingredients, Instructions and UpdatedAt of r;
// an unknown recipe is ENOTFOUND.
func (db *DB) UpdateRecipe(ctx context.Context, r *jot.Recipe) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	tag, err := db.pool.Exec(ctx,
		`UPDATE recipes SET title = $1, ingredients = $2, instructions = $3, updated_at = $4 WHERE id = $5`,
		r.Title, ingredients(r), r.Instructions, r.UpdatedAt, r.ID)
	return sqlstore.AffectedOne(tag.RowsAffected(), err, "recipe")
}

// DeleteRecipe deletes the recipe; an unknown recipe is ENOTFOUND.
func (db *DB) DeleteRecipe(ctx context.Context, id string) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	tag, err := db.pool.Exec(ctx, `DELETE FROM recipes WHERE id = $1`, id)
	return sqlstore.AffectedOne(tag.RowsAffected(), err, "recipe")
}

// ListRecipes lists all recipes ordered by id; a Limit of 0 or less means all.
func (db *DB) ListRecipes(ctx context.Context, p jot.Page) ([]*jot.Recipe, error) {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return queryAll(ctx, db.pool, "list recipes", scanRecipe, `SELECT `+recipeColumns+` FROM recipes
		WHERE id > $1 ORDER BY id LIMIT $2`, p.After, limit(p))
}

// CreateRecipeWithin inserts r only while its owner has fewer than max
// recipes; see CreateTaskWithin.
func (db *DB) CreateRecipeWithin(ctx context.Context, r *jot.Recipe, max int) error {
	ctx, cancel := db.bound(ctx)
	defer cancel()
	return db.tx(ctx, func(tx pgx.Tx) error {
		if err := lockOwner(ctx, tx, r.OwnerID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO recipes (`+recipeColumns+`)
			SELECT $1, $2, $3, $4, $5, $6, $7 WHERE (SELECT count(*) FROM recipes WHERE owner_id = $2) < $8`,
			r.ID, r.OwnerID, r.Title, ingredients(r), r.Instructions, r.CreatedAt, r.UpdatedAt, max)
		if err := createError(err, "recipe"); err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return jot.QuotaError("recipes", max)
		}
		return nil
	})
}
