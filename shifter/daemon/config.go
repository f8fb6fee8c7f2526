package daemon

import (
	"fmt"
	"maps"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// File is the shifter's configuration file, written in HCL like the
// configuration of Nomad and Vault agents:
//
//	listen          = "127.0.0.1:7070"
//	shifter_id      = "prod-eu"
//	resync_interval = "30s"
//	store { path = "/var/lib/ionroller/shifter.db" }
//	aws   { region = "eu-west-1" }
//	log   { level = "info"  format = "json" }
//	images { pin = true }
//	auth {
//	  token "ci" {
//	    team   = "payments"
//	    role   = "deploy"
//	    sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
//	  }
//	  jwt_issuer "tfc" {
//	    issuer   = "https://app.terraform.io"
//	    audience = "ionroller"
//	    rule {
//	      organization = "acme"
//	      workspace    = "payments-*"
//	      team         = "payments"
//	    }
//	  }
//	}
//
// Several replicas share a DynamoDB table instead of a file, and each names
// itself (the host name by default):
//
//	replica_id = "shifter-a"
//	store {
//	  dynamodb {
//	    table     = "ionroller"
//	    create    = true
//	    lease_ttl = "15s"
//	  }
//	}
//
// The comments of File and its blocks are the configuration guide's
// (tools/refdocs writes it from them).
type File struct {
	// Listen is the host:port the API, the web UI and /metrics are served
	// on (`serve -listen` overrides it). An address other machines can
	// reach needs a tls block, or allow_insecure_listen.
	Listen string `hcl:"listen,optional"`
	// ShifterID names this shifter in the ionroller:shifter tag of every
	// AWS resource it creates, so that shifters sharing an account leave
	// each other's resources alone: 1 to 20 lowercase letters, digits and
	// hyphens. Replicas of one shifter share it.
	ShifterID string `hcl:"shifter_id,optional"`
	// ReplicaID names this replica among those sharing a DynamoDB store
	// (the host name by default); each process adds a random suffix, so a
	// restarted replica holds none of its predecessor's leases.
	ReplicaID string `hcl:"replica_id,optional"`
	// ResyncInterval is how often an endpoint at rest is compared with
	// AWS (drift is found within two), between 100ms and 1h.
	ResyncInterval string `hcl:"resync_interval,optional"`
	// PollInterval is how soon an endpoint that waits on AWS (an
	// environment coming up, weights to read back) is looked at again, and
	// how old CloudWatch alarm states may be: alarms are read at most once
	// per poll per account and region. Between 10ms and 1h.
	PollInterval string `hcl:"poll_interval,optional"`
	// AllowInsecureListen lets the API listen beyond loopback without TLS,
	// behind a proxy that terminates TLS.
	AllowInsecureListen bool `hcl:"allow_insecure_listen,optional"`
	// TLS serves the API over HTTPS.
	TLS *TLSBlock `hcl:"tls,block"`
	// Store is where the shifter keeps what must survive it: a file
	// (path) or a table (dynamodb), one of the two. Required.
	Store *StoreBlock `hcl:"store,block"`
	// AWS sets the region and, for moto, the base URL of the AWS APIs.
	AWS *AWSBlock `hcl:"aws,block"`
	// Log sets the log's level and format.
	Log *LogBlock `hcl:"log,block"`
	// Images says how environments run their images: pinned to a digest
	// (the default) or as tagged.
	Images *ImagesBlock `hcl:"images,block"`
	// History bounds how many revisions of each endpoint's spec are kept.
	History *HistoryBlock `hcl:"history,block"`
	// Auth lists the API's tokens and the JWT issuers it trusts.
	Auth *AuthBlock `hcl:"auth,block"`
	// AllowPrivateWebhooks lets every team's webhooks reach loopback,
	// link-local and private addresses.
	AllowPrivateWebhooks bool `hcl:"allow_private_webhooks,optional"`
	// Teams are blocks, one per team, that bound what the team's
	// endpoints may use.
	Teams []TeamBlock `hcl:"team,block"`
}

// TeamBlock bounds what the endpoints of one team may use; a list left out
// leaves its dimension unbounded, and a team without a block is unbounded:
//
//	team "payments" {
//	  listeners     = ["arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/shared/*"]
//	  hosts         = ["*.payments.example.com"]
//	  path_prefixes = ["/"]
//	  priorities    = [100, 199]
//	  accounts      = ["222222222222"]
//	  role_arns     = ["arn:aws:iam::222222222222:role/ionroller-*"]
//	  repositories  = ["222222222222.dkr.ecr.eu-west-1.amazonaws.com/payments/*"]
//	  webhook_hosts = ["hooks.slack.com"]
//	}
type TeamBlock struct {
	// Name is the team's, as tokens and endpoints name it.
	Name string `hcl:"name,label"`
	// Listeners are patterns (`*` matches anything) of the listener ARNs
	// the team's endpoints may route. For `traffic.nlb`, the listeners the
	// shifter would create on the load balancer must match:
	// `arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/net/NAME/ID/*`
	// lets the team use any port of that Network Load Balancer.
	Listeners []string `hcl:"listeners,optional"`
	// Hosts are patterns every host condition must match; with them, an
	// endpoint must name its hosts.
	Hosts []string `hcl:"hosts,optional"`
	// PathPrefixes are the prefixes every path condition must begin with;
	// with them, an endpoint must name its paths.
	PathPrefixes []string `hcl:"path_prefixes,optional"`
	// Priorities is [FIRST, LAST], the rule priorities the team may use.
	Priorities []int `hcl:"priorities,optional"`
	// Accounts are the 12-digit AWS accounts whose roles the team may
	// assume; with them or role_arns, an endpoint must assume a role.
	Accounts []string `hcl:"accounts,optional"`
	// RoleARNs are patterns of the roles the team may assume.
	RoleARNs []string `hcl:"role_arns,optional"`
	// Repositories are patterns of the image repositories its releases
	// may run.
	Repositories []string `hcl:"repositories,optional"`
	// WebhookHosts are patterns of the hosts its webhooks may reach.
	WebhookHosts []string `hcl:"webhook_hosts,optional"`
	// AllowPrivateWebhooks lets this team's webhooks reach loopback,
	// link-local and private addresses.
	AllowPrivateWebhooks bool `hcl:"allow_private_webhooks,optional"`
}

// TLSBlock names the certificate and key the API is served with; both
// files are read again on SIGHUP.
type TLSBlock struct {
	// CertFile is the PEM certificate chain.
	CertFile string `hcl:"cert_file"`
	// KeyFile is the PEM private key.
	KeyFile string `hcl:"key_file"`
}

// StoreBlock says where the shifter keeps what must survive it: a bbolt
// file (path) for a lone shifter, or a DynamoDB table (dynamodb) that
// several replicas share.
type StoreBlock struct {
	// Path is the bbolt file of a lone shifter, created if missing.
	Path string `hcl:"path,optional"`
	// DynamoDB is the table several replicas share.
	DynamoDB *DynamoDBBlock `hcl:"dynamodb,block"`
}

// DynamoDBBlock is the table of the DynamoDB store, in the aws block's
// region and endpoint. With create, serve creates it if it does not exist.
// lease_ttl is how long a replica's endpoints wait before another replica
// takes them when it dies.
type DynamoDBBlock struct {
	// Table is the table's name.
	Table string `hcl:"table"`
	// Create creates the table at start when it does not exist.
	Create bool `hcl:"create,optional"`
	// LeaseTTL is how long the endpoints of a replica that died wait
	// before another takes them, between 1s and 5m.
	LeaseTTL string `hcl:"lease_ttl,optional"`
}

// AWSBlock sets the default region and, for moto in tests and the local
// demo, a base URL for every AWS service.
type AWSBlock struct {
	// Region is the default region: of the DynamoDB table, and of
	// endpoints whose placement names none. Without it the AWS SDK's own
	// settings apply (AWS_REGION, the shared config file).
	Region string `hcl:"region,optional"`
	// Endpoint is a base URL for every AWS API: moto's server in tests
	// and the local demo. Empty means AWS.
	Endpoint string `hcl:"endpoint,optional"`
}

// ImagesBlock says how environments run their images. pin (the default)
// resolves each environment's image to a digest once, before the
// environment is created, and runs it by that digest; pin = false runs
// images as tagged, for a shifter whose images no registry it reaches serves
// (the local demo).
type ImagesBlock struct {
	// Pin resolves each environment's image to a digest before the
	// environment is created and runs it by that digest; false runs images
	// as tagged.
	Pin *bool `hcl:"pin,optional"`
}

// HistoryBlock bounds each endpoint's configuration history: the revisions
// of its spec that the API, `shifter history` and the web UI show. A revision
// goes once it is beyond keep or older than max_age, whichever comes first;
// the current revision, and the revision of every environment the shifter
// still has (serving, hot, coming up or going), are kept whatever their
// number or age.
type HistoryBlock struct {
	// Keep is how many of the newest revisions are kept; 0 keeps any
	// number.
	Keep *int `hcl:"keep,optional"`
	// MaxAge is how long a revision is kept after it was written, such as
	// "2160h"; "0s" keeps it whatever its age.
	MaxAge string `hcl:"max_age,optional"`
}

// LogBlock sets the log level and format.
type LogBlock struct {
	// Level is one of trace, debug, info, warn or error.
	Level string `hcl:"level,optional"`
	// Format is text (for people) or json (for log pipelines).
	Format string `hcl:"format,optional"`
}

// AuthBlock lists who may use the API.
type AuthBlock struct {
	// Anonymous lets requests without a token in with a role; only for
	// the local demo.
	Anonymous *AnonymousBlock `hcl:"anonymous,block"`
	// Tokens are the bearer tokens, one block each, known by their SHA-256
	// only.
	Tokens []TokenBlock `hcl:"token,block"`
	// JWTIssuers trust the JWTs of OpenID Connect issuers, one block each:
	// HCP Terraform's workload identity tokens, so that its runs need no
	// stored token (see the HCP Terraform workload identity guide).
	JWTIssuers []JWTIssuerBlock `hcl:"jwt_issuer,block"`
	// OverrideRole is the least role that may pin production's traffic
	// with a break-glass override and lift one (`shifter override`):
	// admin unless set to deploy.
	OverrideRole string `hcl:"override_role,optional"`
}

// JWTIssuerBlock trusts the tokens of one issuer signed with RS256 or ES256.
// Its label prefixes the actor of every event its runs cause:
// `LABEL:ORGANIZATION/WORKSPACE RUN_ID`.
type JWTIssuerBlock struct {
	// Name is the block's label: lowercase letters, digits and hyphens.
	Name string `hcl:"name,label"`
	// Issuer is the issuer's https URL exactly as its tokens' iss claim
	// says it (`https://app.terraform.io` for HCP Terraform). Its keys are
	// read from the jwks_uri of its /.well-known/openid-configuration,
	// again when a token names a key not seen yet (at most once a minute)
	// and once they are an hour old.
	Issuer string `hcl:"issuer"`
	// Audience is what a token's aud claim must include: the
	// workspace's TFC_WORKLOAD_IDENTITY_AUDIENCE.
	Audience string `hcl:"audience"`
	// JWKSFile is a JSON Web Key Set file read for the issuer's keys
	// instead of asking the issuer, for a shifter that cannot reach it.
	// It is read again on the same terms.
	JWKSFile string `hcl:"jwks_file,optional"`
	// Rules map a run's claims to a team and role; the first that matches
	// applies, and a token none matches is refused.
	Rules []JWTRuleBlock `hcl:"rule,block"`
}

// JWTRuleBlock maps the runs of matching workspaces to a principal. A plan
// reads; an apply gets apply_role.
type JWTRuleBlock struct {
	// Organization is the terraform_organization_name the run's must equal.
	Organization string `hcl:"organization"`
	// Project is a pattern (`*` matches anything) of the
	// terraform_project_name; without it any project matches.
	Project string `hcl:"project,optional"`
	// Workspace is a pattern of the terraform_workspace_name; without it
	// any workspace matches.
	Workspace string `hcl:"workspace,optional"`
	// Team limits the runs to the endpoints of one team; without it they
	// are global.
	Team string `hcl:"team,optional"`
	// Endpoints are name patterns that limit the runs further.
	Endpoints []string `hcl:"endpoints,optional"`
	// ApplyRole is the role of an apply: deploy (the default: declare
	// releases) or admin (also create, change and delete endpoints). A
	// plan is always read.
	ApplyRole string `hcl:"apply_role,optional"`
}

// AnonymousBlock is the principal of requests without a token.
type AnonymousBlock struct {
	// Role is one of read, deploy or admin.
	Role string `hcl:"role"`
	// Team limits anonymous requests to the endpoints of one team.
	Team string `hcl:"team,optional"`
}

// TokenBlock is one API token, known only by its SHA-256 so the file holds no
// secret.
type TokenBlock struct {
	// Name is the actor of every event and command the token causes.
	Name string `hcl:"name,label"`
	// Team limits the token to the endpoints of one team; without it the
	// token is global.
	Team string `hcl:"team,optional"`
	// Role is one of read (look), deploy (also declare releases and steer
	// rollouts) or admin (also create, change and delete endpoints).
	Role string `hcl:"role"`
	// Endpoints are name patterns (`*` matches anything) that limit the
	// token further.
	Endpoints []string `hcl:"endpoints,optional"`
	// SHA256 is the hex SHA-256 of the token (`printf %s TOKEN | sha256sum`).
	SHA256 string `hcl:"sha256"`
}

// Config is a checked configuration with every default applied. The store is
// the bolt file StorePath, or the shared table DynamoDB; ReplicaID names
// the replica among those sharing it ("": the host name).
type Config struct {
	Listen         string
	ShifterID      string
	ReplicaID      string
	ResyncInterval time.Duration
	PollInterval   time.Duration
	TLSCertFile    string
	TLSKeyFile     string
	// AllowInsecureListen lets Listen be reachable from other machines
	// without TLS (behind a TLS-terminating proxy).
	AllowInsecureListen bool
	StorePath           string
	// InitialiseStore lets the shifter replace a store file that is empty,
	// foreign or damaged by an empty store (`serve -initialise-store`);
	// never from the file, which would make it permanent.
	InitialiseStore bool
	DynamoDB        *DynamoDBStore
	AWSRegion       string
	AWSEndpoint     string
	// PinImages runs every environment's image by the digest its tag
	// named when the environment was created.
	PinImages bool
	// History bounds each endpoint's configuration history.
	History  rollout.Retention
	LogLevel hclog.Level
	LogJSON  bool
	Auth     AuthBlock
	// Teams are the bounds of each team with a team block.
	Teams                map[string]api.Bounds
	AllowPrivateWebhooks bool
}

// DynamoDBStore is a checked store { dynamodb { ... } } block.
type DynamoDBStore struct {
	Table       string
	CreateTable bool
	LeaseTTL    time.Duration
}

var (
	replicaIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	tablePattern     = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	sha256Pattern    = regexp.MustCompile(`^[0-9a-f]{64}$`)
	roles            = []string{"read", "deploy", "admin"}
)

// ParseConfig parses and checks a configuration file's contents. Errors name
// the file, line and setting.
func ParseConfig(src []byte, filename string) (Config, error) {
	f, diags := hclparse.NewParser().ParseHCL(src, filename)
	if diags.HasErrors() {
		return Config{}, diagError(diags)
	}
	var file File
	if diags := gohcl.DecodeBody(f.Body, nil, &file); diags.HasErrors() {
		return Config{}, diagError(diags)
	}
	cfg, err := file.resolve()
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", filename, err)
	}
	return cfg, nil
}

