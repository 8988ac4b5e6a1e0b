// Package piimask is the tollgate-pii-mask Kong plugin: in the access phase
// it finds personal data in an LLM request (package pii's detectors plus
// custom entities), replaces it in the body sent upstream by placeholders,
// masks, keyed hashes or [TYPE] redactions, or refuses the request, and
// hands the placeholder map sealed to egress, which puts the values back
// into the answer (package unmask).
package piimask
