package store

import "fmt"

// SchemaVersion is the version of the layout in which this code keeps its
// data, in a bolt file or a DynamoDB table alike. Every store records the
// version it was written at; a change of either store's layout raises it by
// one and adds a migration step to each store (see Migrations).
//
// A store without a version was written before stores carried one (up to
// commit 56c9c91): it is version 0, whose layout version 1 kept unchanged.
const SchemaVersion = 1

// NewerSchemaError refuses a store written at a schema version newer than
// this code: reading it could misread what the newer layout means, and
// writing it would mix two layouts. Nothing in the store is changed.
type NewerSchemaError struct {
	// Store says where it is: a file's path, a table's name.
	Store   string
	Version int
}

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("store %s: written by schema version %d, this shifter understands up to %d; run a shifter at least as new as the one that wrote it",
		e.Store, e.Version, SchemaVersion)
}

// Migrations returns the steps that bring a store found at schema version
// found to SchemaVersion, in order. steps is a store's whole list: steps[i]
// moves its layout from version i to i+1, so it has SchemaVersion steps. A
// store newer than this code is a *NewerSchemaError; where names it.
func Migrations[Step any](where string, found int, steps []Step) ([]Step, error) {
	switch {
	case len(steps) != SchemaVersion:
		return nil, fmt.Errorf("store %s: %d migration steps for schema version %d; each version needs one (a bug)", where, len(steps), SchemaVersion)
	case found > SchemaVersion:
		return nil, &NewerSchemaError{Store: where, Version: found}
	case found < 0:
		return nil, fmt.Errorf("store %s: its schema version %d is not a version; the store is damaged", where, found)
	}
	return steps[found:], nil
}
