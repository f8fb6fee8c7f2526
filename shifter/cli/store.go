package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
)

// storeCommand is `shifter store check FILE` (a store file, checked page by
// page) and `shifter store backup FILE` (a consistent copy of a serving
// shifter's store, through its API).
type storeCommand struct {
	command
	conn   connection
	action string
	file   string
}

func (c *storeCommand) parseFlags(args []string) error {
	if len(args) == 0 || (args[0] != "check" && args[0] != "backup") {
		return usagef("expects check FILE or backup FILE")
	}
	c.action = args[0]
	var fs *flagSet
	if c.action == "check" {
		fs = c.flags("shifter store check FILE",
			"Checks every page of a bbolt store file (a stopped shifter's store, or a backup)\n"+
				"and exits 0 if it is sound, 1 saying what is wrong. A serving shifter holds its\n"+
				"file's lock: check a backup of it instead.")
	} else {
		fs = c.flags("shifter store backup [flags] FILE",
			"Writes a consistent copy of a serving shifter's store to FILE, checks it, and\n"+
				"only then puts it in place. Needs an admin token of no team.")
		c.conn.register(fs.FlagSet)
	}
	rest, err := c.parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("expects one FILE argument; got %d", len(rest))
	}
	c.file = rest[0]
	return nil
}

func (c *storeCommand) run(ctx context.Context) error {
	if c.action == "check" {
		if err := bolt.Check(c.file); err != nil {
			return err
		}
		_, err := fmt.Fprintf(c.stdout, "store %s is sound\n", c.file)
		return err
	}
	return c.backup(ctx)
}

// backup writes the copy beside FILE and renames it into place once it
// passed its check, so FILE is never a partial copy.
func (c *storeCommand) backup(ctx context.Context) (err error) {
	cl, err := c.conn.connect(c.getenv)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.file), filepath.Base(c.file)+".partial-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name()) // what is left of a failed copy is worthless
		}
	}()
	n, err := cl.Backup(ctx, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store backup: %w", err)
	}
	if err := bolt.Check(tmp.Name()); err != nil {
		return fmt.Errorf("store backup: the copy is not sound, not kept: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.file); err != nil {
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "store backed up to %s (%d bytes), checked\n", c.file, n)
	return err
}
