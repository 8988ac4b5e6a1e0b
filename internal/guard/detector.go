package guard

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
)

// Category is a kind of injection signal the [Detector] reports.
type Category string

// Categories of injection signals.
const (
	InstructionOverride      Category = "instruction_override"
	RoleplayJailbreak        Category = "roleplay_jailbreak"
	SystemPromptExfiltration Category = "system_prompt_exfiltration"
	DelimiterInjection       Category = "delimiter_injection"
	EncodedPayload           Category = "encoded_payload"
	MultilingualOverride     Category = "multilingual_override"
	CustomPhrase             Category = "custom_phrase"
)

// DefaultThreshold is the score at and above which a text is flagged.
const DefaultThreshold = 0.5

// DetectorConfig configures a [Detector].
type DetectorConfig struct {
	// ExtraPhrases are literal phrases, matched like the built-in ones on
	// the folded view, that count as a strong signal (category
	// custom_phrase, weight 0.9).
	ExtraPhrases []string
	// Threshold is the flagging score in (0, 1]; 0 means DefaultThreshold.
	Threshold float64
}

// Detection is the result of [Detector.Score]. It never holds the text.
type Detection struct {
	// Score is in [0, 1].
	Score float64
	// Flagged is Score >= the detector's threshold.
	Flagged bool
	// Categories are the categories that contributed, sorted.
	Categories []Category
}

// Detector scores text for prompt injection with built-in phrase and
// marker signals (see the package documentation). It is safe for
// concurrent use.
type Detector struct {
	threshold float64
	phrases   *phraseSet
	signals   []signal // by phrase owner
	owners    []owner  // by phrase id
	seqs      []seqDef
	markers   []marker
	triggers  *acMatcher // marker triggers; pattern ids index trigOwner
	trigLits  []string   // the triggers' patterns, for Rules to merge with its own
	trigOwner []int
	pool      sync.Pool // *scratch
}

// owner is what a phrase stands for: a signal, or a group of a sequence.
type owner struct {
	sig   int32 // index in signals, or -1
	seq   int32
	group int32
}

type signal struct {
	cat    Category
	weight float64
}

type marker struct {
	re        *regexp.Regexp
	triggered bool // runs only when triggers finds one of its literals
	signal
}

// Built-in phrase weights.
const (
	wStrong = 0.9  // a phrase that is an attack on its own
	wMedium = 0.6  // an attack in most contexts
	wWeak   = 0.3  // suspicious vocabulary; needs company
	wMeta   = -1.0 // marks discussion about attacks; see damp
	damp    = 0.5  // factor applied to a single-category score in a meta discussion
)

var metaSignal = signal{cat: "meta", weight: wMeta}

// NewDetector compiles a detector.
func NewDetector(cfg DetectorConfig) (*Detector, error) {
	if cfg.Threshold < 0 || cfg.Threshold > 1 {
		return nil, errors.New("new detector: threshold must be in (0, 1]")
	}
	d := &Detector{threshold: cfg.Threshold}
	if d.threshold == 0 {
		d.threshold = DefaultThreshold
	}
	var n Normalizer
	var folded []string
	add := func(s signal, p string) error {
		f := foldPhrase(&n, p)
		if f == "" {
			return errors.New("phrase has no letters or digits")
		}
		folded = append(folded, f)
		d.owners = append(d.owners, owner{sig: int32(len(d.signals)), seq: -1})
		d.signals = append(d.signals, s)
		return nil
	}
	for si, sq := range builtinSeqs {
		for gi, g := range sq.groups {
			for _, p := range expand(g) {
				folded = append(folded, foldPhrase(&n, p))
				d.owners = append(d.owners, owner{sig: -1, seq: int32(si), group: int32(gi)})
			}
		}
	}
	d.seqs = builtinSeqs
	for _, b := range builtinPhrases {
		for _, t := range b.templates {
			for _, p := range expand(t) {
				if err := add(b.signal, p); err != nil {
					return nil, fmt.Errorf("new detector: built-in phrase %q: %w", p, err)
				}
			}
		}
	}
	for i, p := range cfg.ExtraPhrases {
		if err := add(signal{CustomPhrase, wStrong}, p); err != nil {
			return nil, fmt.Errorf("new detector: extra phrase %d: %w", i, err)
		}
	}
	d.phrases = newPhraseSet(folded, nil)
	var trig []string
	for _, m := range builtinMarkers {
		d.markers = append(d.markers, marker{re: regexp.MustCompile(m.re), signal: m.signal, triggered: len(m.triggers) > 0})
		for _, t := range m.triggers {
			trig = append(trig, t)
			d.trigOwner = append(d.trigOwner, len(d.markers)-1)
		}
	}
	d.triggers = newACMatcher(trig)
	d.trigLits = trig
	return d, nil
}

// Threshold returns the flagging threshold.
func (d *Detector) Threshold() float64 { return d.threshold }

// scratch is the per-call state pooled by Detector and Rules.
type scratch struct {
	n              Normalizer
	norm, folded   []byte
	norm2, folded2 []byte // views of a decoded span
	hits           []acHit
	sigs           map[int32]signal // signals seen, by key (see signalsOf)
	chain          [][]int          // per sequence, per group: end of the latest chain, or -1
	matched        []bool
	fired          []bool // markers or patterns whose literal is present
	marks          []bool // markers whose trigger is present, found by Rules
}

