package awstest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// Certificate requests, as a test's own setup, an ACM certificate for a
// domain in the account cfg reaches and returns its ARN: what a TLS
// listener's certificate_arn names. moto's CreateListener refuses a
// certificate its ACM does not hold (CertificateNotFound), as AWS does.
func Certificate(tb testing.TB, cfg aws.Config, domain string) string {
	tb.Helper()
	out, err := acm.NewFromConfig(Exempt(cfg)).RequestCertificate(tb.Context(), &acm.RequestCertificateInput{DomainName: aws.String(domain)})
	if err != nil {
		tb.Fatalf("request certificate for %s: %v", domain, err)
	}
	return aws.ToString(out.CertificateArn)
}

// AddCertificates adds two ACM certificates for the example.test zone to n,
// as CertificateARNs: a TLS listener's, and the one it is rotated to.
func AddCertificates(tb testing.TB, cfg aws.Config, n *Net) {
	tb.Helper()
	n.CertificateARNs = []string{Certificate(tb, cfg, "*.example.test"), Certificate(tb, cfg, "*.example.test")}
}

// ServerCertificate uploads, as a test's own setup, an IAM server
// certificate called name under /test/ and returns its ARN. moto takes any
// PEM-shaped body; the certificate is never served.
func ServerCertificate(tb testing.TB, cfg aws.Config, name string) string {
	tb.Helper()
	out, err := iam.NewFromConfig(Exempt(cfg)).UploadServerCertificate(tb.Context(), &iam.UploadServerCertificateInput{
		ServerCertificateName: aws.String(name), Path: aws.String("/test/"),
		CertificateBody: aws.String("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"),
		PrivateKey:      aws.String("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----"),
	})
	if err != nil {
		tb.Fatalf("upload server certificate %s: %v", name, err)
	}
	return aws.ToString(out.ServerCertificateMetadata.Arn)
}
