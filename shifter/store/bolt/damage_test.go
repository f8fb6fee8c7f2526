package bolt_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt/bolttest"
)

// TestDamagedFilesAreRefusedNotPanickedOn: every kind of damage is a
// DamagedError naming the file and what to do, leaves the file as it was,
// and is replaced by an empty store only when asked.
func TestDamagedFilesAreRefusedNotPanickedOn(t *testing.T) {
	for _, tc := range bolttest.Damages(t) {
		t.Run(tc.Name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "shifter.db")
			if err := os.WriteFile(path, tc.Content, 0o600); err != nil {
				t.Fatal(err)
			}
			for what, err := range map[string]error{"Open": openErr(path), "Check": bolt.Check(path)} {
				var damaged *bolt.DamagedError
				if !errors.As(err, &damaged) || !strings.Contains(err.Error(), "store "+path+" "+tc.Want) || !strings.Contains(err.Error(), "restore it from a backup") {
					t.Errorf("%s: %v; want a DamagedError naming %s, %q and what to do", what, err, path, tc.Want)
				}
			}
			if b, _ := os.ReadFile(path); !bytes.Equal(b, tc.Content) {
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
			if b, _ := os.ReadFile(aside); !bytes.Equal(b, tc.Content) {
				t.Error("the file moved aside is not the damaged file as it was")
			}
		})
	}
}

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
	bolttest.Fill(t, s, 0, 20)
	var wg sync.WaitGroup
	wg.Go(func() { bolttest.Fill(t, s, 20, 120) })
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
