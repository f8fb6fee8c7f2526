package store_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

func TestMigrations(t *testing.T) {
	steps := make([]int, store.SchemaVersion) // steps[i] is i: from version i
	for i := range steps {
		steps[i] = i
	}
	for found := range store.SchemaVersion + 1 {
		got, err := store.Migrations("test.db", found, steps)
		if err != nil || !slices.Equal(got, steps[found:]) {
			t.Errorf("found %d: steps %v, %v; want %v", found, got, err, steps[found:])
		}
	}

	_, err := store.Migrations("test.db", store.SchemaVersion+1, steps)
	var newer *store.NewerSchemaError
	if !errors.As(err, &newer) || newer.Store != "test.db" || newer.Version != store.SchemaVersion+1 {
		t.Errorf("found a newer version: %v; want a NewerSchemaError naming test.db and the version", err)
	}
	for what, err := range map[string]error{
		"a negative version": second(store.Migrations("test.db", -1, steps)),
		"a step missing":     second(store.Migrations("test.db", 0, steps[1:])),
	} {
		if err == nil || errors.As(err, &newer) || !strings.HasPrefix(err.Error(), "store test.db: ") {
			t.Errorf("%s: %v; want an error naming the store", what, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }
