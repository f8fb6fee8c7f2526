package daemon

import (
	"strings"
	"testing"
)

// FuzzParseConfig: no configuration file, however broken, makes the parser
// panic, and every rejection says where (file and line) or which setting.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("listen = \"127.0.0.1:7070\"\nstore { path = \"/tmp/s.db\" }\n"))
	f.Add([]byte("store { path = \"x\" }\nauth {\n  token \"ci\" {\n    role = \"deploy\"\n    sha256 = \"" + strings.Repeat("a", 64) + "\"\n  }\n}\n"))
	f.Add([]byte("tls {\n  cert_file = \"c\"\n  key_file = \"k\"\n}\nlisten = \"0.0.0.0:443\"\nstore { path = \"x\" }\n"))
	f.Add([]byte("log { level = \"debug\" format = \"json\" }"))
	f.Fuzz(func(t *testing.T, src []byte) {
		_, err := ParseConfig(src, "shifter.hcl")
		if err != nil && !strings.Contains(err.Error(), "shifter.hcl") && !strings.Contains(err.Error(), ":") {
			t.Fatalf("error %q names neither the file nor a setting", err)
		}
	})
}
