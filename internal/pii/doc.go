// Package pii finds personal data and secrets in text and reports them as
// typed byte spans. It is the detector library behind the tollgate-pii-mask
// plugin and has no Kong dependency.
//
// # Usage
//
// Build a [Scanner] once per configuration with [New] and call
// [Scanner.Scan] for each text; a Scanner is safe for concurrent use.
// Findings carry only a [Type], byte offsets and a score, never the matched
// text, so they can be logged; callers slice their own input to mask it.
//
// # Detection
//
// Scan makes one linear pass over the text. Cheap byte tests pick candidate
// spans ('@' for e-mail, digit runs for cards, SSNs, phones and IPv4,
// colons for IPv6 and MACs, prefixes such as "AKIA", "sk-", "ghp_", "xox",
// "eyJ" and "-----BEGIN " for keys and tokens, "://" for credentials in
// URLs), and only candidates are validated:
//
//   - CREDIT_CARD: 13-19 digits, plain or in groups joined by single spaces
//     or single dashes (one kind per number), a known issuer prefix and length
//     (Visa, Mastercard including 2221-2720, Amex, Discover, JCB, Diners,
//     UnionPay) and the Luhn checksum.
//   - US_SSN: only the formatted ddd-dd-dddd form with a valid area (not
//     000, 666 or 900-999), group (not 00) and serial (not 0000). Bare
//     nine-digit runs are not reported: they are mostly IDs and amounts.
//   - IBAN: upper-case country code with that country's length, mod-97 == 1,
//     optionally in space-separated groups of four. Lower-case IBANs are not
//     reported.
//   - IPV4 and IPV6: candidate spans parsed by net/netip; dotted strings with
//     other than four parts (1.2.3, 1.2.3.4.5) and out-of-range octets are
//     rejected. IPv6 needs a digit and either three groups or "::".
//   - MAC: six hex pairs with one consistent separator (':' or '-'), or the
//     dotted xxxx.xxxx.xxxx form.
//   - PHONE: runs of digits, spaces, '-', '.', '(' and ')' parsed with
//     libphonenumber in Config.DefaultRegion and kept if valid. National
//     numbers need at least one separator and must not look like dates;
//     unseparated runs count only with a leading '+'.
//   - EMAIL: dot-atom local part up to 64 bytes, dotted domain whose last
//     label is at least two letters.
//   - JWT: three base64url segments whose first decodes to a JSON object with
//     a string "alg".
//   - SECRET: OpenAI-style sk- keys, GitHub ghp_/gho_/ghu_/ghs_/ghr_ and
//     github_pat_ tokens, Slack xox*- tokens and PEM private-key blocks.
//   - AWS_ACCESS_KEY: AKIA/ASIA/AROA/AIDA followed by 16 upper-case
//     letters or digits.
//   - URL_CREDENTIALS: the user:password@host part of scheme://user:password@host.
//
// Custom entities ([CustomEntity]) are regular expressions run over the
// whole text after the pass, so each one costs a full regexp scan.
//
// # Cost
//
// On text without candidates the pass runs at hundreds of MB/s and does not
// allocate. Phone candidates that pass the cheap shape checks above
// (separators, digit counts, the North American 3-3-4 grouping for NANP
// regions) are validated against libphonenumber's metadata with each
// region's patterns compiled once, a few microseconds per candidate instead
// of the ~17 µs of phonenumbers.Parse plus IsValidNumber; the answer is the
// library's (a test compares them), and the rare inputs that need more of
// the library (an unknown calling code after '+', a national number starting
// with the region's international prefix or calling code) go to it. A
// region's patterns are compiled on first use: New compiles the default
// region's, a '+' number compiles its country's. Text dense with PII runs
// at tens of MB/s, a fifth to a half of it spent on phones; drop PHONE from
// Config.Types when that cost matters more than phone recall.
//
// # Overlaps
//
// Findings are sorted by Start and never overlap: among overlapping
// candidates the longest span wins, then the higher score. A credential URL
// therefore hides the e-mail-like "password@host" inside it.
package pii
