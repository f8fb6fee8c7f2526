package daemon_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon"
	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon/daemontest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/internal/syncbuf"
)

// testCA issues certificates for 127.0.0.1.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ionroller test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue writes a certificate with serial for 127.0.0.1, valid from an hour
// ago for a month, and its key to dir.
func (ca *testCA) issue(t *testing.T, dir string, serial int64) (certFile, keyFile string) {
	t.Helper()
	return ca.issueValid(t, dir, serial, time.Now().Add(-time.Hour), time.Now().Add(30*24*time.Hour))
}

// issueValid is issue with the given validity.
func (ca *testCA) issueValid(t *testing.T, dir string, serial int64, notBefore, notAfter time.Time) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "shifter"},
		NotBefore: notBefore, NotAfter: notAfter,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	write(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	write(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	return certFile, keyFile
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// servedSerial connects to addr trusting ca and returns the serial number of
// the certificate served.
func servedSerial(t *testing.T, addr string, ca *testCA) int64 {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

func TestServeTLSAndReloadTheCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	certFile, keyFile := ca.issue(t, dir, 100)
	awsCfg := awstest.Config(t)
	s, _ := daemontest.Serve(t, fmt.Sprintf(`
listen = "127.0.0.1:0"
tls {
  cert_file = %q
  key_file  = %q
}
store { path = %q }
auth {
  anonymous { role = "read" }
}
`, certFile, keyFile, filepath.Join(dir, "s.db")), awsCfg)

	c, err := client.New(s.URL(), client.WithCABundle(ca.pem))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListEndpoints(t.Context(), ""); err != nil {
		t.Fatalf("list over TLS with the CA bundle: %v", err)
	}
	untrusting, _ := client.New(s.URL())
	if _, err := untrusting.ListEndpoints(t.Context(), ""); err == nil {
		t.Error("a client without the CA bundle trusted the shifter's certificate")
	}
	addr := s.URL()[len("https://"):]
	if got := servedSerial(t, addr, ca); got != 100 {
		t.Fatalf("served serial %d, want 100", got)
	}

	ca.issue(t, dir, 200)
	if err := s.ReloadTLS(); err != nil {
		t.Fatal(err)
	}
	if got := servedSerial(t, addr, ca); got != 200 {
		t.Errorf("after reload, served serial %d, want 200", got)
	}

	write(t, keyFile, []byte("not a key"))
	if err := s.ReloadTLS(); err == nil {
		t.Error("reloading a broken key succeeded")
	}
	if got := servedSerial(t, addr, ca); got != 200 {
		t.Errorf("after a failed reload, served serial %d, want the previous 200", got)
	}
}

// TestOpenRefusesACertificateItCannotServe: each bad certificate stops the
// start-up at once with its reason, before the store is opened.
func TestOpenRefusesACertificateItCannotServe(t *testing.T) {
	ca := newTestCA(t)
	now := time.Now()
	for _, tc := range []struct {
		name  string
		write func(dir string) (certFile, keyFile string)
		want  string
	}{
		{"expired", func(dir string) (string, string) {
			return ca.issueValid(t, dir, 1, now.Add(-48*time.Hour), now.Add(-time.Hour))
		}, "expired at"},
		{"not yet valid", func(dir string) (string, string) {
			return ca.issueValid(t, dir, 1, now.Add(time.Hour), now.Add(48*time.Hour))
		}, "not valid before"},
		{"key of another certificate", func(dir string) (string, string) {
			certFile, _ := ca.issue(t, dir, 1)
			other := t.TempDir()
			_, keyFile := ca.issue(t, other, 2)
			return certFile, keyFile
		}, "private key does not match"},
		{"not PEM", func(dir string) (string, string) {
			certFile, keyFile := ca.issue(t, dir, 1)
			write(t, certFile, []byte("not a certificate"))
			return certFile, keyFile
		}, "failed to find any PEM data"},
		{"missing file", func(dir string) (string, string) {
			return filepath.Join(dir, "none.crt"), filepath.Join(dir, "none.key")
		}, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			certFile, keyFile := tc.write(dir)
			storePath := filepath.Join(dir, "s.db")
			cfg, err := daemon.ParseConfig(fmt.Appendf(nil, "listen = \"127.0.0.1:0\"\ntls {\n  cert_file = %q\n  key_file = %q\n}\nstore { path = %q }\n", certFile, keyFile, storePath), "shifter.hcl")
			if err != nil {
				t.Fatal(err)
			}
			awsCfg := awstest.Config(t)
			s := &daemon.Server{Config: cfg, AWS: &awsCfg}
			err = s.Open(t.Context())
			if err == nil {
				s.Close()
				t.Fatal("Open served a certificate it must refuse")
			}
			if !strings.Contains(err.Error(), "tls: cert_file") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: %v; want the certificate file and %q", err, tc.want)
			}
			if _, err := os.Stat(storePath); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the store was opened before the certificate was checked (stat: %v)", err)
			}
		})
	}
}

func TestACertificateExpiringSoonIsAWarningAndAMetric(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	certFile, keyFile := ca.issueValid(t, dir, 1, time.Now().Add(-time.Hour), time.Now().Add(3*24*time.Hour))
	logs := &syncbuf.Buffer{}
	s, _ := daemontest.Serve(t, fmt.Sprintf("listen = \"127.0.0.1:0\"\ntls {\n  cert_file = %q\n  key_file = %q\n}\nstore { path = %q }\n",
		certFile, keyFile, filepath.Join(dir, "s.db")), awstest.Config(t), func(s *daemon.Server) {
		s.Logger = hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: logs})
	})
	if !strings.Contains(logs.String(), "[WARN]  TLS certificate expires soon") || !strings.Contains(logs.String(), certFile) {
		t.Errorf("no warning naming the certificate file in the log:\n%s", logs)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := hc.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := regexp.MustCompile(`(?m)^ionroller_tls_certificate_expiry_seconds (\S+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no ionroller_tls_certificate_expiry_seconds in /metrics")
	}
	left, _ := strconv.ParseFloat(string(m[1]), 64)
	if left <= (3*24*time.Hour-time.Minute).Seconds() || left > (3*24*time.Hour).Seconds() {
		t.Errorf("expiry in %.0fs, want about 3 days", left)
	}
}

func TestReloadKeepsTheCertificateWhenTheNewOneExpired(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	certFile, keyFile := ca.issue(t, dir, 100)
	s, _ := daemontest.Serve(t, fmt.Sprintf("listen = \"127.0.0.1:0\"\ntls {\n  cert_file = %q\n  key_file = %q\n}\nstore { path = %q }\n",
		certFile, keyFile, filepath.Join(dir, "s.db")), awstest.Config(t))
	ca.issueValid(t, dir, 200, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour))
	if err := s.ReloadTLS(); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("reloading an expired certificate: %v, want refused as expired", err)
	}
	if got := servedSerial(t, s.URL()[len("https://"):], ca); got != 100 {
		t.Errorf("served serial %d, want the previous 100", got)
	}
}
