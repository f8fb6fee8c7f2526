package daemon

import (
	"slices"
	"strings"
	"testing"
)

// teamsSeed is a configuration with every setting of a team block.
const teamsSeed = `store { path = "x" }
team "payments" {
  listeners     = ["arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/shared/*"]
  hosts         = ["*.payments.example.com"]
  path_prefixes = ["/pay"]
  priorities    = [100, 199]
  accounts      = ["222222222222"]
  role_arns     = ["arn:aws:iam::222222222222:role/ionroller-*"]
  repositories  = ["222222222222.dkr.ecr.eu-west-1.amazonaws.com/payments/*"]
  webhook_hosts = ["hooks.slack.com"]
  allow_private_webhooks = false
}
`

// FuzzParseConfig: no configuration file, however broken, makes the parser
// panic, and every rejection says where (file and line) or which setting.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("listen = \"127.0.0.1:7070\"\nstore { path = \"/tmp/s.db\" }\n"))
	f.Add([]byte("store { path = \"x\" }\nauth {\n  token \"ci\" {\n    role = \"deploy\"\n    sha256 = \"" + strings.Repeat("a", 64) + "\"\n  }\n}\n"))
	f.Add([]byte("tls {\n  cert_file = \"c\"\n  key_file = \"k\"\n}\nlisten = \"0.0.0.0:443\"\nstore { path = \"x\" }\n"))
	f.Add([]byte("log { level = \"debug\" format = \"json\" }"))
	f.Add([]byte(teamsSeed))
	f.Add([]byte("store { path = \"x\" }\nallow_private_webhooks = true\nteam \"labs\" {}\n"))
	f.Add([]byte("store { path = \"x\" }\nteam \"a\" {\n  priorities = [300, 200]\n}\nteam \"a\" {\n  accounts = [\"12\"]\n}\n"))
	f.Add([]byte("store { path = \"x\" }\nteam \"Bad Name\" {\n  hosts = [\"\"]\n  path_prefixes = [\"api\"]\n}\n"))
	f.Add([]byte("store { path = \"x\" }\nimages { pin = false }\n"))
	f.Add([]byte("store { path = \"x\" }\nimages {\n  pin = \"maybe\"\n}\nimages {}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, err := ParseConfig(src, "shifter.hcl")
		if err != nil && !strings.Contains(err.Error(), "shifter.hcl") && !strings.Contains(err.Error(), ":") {
			t.Fatalf("error %q names neither the file nor a setting", err)
		}
		// Only an images block that says so stops pinning.
		if err == nil && !cfg.PinImages && !strings.Contains(string(src), "images") {
			t.Fatalf("accepted without an images block, and does not pin")
		}
		// Bounds that were accepted are bounds that can be applied.
		for team, b := range cfg.Teams {
			if b.MaxPriority != 0 && (b.MinPriority < 1 || b.MinPriority > b.MaxPriority) {
				t.Fatalf("team %q accepted with priorities %d to %d", team, b.MinPriority, b.MaxPriority)
			}
			for _, patterns := range [][]string{b.Listeners, b.Hosts, b.RoleARNs, b.Repositories, b.WebhookHosts} {
				if slices.Contains(patterns, "") {
					t.Fatalf("team %q accepted with an empty pattern: %+v", team, b)
				}
			}
		}
	})
}
