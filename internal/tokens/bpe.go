package tokens

import "math"

const noRank = math.MaxInt

// part is a boundary of the piece being merged: the token that starts at
// start and, in rank, the rank of merging it with the next token.
type part struct {
	start int
	rank  int
}

// merge runs tiktoken's byte-pair merge on piece (at least two bytes) and
// returns the token boundaries: len(parts)-1 tokens, token k being
// piece[parts[k].start:parts[k+1].start]. buf is reused when big enough, so
// pieces shorter than longPiece merge without allocating. Ties go to the
// leftmost pair, as in the reference.
func merge(v *vocab, piece string, buf []part) []part {
	if len(piece) >= longPiece {
		return mergeLong(v.ranks, piece)
	}
	return mergeScan(v, piece, buf)
}

// vocab is a rank table with the ranks of all two-byte tokens in an array,
// since the first pass over a piece looks up every byte pair.
type vocab struct {
	ranks map[string]int
	pairs []int32 // [b0<<8|b1], -1 when not a token
}

func newVocab(ranks map[string]int) *vocab {
	v := &vocab{ranks: ranks, pairs: make([]int32, 1<<16)}
	for i := range v.pairs {
		v.pairs[i] = -1
	}
	for tok, r := range ranks {
		if len(tok) == 2 {
			v.pairs[int(tok[0])<<8|int(tok[1])] = int32(r)
		}
	}
	return v
}

// mergeScan is merge by rescanning all pairs after each merge.
func mergeScan(v *vocab, piece string, buf []part) []part {
	ranks := v.ranks
	parts := buf[:0]
	minRank, minIdx := noRank, -1
	for i := 0; i < len(piece)-1; i++ {
		r := noRank
		if p := v.pairs[int(piece[i])<<8|int(piece[i+1])]; p >= 0 {
			r = int(p)
		}
		if r < minRank {
			minRank, minIdx = r, i
		}
		parts = append(parts, part{i, r})
	}
	parts = append(parts, part{len(piece) - 1, noRank}, part{len(piece), noRank})

	rankAt := func(i int) int {
		if i+3 < len(parts) {
			if r, ok := ranks[piece[parts[i].start:parts[i+3].start]]; ok {
				return r
			}
		}
		return noRank
	}
	for minRank != noRank {
		i := minIdx
		if i > 0 {
			parts[i-1].rank = rankAt(i - 1)
		}
		parts[i].rank = rankAt(i)
		parts = append(parts[:i+1], parts[i+2:]...)

		minRank, minIdx = noRank, -1
		for j := 0; j < len(parts)-1; j++ {
			if parts[j].rank < minRank {
				minRank, minIdx = parts[j].rank, j
			}
		}
	}
	return parts
}

// longPiece is the length from which merge switches to mergeLong: the
// linear scan of merge costs O(n²) and a long run of letters or symbols in
// a request must not.
const longPiece = 256

// mergeLong is merge in O(n log n): the parts are a linked list over byte
// offsets and the candidate pairs sit in a heap ordered by (rank, offset),
// which is the order in which merge's scan picks them. An entry is stale once
// its part's rank changed; (offset, rank) names a pair exactly, since a rank
// names one byte string.
func mergeLong(ranks map[string]int, piece string) []part {
	n := len(piece)
	next := make([]int, n)
	rank := make([]int, n)
	alive := make([]bool, n)
	h := make(pairHeap, 0, n)
	pairRank := func(p int) int {
		if q := next[p]; q < n {
			if r, ok := ranks[piece[p:next[q]]]; ok {
				return r
			}
		}
		return noRank
	}
	for i := range n {
		next[i], alive[i] = i+1, true
	}
	for i := range n {
		if rank[i] = pairRank(i); rank[i] != noRank {
			h.push(pair{rank[i], i})
		}
	}
	prev := make([]int, n)
	for i := range n {
		prev[i] = i - 1
	}
	for len(h) > 0 {
		e := h.pop()
		p := e.start
		if !alive[p] || rank[p] != e.rank {
			continue
		}
		q := next[p]
		alive[q] = false
		next[p] = next[q]
		if next[p] < n {
			prev[next[p]] = p
		}
		if rank[p] = pairRank(p); rank[p] != noRank {
			h.push(pair{rank[p], p})
		}
		if o := prev[p]; o >= 0 {
			if rank[o] = pairRank(o); rank[o] != noRank {
				h.push(pair{rank[o], o})
			}
		}
	}
	var parts []part
	for p := 0; p < n; p = next[p] {
		parts = append(parts, part{start: p, rank: noRank})
	}
	return append(parts, part{start: n, rank: noRank})
}

type pair struct{ rank, start int }

func (a pair) less(b pair) bool { return a.rank < b.rank || a.rank == b.rank && a.start < b.start }

// pairHeap is a binary min-heap; container/heap would box every entry.
type pairHeap []pair

func (h *pairHeap) push(e pair) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0; {
		up := (i - 1) / 2
		if !s[i].less(s[up]) {
			break
		}
		s[i], s[up] = s[up], s[i]
		i = up
	}
}

func (h *pairHeap) pop() pair {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(s) && s[l].less(s[m]) {
			m = l
		}
		if r := l + 1; r < len(s) && s[r].less(s[m]) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