// defaults are the settings a configuration file may leave out, by their
// path in it. The configuration guide shows them (Defaults).
var defaults = map[string]string{
	"listen":                   "127.0.0.1:7070",
	"shifter_id":               "default",
	"resync_interval":          "30s",
	"poll_interval":            "5s",
	"store.dynamodb.lease_ttl": "15s",
	"log.level":                "info",
	"log.format":               "text",
	"images.pin":               "true",
	"history.keep":             "100",
	"history.max_age":          "0s",
}

// Defaults returns the settings a configuration file may leave out, by
// their path in it ("store.dynamodb.lease_ttl").
func Defaults() map[string]string { return maps.Clone(defaults) }

func (f File) resolve() (Config, error) {
	cfg := Config{
		Listen:    or(f.Listen, defaults["listen"]),
		ShifterID: or(f.ShifterID, defaults["shifter_id"]),
		LogLevel:  hclog.LevelFromString(defaults["log.level"]),
		PinImages: defaults["images.pin"] == "true",
	}
	if f.TLS != nil {
		if f.TLS.CertFile == "" || f.TLS.KeyFile == "" {
			return cfg, fmt.Errorf("tls: cert_file and key_file are both required")
		}
		cfg.TLSCertFile, cfg.TLSKeyFile = f.TLS.CertFile, f.TLS.KeyFile
	}
	cfg.AllowInsecureListen = f.AllowInsecureListen
	if err := cfg.CheckListen(); err != nil {
		return cfg, err
	}
	if !rollout.ShifterIDPattern.MatchString(cfg.ShifterID) {
		return cfg, fmt.Errorf("shifter_id: %q must be 1 to 20 lowercase letters, digits and hyphens", cfg.ShifterID)
	}
	for _, d := range []struct {
		name  string
		value string
		into  *time.Duration
		min   time.Duration
	}{
		{"resync_interval", or(f.ResyncInterval, defaults["resync_interval"]), &cfg.ResyncInterval, 100 * time.Millisecond},
		{"poll_interval", or(f.PollInterval, defaults["poll_interval"]), &cfg.PollInterval, 10 * time.Millisecond},
	} {
		v, err := time.ParseDuration(d.value)
		if err != nil || v < d.min || v > time.Hour {
			return cfg, fmt.Errorf("%s: %q must be a duration between %s and 1h, such as \"30s\"", d.name, d.value, d.min)
		}
		*d.into = v
	}
	if err := cfg.resolveStore(f); err != nil {
		return cfg, err
	}
	if f.AWS != nil {
		cfg.AWSRegion, cfg.AWSEndpoint = f.AWS.Region, f.AWS.Endpoint
	}
	if f.Images != nil && f.Images.Pin != nil {
		cfg.PinImages = *f.Images.Pin
	}
	if err := cfg.resolveHistory(f.History); err != nil {
		return cfg, err
	}
	if f.Log != nil {
		if f.Log.Level != "" {
			if cfg.LogLevel = hclog.LevelFromString(f.Log.Level); cfg.LogLevel == hclog.NoLevel {
				return cfg, fmt.Errorf("log.level: %q must be trace, debug, info, warn or error", f.Log.Level)
			}
		}
		switch or(f.Log.Format, defaults["log.format"]) {
		case "text":
		case "json":
			cfg.LogJSON = true
		default:
			return cfg, fmt.Errorf("log.format: %q must be text or json", f.Log.Format)
		}
	}
	if f.Auth != nil {
		cfg.Auth = *f.Auth
	}
	cfg.AllowPrivateWebhooks = f.AllowPrivateWebhooks
	teams, err := resolveTeams(f.Teams)
	if err != nil {
		return cfg, err
	}
	cfg.Teams = teams
	return cfg, cfg.checkAuth()
}

