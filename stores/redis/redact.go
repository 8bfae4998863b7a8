package redisstore

import (
	"errors"
	"net/url"
)

// withoutURL drops the text of a *url.Error, which repeats the whole URL,
// password included, keeping its cause ("invalid port", "invalid URL
// escape"): a Redis URL's parse error is printed at start-up and logged.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
