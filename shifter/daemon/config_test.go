package daemon

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func TestParseConfigAppliesDefaults(t *testing.T) {
	cfg, err := ParseConfig([]byte(`store { path = "/tmp/s.db" }`), "shifter.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:7070" || cfg.ShifterID != "default" || cfg.ResyncInterval != 30*time.Second || cfg.PollInterval != 5*time.Second || cfg.LogLevel != hclog.Info || cfg.LogJSON || !cfg.PinImages ||
		cfg.History != (rollout.Retention{Keep: 100}) {
		t.Errorf("defaults = %+v", cfg)
	}
}

func TestParseConfigReadsEverySetting(t *testing.T) {
	src := `
listen          = "0.0.0.0:8443"
shifter_id      = "prod-eu"
tls {
  cert_file = "/etc/ionroller/tls.crt"
  key_file  = "/etc/ionroller/tls.key"
}
resync_interval = "10s"
poll_interval   = "1s"
store { path = "/var/lib/ionroller/shifter.db" }
aws {
  region   = "eu-west-1"
  endpoint = "http://127.0.0.1:5000"
}
log {
  level  = "debug"
  format = "json"
}
images { pin = false }
history {
  keep    = 20
  max_age = "2160h"
}
auth {
  anonymous { role = "read" }
  token "ci" {
    team      = "payments"
    role      = "deploy"
    endpoints = ["pay-*"]
    sha256    = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
  }
  jwt_issuer "tfc" {
    issuer   = "https://app.terraform.io"
    audience = "ionroller"
    rule {
      organization = "acme"
      project      = "payments"
      workspace    = "pay-*"
      team         = "payments"
      endpoints    = ["pay-*"]
      apply_role   = "admin"
    }
  }
}
`
	cfg, err := ParseConfig([]byte(src), "shifter.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "0.0.0.0:8443" || cfg.ShifterID != "prod-eu" || cfg.TLSCertFile != "/etc/ionroller/tls.crt" || cfg.TLSKeyFile != "/etc/ionroller/tls.key" || cfg.ResyncInterval != 10*time.Second || cfg.PollInterval != time.Second {
		t.Errorf("top level = %+v", cfg)
	}
	if cfg.StorePath != "/var/lib/ionroller/shifter.db" || cfg.AWSRegion != "eu-west-1" || cfg.AWSEndpoint != "http://127.0.0.1:5000" {
		t.Errorf("blocks = %+v", cfg)
	}
	if cfg.LogLevel != hclog.Debug || !cfg.LogJSON {
		t.Errorf("log = %v json=%v", cfg.LogLevel, cfg.LogJSON)
	}
	if cfg.PinImages {
		t.Error("images { pin = false } still pins")
	}
	if cfg.History != (rollout.Retention{Keep: 20, MaxAge: 2160 * time.Hour}) {
		t.Errorf("history = %+v", cfg.History)
	}
	tok := cfg.Auth.Tokens
	if len(tok) != 1 || tok[0].Name != "ci" || tok[0].Team != "payments" || tok[0].Role != "deploy" || tok[0].Endpoints[0] != "pay-*" || cfg.Auth.Anonymous.Role != "read" {
		t.Errorf("auth = %+v", cfg.Auth)
	}
	want := JWTIssuerBlock{Name: "tfc", Issuer: "https://app.terraform.io", Audience: "ionroller", Rules: []JWTRuleBlock{{
		Organization: "acme", Project: "payments", Workspace: "pay-*", Team: "payments", Endpoints: []string{"pay-*"}, ApplyRole: "admin",
	}}}
	if len(cfg.Auth.JWTIssuers) != 1 || !reflect.DeepEqual(cfg.Auth.JWTIssuers[0], want) {
		t.Errorf("auth.jwt_issuer = %+v", cfg.Auth.JWTIssuers)
	}
}

func TestParseConfigListensBeyondLoopbackOnlyWithTLSOrWhenAllowed(t *testing.T) {
	for _, src := range []string{
		"listen = \"127.0.0.1:7070\"\nstore { path = \"x\" }",
		"listen = \"[::1]:7070\"\nstore { path = \"x\" }",
		"listen = \"localhost:7070\"\nstore { path = \"x\" }",
		"listen = \"0.0.0.0:7070\"\nallow_insecure_listen = true\nstore { path = \"x\" }",
	} {
		if _, err := ParseConfig([]byte(src), "shifter.hcl"); err != nil {
			t.Errorf("ParseConfig(%q) = %v", src, err)
		}
	}
}

func TestParseConfigErrorsNameTheSetting(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`listen = "nope"`, "listen:"},
		{`store { path = "x" }` + "\n" + `listen = "0.0.0.0:7070"`, "needs TLS"},
		{`store { path = "x" }` + "\n" + `listen = ":7070"`, "needs TLS"},
		{`store { path = "x" }` + "\n" + "tls {\n  cert_file = \"c\"\n  key_file = \"\"\n}", "tls:"},
		{`store { path = "x" }` + "\n" + `shifter_id = "Prod_EU"`, "shifter_id:"},
		{`store { path = "x" }` + "\n" + `resync_interval = "soon"`, "resync_interval:"},
		{`store { path = "x" }` + "\n" + `poll_interval = "2h"`, "poll_interval:"},
		{`listen = "127.0.0.1:1"`, "store:"},
		{`store { path = "x" }` + "\n" + `log { level = "loud" }`, "log.level:"},
		{`store { path = "x" }` + "\n" + `log { format = "xml" }`, "log.format:"},
		{`store { path = "x" }` + "\n" + `history { keep = -1 }`, "history.keep:"},
		{`store { path = "x" }` + "\n" + `history { max_age = "forever" }`, "history.max_age:"},
		{`store { path = "x" }` + "\n" + "auth {\n  anonymous { role = \"root\" }\n}", "auth.anonymous.role:"},
		{`store { path = "x" }` + "\n" + "auth {\n  override_role = \"read\"\n}", "auth.override_role: \"read\" must be deploy or admin"},
		{`store { path = "x" }` + "\n" + "auth {\n  token \"ci\" {\n    role = \"deploy\"\n    sha256 = \"secret\"\n  }\n}", `auth.token["ci"].sha256:`},
		{`store { path = "x" }` + "\n" + "auth {\n  token \"ci\" {\n    role = \"boss\"\n    sha256 = \"" + strings.Repeat("a", 64) + "\"\n  }\n}", `auth.token["ci"].role:`},
		{`store { path = "x" }` + "\n" + "auth {\n  token \"ci\" {\n    role = \"read\"\n    sha256 = \"" + strings.Repeat("a", 64) + "\"\n  }\n  token \"deployer\" {\n    role = \"admin\"\n    sha256 = \"" + strings.Repeat("a", 64) + "\"\n  }\n}", `auth.token["deployer"].sha256: is the same token as auth.token["ci"]`},
		{`store { path = "x" }` + "\n" + `auth {
  jwt_issuer "tfc" {
    issuer = "https://app.terraform.io"
    rule { organization = "acme" }
  }
}`, "Missing required argument"},
		{`store { path = "x" }` + "\n" + `auth {
  jwt_issuer "tfc" {
    issuer = "https://app.terraform.io"
    audience = ""
    rule { organization = "acme" }
  }
}`, `auth.jwt_issuer["tfc"]: an audience is required`},
		{`store { path = "x" }` + "\n" + `auth {
  jwt_issuer "tfc" {
    issuer = "http://app.terraform.io"
    audience = "ionroller"
    rule { organization = "acme" }
  }
}`, `auth.jwt_issuer["tfc"]: url "http://app.terraform.io" is not an https URL`},
		{`store { path = "x" }` + "\n" + `auth {
  jwt_issuer "tfc" {
    issuer = "https://app.terraform.io"
    audience = "ionroller"
  }
}`, `auth.jwt_issuer["tfc"]: at least one rule`},
		{`store { path = "x" }` + "\n" + `auth {
  jwt_issuer "tfc" {
    issuer = "https://app.terraform.io"
    audience = "ionroller"
    rule {
      organization = "acme"
      apply_role = "owner"
    }
  }
}`, `auth.jwt_issuer["tfc"]: rule 0: role "owner"`},
		{`store { path = "x" }` + "\n" + `auth {
  jwt_issuer "tfc" {
    issuer = "https://app.terraform.io"
    audience = "ionroller"
    jwks_file = "/nonexistent/jwks.json"
    rule { organization = "acme" }
  }
}`, `auth.jwt_issuer["tfc"].jwks_file:`},
		{`store { path = "x" }` + "\n" + `colour = "blue"`, `shifter.hcl:2,1-7: Unsupported argument`},
		{`store {`, "shifter.hcl:1"},
	} {
		_, err := ParseConfig([]byte(tc.src), "shifter.hcl")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseConfig(%q) = %v, want an error containing %q", tc.src, err, tc.want)
		}
	}
}

