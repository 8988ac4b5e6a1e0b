package tokens_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The equivalence corpus is generated, not stored: a fixed seed makes it the
// same on every run, and the generators aim at the places where a
// hand-written pre-tokenizer can diverge from the regular expression (case
// classes, marks, contractions, white-space runs, digits, invalid UTF-8).

var prose = []string{
	// English
	"The quick brown fox jumps over the lazy dog. It's what they'd said they'll do, and we've done it.",
	"I'm sure you're right: HE'S DONE IT AGAIN, and THEY'LL never know. Don't. Won't. Can't. Shouldn't've.",
	"Tokenization is the process of splitting text into pieces that a language model can understand.",
	// German
	"Die Straße war nass, und Jürgen fuhr mit dem Fahrrad über die Brücke nach Köln. Größenänderung!",
	"Donaudampfschifffahrtsgesellschaftskapitän ÄÖÜ äöü ß ẞ — „Anführungszeichen“ und ‚einfache‘.",
	// French
	"L'été dernier, nous sommes allés à la plage ; c'était formidable ! Où est l'hôtel « Le Château » ?",
	"Ça va ? Qu'est-ce que c'est ? J'ai mangé une crème brûlée à Noël. ŒUVRE, œuvre, Ÿ, ÿ.",
	// Spanish, Portuguese, Polish, Turkish, Vietnamese, Greek
	"¿Dónde está la biblioteca? ¡Qué bien! Mañana iré a São Paulo. Zażółć gęślą jaźń. İstanbul'da ılık.",
	"Tiếng Việt có dấu: Nguyễn, Trường, Hà Nội. Ελληνικά: Καλημέρα κόσμε, ΣΊΣΥΦΟΣ ς σ.",
	// Chinese
	"我们今天去公园散步，天气非常好。人工智能正在改变世界，大型语言模型需要分词器。",
	"中華人民共和國的首都是北京。繁體字與簡體字：龍龙、國国、學学。",
	// Japanese
	"東京は日本の首都です。ひらがな、カタカナ、漢字を使います。ｶﾀｶﾅ（半角）とカタカナ（全角）。",
	"吾輩は猫である。名前はまだ無い。ー〜ゝゞヽヾ々〆〇",
	// Korean
	"안녕하세요, 세계! 한국어는 한글로 씁니다. 대한민국의 수도는 서울입니다. ㄱㄴㄷㅏㅑ",
	// Arabic
	"مرحبا بالعالم! اللغة العربية جميلة جدا. السَّلَامُ عَلَيْكُمْ وَرَحْمَةُ اللهِ. ١٢٣٤٥٦٧٨٩٠ ؟ ،",
	// Hebrew
	"שלום עולם! עברית נכתבת מימין לשמאל. בְּרֵאשִׁית בָּרָא אֱלֹהִים. ״ציטוט״ ׳גרש׳",
	// Hindi
	"नमस्ते दुनिया! हिन्दी भाषा देवनागरी लिपि में लिखी जाती है। क्षत्रिय, ज्ञान, श्री। १२३४",
	// Russian, Ukrainian
	"Привет, мир! Съешь же ещё этих мягких французских булок, да выпей чаю. ЁЛКА ёлка. Ґанок, їжак.",
	// Thai
	"สวัสดีชาวโลก ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ กรุงเทพมหานคร ๑๒๓",
	// Others: Armenian, Georgian, Amharic, Tamil, Bengali, Devanagari marks, Mongolian, Cherokee
	"Բարեւ աշխարհ. გამარჯობა მსოფლიო. ሰላም ልዑል. வணக்கம் உலகம். ওহে বিশ্ব. ᠮᠣᠩᠭᠣᠯ. ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ.",
	// Titlecase digraphs, modifier letters, combining marks on Latin
	"ǅungla ǈudi ǋ ǲ; ʰʲʷ ˆˇ ᵃᵇᶜ; e\u0301 a\u0308 n\u0303 o\u0302\u0323 Z\u0335\u0336; ﬁﬂ ﬃ; Ⅻ ⅻ ½ ² ³ ①②.",
}

var emoji = []string{
	"😀", "😂", "🥲", "👍", "👍🏽", "👋🏿", "🧑‍💻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🏴‍☠️", "❤️", "❤️‍🔥",
	"🇺🇸", "🇩🇪", "🇯🇵", "🇫🇷🇧🇷", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "1️⃣", "#️⃣", "©️", "™", "🤷‍♀️", "🧔🏻‍♂️", "🫠", "🪿",
	"☕", "⌚", "✈︎", "✈️", "👩🏾‍🤝‍👨🏻", "🙇‍♂", "🐈‍⬛", "💯", "🔥🔥🔥",
}