// resolveHistory reads the history block over its defaults.
func (c *Config) resolveHistory(b *HistoryBlock) error {
	keep, maxAge := defaults["history.keep"], defaults["history.max_age"]
	if b != nil {
		if b.Keep != nil {
			keep = strconv.Itoa(*b.Keep)
		}
		maxAge = or(b.MaxAge, maxAge)
	}
	n, err := strconv.Atoi(keep)
	if err != nil || n < 0 {
		return fmt.Errorf("history.keep: %s must be a number of revisions, 0 or more (0: any number)", keep)
	}
	age, err := time.ParseDuration(maxAge)
	if err != nil || age < 0 {
		return fmt.Errorf("history.max_age: %q must be a duration such as \"2160h\", or \"0s\" for any age", maxAge)
	}
	c.History = rollout.Retention{Keep: n, MaxAge: age}
	return nil
}

var accountPattern = regexp.MustCompile(`^[0-9]{12}$`)

// resolveTeams checks the team blocks and returns their bounds by team.
func resolveTeams(blocks []TeamBlock) (map[string]api.Bounds, error) {
	teams := make(map[string]api.Bounds, len(blocks))
	for _, t := range blocks {
		field := fmt.Sprintf("team[%q]", t.Name)
		if !rollout.TeamPattern.MatchString(t.Name) {
			return nil, fmt.Errorf("%s: a team name is %s", field, rollout.TeamRule)
		}
		if _, dup := teams[t.Name]; dup {
			return nil, fmt.Errorf("%s: team block written twice", field)
		}
		b := api.Bounds{
			Listeners: t.Listeners, Hosts: t.Hosts, PathPrefixes: t.PathPrefixes, Accounts: t.Accounts, RoleARNs: t.RoleARNs,
			Repositories: t.Repositories, WebhookHosts: t.WebhookHosts, AllowPrivateWebhooks: t.AllowPrivateWebhooks,
		}
		if len(t.Priorities) > 0 {
			if len(t.Priorities) != 2 || t.Priorities[0] < 1 || t.Priorities[0] > t.Priorities[1] || t.Priorities[1] > rollout.MaxPriority {
				return nil, fmt.Errorf("%s.priorities: %v must be [FIRST, LAST] with 1 <= FIRST <= LAST <= %d", field, t.Priorities, rollout.MaxPriority)
			}
			b.MinPriority, b.MaxPriority = t.Priorities[0], t.Priorities[1]
		}
		for _, a := range t.Accounts {
			if !accountPattern.MatchString(a) {
				return nil, fmt.Errorf("%s.accounts: %q is not a 12-digit AWS account ID", field, a)
			}
		}
		for _, p := range t.PathPrefixes {
			if !strings.HasPrefix(p, "/") {
				return nil, fmt.Errorf("%s.path_prefixes: %q must begin with /", field, p)
			}
		}
		for name, patterns := range map[string][]string{"listeners": t.Listeners, "hosts": t.Hosts, "role_arns": t.RoleARNs, "repositories": t.Repositories, "webhook_hosts": t.WebhookHosts} {
			if i := slices.Index(patterns, ""); i >= 0 {
				return nil, fmt.Errorf("%s.%s[%d]: an empty pattern matches nothing; leave the list out to leave it unbounded", field, name, i)
			}
		}
		teams[t.Name] = b
	}
	return teams, nil
}

