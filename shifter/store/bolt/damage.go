package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// DamagedError is a store file that cannot be trusted: empty, not a bbolt
// file, or damaged inside. bbolt panics on most damage; Open and Check turn
// that into this error, which says what to do.
type DamagedError struct {
	Path   string
	Reason string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("store %s %s; restore it from a backup (`shifter store backup FILE` takes one while the shifter serves), "+
		"or start an empty store with `shifter serve -initialise-store`, which moves this file aside to %s.damaged-<time>", e.Path, e.Reason, e.Path)
}

// openChecked opens the bbolt file at path and checks every page of it
// before anything reads it: a damaged file is a *DamagedError, never a
// panic. A missing file is created; an empty one is refused, since bbolt
// would silently start it afresh and every endpoint would be forgotten.
//
// The check runs on a read-only open, where bbolt loads nothing it has not
// checked (its check recovers its own panics); only a file that passed is
// opened for writing. A bbolt.Open that panics would leave the file locked.
func openChecked(path string, opts bbolt.Options) (*bbolt.DB, error) {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && !opts.ReadOnly:
		return openClassified(path, opts) // a new store
	case err != nil:
		return nil, fmt.Errorf("open store: %w", err)
	case info.Size() == 0:
		return nil, &DamagedError{Path: path, Reason: "is empty (0 bytes), which a shifter never leaves: it was truncated or replaced"}
	}
	if short, err := endsEarly(path, info.Size()); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	} else if short {
		return nil, &DamagedError{Path: path, Reason: "is damaged (truncated: it ends before the pages its metadata counts)"}
	}
	ro := opts
	ro.ReadOnly = true
	db, err := openClassified(path, ro)
	if err != nil {
		return nil, err
	}
	if err := checkPages(db); err != nil {
		// bbolt's check says "panic: ..." of the panics it recovered: they
		// are damage it found, not a crash of the shifter.
		reason := strings.TrimPrefix(err.Error(), "panic: ")
		return nil, errors.Join(&DamagedError{Path: path, Reason: fmt.Sprintf("is damaged (%s)", reason)}, db.Close())
	}
	if opts.ReadOnly {
		return db, nil
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	return openClassified(path, opts)
}

// openClassified is bbolt.Open with its errors told apart: the file is
// locked, cannot be opened, or is not a sound bbolt file.
func openClassified(path string, opts bbolt.Options) (db *bbolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, &DamagedError{Path: path, Reason: fmt.Sprintf("is damaged (%v)", r)}
		}
	}()
	db, err = bbolt.Open(path, 0o600, &opts)
	var pathErr *fs.PathError
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("open store %s: the file is locked by another process (is another shifter using it?), gave up after %s: %w", path, opts.Timeout, err)
	case errors.As(err, &pathErr):
		return nil, fmt.Errorf("open store: %w", err)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrChecksum):
		return nil, &DamagedError{Path: path, Reason: fmt.Sprintf("is not a bbolt store, or its header is damaged (%v)", err)}
	default:
		return nil, &DamagedError{Path: path, Reason: fmt.Sprintf("is damaged (%v)", err)}
	}
}

// checkPages walks every page of db (bbolt's own consistency check, which
// recovers its panics) and returns the first problem found.
func checkPages(db *bbolt.DB) error {
	return db.View(func(tx *bbolt.Tx) error {
		var first error
		for err := range tx.Check() {
			if first == nil {
				first = err
			}
		}
		return first
	})
}

// moveAside renames a damaged store file out of the way, never deleting
// what an operator may still want to recover.
func moveAside(path string, now time.Time) (string, error) {
	aside := fmt.Sprintf("%s.damaged-%s", path, now.UTC().Format("20060102T150405Z"))
	if err := os.Rename(path, aside); err != nil {
		return "", fmt.Errorf("move the damaged store %s aside: %w", path, err)
	}
	return aside, nil
}

// Check opens the store file at path read-only and checks every page, as
// Open does: nil, or an error saying what is wrong. A shifter serving the
// file holds its lock: check a backup of it instead.
func Check(path string) error {
	db, err := openChecked(path, bbolt.Options{ReadOnly: true, Timeout: DefaultTimeout})
	if err != nil {
		return err
	}
	return db.Close()
}

// Backup writes a consistent copy of the store to w while it serves: one
// read transaction, which writers do not wait for. It returns the bytes
// written.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// endsEarly reports whether the file ends before the pages its newest sound
// metadata page counts. bbolt maps the file and reads such pages through
// the mapping: past the end of the file that is a fault no recover catches,
// so it is checked here, before bbolt opens the file. A file without a sound
// metadata page is left to bbolt to refuse.
func endsEarly(path string, size int64) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	first := make([]byte, metaEnd)
	if _, err := io.ReadFull(f, first); err != nil {
		return false, nil // shorter than a metadata page: bbolt refuses it
	}
	m0, ok0 := readMeta(first)
	pageSize := int64(os.Getpagesize())
	if ok0 {
		pageSize = int64(m0.pageSize)
	}
	second := make([]byte, metaEnd)
	var m1 meta
	ok1 := false
	if _, err := f.ReadAt(second, pageSize); err == nil {
		m1, ok1 = readMeta(second)
	}
	switch {
	case ok0 && (!ok1 || m0.txid >= m1.txid):
		return int64(m0.pgid)*int64(m0.pageSize) > size, nil
	case ok1:
		return int64(m1.pgid)*int64(m1.pageSize) > size, nil
	}
	return false, nil
}

// bbolt's metadata page: a 16-byte page header, then magic, version, page
// size, flags, the root bucket (16 bytes), the freelist's page, the high
// water mark (pages in the file), the transaction ID and an FNV-64a checksum
// of everything before it.
const (
	metaMagic = 0xED0CDAED
	metaEnd   = 80
)

type meta struct {
	pageSize   uint32
	pgid, txid uint64
}

func readMeta(page []byte) (meta, bool) {
	le := binary.LittleEndian
	if le.Uint32(page[16:]) != metaMagic {
		return meta{}, false
	}
	h := fnv.New64a()
	h.Write(page[16:72])
	if h.Sum64() != le.Uint64(page[72:]) {
		return meta{}, false
	}
	return meta{pageSize: le.Uint32(page[24:]), pgid: le.Uint64(page[56:]), txid: le.Uint64(page[64:])}, true
}
