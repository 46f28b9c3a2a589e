package auth

import (
	"sync"
	"testing"
)

// WatchHashing calls seen with every password that reaches Argon2 (hashing
// or verifying) until the test ends. The test must not run in parallel: it
// swaps the function every hash goes through.
func WatchHashing(t *testing.T, seen func(password string)) {
	var mu sync.Mutex
	old := argonKey
	argonKey = func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		mu.Lock()
		seen(string(password))
		mu.Unlock()
		return old(password, salt, time, memory, threads, keyLen)
	}
	t.Cleanup(func() { argonKey = old })
}
