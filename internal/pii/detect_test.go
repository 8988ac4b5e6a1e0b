package pii

import (
	"testing"

	"github.com/stretchr/testify/require"
)

type span struct {
	Type  Type
	Value string
}

func scanSpans(t *testing.T, s *Scanner, text string) []span {
	t.Helper()
	var out []span
	for _, f := range s.Scan(text) {
		require.True(t, f.Start >= 0 && f.End <= len(text) && f.Start < f.End)
		out = append(out, span{f.Type, text[f.Start:f.End]})
	}
	return out
}

func TestDetectors(t *testing.T) {
	s, err := New(Config{})
	require.NoError(t, err)
	tests := []struct {
		name string
		text string
		want []span
	}{
		// EMAIL
		{"email plain", "mail jane.doe+tag@example.co.uk now", []span{{Email, "jane.doe+tag@example.co.uk"}}},
		{"email sentence end", "Reach me at bob@corp.io.", []span{{Email, "bob@corp.io"}}},
		{"email in json", `{"email":"a_b@sub.example.com"}`, []span{{Email, "a_b@sub.example.com"}}},
		{"email mailto", `<a href="mailto:x@y.org">`, []span{{Email, "x@y.org"}}},
		{"neg email numeric tld", "user@host.123", nil},
		{"neg email one letter tld", "user@host.c", nil},
		{"neg handle", "ping @alice on slack", nil},
		{"neg decorator", "@app.route('/x')", nil},
		{"neg double dot", "a..b@example.com", nil},

		// PHONE
		{"phone us dashes", "call 415-555-2671 today", []span{{Phone, "415-555-2671"}}},
		{"phone us parens", "tel: (415) 555-2671.", []span{{Phone, "(415) 555-2671"}}},
		{"phone e164", "wa +14155552671", []span{{Phone, "+14155552671"}}},
		{"phone intl spaced", "office +44 20 7946 0958", []span{{Phone, "+44 20 7946 0958"}}},
		{"phone de", "Ruf +49 30 901820", []span{{Phone, "+49 30 901820"}}},
		{"phone dots", "415.555.2671", []span{{Phone, "415.555.2671"}}},
		{"neg order number", "order #4155552671 shipped", nil},
		{"neg date", "on 2024-01-15 we met", nil},
		{"neg date time", "at 2024-01-15 10:30", nil},
		{"neg isbn", "ISBN 978-3-16-148410-0", nil},
		{"neg unix ts", "ts=1700000000", nil},

		// CREDIT_CARD
		{"visa spaced", "card 4111 1111 1111 1111 exp", []span{{CreditCard, "4111 1111 1111 1111"}}},
		{"visa plain", "4111111111111111", []span{{CreditCard, "4111111111111111"}}},
		{"mc 2-series", "mc 2223-0031-2200-3222", []span{{CreditCard, "2223-0031-2200-3222"}}},
		{"mc 5", "5555555555554444", []span{{CreditCard, "5555555555554444"}}},
		{"amex", "amex 3782 822463 10005", []span{{CreditCard, "3782 822463 10005"}}},
		{"discover", "6011111111111117", []span{{CreditCard, "6011111111111117"}}},
		{"jcb", "3530111333300000", []span{{CreditCard, "3530111333300000"}}},
		{"diners", "30569309025904", []span{{CreditCard, "30569309025904"}}},
		{"unionpay", "6200000000000005", []span{{CreditCard, "6200000000000005"}}},
		{"neg luhn", "4111 1111 1111 1112", nil},
		{"neg issuer", "9111111111111111 is luhn-ok? no issuer", nil},
		{"neg mixed sep", "4111-1111 1111-1111", nil},
		{"neg double space", "4111  1111  1111  1111", nil},
		{"neg tracking", "UPS 1Z999AA10123456784", nil},

		// US_SSN
		{"ssn", "SSN 123-45-6789.", []span{{USSSN, "123-45-6789"}}},
		{"neg ssn 999", "id 999-45-6789", nil},
		{"neg ssn 666", "666-45-6789", nil},
		{"neg ssn 000", "000-45-6789", nil},
		{"neg ssn group 00", "123-00-6789", nil},
		{"neg ssn serial", "123-45-0000", nil},
		{"neg ssn unformatted", "123456789", nil},
		{"neg ssn glued", "x-123-45-6789", nil},

		// IBAN
		{"iban de", "IBAN DE89370400440532013000 ok", []span{{IBAN, "DE89370400440532013000"}}},
		{"iban gb spaced", "GB82 WEST 1234 5698 7654 32", []span{{IBAN, "GB82 WEST 1234 5698 7654 32"}}},
		{"iban fr", "FR1420041010050500013M02606", []span{{IBAN, "FR1420041010050500013M02606"}}},
		{"neg iban checksum", "DE89370400440532013001", nil},
		{"neg iban length", "DE8937040044053201300", nil},
		{"neg iban country", "ZZ89370400440532013000", nil},

		// IPV4 / IPV6
		{"ipv4", "host 192.168.1.10 up", []span{{IPv4, "192.168.1.10"}}},
		{"ipv4 port", "10.0.0.1:8080", []span{{IPv4, "10.0.0.1"}}},
		{"ipv4 sentence", "ping 8.8.8.8.", []span{{IPv4, "8.8.8.8"}}},
		{"neg version 3", "version 1.2.3 released", nil},
		{"neg five parts", "1.2.3.4.5", nil},
		{"neg octet", "256.1.1.1", nil},
		{"neg v-prefixed", "v1.2.3.4", nil},
		{"neg leading zero", "01.02.03.04", nil},
		{"ipv6 full", "addr 2001:0db8:85a3:0000:0000:8a2e:0370:7334 x", []span{{IPv6, "2001:0db8:85a3:0000:0000:8a2e:0370:7334"}}},
		{"ipv6 short", "via 2001:db8::ff00:42:8329", []span{{IPv6, "2001:db8::ff00:42:8329"}}},
		{"ipv6 loopback", "bind [::1]:8080", []span{{IPv6, "::1"}}},
		{"ipv6 zone", "fe80::1%eth0 link", []span{{IPv6, "fe80::1%eth0"}}},
		{"neg cpp", "std::vector<int>", nil},
		{"neg time", "at 12:30:45 today", nil},
		{"neg rust path", "use a::b::c;", nil},

		// MAC
		{"mac colon", "mac 00:1A:2B:3C:4D:5E", []span{{MAC, "00:1A:2B:3C:4D:5E"}}},
		{"mac dash", "aa-bb-cc-dd-ee-ff", []span{{MAC, "aa-bb-cc-dd-ee-ff"}}},
		{"mac cisco", "0011.2233.4455", []span{{MAC, "0011.2233.4455"}}},
		{"neg mac mixed", "00:1A-2B:3C:4D:5E", nil},
		{"neg mac long", "00:1A:2B:3C:4D:5E:6F", nil},

		// AWS / SECRET / JWT / URL
		{"aws", "key=AKIAIOSFODNN7EXAMPLE;", []span{{AWSAccessKey, "AKIAIOSFODNN7EXAMPLE"}}},
		{"neg aws short", "AKIAIOSFODNN7", nil},
		{"openai", `"sk-proj-abc123DEF456ghi789JKL012mno"`, []span{{Secret, "sk-proj-abc123DEF456ghi789JKL012mno"}}},
		{"github", "ghp_16C7e42F292c6912E7710c838347Ae178B4a ok", []span{{Secret, "ghp_16C7e42F292c6912E7710c838347Ae178B4a"}}},
		{"github pat", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", []span{{Secret, "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"}}},
		{"slack", "xoxb-1234567890-abcdefghij", []span{{Secret, "xoxb-1234567890-abcdefghij"}}},
		{"pem", "k: -----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n-----END RSA PRIVATE KEY----- end", []span{{Secret, "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n-----END RSA PRIVATE KEY-----"}}},
		{"neg pem public", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", nil},
		{"neg sk words", "sk-learn-is-a-python-library", nil},
		{"jwt", "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", []span{{JWT, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}}},
		{"neg jwt no alg", "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.abc", nil},
		{"neg jwt two parts", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0", nil},
		{"url creds", "postgres://admin:s3cr3t@db.internal:5432/app", []span{{URLCredentials, "admin:s3cr3t@db.internal:5432"}}},
		{"neg url no password", "https://user@github.com/x", nil},
		{"neg url plain", "https://example.com/a@b", nil},
		{"neg uuid", "id 550e8400-e29b-41d4-a716-446655440000", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, scanSpans(t, s, tc.text))
		})
	}
}
