// Package secretfile reads the secret and key files that configuration
// files name (signing keys, code keys, client secrets), refusing a file
// that group or others may read or write: a key readable by another
// account on the host, or by another process in a container image, lets it
// forge tokens or open sealed codes, and one writable by them lets it
// substitute its own key.
package secretfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
)

// ErrMode is wrapped by the error of [Read] for a file whose mode lets
// group or others read or write it.
var ErrMode = errors.New("secret file readable or writable by group or others")

// Policy says which permission bits beyond the owner's a secret file may
// have. The zero Policy allows none (0600 or 0400).
type Policy struct {
	// AllowGroupRead accepts the group-read bit (0640, 0440), for
	// platforms that cannot give a file to one account only: a Kubernetes
	// secret volume with a pod fsGroup is 0440 even with defaultMode 0400.
	// Group write and anything for others are still refused.
	AllowGroupRead bool
}

// forbidden returns the permission bits p refuses.
func (p Policy) forbidden() fs.FileMode {
	if p.AllowGroupRead {
		return 0o026
	}
	return 0o066
}

// Read returns the contents of the regular file at path, at most maxBytes,
// after checking its mode on the open file (symbolic links are followed,
// as in a Kubernetes secret volume, and the mode checked is the target's).
// On Windows, where file modes do not describe access, the mode is not
// checked.
func Read(path string, maxBytes int64, p Policy) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if err := checkMode(path, fi.Mode(), p); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxBytes)
	}
	return data, nil
}

func checkMode(path string, mode fs.FileMode, p Policy) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	if perm := mode.Perm(); perm&p.forbidden() != 0 {
		fix := "chmod 600 " + path
		if p.AllowGroupRead {
			fix = "chmod 640 " + path + " (or 600)"
		}
		return fmt.Errorf("%w: %s has mode %04o; run %s", ErrMode, path, perm, fix)
	}
	return nil
}