// CheckListen is the one rule every listen address follows, whether it
// comes from the file or from `serve -listen`: an address reachable from
// other machines is served over TLS, unless allow_insecure_listen says a
// proxy in front does it.
func (c Config) CheckListen() error {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("listen: %q is not a host:port address", c.Listen)
	}
	if c.TLSCertFile == "" && !c.AllowInsecureListen && !isLoopback(host) {
		return fmt.Errorf("listen: %q is reachable from other machines, so the API needs TLS: add a tls { cert_file, key_file } block (or set allow_insecure_listen = true behind a TLS-terminating proxy)", c.Listen)
	}
	return nil
}

// storeKind is "bolt" or "dynamodb".
func (c Config) storeKind() string {
	if c.DynamoDB != nil {
		return "dynamodb"
	}
	return "bolt"
}

// storeLocation is the store's file or table, for the log.
func (c Config) storeLocation() string {
	if c.DynamoDB != nil {
		return c.DynamoDB.Table
	}
	return c.StorePath
}

// leaseTTL is the lease TTL of a shared store (0 for bolt, which has none).
func (c Config) leaseTTL() time.Duration {
	if c.DynamoDB != nil {
		return c.DynamoDB.LeaseTTL
	}
	return 0
}

// resolveStore checks the store block and the replica's name.
func (c *Config) resolveStore(f File) error {
	switch {
	case f.Store == nil || (f.Store.Path == "") == (f.Store.DynamoDB == nil):
		return fmt.Errorf("store: a store block with either path = \"...\" (a file) or dynamodb { table = \"...\" } (shared by replicas) is required")
	case f.Store.Path != "":
		c.StorePath = f.Store.Path
	default:
		d := f.Store.DynamoDB
		if !tablePattern.MatchString(d.Table) {
			return fmt.Errorf("store.dynamodb.table: %q is not a DynamoDB table name (3 to 255 letters, digits, _ . -)", d.Table)
		}
		ttl, err := time.ParseDuration(or(d.LeaseTTL, defaults["store.dynamodb.lease_ttl"]))
		if err != nil || ttl < time.Second || ttl > 5*time.Minute {
			return fmt.Errorf("store.dynamodb.lease_ttl: %q must be a duration between 1s and 5m, such as \"15s\"", d.LeaseTTL)
		}
		c.DynamoDB = &DynamoDBStore{Table: d.Table, CreateTable: d.Create, LeaseTTL: ttl}
	}
	if f.ReplicaID != "" && !replicaIDPattern.MatchString(f.ReplicaID) {
		return fmt.Errorf("replica_id: %q must be 1 to 63 letters, digits, dots, hyphens and underscores", f.ReplicaID)
	}
	c.ReplicaID = f.ReplicaID
	return nil
}

