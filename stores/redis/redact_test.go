package redisstore

import (
	"errors"
	"strings"
	"testing"
)

// TestClientOptionsErrorsHidePassword (attack-4): a Redis URL that does
// not parse must not be echoed in the error, which is printed at start-up
// and logged: net/url's error repeats the whole URL, password included
// (a generated password with "%" or a mistyped port was enough).
func TestClientOptionsErrorsHidePassword(t *testing.T) {
	const pw = "S3cretPassw0rd"
	for _, u := range []string{
		"redis://:" + pw + "%zz@redis.internal:6379/0", // unescaped % in a generated password
		"redis://app:" + pw + "@redis.internal:63 79/0",
		"redis://:" + pw + "@redis.internal:port/0",
		"rediss://:" + pw + "@[::1/0",
		"redis://:" + pw + "@redis.internal:6379/abc",
		"redis://:" + pw + "@redis.internal:6379/0?dial_timeout=soon",
	} {
		_, err := ClientOptions(u)
		if err == nil {
			t.Errorf("%q: accepted", u)
			continue
		}
		if !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%q: %v does not wrap ErrInvalidConfig", u, err)
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
}
