package redisstore

import (
	"errors"
	"strings"
	"testing"
)

// TestClientOptionsErrorsHidePassword (attack-4): a Redis URL that does
// not parse must not be echoed in the error, which is printed at start-up
// and logged: net/url's error repeats the whole URL, password included
// (a generated password with "%" or a mistyped port was enough). The
// same holds for SenderOptions (the rueidis client of the grant stores).
func TestClientOptionsErrorsHidePassword(t *testing.T) {
	const pw = "S3cretPassw0rd"
	parsers := []struct {
		name  string
		parse func(string) error
	}{
		{"ClientOptions", func(u string) error { _, err := ClientOptions(u); return err }},
		{"SenderOptions", func(u string) error { _, err := SenderOptions(u); return err }},
	}
	for _, p := range parsers {
		for _, u := range []string{
			"redis://:" + pw + "%zz@redis.internal:6379/0", // unescaped % in a generated password
			"redis://app:" + pw + "@redis.internal:63 79/0",
			"redis://:" + pw + "@redis.internal:port/0",
			"rediss://:" + pw + "@[::1/0",
			"redis://:" + pw + "@redis.internal:6379/abc",
			"redis://:" + pw + "@redis.internal:6379/0?dial_timeout=soon",
		} {
			err := p.parse(u)
			if err == nil {
				t.Errorf("%s(%q): accepted", p.name, u)
				continue
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("%s(%q): %v does not wrap ErrInvalidConfig", p.name, u, err)
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("%s: the error repeats the password: %v", p.name, err)
			}
		}
	}
}
