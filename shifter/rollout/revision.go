package rollout

// Revisions a write may expect besides an object's current revision. Every
// stored object carries a revision and a write names the one it read, so
// writers never silently overwrite each other; the store, the API and its
// client all speak in these.
const (
	// RevisionAny skips the revision check.
	RevisionAny int64 = -1
	// RevisionNew requires the object not to exist yet.
	RevisionNew int64 = 0
)
