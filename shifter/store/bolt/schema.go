package bolt

import (
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

// Where a file records the schema version of its layout (a JSON number),
// apart from the data: named here once, for Open and for the tests that
// write what another shifter would have left (bolttest).
const (
	MetaBucket       = "meta"
	SchemaVersionKey = "schema_version"
)

// layout is the top-level buckets of the current schema version, which a
// new file is created with.
var layout = []string{endpointsBucket, statesBucket, releasesBucket, commandsBucket, eventsBucket}

// migrations[i] moves a file's layout from schema version i to i+1 (see
// store.Migrations). All the steps a file needs run in one transaction with
// the stamp of the version they reach, so a file is migrated whole or not
// at all. The next change of the layout (a new bucket, a value that changes
// its shape) appends its step here and raises store.SchemaVersion.
var migrations = []func(tx *bbolt.Tx) error{
	// 0 → 1: a file written before versioning already has version 1's
	// layout; only the version is stamped.
	func(*bbolt.Tx) error { return nil },
}

// upgrade brings the file to store.SchemaVersion: a file without any bucket
// is new and gets the current layout; a file of an older version runs its
// migration steps; a file of a newer version is refused before anything is
// written. A file at the current version is only read, so reopening it
// writes nothing.
func upgrade(db *bbolt.DB, path string, migrated func(from, to int)) error {
	var found int
	var fresh bool
	err := db.View(func(tx *bbolt.Tx) error {
		first, _ := tx.Cursor().First()
		fresh = first == nil
		var err error
		found, err = schemaVersion(tx)
		return err
	})
	if err != nil {
		return fmt.Errorf("open store %s: %w", path, err)
	}
	if found == store.SchemaVersion {
		return nil
	}
	steps, err := store.Migrations(path, found, migrations)
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if fresh {
			for _, name := range layout {
				if _, err := tx.CreateBucket([]byte(name)); err != nil {
					return fmt.Errorf("create bucket %s: %w", name, err)
				}
			}
		} else {
			for i, step := range steps {
				if err := step(tx); err != nil {
					return fmt.Errorf("migrate from schema version %d to %d: %w", found+i, found+i+1, err)
				}
			}
		}
		meta, err := tx.CreateBucketIfNotExists([]byte(MetaBucket))
		if err != nil {
			return err
		}
		_, err = put(meta, []byte(SchemaVersionKey), store.SchemaVersion)
		return err
	})
	if err != nil {
		return fmt.Errorf("open store %s: %w", path, err)
	}
	if !fresh && migrated != nil {
		migrated(found, store.SchemaVersion)
	}
	return nil
}

// schemaVersion reads the version a file was written at: 0 when it has
// none (a new file, or one written before versioning).
func schemaVersion(tx *bbolt.Tx) (int, error) {
	meta := tx.Bucket([]byte(MetaBucket))
	if meta == nil {
		return 0, nil
	}
	v, found, err := get[int](meta, []byte(SchemaVersionKey))
	if err == nil && !found {
		err = fmt.Errorf("bucket %s has no %s", MetaBucket, SchemaVersionKey)
	}
	return v, err
}
