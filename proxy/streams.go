package proxy

import (
	"context"
	"sync"
)

// streams tracks the cancel functions of open GET event streams, so that
// shutdown can end them.
type streams struct {
	mu     sync.Mutex
	next   uint64
	open   map[uint64]context.CancelFunc
	closed bool
}

// add registers cancel; it returns false once closeAll has run.
func (s *streams) add(cancel context.CancelFunc) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, false
	}
	if s.open == nil {
		s.open = map[uint64]context.CancelFunc{}
	}
	s.next++
	s.open[s.next] = cancel
	return s.next, true
}

func (s *streams) remove(id uint64) {
	s.mu.Lock()
	delete(s.open, id)
	s.mu.Unlock()
}

// closeAll cancels every open stream and refuses new ones.
func (s *streams) closeAll() {
	s.mu.Lock()
	s.closed = true
	open := s.open
	s.open = nil
	s.mu.Unlock()
	for _, cancel := range open {
		cancel()
	}
}
