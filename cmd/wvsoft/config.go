package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/wvsoft/privacy/graph"
	"github.com/wvsoft/privacy/internal/auth"
	"github.com/wvsoft/privacy/internal/httpserver"
	"github.com/wvsoft/privacy/internal/postgres"
)

// DefaultMetricsAddr is where the metrics are served unless METRICS_ADDR says otherwise: this
// machine only.
const DefaultMetricsAddr = "127.0.0.1:9464"

// config is the environment, read once.
type config struct {
	DatabaseURL         string
	AppDatabaseURL      string
	AppDatabasePassword string
	ListenAddr          string
	PolicyDir           string
	TokenKeyFile        string
	OIDCIssuer          string
	OIDCAudience        string
	OIDCJWKSURL         string
	// OIDCEmailClaim and OIDCEmailVerifiedClaim map an OIDC token to a user (README, Sign-in).
	OIDCEmailClaim         string
	OIDCEmailVerifiedClaim string
	OIDCCustomerClaim      string
	TokenMaxLifetime       time.Duration
	Production             bool
	Introspection          bool
	LogFormat              string
	LogLevel               slog.Level
	DecisionLog            string
	SMTPURL                string
	InquiryBurst           int
	InquiryInterval        time.Duration
	OutboxPoll             time.Duration
	Limits                 graph.Limits
	CORSOrigins            []string
	// AllowedHosts are the Host header names answered besides this machine's (ALLOWED_HOSTS).
	AllowedHosts      []string
	TrustedProxies    []netip.Prefix
	DataKey           string
	DataOldKeys       []string
	DataKeyFile       string
	LogSigningKey     string
	LogSigningKeyFile string
	LogVerifierKeys   []string
	// PolicyAuthors may ask for explanations of decisions in production (POLICY_AUTHORS).
	PolicyAuthors []string
	// TrustedDocuments is off, allowed or required; TrustedDocumentsDir holds the documents.
	TrustedDocuments    string
	TrustedDocumentsDir string
	// Token is a bearer token for `audit verify --api`.
	Token           string
	ShutdownTimeout time.Duration
	RequestTimeout  time.Duration
	// SubscriptionRecheck bounds how long a quiet WebSocket goes without its credential being
	// checked again (events end access at once; this catches what no event announces).
	SubscriptionRecheck time.Duration
	StatementTimeout    time.Duration
	// PprofAddr serves Go's profiles on a loopback address of its own (PPROF_ADDR); empty: off.
	PprofAddr string
	// MetricsAddr serves /metrics on a listener of its own (METRICS_ADDR; empty:
	// DefaultMetricsAddr, off: none); MetricsToken is the bearer token a scrape must send,
	// required for an address that is not loopback (METRICS_TOKEN).
	MetricsAddr, MetricsToken string
	// DevelopmentTokens lets a production server without OIDC accept the development tokens
	// that `wvsoft token` signs with TOKEN_KEY_FILE (ALLOW_DEVELOPMENT_TOKENS): whoever can
	// read that file is anyone, the director included, so production asks for it by name.
	DevelopmentTokens bool
}

