package guard

// acMatcher is an Aho–Corasick automaton over bytes: one pass over the
// text finds every occurrence of every pattern, in time linear in the
// text plus the number of matches, however many patterns there are.
//
// The scan form is laid out for the cache. Bytes are mapped to classes
// (bytes that occur in no pattern share class 0), so a full transition
// row is small. States are numbered breadth first; the first ones (all of
// them in a small automaton, the shallow ones in a large one) have a full
// row of resolved transitions, a plain DFA step. Deeper states, rarely
// visited, keep their few edges packed and fall back along failure links
// until they reach a state with a full row.
//
// A pattern may be anchored: it then only matches where it starts the
// text or follows a space. Anchored patterns are stored behind a leading
// space and the scan starts as if after one, so text inside a word that
// no pattern starts with leaves the automaton at its root, where a tight
// loop skips to the next byte that leaves the root.
type acMatcher struct {
	class [256]byte  // byte → class
	root  [256]int32 // the root's transitions by byte, as codes
	start int32      // the code of the state a scan starts in
	nc    int32      // number of classes
	// A state is known during a scan by its code: s*nc, the offset of its
	// row in delta, for a state s < nDense without output (the common
	// case: one load per byte, no multiplication); ^s for the others.
	// Row s holds the codes of the resolved transitions of s, by class.
	nDense int32
	delta  []int32
	// State s >= nDense has edges edgeClass/edgeNext[edgeStart[k]:edgeStart[k+1]]
	// (state numbers) with k = s-nDense, and falls back to fail[k].
	edgeStart []int32
	edgeClass []byte
	edgeNext  []int32
	fail      []int32
	// report is, per state, the first state along its failure chain
	// (itself included) that has output, or -1; dict continues the chain.
	// The ids of the patterns that end at s are
	// outIDs[outStart[s]:outStart[s+1]].
	report   []int32
	dict     []int32
	outStart []int32
	outIDs   []int32
	lens     []int // pattern lengths in bytes, by pattern id
}

// maxDense bounds the size of the full rows, in transitions: a few
// hundred KB, enough for every state of a small automaton and for the
// first levels of a large one.
const maxDense = 1 << 16

// acHit is one match: pattern id and the end offset in the text.
type acHit struct {
	id  int32
	end int
}

// acNode is a trie node of the build form.
type acNode struct {
	edges []acEdge
	out   []int32
}

type acEdge struct {
	b    byte // class
	next int32
}

func (n *acNode) next(c byte) int32 {
	for _, e := range n.edges {
		if e.b == c {
			return e.next
		}
	}
	return -1
}

// newACMatcher builds the automaton; pattern ids are indexes in pats.
// Empty patterns never match.
func newACMatcher(pats []string) *acMatcher {
	return newAnchoredACMatcher(pats, nil)
}

