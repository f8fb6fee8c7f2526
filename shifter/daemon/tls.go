package daemon

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// certWarnWithin is how close to its expiry a certificate is warned about,
// at start-up and on every reload.
const certWarnWithin = 14 * 24 * time.Hour

// ReloadTLS reads the certificate and key files again; connections made
// after it returns get the new certificate. On an error (including a
// certificate that is not valid now) the old one stays.
func (s *Server) ReloadTLS() error {
	if s.cert == nil {
		return errors.New("the API is not served over TLS")
	}
	return s.cert.load(time.Now())
}

// certificate is the served certificate, swapped whole on reload.
type certificate struct {
	certFile, keyFile string
	logger            hclog.Logger
	current           atomic.Pointer[tls.Certificate]
}

// load reads the pair and refuses a certificate that is not valid at now:
// serving one would only fail every client's handshake.
func (c *certificate) load(now time.Time) error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("tls: cert_file %s, key_file %s: %w", c.certFile, c.keyFile, err)
	}
	leaf := cert.Leaf // parsed by LoadX509KeyPair
	switch {
	case now.Before(leaf.NotBefore):
		return fmt.Errorf("tls: cert_file %s: the certificate is not valid before %s; check the clock or issue one valid now", c.certFile, leaf.NotBefore.UTC().Format(time.RFC3339))
	case now.After(leaf.NotAfter):
		return fmt.Errorf("tls: cert_file %s: the certificate expired at %s; renew it", c.certFile, leaf.NotAfter.UTC().Format(time.RFC3339))
	case leaf.NotAfter.Sub(now) < certWarnWithin:
		c.logger.Warn("TLS certificate expires soon; renew it and send SIGHUP", "cert_file", c.certFile,
			"not_after", leaf.NotAfter.UTC(), "in", leaf.NotAfter.Sub(now).Round(time.Minute))
	}
	c.current.Store(&cert)
	return nil
}

func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.current.Load(), nil
}

// notAfter is when the served certificate expires.
func (c *certificate) notAfter() time.Time {
	return c.current.Load().Leaf.NotAfter
}