func TestParseConfigReadsTeamBounds(t *testing.T) {
	cfg, err := ParseConfig([]byte(teamsSeed+"allow_private_webhooks = true\n"), "shifter.hcl")
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Teams["payments"]
	if len(cfg.Teams) != 1 || b.MinPriority != 100 || b.MaxPriority != 199 || b.Hosts[0] != "*.payments.example.com" ||
		b.PathPrefixes[0] != "/pay" || b.Accounts[0] != "222222222222" || b.RoleARNs[0] != "arn:aws:iam::222222222222:role/ionroller-*" ||
		b.Repositories[0] == "" || b.WebhookHosts[0] != "hooks.slack.com" || len(b.Listeners) != 1 || !cfg.AllowPrivateWebhooks {
		t.Errorf("teams = %+v, allow_private_webhooks %v", cfg.Teams, cfg.AllowPrivateWebhooks)
	}
	for _, tc := range []struct{ block, want string }{
		{"team \"Pay Ments\" {}", `team["Pay Ments"]: a team name is`},
		{"team \"a\" {}\nteam \"a\" {}", `team["a"]: team block written twice`},
		{"team \"a\" {\n  priorities = [200, 100]\n}", `team["a"].priorities:`},
		{"team \"a\" {\n  priorities = [100]\n}", `team["a"].priorities:`},
		{"team \"a\" {\n  priorities = [1, 50001]\n}", `team["a"].priorities:`},
		{"team \"a\" {\n  accounts = [\"1234\"]\n}", `team["a"].accounts: "1234" is not a 12-digit AWS account ID`},
		{"team \"a\" {\n  path_prefixes = [\"api\"]\n}", `team["a"].path_prefixes: "api" must begin with /`},
		{"team \"a\" {\n  hosts = [\"\"]\n}", `team["a"].hosts[0]: an empty pattern`},
		{"team \"a\" {\n  webhook_hosts = [\"x\", \"\"]\n}", `team["a"].webhook_hosts[1]: an empty pattern`},
	} {
		_, err := ParseConfig([]byte("store { path = \"x\" }\n"+tc.block), "shifter.hcl")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseConfig(%q) = %v, want an error containing %q", tc.block, err, tc.want)
		}
	}
}