var code = []string{
	"package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\tif len(os.Args) < 2 {\n\t\tfmt.Fprintln(os.Stderr, \"usage: hello NAME\")\n\t\tos.Exit(2)\n\t}\n\tfmt.Printf(\"hello, %s!\\n\", os.Args[1])\n}\n",
	"def fib(n: int) -> int:\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n\nif __name__ == '__main__':\n    print([fib(i) for i in range(20)])\n",
	"const express = require('express');\nconst app = express();\n\napp.get('/api/v1/users/:id', async (req, res) => {\n  const user = await db.users.findOne({ id: req.params.id });\n  res.json(user ?? { error: `not found: ${req.params.id}` });\n});\n// TODO: add auth\napp.listen(3000);\n",
	"fn main() {\n    let v: Vec<u32> = (1..=10).map(|x| x * x).collect();\n    println!(\"{:?}\", v);\n    match v.get(3) {\n        Some(&x) if x > 5 => println!(\"big {x}\"),\n        _ => {}\n    }\n}\n",
	"#include <stdio.h>\n\nint main(int argc, char **argv) {\n    for (int i = 0; i < argc; ++i) {\n        printf(\"%d: %s\\n\", i, argv[i]);\n    }\n    return 0;\n}\n",
	"SELECT u.id, u.name, COUNT(o.id) AS orders\nFROM users u\nLEFT JOIN orders o ON o.user_id = u.id\nWHERE u.created_at >= '2024-01-01'\nGROUP BY u.id, u.name\nHAVING COUNT(o.id) > 3\nORDER BY orders DESC;\n",
	"#!/usr/bin/env bash\nset -euo pipefail\nfor f in *.log; do\n  grep -E '^(ERROR|WARN)' \"$f\" | awk '{print $1, $NF}' >> /tmp/out.txt 2>&1 || true\ndone\n",
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Test &amp; more</title></head>\n<body>\n  <div class=\"container\" id='main'>&nbsp;<p>Hello&mdash;world</p></div>\n</body>\n</html>\r\n",
	"public class Main {\r\n    public static void main(String[] args) {\r\n        System.out.println(\"Hello\");\r\n    }\r\n}\r\n",
	"(defun square (x) (* x x))\n(mapcar #'square '(1 2 3))\n",
	"   \t  x := y // trailing spaces   \n\t\t\n    \n",
}

var snippets = []string{
	"https://example.com/path/to/resource?query=value&other=123#fragment",
	"http://user:pass@192.168.0.1:8080/a/b/c.html", "ftp://files.example.org/pub/ISO/", "mailto:someone@example.com",
	`{"model":"gpt-4o","messages":[{"role":"user","content":"Hi!"}],"temperature":0.7,"stream":true,"n":null}`,
	"{\n  \"id\": \"chatcmpl-123\",\n  \"usage\": {\"prompt_tokens\": 9, \"completion_tokens\": 12},\n  \"ok\": true\n}\n",
	"# Title\n\n## Section 1\n\n- item **bold** and _italic_\n- [link](https://x.y/z) `code`\n\n```go\nx := 1\n```\n\n> quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
	"<|endoftext|>", "<|endofprompt|>", "<|fim_prefix|>",
	"C:\\Users\\Admin\\Documents\\file.txt", "/usr/local/bin//", "a//b///c", "!!!\n\n///\r\n", "...///\n/",
	"$1,234,567.89", "-0.000001", "1e-10", "3.14159265358979323846", "+49 (0)30 1234-5678", "2024-12-31T23:59:59.999Z",
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ABCDEFGHabcdefgh", "iPhone", "McDonald's", "HTTPServer",
	"base64: SGVsbG8gV29ybGQhIFRoaXMgaXMgYSB0ZXN0Lg==", "sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
}

var (
	contractions = []string{"'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'x", "'", "''", "'r", "'v", "'l", "'S", "'T", "'RE", "'Re", "'rE", "'VE", "'M", "'LL", "'Ll", "'lL", "'D", "’s"}
	spaces       = []string{" ", " ", " ", "  ", "\t", "\n", "\r\n", "\r", "\n\n", "\v", "\f", "\u00a0", "\u0085", "\u2003", "\u3000", "\u2028", "\u2029", "\u200b", "\ufeff", "\u180e", " \n ", "\t \t"}
	puncts       = []rune("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~¡¿«»—–…·•¶§©®°±×÷€£¥₹‰′″‹›「」『』【】《》、。，！？：；")
)

// corpus returns deterministic documents of about size bytes in total.
func corpus(seed uint64, size int) []string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var docs []string
	total := 0
	for total < size {
		var b strings.Builder
		for b.Len() < 256+r.IntN(4096) {
			writeFragment(r, &b)
		}
		d := b.String()
		docs = append(docs, d)
		total += len(d)
	}
	return docs
}