func (d *Detector) get() *scratch {
	if s, ok := d.pool.Get().(*scratch); ok {
		return s
	}
	return &scratch{sigs: map[int32]signal{}}
}

// Score scores text (raw, as the client sent it).
func (d *Detector) Score(text string) Detection {
	s := d.get()
	defer d.pool.Put(s)
	s.norm, s.folded = s.n.appendViews(s.norm[:0], s.folded[:0], text)
	return d.score(s, text, s.norm, s.folded, nil)
}

// score scores one text given its raw, normalized and folded forms.
// marks, when not nil, tells which markers have a trigger in norm (see
// signalsOf).
func (d *Detector) score(s *scratch, raw string, norm, folded []byte, marks []bool) Detection {
	clear(s.sigs)
	meta := d.signalsOf(s, norm, folded, marks)
	var outer map[int32]signal
	inner := 0.0
	for _, span := range Decoded(raw) {
		// Encoded spans are probed one level deep; their own signals
		// count, and being hidden is a signal in itself.
		if outer == nil {
			outer = make(map[int32]signal, len(s.sigs)+4)
		}
		for k, v := range s.sigs {
			outer[k] = v
		}
		s.norm2, s.folded2 = s.n.appendViews(s.norm2[:0], s.folded2[:0], span)
		clear(s.sigs)
		d.signalsOf(s, s.norm2, s.folded2, nil)
		inner = max(inner, combine(s.sigs))
		for k, v := range outer {
			s.sigs[k] = v
		}
	}
	if inner >= d.threshold {
		s.sigs[keyEncoded] = signal{EncodedPayload, wStrong}
	}
	score := combine(s.sigs)
	var cats []Category
	for _, sg := range s.sigs {
		if !slices.Contains(cats, sg.cat) {
			cats = append(cats, sg.cat)
		}
	}
	if meta && len(cats) == 1 {
		score *= damp
	}
	slices.Sort(cats)
	return Detection{Score: score, Flagged: score >= d.threshold, Categories: cats}
}

// Keys of s.sigs: phrase signals use their index, sequences and markers
// negative numbers.
const keyEncoded = -1

func seqKey(i int32) int32  { return -2 - i }
func markerKey(i int) int32 { return -1000 - int32(i) }

// signalsOf records the signals found in s.sigs, each once, and
// reports whether the text reads as a discussion about attacks. marks,
// when not nil, are the markers whose trigger occurs in norm, found by
// the caller in a pass it needed anyway; nil has them found here.
func (d *Detector) signalsOf(s *scratch, norm, folded []byte, marks []bool) (meta bool) {
	s.hits = d.phrases.matches(s.hits[:0], folded)
	if len(s.chain) != len(d.seqs) {
		s.chain = make([][]int, len(d.seqs))
		for i, sq := range d.seqs {
			s.chain[i] = make([]int, len(sq.groups))
		}
	}
	for _, c := range s.chain {
		for k := range c {
			c[k] = -1
		}
	}
	for _, h := range s.hits {
		o := d.owners[h.id]
		if o.sig < 0 {
			d.step(s, o, h, folded)
			continue
		}
		sg := d.signals[o.sig]
		if sg == metaSignal {
			meta = true
			continue
		}
		s.sigs[o.sig] = sg
	}
	if marks == nil {
		if cap(s.fired) < len(d.markers) {
			s.fired = make([]bool, len(d.markers))
		}
		marks = s.fired[:len(d.markers)]
		clear(marks)
		s.hits = d.triggers.appendHits(s.hits[:0], norm)
		for _, h := range s.hits {
			marks[d.trigOwner[h.id]] = true
		}
	}
	for i := range d.markers {
		m := &d.markers[i]
		if m.triggered && !marks[i] {
			continue
		}
		if _, seen := s.sigs[markerKey(i)]; !seen && m.re.Match(norm) {
			s.sigs[markerKey(i)] = m.signal
		}
	}
	return meta
}

// step advances sequence o.seq with a hit of its group o.group. Hits
// arrive in order of their end, so the latest chain end of the previous
// group is the closest one before this hit.
func (d *Detector) step(s *scratch, o owner, h acHit, folded []byte) {
	c := s.chain[o.seq]
	if o.group == 0 {
		c[0] = h.end
		return
	}
	prev := c[o.group-1]
	start := h.end - d.phrases.ac.lens[h.id]
	sq := &d.seqs[o.seq]
	if prev < 0 || prev > start || start-prev > sq.maxBytes {
		return
	}
	if words := bytes.Count(folded[prev:start], space) - 1; words > sq.maxWords {
		return
	}
	c[o.group] = h.end
	if int(o.group) == len(c)-1 {
		s.sigs[seqKey(o.seq)] = sq.signal
	}
}

var space = []byte{' '}

// combine treats distinct signals as independent evidence:
// 1 - Π(1 - w). A signal found twice counts once.
func combine(sigs map[int32]signal) float64 {
	p := 1.0
	for _, sg := range sigs {
		p *= 1 - sg.weight
	}
	return 1 - p
}
