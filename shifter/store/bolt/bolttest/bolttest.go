// Package bolttest makes bbolt store files the shifter must refuse: damaged
// ones, every kind, which it must refuse without a panic, and files written
// by a newer shifter. For the store's own tests and for those of the command
// line and the daemon, which check how each is refused.
package bolttest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
)

// PageSize is bbolt's page size here: the OS page size.
const PageSize = 4096

// Damage is a store file as it must not be served, and the words its
// refusal says it with.
type Damage struct {
	Name    string
	Content []byte
	Want    string
}

// Damages returns every kind of damage, made from a sound store of 60
// endpoints.
func Damages(t testing.TB) []Damage {
	t.Helper()
	sound := SoundStore(t, 60)
	if len(sound) < 8*PageSize {
		t.Fatalf("the sound store has %d bytes; the damage below wants at least 8 pages", len(sound))
	}
	with := func(f func(b []byte)) []byte {
		b := bytes.Clone(sound)
		f(b)
		return b
	}
	return []Damage{
		{"empty", nil, "is empty (0 bytes)"},
		{"foreign: text", []byte(strings.Repeat("listen = \"127.0.0.1:7070\"\n", 400)), "is not a bbolt store"},
		{"foreign: random bytes", with(garbage), "is not a bbolt store"},
		{"truncated to one page", sound[:PageSize], "is damaged (truncated"},
		{"truncated to half", sound[:len(sound)/2/PageSize*PageSize], "is damaged (truncated"},
		{"both meta pages overwritten", with(func(b []byte) { garbage(b[16 : 2*PageSize]) }), "is not a bbolt store"},
		{"data pages zeroed", with(func(b []byte) { clear(b[2*PageSize:]) }), "is damaged"},
		{"data pages garbage", with(func(b []byte) { garbage(b[2*PageSize:]) }), "is damaged"},
		{"root page garbage", with(func(b []byte) { garbage(page(b, metaField(b, rootOffset))) }), "is damaged"},
		{"freelist page garbage", with(func(b []byte) { garbage(page(b, metaField(b, freelistOffset))) }), "is damaged"},
	}
}

// SoundStore returns the bytes of a store file holding endpoints.
func SoundStore(t testing.TB, endpoints int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sound.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	Fill(t, s, 0, endpoints)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Fill writes endpoints [from, to) with an event each.
func Fill(t testing.TB, s *bolt.Store, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		ep := rollout.NewEndpoint()
		ep.Name = fmt.Sprintf("web-%d", i)
		ep.Template.Env = map[string]string{"PAD": strings.Repeat("x", 200)} // spread over many pages
		if _, err := s.PutEndpoint(t.Context(), ep, rollout.RevisionNew, rollout.Event{Type: rollout.EventEndpointCreated, Message: "created"}); err != nil {
			t.Error(err) // t.Fatal must not be called off the test's goroutine
			return
		}
	}
}

// Stamp marks the store file at path (closed) as written at schema version
// version, as a shifter of that version would have left it.
func Stamp(t testing.TB, path string, version int) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists([]byte(bolt.MetaBucket))
		if err != nil {
			return err
		}
		return meta.Put([]byte(bolt.SchemaVersionKey), []byte(strconv.Itoa(version)))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// SchemaVersion reads the schema version the store file at path (closed)
// is marked with: 0 if none.
func SchemaVersion(t testing.TB, path string) int {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	version := 0
	err = db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket([]byte(bolt.MetaBucket))
		if meta == nil {
			return nil
		}
		var err error
		version, err = strconv.Atoi(string(meta.Get([]byte(bolt.SchemaVersionKey))))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return version
}

// garbage overwrites b with the same pseudo-random bytes every run.
func garbage(b []byte) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

// Offsets in a meta page (bbolt's layout: a 16-byte page header, then magic,
// version, page size and flags, the root bucket's page and sequence, the
// freelist's page, the high-water page and the transaction ID).
const (
	rootOffset     = 32
	freelistOffset = 48
	txidOffset     = 64
)

// metaField reads a page ID at off in the current meta page: the one of the
// two with the higher transaction ID.
func metaField(b []byte, off int) uint64 {
	meta := b[:PageSize]
	if binary.LittleEndian.Uint64(b[PageSize+txidOffset:]) > binary.LittleEndian.Uint64(meta[txidOffset:]) {
		meta = b[PageSize : 2*PageSize]
	}
	return binary.LittleEndian.Uint64(meta[off:])
}

func page(b []byte, id uint64) []byte { return b[id*PageSize : (id+1)*PageSize] }
