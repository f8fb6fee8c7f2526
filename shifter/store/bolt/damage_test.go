package bolt_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
)

const pageSize = 4096 // bbolt's page size here: the OS page size

// soundStore returns the bytes of a store file holding endpoints.
func soundStore(t *testing.T, endpoints int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sound.db")
	s := mustOpen(t, path)
	fill(t, s, 0, endpoints)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fill writes endpoints [from, to) with an event each.
func fill(t *testing.T, s *bolt.Store, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		ep := rollout.NewEndpoint()
		ep.Name = fmt.Sprintf("web-%d", i)
		ep.Template.Env = map[string]string{"PAD": strings.Repeat("x", 200)} // spread over many pages
		if _, err := s.PutEndpoint(t.Context(), ep, rollout.RevisionNew, rollout.Event{Type: rollout.EventEndpointCreated, Message: "created"}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDamagedFilesAreRefusedNotPanickedOn: every kind of damage is a
// DamagedError naming the file and what to do, leaves the file as it was,
// and is replaced by an empty store only when asked.
func TestDamagedFilesAreRefusedNotPanickedOn(t *testing.T) {
	sound := soundStore(t, 60)
	if len(sound) < 8*pageSize {
		t.Fatalf("the sound store has %d bytes; the damage below wants at least 8 pages", len(sound))
	}
	with := func(f func(b []byte)) []byte {
		b := bytes.Clone(sound)
		f(b)
		return b
	}
	garbage := func(b []byte) {
		r := rand.New(rand.NewPCG(1, 2))
		for i := range b {
			b[i] = byte(r.Uint32())
		}
	}
	for _, tc := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"empty", nil, "is empty (0 bytes)"},
		{"foreign: text", []byte(strings.Repeat("listen = \"127.0.0.1:7070\"\n", 400)), "is not a bbolt store"},
		{"foreign: random bytes", with(garbage), "is not a bbolt store"},
		{"truncated to one page", sound[:pageSize], "is damaged"},
		{"truncated to half", sound[:len(sound)/2/pageSize*pageSize], "is damaged"},
		{"both meta pages overwritten", with(func(b []byte) { garbage(b[16 : 2*pageSize]) }), "is not a bbolt store"},
		{"data pages zeroed", with(func(b []byte) { clear(b[2*pageSize:]) }), "is damaged"},
		{"data pages garbage", with(func(b []byte) { garbage(b[2*pageSize:]) }), "is damaged"},
		{"root page garbage", with(func(b []byte) { garbage(page(b, metaField(b, rootOffset))) }), "is damaged"},
		{"freelist page garbage", with(func(b []byte) { garbage(page(b, metaField(b, freelistOffset))) }), "is damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "shifter.db")
			if err := os.WriteFile(path, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			for what, err := range map[string]error{"Open": openErr(path), "Check": bolt.Check(path)} {
				var damaged *bolt.DamagedError
				if !errors.As(err, &damaged) || !strings.Contains(err.Error(), "store "+path+" "+tc.want) || !strings.Contains(err.Error(), "restore it from a backup") {
					t.Errorf("%s: %v; want a DamagedError naming %s, %q and what to do", what, err, path, tc.want)
				}
			}
			if b, _ := os.ReadFile(path); !bytes.Equal(b, tc.content) {
				t.Fatal("refusing the file changed it")
			}

			var aside string
			s, err := bolt.Open(path, bolt.WithInitialise(func(_ error, to string) { aside = to }))
			if err != nil {
				t.Fatalf("Open with initialise: %v", err)
			}
			defer s.Close()
			if eps, err := s.ListEndpoints(t.Context()); err != nil || len(eps) != 0 {
				t.Errorf("initialised store lists %d endpoints, %v; want an empty store", len(eps), err)
			}
			if !strings.HasPrefix(aside, path+".damaged-") {
				t.Fatalf("moved aside to %q", aside)
			}
			if b, _ := os.ReadFile(aside); !bytes.Equal(b, tc.content) {
				t.Error("the file moved aside is not the damaged file as it was")
			}
		})
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
	meta := b[:pageSize]
	if binary.LittleEndian.Uint64(b[pageSize+txidOffset:]) > binary.LittleEndian.Uint64(meta[txidOffset:]) {
		meta = b[pageSize : 2*pageSize]
	}
	return binary.LittleEndian.Uint64(meta[off:])
}

func page(b []byte, id uint64) []byte { return b[id*pageSize : (id+1)*pageSize] }

func openErr(path string) error {
	s, err := bolt.Open(path)
	if err == nil {
		s.Close()
	}
	return err
}

// TestBackupIsConsistentWhileWritesGoOn takes a backup while another
// goroutine writes: the copy passes the check and holds a prefix of the
// writes.
func TestBackupIsConsistentWhileWritesGoOn(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, filepath.Join(dir, "shifter.db"))
	defer s.Close()
	fill(t, s, 0, 20)
	var wg sync.WaitGroup
	wg.Go(func() { fill(t, s, 20, 120) })
	var buf bytes.Buffer
	n, err := s.Backup(&buf)
	wg.Wait()
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("Backup = %d, %v; wrote %d bytes", n, err, buf.Len())
	}
	copyPath := filepath.Join(dir, "backup.db")
	if err := os.WriteFile(copyPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := bolt.Check(copyPath); err != nil {
		t.Fatalf("the backup fails its check: %v", err)
	}
	c := mustOpen(t, copyPath)
	defer c.Close()
	eps, err := c.ListEndpoints(t.Context())
	if err != nil || len(eps) < 20 || len(eps) > 120 {
		t.Fatalf("the backup holds %d endpoints, %v; want 20 to 120", len(eps), err)
	}
	for _, ep := range eps {
		if events, err := c.ListEvents(t.Context(), ep.Name, 0, 0); err != nil || len(events) != 1 {
			t.Errorf("endpoint %s in the backup without its event (%d, %v): not one transaction", ep.Name, len(events), err)
		}
	}
}

func TestCheckOfAFileInUseSaysSo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shifter.db")
	s := mustOpen(t, path)
	defer s.Close()
	if err := bolt.Check(path); err == nil || !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("Check of a served file: %v, want it locked", err)
	}
}
