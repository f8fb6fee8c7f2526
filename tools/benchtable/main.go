// Command benchtable turns `go test -bench` output on stdin into a markdown
// table: one row per benchmark, its package, and every metric it reported.
// `make bench` pipes into it.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

type row struct {
	pkg, name string
	metrics   []string // "value unit"
}

func main() {
	rows, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	fmt.Print(table(rows))
}

// parse reads benchmark lines ("BenchmarkX-2  N  v1 unit1  v2 unit2 ...")
// and the "pkg:" lines that say where they come from.
func parse(r io.Reader) ([]row, error) {
	var rows []row
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(p, "github.com/ionroller/terraform-provider-ionroller/")
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		r := row{pkg: pkg, name: f[0]}
		for i := 2; i+1 < len(f); i += 2 {
			r.metrics = append(r.metrics, f[i]+" "+f[i+1])
		}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

func table(rows []row) string {
	var b strings.Builder
	b.WriteString("| package | benchmark | results |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.pkg, r.name, strings.Join(r.metrics, ", "))
	}
	return b.String()
}
