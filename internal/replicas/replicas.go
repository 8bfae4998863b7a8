// Package replicas is the plumbing the store contract suites share
// (coretest and authserver/storetest): a suite makes two stores of one
// backend, a and b, as two replicas would, and spreads its writes over both.
package replicas

import "sync"

// Pick returns a for an even i and b for an odd one.
func Pick[S any](i int, a, b S) S {
	if i%2 == 1 {
		return b
	}
	return a
}

// Concurrently runs f(i, Pick(i, a, b)) for every i in [0, n), each call in
// its own goroutine, and returns when all have returned.
func Concurrently[S any](n int, a, b S, f func(i int, s S)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { f(i, Pick(i, a, b)) })
	}
	wg.Wait()
}
