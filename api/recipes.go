package api

import (
	"net/http"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/resources"
)

type recipeList struct {
	Recipes    []*jot.Recipe `json:"recipes"`
	NextCursor *string       `json:"next_cursor"`
}

func (rs *resourceAPI) listRecipes(w http.ResponseWriter, r *http.Request) error {
	page, limit, err := rs.cursors.pageRequest(r, "recipes")
	if err != nil {
		return err
	}
	recipes, err := rs.recipes.List(r.Context(), page)
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

func (rs *resourceAPI) getRecipe(w http.ResponseWriter, r *http.Request) error {
	rec, err := rs.recipes.Get(r.Context(), r.PathValue("id"))
	return answer(w, http.StatusOK, rec, err)
}

// recipeBody decodes a recipe change from the request body.
func recipeBody(r *http.Request) func(*resources.RecipeChange) error {
	return func(c *resources.RecipeChange) error { return decodeJSON(r, c) }
}

func (rs *resourceAPI) createRecipe(w http.ResponseWriter, r *http.Request) error {
	rec, err := rs.recipes.Create(r.Context(), subject(r), recipeBody(r))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/recipes/"+rec.ID)
	writeJSON(w, http.StatusCreated, rec)
	return nil
}

// putRecipe replaces a recipe; patchRecipe changes the fields sent.
func (rs *resourceAPI) putRecipe(w http.ResponseWriter, r *http.Request) error {
	rec, err := rs.recipes.Replace(r.Context(), subject(r), r.PathValue("id"), recipeBody(r))
	return answer(w, http.StatusOK, rec, err)
}

func (rs *resourceAPI) patchRecipe(w http.ResponseWriter, r *http.Request) error {
	rec, err := rs.recipes.Update(r.Context(), subject(r), r.PathValue("id"), recipeBody(r))
	return answer(w, http.StatusOK, rec, err)
}

func (rs *resourceAPI) deleteRecipe(w http.ResponseWriter, r *http.Request) error {
	if err := rs.recipes.Delete(r.Context(), subject(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
