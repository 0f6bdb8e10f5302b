package queue

import "container/heap"

// keyedHeap is a heap of QueuedPodInfos addressable by key. It is not safe
// for concurrent use; PriorityQueue guards it.
type keyedHeap struct {
	items []*QueuedPodInfo
	index map[string]int
	less  func(a, b *QueuedPodInfo) bool
}

func newKeyedHeap(less func(a, b *QueuedPodInfo) bool) *keyedHeap {
	return &keyedHeap{index: map[string]int{}, less: less}
}

// heap.Interface, over items.
func (h *keyedHeap) Len() int           { return len(h.items) }
func (h *keyedHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *keyedHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.index[h.items[i].key] = i
	h.index[h.items[j].key] = j
}
func (h *keyedHeap) Push(x any) {
	p := x.(*QueuedPodInfo)
	h.index[p.key] = len(h.items)
	h.items = append(h.items, p)
}
func (h *keyedHeap) Pop() any {
	n := len(h.items) - 1
	p := h.items[n]
	h.items[n] = nil
	h.items = h.items[:n]
	delete(h.index, p.key)
	return p
}

// addOrUpdate inserts p, or replaces the item with p's key.
func (h *keyedHeap) addOrUpdate(p *QueuedPodInfo) {
	if i, ok := h.index[p.key]; ok {
		h.items[i] = p
		heap.Fix(h, i)
		return
	}
	heap.Push(h, p)
}

// get returns the item with key.
func (h *keyedHeap) get(key string) (*QueuedPodInfo, bool) {
	if i, ok := h.index[key]; ok {
		return h.items[i], true
	}
	return nil, false
}

// remove deletes the item with key, reporting whether it was there.
func (h *keyedHeap) remove(key string) bool {
	i, ok := h.index[key]
	if ok {
		heap.Remove(h, i)
	}
	return ok
}

// peek returns the smallest item, or nil.
func (h *keyedHeap) peek() *QueuedPodInfo {
	if len(h.items) == 0 {
		return nil
	}
	return h.items[0]
}

// pop removes and returns the smallest item, or nil.
func (h *keyedHeap) pop() *QueuedPodInfo {
	if len(h.items) == 0 {
		return nil
	}
	return heap.Pop(h).(*QueuedPodInfo)
}