func writeFragment(r *rand.Rand, b *strings.Builder) {
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	switch r.IntN(12) {
	case 0, 1:
		b.WriteString(pick(prose))
	case 2:
		b.WriteString(pick(code))
	case 3:
		b.WriteString(pick(snippets))
	case 4:
		for range 1 + r.IntN(6) {
			b.WriteString(pick(emoji))
			if r.IntN(3) == 0 {
				b.WriteString(pick(spaces))
			}
		}
	case 5: // numbers of all lengths, with and without separators
		n := 1 + r.IntN(40)
		for range n {
			b.WriteByte(byte('0' + r.IntN(10)))
			if r.IntN(8) == 0 {
				b.WriteString(pick([]string{",", ".", " ", "_", "-", "٫", "e"}))
			}
		}
		if r.IntN(4) == 0 {
			b.WriteString(pick([]string{"١٢٣", "１２３", "²³", "Ⅷ", "߁߂", "𝟙𝟚", "⑴", "〇"}))
		}
	case 6: // white-space runs between and after words
		for range 1 + r.IntN(5) {
			for range 1 + r.IntN(4) {
				b.WriteString(pick(spaces))
			}
			if r.IntN(3) > 0 {
				b.WriteString(pick([]string{"word", "Wort", "x", "1", "!", "мир", "中", "é", "'s", "😀", "\u0301", "A"}))
			}
		}
	case 7: // contractions in every case, glued to words
		for range 1 + r.IntN(6) {
			b.WriteString(pick([]string{"it", "IT", "they", "THEY", "we", "", " ", "O", "ÉTÉ", "ǅ", "ʰ", "中", "1", "\u0301", "x\u0301"}))
			b.WriteString(pick(contractions))
			b.WriteString(pick([]string{"", " ", "s", "S", "ll", "x", "\n", "'", "é"}))
		}
	case 8: // punctuation runs, trailing line breaks and slashes
		if r.IntN(2) == 0 {
			b.WriteByte(' ')
		}
		for range 1 + r.IntN(8) {
			b.WriteRune(puncts[r.IntN(len(puncts))])
		}
		b.WriteString(pick([]string{"", "\n", "\r\n", "/", "//\n", "\n/", " ", "a", "1"}))
	case 9: // random Unicode, weighted towards interesting ranges
		for range 1 + r.IntN(40) {
			b.WriteRune(randomRune(r))
		}
	case 10: // mixed-case words
		for range 1 + r.IntN(8) {
			w := []rune(pick([]string{"hello", "world", "straße", "ǆemal", "ωμέγα", "привет", "ǉubav", "tokenizer"}))
			for i := range w {
				switch r.IntN(3) {
				case 0:
					w[i] = []rune(strings.ToUpper(string(w[i])))[0]
				case 1:
					if r.IntN(4) == 0 {
						w[i] = []rune(strings.ToTitle(string(w[i])))[0]
					}
				}
			}
			b.WriteString(string(w))
			b.WriteString(pick([]string{" ", "", "-", "_", "\n", "'s", "'LL"}))
		}
	case 11: // invalid UTF-8, rarely
		if r.IntN(8) == 0 {
			b.WriteString(pick([]string{"\xff", "\xc3", "\xe2\x82", "\xf0\x9f\x98", "\x80\x80", "a\xffb", "\xed\xa0\x80"}))
		} else {
			fmt.Fprintf(b, "%d %x %q %v ", r.Int64(), r.Uint32(), pick(prose)[:10], r.Float64())
		}
	}
}

func randomRune(r *rand.Rand) rune {
	ranges := [][2]rune{
		{0x20, 0x7e}, {0x00, 0x20}, {0x80, 0x24f}, {0x250, 0x2ff}, {0x300, 0x36f}, {0x370, 0x52f},
		{0x590, 0x6ff}, {0x900, 0xdff}, {0xe00, 0xeff}, {0x1000, 0x1fff}, {0x2000, 0x206f},
		{0x2070, 0x2bff}, {0x2c00, 0x2fff}, {0x3000, 0x30ff}, {0x3100, 0x9fff}, {0xa000, 0xd7ff},
		{0xe000, 0xffff}, {0x10000, 0x1ffff}, {0x1f300, 0x1faff}, {0x20000, 0x2ffff}, {0xe0000, 0xe01ef},
		{0x0, 0x10ffff},
	}
	g := ranges[r.IntN(len(ranges))]
	return g[0] + rune(r.IntN(int(g[1]-g[0]+1)))
}
