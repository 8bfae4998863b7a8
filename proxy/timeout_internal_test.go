package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// TestIsTimeout: the errors a dial timeout, a response-header timeout and a
// deadline produce are 504s; refused connections and malformed responses
// are 502s.
func TestIsTimeout(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}, true},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), true},
		{timeoutErr{}, true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, false},
		{errors.New("malformed HTTP response"), false},
		{context.Canceled, false},
	} {
		if got := isTimeout(tt.err); got != tt.want {
			t.Errorf("isTimeout(%v) = %v", tt.err, got)
		}
	}
}
