// Package syncbuf is a bytes.Buffer that one goroutine may write while
// others read it, or wait for a text to appear in it: the log of a server
// or a process a test watches.
package syncbuf

import (
	"bytes"
	"sync"
	"time"
)

// Buffer is safe for concurrent Write, String and WaitFor.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	// written is closed at the next Write, to wake WaitFor; nil while
	// nobody waits.
	written chan struct{}
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.written != nil {
		close(b.written)
		b.written = nil
	}
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WaitFor waits until what was written contains text, and reports whether
// it did within timeout.
func (b *Buffer) WaitFor(text string, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		b.mu.Lock()
		if bytes.Contains(b.buf.Bytes(), []byte(text)) {
			b.mu.Unlock()
			return true
		}
		if b.written == nil {
			b.written = make(chan struct{})
		}
		written := b.written
		b.mu.Unlock()
		select {
		case <-written:
		case <-deadline:
			return false
		}
	}
}
