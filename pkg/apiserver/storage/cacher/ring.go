package cacher

// ring is the window of recent events: a fixed-capacity FIFO in revision order.
// It is not safe for concurrent use (the Cacher guards it).
type ring struct {
	buf   []*event
	start int // index of the oldest event
	n     int // number of events held
}

func newRing(size int) *ring {
	return &ring{buf: make([]*event, size)}
}

// push appends e and returns the event it evicted, if the ring was full.
func (r *ring) push(e *event) (evicted *event) {
	if r.n == len(r.buf) {
		evicted = r.buf[r.start]
		r.buf[r.start] = e
		r.start = (r.start + 1) % len(r.buf)
		return evicted
	}
	r.buf[(r.start+r.n)%len(r.buf)] = e
	r.n++
	return nil
}

// since returns the events with a revision after rv, oldest first.
func (r *ring) since(rv int64) []*event {
	// Binary search for the first event after rv: revisions increase.
	lo, hi := 0, r.n
	for lo < hi {
		mid := (lo + hi) / 2
		if r.at(mid).rv <= rv {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	out := make([]*event, 0, r.n-lo)
	for i := lo; i < r.n; i++ {
		out = append(out, r.at(i))
	}
	return out
}

func (r *ring) at(i int) *event { return r.buf[(r.start+i)%len(r.buf)] }
