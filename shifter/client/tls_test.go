package client_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// serverCert issues a certificate for 127.0.0.1.
func (ca *testCA) serverCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "shifter"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestTLSWithOwnCA(t *testing.T) {
	ca := newTestCA(t, "ionroller test CA")
	sh := newShifter(t)
	srv := httptest.NewUnstartedServer(sh.server.Handler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.serverCert(t)}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	c := newClient(t, srv.URL, client.WithToken(adminToken), client.WithCABundle(ca.pem))
	if _, err := c.ListEndpoints(t.Context(), ""); err != nil {
		t.Fatalf("with the CA: %v", err)
	}

	// Neither the system's roots nor another CA vouch for the server.
	for name, opts := range map[string][]client.Option{
		"system roots": {client.WithToken(adminToken)},
		"another CA":   {client.WithToken(adminToken), client.WithCABundle(newTestCA(t, "other CA").pem)},
	} {
		_, err := newClient(t, srv.URL, opts...).ListEndpoints(t.Context(), "")
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s: error %v, want a certificate error", name, err)
		}
	}
}

func TestCABundleOptions(t *testing.T) {
	if _, err := client.New("https://shifter.example.com", client.WithCABundle([]byte("not PEM"))); err == nil {
		t.Error("a bundle without certificates was accepted")
	}
	custom := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, nil })}
	if _, err := client.New("https://shifter.example.com", client.WithHTTPClient(custom), client.WithCABundle(newTestCA(t, "ca").pem)); err == nil {
		t.Error("a CA bundle was accepted for a transport it cannot be set on")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
