package serve

import (
	"crypto/tls"
	"fmt"
	"io"
	"os"

	"github.com/mcpauthz/mcpauthz/internal/secretfile"
)

// maxTLSFileBytes bounds the certificate chain and key files (a 4096-bit
// RSA key in PEM is about 3.3 KB; a chain of a few certificates about
// 6 KB).
const maxTLSFileBytes = 1 << 20

// loadTLS reads the certificate chain and private key files of a listener
// once, at start-up. The key file is refused, before anything listens,
// when group or others may read or write it (internal/secretfile: mode
// checked on the open file after symbolic links; not on Windows), with an
// error naming the setting, the file, its mode and the fix;
// allowGroupRead accepts the group-read bit only (0640, 0440: a
// Kubernetes secret volume with an fsGroup). setting names the key file's
// flag or field in errors.
func loadTLS(certFile, keyFile, setting string, allowGroupRead bool) (*tls.Config, error) {
	key, err := secretfile.Read(keyFile, maxTLSFileBytes, secretfile.Policy{AllowGroupRead: allowGroupRead})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", setting, err)
	}
	cert, err := readBounded(certFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", setting, err)
	}
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %s and %s: %w", setting, certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// readBounded reads the file at path, at most maxTLSFileBytes.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTLSFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxTLSFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxTLSFileBytes)
	}
	return b, nil
}
