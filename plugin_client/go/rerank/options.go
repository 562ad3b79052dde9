package rerank

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// DefaultTimeout is the deadline of a call whose context has none, unless
// WithTimeout sets another.
const DefaultTimeout = 30 * time.Second

// Option configures a Client.
type Option func(*settings) error

type settings struct {
	timeout     time.Duration
	tls         *tls.Config
	metadata    []string // key, value, key, value...
	dialOptions []grpc.DialOption
}

// WithTimeout sets the deadline of calls whose context has none.
func WithTimeout(timeout time.Duration) Option {
	return func(s *settings) error {
		if timeout <= 0 {
			return fmt.Errorf("rerank: timeout must be positive, got %s", timeout)
		}
		s.timeout = timeout
		return nil
	}
}

// WithTLS uses TLS with config; a nil config trusts the system's roots.
func WithTLS(config *tls.Config) Option {
	return func(s *settings) error {
		if config == nil {
			config = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		s.tls = config
		return nil
	}
}

// WithTLSFiles uses TLS trusting the PEM certificate authorities in caFile
// (empty: the system's roots) and, when certFile and keyFile are set,
// presenting that certificate for mutual TLS.
func WithTLSFiles(caFile, certFile, keyFile string) Option {
	return func(s *settings) error {
		config := &tls.Config{MinVersion: tls.VersionTLS12}
		if caFile != "" {
			pem, err := os.ReadFile(caFile)
			if err != nil {
				return fmt.Errorf("rerank: cannot read the CA certificates: %w", err)
			}
			config.RootCAs = x509.NewCertPool()
			if !config.RootCAs.AppendCertsFromPEM(pem) {
				return fmt.Errorf("rerank: no PEM certificate in %s", caFile)
			}
		}
		if certFile != "" || keyFile != "" {
			certificate, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				return fmt.Errorf("rerank: cannot load the client certificate: %w", err)
			}
			config.Certificates = []tls.Certificate{certificate}
		}
		s.tls = config
		return nil
	}
}

// WithAPIKey sends "authorization: Bearer <key>" with every call.
func WithAPIKey(key string) Option {
	return WithMetadata("authorization", "Bearer "+key)
}

// WithMetadata sends a metadata entry with every call.
func WithMetadata(key, value string) Option {
	return func(s *settings) error {
		s.metadata = append(s.metadata, key, value)
		return nil
	}
}

// WithDialOptions passes options to grpc.NewClient, after the client's own
// (for example a custom dialer, or interceptors for tracing).
func WithDialOptions(options ...grpc.DialOption) Option {
	return func(s *settings) error {
		s.dialOptions = append(s.dialOptions, options...)
		return nil
	}
}

func (s *settings) transportCredentials() credentials.TransportCredentials {
	if s.tls == nil {
		return insecure.NewCredentials()
	}
	return credentials.NewTLS(s.tls)
}
