package replicas

import (
	"sync"
	"testing"
)

func TestPick(t *testing.T) {
	for i, want := range []string{"a", "b", "a", "b"} {
		if got := Pick(i, "a", "b"); got != want {
			t.Errorf("Pick(%d) = %s, want %s", i, got, want)
		}
	}
}

func TestConcurrently(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]string{}
	Concurrently(41, "a", "b", func(i int, s string) {
		mu.Lock()
		defer mu.Unlock()
		seen[i] = s
	})
	if len(seen) != 41 {
		t.Fatalf("%d calls, want 41", len(seen))
	}
	for i, s := range seen {
		if s != Pick(i, "a", "b") {
			t.Errorf("call %d on %s", i, s)
		}
	}
}
