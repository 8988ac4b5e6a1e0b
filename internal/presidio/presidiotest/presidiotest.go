// Package presidiotest serves a fake Microsoft Presidio Analyzer over real
// HTTP for tests. Presidio is a Python service with spaCy models that
// cannot run on the build machines; the fake follows its public REST API
// (presidio-analyzer/app.py): POST /analyze with text, language, entities
// and score_threshold (text may be a list, answered with a list of lists),
// results with entity_type, start, end (code point offsets), score and a
// null analysis_explanation, keys sorted as Presidio's json.dumps writes
// them; a missing text or language, or a language without recognizers, is
// a 500 with {"error": …}, a body that is not JSON a 400; GET /health,
// /supportedentities and /recognizers.
//
// It "recognizes" PERSON from a list of names and LOCATION from a list of
// cities, whole words only, with score 0.85. Tests can delay answers, force
// a status and read what was sent.
package presidiotest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Default word lists.
var (
	DefaultNames  = []string{"Jane", "Doe", "John", "Smith", "Maria", "Garcia", "Wei", "Zhang"}
	DefaultCities = []string{"Paris", "Berlin", "Lisbon", "Toronto", "Osaka"}
)

// Score is the score of every result.
const Score = 0.85

// Server is a fake analyzer.
type Server struct {
	*httptest.Server
	names, cities []string

	mu       sync.Mutex
	delay    time.Duration
	status   int
	requests int
	last     []byte
}

// New starts a fake analyzer with the default word lists.
func New() *Server {
	s := &Server{names: DefaultNames, cities: DefaultCities}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("Presidio Analyzer service is up"))
	})
	mux.HandleFunc("GET /supportedentities", func(w http.ResponseWriter, r *http.Request) {
		if lang := r.URL.Query().Get("language"); lang != "" && lang != "en" {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "No matching recognizers were found to serve the request."})
			return
		}
		writeJSON(w, http.StatusOK, []string{"LOCATION", "PERSON"})
	})
	mux.HandleFunc("GET /recognizers", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, []string{"FakeNameRecognizer", "FakeCityRecognizer"})
	})
	mux.HandleFunc("POST /analyze", s.analyze)
	s.Server = httptest.NewServer(mux)
	return s
}

// SetDelay delays every answer.
func (s *Server) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// SetStatus makes /analyze answer with status (0: normal answers).
func (s *Server) SetStatus(status int) { s.mu.Lock(); s.status = status; s.mu.Unlock() }

// Requests is the number of /analyze calls received.
func (s *Server) Requests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.requests }

// LastRequest is the body of the last /analyze call.
func (s *Server) LastRequest() []byte { s.mu.Lock(); defer s.mu.Unlock(); return s.last }

type analyzeRequest struct {
	Text           json.RawMessage `json:"text"`
	Language       string          `json:"language"`
	Entities       []string        `json:"entities"`
	ScoreThreshold *float64        `json:"score_threshold"`
}

// result is written with its keys in sorted order, as Presidio does.
type result struct {
	AnalysisExplanation any     `json:"analysis_explanation"`
	End                 int     `json:"end"`
	EntityType          string  `json:"entity_type"`
	Score               float64 `json:"score"`
	Start               int     `json:"start"`
}

func (s *Server) analyze(w http.ResponseWriter, r *http.Request) {
	body := make([]byte, 0, 512)
	buf := make([]byte, 4096)
	for {
		n, err := r.Body.Read(buf)
		body = append(body, buf[:n]...)
		if err != nil {
			break
		}
	}
	s.mu.Lock()
	s.requests++
	s.last = body
	delay, status := s.delay, s.status
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if status != 0 {
		writeJSON(w, status, map[string]string{"error": "forced failure"})
		return
	}
	var req analyzeRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "The browser (or proxy) sent a request that this server could not understand."})
		return
	}
	var texts []string
	batch := false
	if len(req.Text) > 0 && req.Text[0] == '[' {
		batch = true
		_ = json.Unmarshal(req.Text, &texts)
	} else if len(req.Text) > 0 {
		var t string
		_ = json.Unmarshal(req.Text, &t)
		if t != "" {
			texts = []string{t}
		}
	}
	switch {
	case len(texts) == 0:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "No text provided"})
		return
	case req.Language == "":
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "No language provided"})
		return
	case req.Language != "en":
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "No matching recognizers were found to serve the request."})
		return
	}
	all := make([][]result, len(texts))
	for i, t := range texts {
		all[i] = s.recognize(t, req)
	}
	if batch {
		writeJSON(w, http.StatusOK, all)
		return
	}
	writeJSON(w, http.StatusOK, all[0])
}

// recognize finds the listed words in text, with code point offsets.
func (s *Server) recognize(text string, req analyzeRequest) []result {
	out := []result{}
	runes := []rune(text)
	for i := 0; i < len(runes); {
		if !unicode.IsLetter(runes[i]) {
			i++
			continue
		}
		j := i
		for j < len(runes) && unicode.IsLetter(runes[j]) {
			j++
		}
		word := string(runes[i:j])
		typ := ""
		switch {
		case slices.Contains(s.names, word):
			typ = "PERSON"
		case slices.Contains(s.cities, word):
			typ = "LOCATION"
		}
		if typ != "" && (len(req.Entities) == 0 || slices.Contains(req.Entities, typ)) &&
			(req.ScoreThreshold == nil || Score >= *req.ScoreThreshold) {
			out = append(out, result{End: j, EntityType: typ, Score: Score, Start: i})
		}
		i = j
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(strings.TrimSpace(string(b))))
}
