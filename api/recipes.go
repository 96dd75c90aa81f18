package api

import (
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/policy"
)

func errRecipeNotFound() error { return jot.Errorf(jot.ENOTFOUND, "recipe not found") }

// recipeByID returns the recipe named by the path; recipes are public, so
// no caller is involved.
func (rs *resources) recipeByID(r *http.Request) (*jot.Recipe, error) {
	id := r.PathValue("id")
	if !jot.ValidID(id) {
		return nil, errRecipeNotFound()
	}
	rec, err := rs.opts.Store.RecipeByID(r.Context(), id)
	if jot.ErrorCode(err) == jot.ENOTFOUND {
		return nil, errRecipeNotFound()
	}
	return rec, err
}

// recipeToChange returns the recipe named by the path if the caller may
// change it: a missing recipe is 404, another user's 403 (recipes are
// public, so there is nothing to hide by answering 404).
func (rs *resources) recipeToChange(r *http.Request) (*jot.Recipe, error) {
	sub := subject(r)
	rec, err := rs.recipeByID(r)
	if err != nil {
		return nil, err
	}
	if !policy.CanChangeRecipe(sub, rec.OwnerID) {
		return nil, forbidden("only the recipe's owner or an admin may change it")
	}
	return rec, nil
}

type recipeList struct {
	Recipes    []*jot.Recipe `json:"recipes"`
	NextCursor *string       `json:"next_cursor"`
}

func (rs *resources) listRecipes(w http.ResponseWriter, r *http.Request) error {
	page, limit, err := rs.cursors.pageRequest(r, "recipes")
	if err != nil {
		return err
	}
	recipes, err := rs.opts.Store.ListRecipes(r.Context(), page)
	if err != nil {
		return err
	}
	recipes, next, err := nextCursor(r.Context(), rs.cursors, "recipes", recipes, limit, func(x *jot.Recipe) string { return x.ID })
	if err != nil {
		return err
	}
	if recipes == nil {
		recipes = []*jot.Recipe{}
	}
	writeJSON(w, http.StatusOK, recipeList{Recipes: recipes, NextCursor: next})
	return nil
}

func (rs *resources) getRecipe(w http.ResponseWriter, r *http.Request) error {
	rec, err := rs.recipeByID(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rec)
	return nil
}

type recipeBody struct {
	Title        field[string]   `json:"title"`
	Ingredients  field[[]string] `json:"ingredients"`
	Instructions field[string]   `json:"instructions"`
}

// requireAll refuses a body without every field: POST and PUT carry the
// whole recipe.
func (b *recipeBody) requireAll() error {
	switch {
	case !b.Title.Set:
		return missingField("title")
	case !b.Ingredients.Set:
		return missingField("ingredients")
	case !b.Instructions.Set:
		return missingField("instructions")
	}
	return nil
}

// empty reports whether the body changes nothing.
func (b *recipeBody) empty() bool {
	return !b.Title.Set && !b.Ingredients.Set && !b.Instructions.Set
}

// apply validates the fields that were sent and writes them, normalized,
// into rec; rec is untouched when a field is invalid.
func (b *recipeBody) apply(rec *jot.Recipe) error {
	fields := map[string]string{}
	next := *rec
	if b.Title.Set {
		if b.Title.Null {
			fields["title"] = "must be a string"
		} else if t, msg := checkLine(b.Title.V, maxTitle); msg != "" {
			fields["title"] = msg
		} else {
			next.Title = t
		}
	}
	if b.Ingredients.Set {
		if b.Ingredients.Null {
			fields["ingredients"] = "must be an array of strings"
		} else if list, msg := checkIngredients(b.Ingredients.V); msg != "" {
			fields["ingredients"] = msg
		} else {
			next.Ingredients = list
		}
	}
	if b.Instructions.Set {
		switch s := b.Instructions.V; {
		case b.Instructions.Null:
			fields["instructions"] = "must be a string"
		case utf8.RuneCountInString(s) > maxInstructions:
			fields["instructions"] = fmt.Sprintf("must be at most %d characters", maxInstructions)
		case hasControl(s, true):
			fields["instructions"] = "must not contain control characters other than line breaks and tabs"
		default:
			next.Instructions = s
		}
	}
	if len(fields) > 0 {
		return jot.ValidationError(fields)
	}
	*rec = next
	return nil
}

// checkIngredients validates a list of ingredients and returns it trimmed.
// Items are counted from 1 in messages, as a cook would.
func checkIngredients(list []string) ([]string, string) {
	switch {
	case len(list) == 0:
		return nil, "must list at least 1 ingredient"
	case len(list) > maxIngredients:
		return nil, fmt.Sprintf("must list at most %d ingredients", maxIngredients)
	}
	out := make([]string, len(list))
	for i, s := range list {
		t, msg := checkLine(s, maxIngredient)
		if msg != "" {
			return nil, fmt.Sprintf("ingredient %d %s", i+1, msg)
		}
		out[i] = t
	}
	return out, ""
}

func (rs *resources) createRecipe(w http.ResponseWriter, r *http.Request) error {
	sub := subject(r)
	if !policy.CanCreateRecipe(sub) {
		return forbidden("this caller may not create recipes")
	}
	if err := rs.writeAllowed(r); err != nil {
		return err
	}
	var body recipeBody
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if err := body.requireAll(); err != nil {
		return err
	}
	now := rs.opts.Now().UTC()
	rec := &jot.Recipe{ID: jot.NewID(), OwnerID: sub.UserID, CreatedAt: now, UpdatedAt: now}
	if err := body.apply(rec); err != nil {
		return err
	}
	if err := rs.storeRecipe(r, rec); err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/recipes/"+rec.ID)
	writeJSON(w, http.StatusCreated, rec)
	return nil
}

// putRecipe replaces a recipe; patchRecipe changes the fields sent.
func (rs *resources) putRecipe(w http.ResponseWriter, r *http.Request) error {
	return rs.changeRecipe(w, r, true)
}

func (rs *resources) patchRecipe(w http.ResponseWriter, r *http.Request) error {
	return rs.changeRecipe(w, r, false)
}

func (rs *resources) changeRecipe(w http.ResponseWriter, r *http.Request, replace bool) error {
	if err := rs.writeAllowed(r); err != nil {
		return err
	}
	// Who may change it is settled before the body is read: a caller who
	// may not learns nothing from validation messages.
	rec, err := rs.recipeToChange(r)
	if err != nil {
		return err
	}
	var body recipeBody
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if replace {
		if err := body.requireAll(); err != nil {
			return err
		}
	}
	if body.empty() {
		writeJSON(w, http.StatusOK, rec)
		return nil
	}
	if err := body.apply(rec); err != nil {
		return err
	}
	rec.UpdatedAt = rs.opts.Now().UTC()
	if err := rs.opts.Store.UpdateRecipe(r.Context(), rec); err != nil {
		if jot.ErrorCode(err) == jot.ENOTFOUND {
			return errRecipeNotFound()
		}
		return err
	}
	writeJSON(w, http.StatusOK, rec)
	return nil
}

func (rs *resources) deleteRecipe(w http.ResponseWriter, r *http.Request) error {
	if err := rs.writeAllowed(r); err != nil {
		return err
	}
	rec, err := rs.recipeToChange(r)
	if err != nil {
		return err
	}
	if err := rs.opts.Store.DeleteRecipe(r.Context(), rec.ID); err != nil {
		if jot.ErrorCode(err) == jot.ENOTFOUND {
			return errRecipeNotFound()
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
