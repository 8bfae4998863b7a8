package testkit

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	c := NewClock(t0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				c.Add(time.Second)
				_ = c.Now()
			}
		}()
	}
	wg.Wait()
	if got, want := c.Now(), t0.Add(800*time.Second); !got.Equal(want) {
		t.Errorf("Now = %v, want %v", got, want)
	}
	c.Add(-time.Hour)
	if got, want := c.Now(), t0.Add(800*time.Second-time.Hour); !got.Equal(want) {
		t.Errorf("after Add(-1h): Now = %v, want %v", got, want)
	}
}

func TestBuffer(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, l := range lines {
		if len(l) != 1 || l[0] < '0' || l[0] > '7' {
			t.Fatalf("torn write: %q", l)
		}
	}
}
