package strictyaml

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/mcpauthz/mcpauthz/internal/httpx"
)

// ReadFile reads the configuration file at path, refusing one larger than
// maxBytes without reading past maxBytes+1.
func ReadFile(path string, maxBytes int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := httpx.ReadBounded(f, maxBytes)
	if errors.Is(err, httpx.ErrTooLarge) {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxBytes)
	}
	return data, err
}

// InlineJSON returns the JSON of a value that a file may give either as a
// YAML/JSON object (re-encoded) or as a JSON string (taken as is), such as
// an inline JWK Set. nil gives nil; any other value is an error.
func InlineJSON(v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(t), nil
	case map[string]any:
		return json.Marshal(t)
	}
	return nil, errors.New("must be a JWK Set object or a JSON string")
}
