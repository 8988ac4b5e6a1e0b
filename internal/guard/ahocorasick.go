package guard

// acMatcher is an Aho–Corasick automaton over bytes: one pass over the
// text finds every occurrence of every pattern, in time linear in the
// text plus the number of matches, however many patterns there are.
//
// The root has a full transition table (most steps of a scan start
// there); other states keep their few edges in a short slice and fall
// back along failure links.
type acMatcher struct {
	root   [256]int32
	states []acState
	// report is, per state, the first state along its failure chain
	// (itself included) that has output, or -1: one compact array, so
	// the common no-match step touches a single int32.
	report []int32
	// The automaton as compact arrays for scanning (states is the build
	// form): state s's edges are edgeB/edgeNext[edgeStart[s]:edgeStart[s+1]];
	// dense[s] >= 0 indexes a full table.
	fail      []int32
	edgeStart []int32
	edgeB     []byte
	edgeNext  []int32
	dense     []int32
	tables    [][256]int32
	lens      []int // pattern lengths in bytes, by pattern id
}

type acState struct {
	edges []acEdge
	fail  int32
	dict  int32   // nearest state along the failure chain that has output, or -1
	out   []int32 // ids of the patterns that end here
}

type acEdge struct {
	b    byte
	next int32
}

// acHit is one match: pattern id and the end offset in the text.
type acHit struct {
	id  int32
	end int
}

func (s *acState) next(b byte) int32 {
	for _, e := range s.edges {
		if e.b == b {
			return e.next
		}
	}
	return -1
}

// newACMatcher builds the automaton; pattern ids are indexes in pats.
// Empty patterns never match.
func newACMatcher(pats []string) *acMatcher {
	m := &acMatcher{states: []acState{{dict: -1}}, lens: make([]int, len(pats))}
	for id, p := range pats {
		m.lens[id] = len(p)
		if p == "" {
			continue
		}
		cur := int32(0)
		for k := 0; k < len(p); k++ {
			nx := m.states[cur].next(p[k])
			if nx < 0 {
				nx = int32(len(m.states))
				m.states = append(m.states, acState{dict: -1})
				m.states[cur].edges = append(m.states[cur].edges, acEdge{p[k], nx})
			}
			cur = nx
		}
		m.states[cur].out = append(m.states[cur].out, int32(id))
	}
	// Breadth-first, so that a state's failure target is done before it.
	queue := make([]int32, 0, len(m.states))
	for _, e := range m.states[0].edges {
		m.root[e.b] = e.next
		queue = append(queue, e.next)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, e := range m.states[s].edges {
			f := m.states[s].fail
			for {
				if f == 0 {
					m.states[e.next].fail = m.root[e.b]
					break
				}
				if nx := m.states[f].next(e.b); nx >= 0 {
					m.states[e.next].fail = nx
					break
				}
				f = m.states[f].fail
			}
			if t := m.states[e.next].fail; len(m.states[t].out) > 0 {
				m.states[e.next].dict = t
			} else {
				m.states[e.next].dict = m.states[t].dict
			}
			queue = append(queue, e.next)
		}
	}
	m.report = make([]int32, len(m.states))
	for i := range m.states {
		switch {
		case i == 0:
			m.report[i] = -1
		case len(m.states[i].out) > 0:
			m.report[i] = int32(i)
		default:
			m.report[i] = m.states[i].dict
		}
	}
	// The root's children are the next most visited states; a full
	// table for them (goto or -1) saves the edge search.
	n := len(m.states)
	m.fail = make([]int32, n)
	m.edgeStart = make([]int32, n+1)
	m.dense = make([]int32, n)
	for i := range m.states {
		st := &m.states[i]
		m.fail[i] = st.fail
		m.edgeStart[i] = int32(len(m.edgeB))
		m.dense[i] = -1
		for _, e := range st.edges {
			m.edgeB = append(m.edgeB, e.b)
			m.edgeNext = append(m.edgeNext, e.next)
		}
	}
	m.edgeStart[n] = int32(len(m.edgeB))
	for _, e := range m.states[0].edges {
		var t [256]int32
		for i := range t {
			t[i] = -1
		}
		for _, c := range m.states[e.next].edges {
			t[c.b] = c.next
		}
		m.dense[e.next] = int32(len(m.tables))
		m.tables = append(m.tables, t)
	}
	// Only outputs and dictionary links are needed from the build form.
	for i := range m.states {
		m.states[i].edges = nil
	}
	return m
}

// step is the goto function of a non-root state: the next state, or -1.
func (m *acMatcher) step(s int32, b byte) int32 {
	if t := m.dense[s]; t >= 0 {
		return m.tables[t][b]
	}
	lo, hi := m.edgeStart[s], m.edgeStart[s+1]
	for k := lo; k < hi; k++ {
		if m.edgeB[k] == b {
			return m.edgeNext[k]
		}
	}
	return -1
}

// appendHits appends every match in text to hits and returns it.
func (m *acMatcher) appendHits(hits []acHit, text []byte) []acHit {
	cur := int32(0)
	for i, b := range text {
		for {
			if cur == 0 {
				cur = m.root[b]
				break
			}
			if nx := m.step(cur, b); nx >= 0 {
				cur = nx
				break
			}
			cur = m.fail[cur]
		}
		for s := m.report[cur]; s > 0; s = m.states[s].dict {
			for _, id := range m.states[s].out {
				hits = append(hits, acHit{id: id, end: i + 1})
			}
		}
	}
	return hits
}
