package inspect

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden filters the wire samples in testdata/golden (*.json as JSON
// bodies, *.sse as event streams) and compares with the .golden files.
// The visible items are: tool ls, prompt greet, resource template
// file:///public/{path}.
func TestGolden(t *testing.T) {
	allow := allowOnly("tool:ls", "prompt:greet", "resource:file:///public/{path}")
	files, err := filepath.Glob("testdata/golden/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range files {
		if strings.HasSuffix(in, ".golden") {
			continue
		}
		n++
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			list := "tools"
			switch {
			case strings.Contains(in, "prompts"):
				list = "prompts"
			case strings.Contains(in, "templates"):
				list = "resourceTemplates"
			}
			f := Filter{List: list, Allow: allow, MarkPrivate: true}
			var got []byte
			if strings.HasSuffix(in, ".sse") {
				var out bytes.Buffer
				s := f.NewSSE(&out)
				if _, err := s.Write(data); err != nil {
					t.Fatal(err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				got = out.Bytes()
			} else {
				if got, err = f.JSON(data); err != nil {
					t.Fatal(err)
				}
				if !json.Valid(got) {
					t.Fatal("invalid JSON")
				}
			}
			golden := in + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
	if n == 0 {
		t.Fatal("no golden inputs")
	}
}