// newAnchoredACMatcher builds the automaton for pats, where pattern i
// matches only at the start of the text or after a space when
// anchored[i] (anchored may be nil or shorter than pats). Patterns that
// are not anchored must not start with a space.
func newAnchoredACMatcher(pats []string, anchored []bool) *acMatcher {
	m := &acMatcher{lens: make([]int, len(pats))}
	isAnchored := func(i int) bool { return i < len(anchored) && anchored[i] }
	// Classes: one per byte that occurs in a pattern, in byte order; 0
	// for the others.
	var used [256]bool
	anyAnchored := false
	for i, p := range pats {
		if p == "" {
			continue
		}
		if isAnchored(i) {
			used[' '], anyAnchored = true, true
		}
		for k := 0; k < len(p); k++ {
			used[p[k]] = true
		}
	}
	m.nc = 1
	for b := range used {
		if used[b] {
			m.class[b] = byte(m.nc)
			m.nc++
		}
	}
	if m.nc > 256 {
		// Every byte is used, so class 0 is not needed: each byte is its
		// own class.
		for b := range m.class {
			m.class[b] = byte(b)
		}
		m.nc = 256
	}

	// The trie, on classes.
	nodes := []acNode{{}}
	insert := func(p string, id int32) {
		cur := int32(0)
		for k := 0; k < len(p); k++ {
			c := m.class[p[k]]
			nx := nodes[cur].next(c)
			if nx < 0 {
				nx = int32(len(nodes))
				nodes = append(nodes, acNode{})
				nodes[cur].edges = append(nodes[cur].edges, acEdge{c, nx})
			}
			cur = nx
		}
		nodes[cur].out = append(nodes[cur].out, id)
	}
	for id, p := range pats {
		m.lens[id] = len(p)
		if p == "" {
			continue
		}
		if isAnchored(id) {
			insert(" "+p, int32(id))
		} else {
			insert(p, int32(id))
		}
	}

	// Number the states breadth first, so that a state's failure target
	// comes before it.
	n := len(nodes)
	order := make([]int32, 0, n) // new number → node
	order = append(order, 0)
	for q := 0; q < len(order); q++ {
		for _, e := range nodes[order[q]].edges {
			order = append(order, e.next)
		}
	}
	renum := make([]int32, n) // node → new number
	for s, v := range order {
		renum[v] = int32(s)
	}
	edges := make([][]acEdge, n) // by new number, targets renumbered
	for s, v := range order {
		es := make([]acEdge, len(nodes[v].edges))
		for k, e := range nodes[v].edges {
			es[k] = acEdge{e.b, renum[e.next]}
		}
		edges[s] = es
	}
	goTo := func(s int32, c byte) int32 {
		for _, e := range edges[s] {
			if e.b == c {
				return e.next
			}
		}
		return -1
	}

	// Failure links and the output chains.
	fail := make([]int32, n)
	hasOut := func(s int32) bool { return len(nodes[order[s]].out) > 0 }
	m.dict = make([]int32, n)
	m.report = make([]int32, n)
	m.dict[0], m.report[0] = -1, -1
	for s := int32(0); s < int32(n); s++ {
		for _, e := range edges[s] {
			f := int32(0)
			if s != 0 {
				for f = fail[s]; ; f = fail[f] {
					if nx := goTo(f, e.b); nx >= 0 {
						f = nx
						break
					}
					if f == 0 {
						break
					}
				}
			}
			fail[e.next] = f
			if hasOut(f) {
				m.dict[e.next] = f
			} else {
				m.dict[e.next] = m.dict[f]
			}
		}
		if s != 0 {
			if hasOut(s) {
				m.report[s] = s
			} else {
				m.report[s] = m.dict[s]
			}
		}
	}
	m.outStart = make([]int32, n+1)
	for s := range n {
		m.outStart[s] = int32(len(m.outIDs))
		m.outIDs = append(m.outIDs, nodes[order[s]].out...)
	}
	m.outStart[n] = int32(len(m.outIDs))

	// Full rows for the first states.
	nDense := min(n, max(1, maxDense/int(m.nc)))
	m.nDense = int32(nDense)
	next := make([]int32, nDense*int(m.nc)) // state numbers
	m.delta = make([]int32, nDense*int(m.nc))
	for s := range nDense {
		r := int32(s) * m.nc
		for c := range m.nc {
			nx := goTo(int32(s), byte(c))
			if nx < 0 {
				if s == 0 {
					nx = 0
				} else {
					nx = next[fail[s]*m.nc+c]
				}
			}
			next[r+c] = nx
			m.delta[r+c] = m.code(nx)
		}
	}
	for b := range m.root {
		m.root[b] = m.delta[m.class[b]]
	}
	// Packed edges for the others.
	m.edgeStart = make([]int32, n-nDense+1)
	m.fail = make([]int32, n-nDense)
	for s := nDense; s < n; s++ {
		k := s - nDense
		m.edgeStart[k] = int32(len(m.edgeClass))
		m.fail[k] = fail[s]
		for _, e := range edges[s] {
			m.edgeClass = append(m.edgeClass, e.b)
			m.edgeNext = append(m.edgeNext, e.next)
		}
	}
	m.edgeStart[n-nDense] = int32(len(m.edgeClass))
	if anyAnchored {
		m.start = m.root[' ']
	}
	return m
}

// code is the code of state t (see acMatcher.delta).
func (m *acMatcher) code(t int32) int32 {
	if t < m.nDense && m.report[t] < 0 {
		return t * m.nc
	}
	return ^t
}

// next is the code of the transition from state s on class c, for the
// states whose code is not a row offset.
func (m *acMatcher) next(s int32, c byte) int32 {
	for s >= m.nDense {
		k := s - m.nDense
		for e := m.edgeStart[k]; e < m.edgeStart[k+1]; e++ {
			if m.edgeClass[e] == c {
				return m.code(m.edgeNext[e])
			}
		}
		s = m.fail[k]
	}
	return m.delta[s*m.nc+int32(c)]
}

// appendHits appends every match in text to hits, in order of their end
// and, at one end, longest first, and returns it.
func (m *acMatcher) appendHits(hits []acHit, text []byte) []acHit {
	cur := m.start
	delta := m.delta
	for i := 0; i < len(text); i++ {
		if cur == 0 {
			// The root: skip what keeps it there.
			for m.root[text[i]] == 0 {
				if i++; i == len(text) {
					return hits
				}
			}
			cur = m.root[text[i]]
		} else if cur > 0 {
			cur = delta[cur+int32(m.class[text[i]])]
		} else {
			cur = m.next(^cur, m.class[text[i]])
		}
		if cur < 0 && m.report[^cur] > 0 {
			hits = m.appendOut(hits, ^cur, i+1)
		}
	}
	return hits
}

// appendOut appends the hits ending at end in state s.
func (m *acMatcher) appendOut(hits []acHit, s int32, end int) []acHit {
	for s = m.report[s]; s > 0; s = m.dict[s] {
		for _, id := range m.outIDs[m.outStart[s]:m.outStart[s+1]] {
			if end >= m.lens[id] {
				hits = append(hits, acHit{id: id, end: end})
			}
		}
	}
	return hits
}
