package pii

// luhn reports whether the ASCII digits pass the Luhn checksum.
func luhn(d []byte) bool {
	sum, dbl := 0, false
	for k := len(d) - 1; k >= 0; k-- {
		v := int(d[k] - '0')
		if dbl {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		dbl = !dbl
	}
	return sum%10 == 0
}

func prefixNum(d []byte, n int) int {
	v := 0
	for k := 0; k < n && k < len(d); k++ {
		v = v*10 + int(d[k]-'0')
	}
	return v
}

// validCard checks issuer prefix, length and Luhn.
func validCard(d []byte) bool {
	n := len(d)
	if n < 13 || n > 19 {
		return false
	}
	p1, p2, p3, p4, p6 := prefixNum(d, 1), prefixNum(d, 2), prefixNum(d, 3), prefixNum(d, 4), prefixNum(d, 6)
	ok := false
	switch {
	case p1 == 4: // Visa
		ok = n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		ok = n == 16
	case p2 == 34 || p2 == 37: // Amex
		ok = n == 15
	case p4 == 6011, p3 >= 644 && p3 <= 649, p2 == 65, p6 >= 622126 && p6 <= 622925: // Discover
		ok = n >= 16 && n <= 19
	case p4 >= 3528 && p4 <= 3589: // JCB
		ok = n >= 16 && n <= 19
	case p3 >= 300 && p3 <= 305, p4 == 3095, p2 == 36, p2 == 38, p2 == 39: // Diners
		ok = n >= 14 && n <= 19
	case p2 == 62, p2 == 81: // UnionPay
		ok = n >= 16 && n <= 19
	}
	return ok && luhn(d)
}

func num3(s string) int {
	v := 0
	for k := 0; k < len(s); k++ {
		v = v*10 + int(s[k]-'0')
	}
	return v
}

// validSSN applies the SSA rules: area not 000, 666 or 900-999; group not
// 00; serial not 0000.
func validSSN(area, group, serial string) bool {
	a := num3(area)
	return a != 0 && a != 666 && a < 900 && num3(group) != 0 && num3(serial) != 0
}

var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
	"BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
	"DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
	"GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
	"IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
	"LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
	"MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
	"PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
	"SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

func ibanLength(cc string) int { return ibanLengths[cc] }

// validIBAN checks the mod-97 rule of ISO 13616 on an upper-case IBAN
// without spaces.
func validIBAN(s []byte) bool {
	if len(s) < 15 || !isDigit(s[2]) || !isDigit(s[3]) {
		return false
	}
	rem := 0
	feed := func(b byte) {
		if isDigit(b) {
			rem = (rem*10 + int(b-'0')) % 97
		} else {
			rem = (rem*100 + int(b-'A') + 10) % 97
		}
	}
	for _, b := range s[4:] {
		feed(b)
	}
	for _, b := range s[:4] {
		feed(b)
	}
	return rem == 1
}