func (c Config) checkAuth() error {
	a := c.Auth
	if a.Anonymous != nil && !slices.Contains(roles, a.Anonymous.Role) {
		return fmt.Errorf("auth.anonymous.role: %q must be one of %s", a.Anonymous.Role, strings.Join(roles, ", "))
	}
	if a.OverrideRole != "" && a.OverrideRole != string(wire.RoleDeploy) && a.OverrideRole != string(wire.RoleAdmin) {
		return fmt.Errorf("auth.override_role: %q must be deploy or admin", a.OverrideRole)
	}
	seen := map[string]bool{}
	byHash := map[string]string{} // sha256 → the token block that has it
	for _, t := range a.Tokens {
		field := fmt.Sprintf("auth.token[%q]", t.Name)
		switch {
		case seen[t.Name]:
			return fmt.Errorf("%s: token name used twice", field)
		case !slices.Contains(roles, t.Role):
			return fmt.Errorf("%s.role: %q must be one of %s", field, t.Role, strings.Join(roles, ", "))
		case !sha256Pattern.MatchString(t.SHA256):
			return fmt.Errorf("%s.sha256: must be the 64 lowercase hex digits of the token's SHA-256, not the token", field)
		case byHash[t.SHA256] != "":
			// One token would act as both, with whichever role came last.
			return fmt.Errorf("%s.sha256: is the same token as auth.token[%q]; give each block its own token", field, byHash[t.SHA256])
		}
		seen[t.Name] = true
		byHash[t.SHA256] = t.Name
	}
	issuers := map[string]bool{}
	for _, b := range a.JWTIssuers {
		field := fmt.Sprintf("auth.jwt_issuer[%q]", b.Name)
		if issuers[b.Name] {
			return fmt.Errorf("%s: issuer name used twice", field)
		}
		issuers[b.Name] = true
		if err := b.issuer().Validate(); err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
		if b.JWKSFile != "" {
			if _, err := os.Stat(b.JWKSFile); err != nil {
				return fmt.Errorf("%s.jwks_file: %w", field, err)
			}
		}
	}
	return nil
}

// issuer is the api.Issuer of the block.
func (b JWTIssuerBlock) issuer() api.Issuer {
	is := api.Issuer{Name: b.Name, URL: b.Issuer, Audience: b.Audience, JWKSFile: b.JWKSFile}
	for _, r := range b.Rules {
		is.Rules = append(is.Rules, api.IssuerRule{Organization: r.Organization, Project: r.Project, Workspace: r.Workspace,
			Team: r.Team, Endpoints: r.Endpoints, ApplyRole: wire.Role(r.ApplyRole)})
	}
	return is
}

// isLoopback reports whether host only accepts connections from this
// machine; an empty host listens on every interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func diagError(diags hcl.Diagnostics) error {
	var msgs []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			msgs = append(msgs, d.Error())
		}
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}

func or(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}