func loadConfig(getenv func(string) string) (config, error) {
	get := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	c := config{
		DatabaseURL:            get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/wvsoft?sslmode=disable"),
		AppDatabaseURL:         getenv("APP_DATABASE_URL"),
		AppDatabasePassword:    getenv("APP_DATABASE_PASSWORD"),
		ListenAddr:             get("LISTEN_ADDR", "127.0.0.1:8080"),
		PolicyDir:              getenv("POLICY_DIR"),
		TokenKeyFile:           get("TOKEN_KEY_FILE", ".data/token-signing-key.pem"),
		OIDCIssuer:             getenv("OIDC_ISSUER"),
		OIDCAudience:           get("OIDC_AUDIENCE", auth.Audience),
		OIDCJWKSURL:            getenv("OIDC_JWKS_URL"),
		OIDCEmailClaim:         get("OIDC_EMAIL_CLAIM", auth.DefaultEmailClaim),
		OIDCEmailVerifiedClaim: get("OIDC_EMAIL_VERIFIED_CLAIM", auth.DefaultEmailVerifiedClaim),
		OIDCCustomerClaim:      get("OIDC_CUSTOMER_CLAIM", auth.DefaultCustomerClaim),
		DataKey:                getenv("DATA_ENCRYPTION_KEY"),
		DataKeyFile:            get("DATA_ENCRYPTION_KEY_FILE", ".data/data-encryption-key"),
		LogSigningKey:          strings.TrimSpace(getenv("ACCESS_LOG_SIGNING_KEY")),
		LogSigningKeyFile:      get("ACCESS_LOG_SIGNING_KEY_FILE", ".data/access-log-signing-key"),
		Token:                  getenv("WVSOFT_TOKEN"),
		PprofAddr:              getenv("PPROF_ADDR"),
		MetricsAddr:            getenv("METRICS_ADDR"),
		MetricsToken:           getenv("METRICS_TOKEN"),
	}
	// One rule for every setting: unset takes the default, a value that cannot be taken stops
	// the start and names the setting (a typo must not quietly become the default).
	var errs []error
	oneOf := func(name, def string, allowed ...string) string {
		v := get(name, def)
		for _, a := range allowed {
			if v == a {
				return v
			}
		}
		errs = append(errs, fmt.Errorf("%s must be %s, not %q", name, strings.Join(allowed, " or "), v))
		return def
	}
	c.Production = oneOf("WVSOFT_ENV", "development", "development", "production") == "production"
	c.SMTPURL = getenv("SMTP_URL")
	c.LogFormat = "text"
	if c.Production {
		c.LogFormat = "json"
	}
	c.LogFormat = oneOf("LOG_FORMAT", c.LogFormat, "json", "text")
	c.LogLevel = slog.LevelInfo
	if v := getenv("LOG_LEVEL"); v != "" {
		switch strings.ToLower(v) {
		case "debug", "info", "warn", "error":
			c.LogLevel.UnmarshalText([]byte(v)) // cannot fail for these four
		default:
			errs = append(errs, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, not %q", v))
		}
	}
	// Development keeps the decision log in a file, out of the console; production sends it
	// with the other lines to stderr, where the platform collects logs.
	c.DecisionLog = ".data/decision.log"
	if c.Production {
		c.DecisionLog = "stderr"
	}
	c.DecisionLog = get("DECISION_LOG", c.DecisionLog)
	c.TrustedDocuments = oneOf("GRAPHQL_TRUSTED_DOCUMENTS", "off", "off", "allowed", "required")
	c.TrustedDocumentsDir = getenv("GRAPHQL_TRUSTED_DOCUMENTS_DIR")
	switch {
	case c.TrustedDocuments != "off" && c.TrustedDocumentsDir == "":
		errs = append(errs, errors.New("GRAPHQL_TRUSTED_DOCUMENTS needs GRAPHQL_TRUSTED_DOCUMENTS_DIR, the directory of the trusted .graphql documents"))
	}
	for _, m := range strings.Split(getenv("POLICY_AUTHORS"), ",") {
		if m = strings.TrimSpace(m); m != "" {
			c.PolicyAuthors = append(c.PolicyAuthors, m)
		}
	}
	positive := func(name string, dest *int) {
		v := getenv(name)
		if v == "" {
			return // the default of graph.Limits
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("%s must be a positive whole number, not %q", name, v))
			return
		}
		*dest = n
	}
	positive("GRAPHQL_MAX_DEPTH", &c.Limits.MaxDepth)
	positive("GRAPHQL_MAX_COMPLEXITY", &c.Limits.MaxComplexity)
	positive("GRAPHQL_MAX_ALIASES", &c.Limits.MaxAliases)
	positive("GRAPHQL_MAX_QUERY_BYTES", &c.Limits.MaxQueryBytes)
	positive("GRAPHQL_MAX_TOKENS", &c.Limits.MaxTokens)
	positive("GRAPHQL_MAX_PAGE_SIZE", &c.Limits.MaxPageSize)
	var body int
	positive("GRAPHQL_MAX_BODY_BYTES", &body)
	c.Limits.MaxBodyBytes = int64(body)
	if c.MetricsAddr != "" && c.MetricsAddr != "off" {
		host, _, err := net.SplitHostPort(c.MetricsAddr)
		ip, perr := netip.ParseAddr(host)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("METRICS_ADDR must be host:port (127.0.0.1:9464) or off, not %q", c.MetricsAddr))
		case (perr != nil || !ip.IsLoopback()) && host != "localhost" && c.MetricsToken == "":
			errs = append(errs, fmt.Errorf("METRICS_ADDR %s is not a loopback address: set METRICS_TOKEN, the bearer token Prometheus sends", c.MetricsAddr))
		}
	}
	hosts, err := httpserver.ParseAllowedHosts(getenv("ALLOWED_HOSTS"))
	errs = append(errs, err)
	c.AllowedHosts = hosts
	origins, err := httpserver.ParseOrigins(getenv("CORS_ALLOWED_ORIGINS"))
	errs = append(errs, err)
	c.CORSOrigins = origins
	proxies, err := httpserver.ParseTrustedProxies(getenv("TRUSTED_PROXIES"))
	errs = append(errs, err)
	c.TrustedProxies = proxies
	duration := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be a duration such as 15s, not %q", name, v))
		}
		return d
	}
	boolean := func(name string, def bool) bool {
		switch v := strings.ToLower(getenv(name)); v {
		case "":
			return def
		case "true", "1", "on":
			return true
		case "false", "0", "off":
			return false
		}
		errs = append(errs, fmt.Errorf("%s must be true or false, not %q", name, getenv(name)))
		return def
	}
	c.InquiryBurst = 5
	positive("INQUIRY_BURST", &c.InquiryBurst)
	c.InquiryInterval = duration("INQUIRY_INTERVAL", 10*time.Minute)
	c.OutboxPoll = duration("OUTBOX_POLL_INTERVAL", 2*time.Second)
	c.Introspection = boolean("GRAPHQL_INTROSPECTION", !c.Production)
	c.ShutdownTimeout = duration("SHUTDOWN_TIMEOUT", 15*time.Second)
	c.TokenMaxLifetime = duration("TOKEN_MAX_LIFETIME", auth.DefaultMaxLifetime)
	c.RequestTimeout = duration("REQUEST_TIMEOUT", httpserver.DefaultRequestTimeout)
	c.SubscriptionRecheck = duration("SUBSCRIPTION_RECHECK_INTERVAL", graph.DefaultRecheck)
	c.StatementTimeout = duration("DATABASE_STATEMENT_TIMEOUT", postgres.DefaultStatementTimeout)
	c.DevelopmentTokens = boolean("ALLOW_DEVELOPMENT_TOKENS", false)
	for _, k := range strings.Split(getenv("DATA_ENCRYPTION_OLD_KEYS"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			c.DataOldKeys = append(c.DataOldKeys, k)
		}
	}
	for _, k := range strings.Split(getenv("ACCESS_LOG_VERIFIER_KEYS"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			c.LogVerifierKeys = append(c.LogVerifierKeys, k)
		}
	}
	return c, errors.Join(errs...)
}
