package resources

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/jotauth/jot"
	"github.com/jotauth/jot/policy"
)

// Recipes is the service of recipes: public to read, changed by their
// owner or an admin.
type Recipes struct {
	store jot.RecipeStore
	opts  Options
}

// NewRecipes returns the service of the recipes kept in store.
func NewRecipes(store jot.RecipeStore, opts Options) *Recipes {
	return &Recipes{store: store, opts: opts}
}

// RecipeChange is the body of a create or a replace (every field required)
// or of an update (the fields sent) of a recipe.
type RecipeChange struct {
	Title        Field[string]   `json:"title"`
	Ingredients  Field[[]string] `json:"ingredients"`
	Instructions Field[string]   `json:"instructions"`
}

// requireAll refuses a change without every field: a create and a replace
// carry the whole recipe.
func (c *RecipeChange) requireAll() error {
	switch {
	case !c.Title.Set:
		return missingField("title")
	case !c.Ingredients.Set:
		return missingField("ingredients")
	case !c.Instructions.Set:
		return missingField("instructions")
	}
	return nil
}

// empty reports whether the change changes nothing.
func (c *RecipeChange) empty() bool {
	return !c.Title.Set && !c.Ingredients.Set && !c.Instructions.Set
}

// apply validates the fields that were sent and writes them, normalized,
// into rec; rec is untouched when a field is invalid.
func (c *RecipeChange) apply(rec *jot.Recipe) error {
	fields := map[string]string{}
	next := *rec
	if c.Title.Set {
		if c.Title.Null {
			fields["title"] = "must be a string"
		} else if t, msg := checkLine(c.Title.V, maxTitle); msg != "" {
			fields["title"] = msg
		} else {
			next.Title = t
		}
	}
	if c.Ingredients.Set {
		if c.Ingredients.Null {
			fields["ingredients"] = "must be an array of strings"
		} else if list, msg := checkIngredients(c.Ingredients.V); msg != "" {
			fields["ingredients"] = msg
		} else {
			next.Ingredients = list
		}
	}
	if c.Instructions.Set {
		switch s := c.Instructions.V; {
		case c.Instructions.Null:
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

func errRecipeNotFound() error { return jot.Errorf(jot.ENOTFOUND, "recipe not found") }

// errReadRecipes is what List and Get answer should policy ever close
// recipes to anyone.
var errReadRecipes = policy.Refuse("recipes may not be read")

// List returns one page of all recipes; anyone may read them.
func (s *Recipes) List(ctx context.Context, p jot.Page) ([]*jot.Recipe, error) {
	if !policy.CanReadRecipes() {
		return nil, errReadRecipes
	}
	return s.store.ListRecipes(ctx, p)
}

// Get returns the recipe id; anyone may read it.
func (s *Recipes) Get(ctx context.Context, id string) (*jot.Recipe, error) {
	if !policy.CanReadRecipes() {
		return nil, errReadRecipes
	}
	return find(ctx, id, s.store.RecipeByID, errRecipeNotFound)
}

// Create creates a recipe of the caller's from the change read decodes,
// within the caller's quota.
func (s *Recipes) Create(ctx context.Context, sub policy.Subject, read func(*RecipeChange) error) (*jot.Recipe, error) {
	if !policy.CanCreateRecipe(sub) {
		return nil, policy.Refuse("this caller may not create recipes")
	}
	if err := s.opts.write(ctx, sub); err != nil {
		return nil, err
	}
	var c RecipeChange
	if err := read(&c); err != nil {
		return nil, err
	}
	if err := c.requireAll(); err != nil {
		return nil, err
	}
	now := s.opts.now()
	rec := &jot.Recipe{ID: jot.NewID(), OwnerID: sub.UserID, CreatedAt: now, UpdatedAt: now}
	if err := c.apply(rec); err != nil {
		return nil, err
	}
	var err error
	if s.opts.MaxPerUser > 0 {
		err = s.store.CreateRecipeWithin(ctx, rec, s.opts.MaxPerUser)
	} else {
		err = s.store.CreateRecipe(ctx, rec)
	}
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// Replace replaces the recipe id, if the caller may, by the change read
// decodes, which must carry every field.
func (s *Recipes) Replace(ctx context.Context, sub policy.Subject, id string, read func(*RecipeChange) error) (*jot.Recipe, error) {
	return s.change(ctx, sub, id, read, true)
}

// Update changes the fields of the recipe id that the change read decodes
// carries, if the caller may.
func (s *Recipes) Update(ctx context.Context, sub policy.Subject, id string, read func(*RecipeChange) error) (*jot.Recipe, error) {
	return s.change(ctx, sub, id, read, false)
}

func (s *Recipes) change(ctx context.Context, sub policy.Subject, id string, read func(*RecipeChange) error, replace bool) (*jot.Recipe, error) {
	if err := s.opts.write(ctx, sub); err != nil {
		return nil, err
	}
	// Who may change it is settled before the body is read: a caller who
	// may not learns nothing from validation messages.
	rec, err := s.toChange(ctx, sub, id)
	if err != nil {
		return nil, err
	}
	var c RecipeChange
	if err := read(&c); err != nil {
		return nil, err
	}
	if replace {
		if err := c.requireAll(); err != nil {
			return nil, err
		}
	}
	if c.empty() {
		return rec, nil
	}
	if err := c.apply(rec); err != nil {
		return nil, err
	}
	rec.UpdatedAt = s.opts.now()
	if err := s.store.UpdateRecipe(ctx, rec); err != nil {
		return nil, notFound(err, errRecipeNotFound)
	}
	return rec, nil
}

// Delete deletes the recipe id, if the caller may.
func (s *Recipes) Delete(ctx context.Context, sub policy.Subject, id string) error {
	if err := s.opts.write(ctx, sub); err != nil {
		return err
	}
	rec, err := s.toChange(ctx, sub, id)
	if err != nil {
		return err
	}
	return notFound(s.store.DeleteRecipe(ctx, rec.ID), errRecipeNotFound)
}

// toChange returns the recipe id if the caller may change it: a missing
// recipe is not found, another user's is forbidden (recipes are public, so
// there is nothing to hide by answering 404).
func (s *Recipes) toChange(ctx context.Context, sub policy.Subject, id string) (*jot.Recipe, error) {
	rec, err := find(ctx, id, s.store.RecipeByID, errRecipeNotFound)
	if err != nil {
		return nil, err
	}
	if !policy.CanChangeRecipe(sub, rec.OwnerID) {
		return nil, policy.Refuse("only the recipe's owner or an admin may change it")
	}
	return rec, nil
}
