package pii

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// phoneRegions are default regions whose plans cover the awkward parts of
// the metadata: national prefixes with transform rules and carrier codes
// (AR, BR, CO, MX), leading zeros that stay in the number (IT), "8" as trunk
// and "810" as international prefix (RU, BY), shared calling codes (US, GB,
// RU) and plain trunk-0 plans.
var phoneRegions = []string{"US", "CA", "GB", "DE", "IT", "BR", "AR", "CO", "MX", "RU", "BY", "IN", "FR", "AU",
	"JP", "CN", "CH", "NL", "SE", "KR", "ES", "PL", "IL", "ZA", "NG", "ID", "AT", "BE", "HU", "SM", "VA"}

func onlyDigits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// mutations returns d and near misses of it: every digit changed, one digit
// dropped or added, and the prefixes a national or international number may
// carry.
func mutations(d string, extra ...string) []string {
	out := []string{d, d[:len(d)-1], d + "5", d + "0"}
	for k := 0; k < len(d); k++ {
		out = append(out, d[:k]+string('0'+(d[k]-'0'+1)%10)+d[k+1:])
	}
	for _, p := range append([]string{"0", "1", "8", "00", "011", "810", "9"}, extra...) {
		out = append(out, p+d)
	}
	return out
}

var numberTypes = []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE,
	phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP,
	phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL}

// examples returns E.164 digits (without '+') and national-format digits of
// every example number the metadata has for region.
func examples(region string) (intl, national []string) {
	for _, typ := range numberTypes {
		num := phonenumbers.GetExampleNumberForType(region, typ)
		if num == nil {
			continue
		}
		intl = append(intl, onlyDigits(phonenumbers.Format(num, phonenumbers.E164)))
		national = append(national, onlyDigits(phonenumbers.Format(num, phonenumbers.NATIONAL)))
	}
	return intl, national
}

// checkPhone compares phoneValid with libphonenumber for d and counts the
// inputs both accept.
func checkPhone(t *testing.T, s *Scanner, d string, plus bool, valid *int) {
	t.Helper()
	if d == "" || len(d) > 17 {
		return
	}
	got, want := s.phoneValid(d, plus), s.phoneValidSlow(d, plus)
	if got != want {
		t.Errorf("region %s plus=%v %q: phoneValid %v, libphonenumber %v", s.region, plus, d, got, want)
	}
	if want {
		*valid++
	}
}

func TestPhoneValidMatchesLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) string {
		b := make([]byte, n)
		for k := range b {
			b[k] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	// International numbers: every region's and non-geographic entity's
	// examples, in a scanner whose default region plays no part.
	us, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	var valid, total int
	regions := make([]string, 0, len(phonenumbers.GetSupportedRegions()))
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	for _, r := range regions {
		intl, _ := examples(r)
		for _, d := range intl {
			for _, m := range mutations(d) {
				checkPhone(t, us, m, true, &valid)
				total++
			}
		}
	}
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		if num := phonenumbers.GetExampleNumberForNonGeoEntity(cc); num != nil {
			for _, m := range mutations(onlyDigits(phonenumbers.Format(num, phonenumbers.E164))) {
				checkPhone(t, us, m, true, &valid)
				total++
			}
		}
	}
	// Unknown calling codes and leading zeros go to the library; these must
	// agree too.
	for _, d := range []string{"0044207946095", "28123456789", "9991234567", "1", "12", "123"} {
		checkPhone(t, us, d, true, &valid)
		total++
	}
	// Viable national numbers that AR's transform rule would make unviable,
	// so the prefix stays.
	ar, err := New(Config{DefaultRegion: "AR"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"2981555771", "2801588101", "3581574856"} {
		checkPhone(t, ar, d, false, &valid)
		total++
	}
	// National numbers in each default region.
	for _, r := range phoneRegions {
		s, err := New(Config{DefaultRegion: r})
		if err != nil {
			t.Fatal(err)
		}
		intl, national := examples(r)
		cc := s.phonePlan.ccPrefix
		for _, d := range national {
			for _, m := range mutations(d, cc) {
				checkPhone(t, s, m, false, &valid)
				total++
			}
			// Carrier codes and mobile tokens inside the number, which
			// transform rules (AR's "0 11 15 …" to "9 11 …") rewrite.
			for k := 1; k < len(d) && k <= 5; k++ {
				for _, ins := range []string{"15", "12", "21", "41", "9"} {
					checkPhone(t, s, d[:k]+ins+d[k:], false, &valid)
					checkPhone(t, s, "0"+d[k:k+min(4, len(d)-k)]+ins+d[k:], false, &valid)
					total += 2
				}
			}
		}
		for _, d := range intl {
			checkPhone(t, s, d, false, &valid)
			checkPhone(t, s, d, true, &valid)
			total += 2
		}
		for k := 0; k < 200; k++ {
			d := random(7 + rng.IntN(9))
			checkPhone(t, s, d, false, &valid)
			checkPhone(t, s, d, true, &valid)
			total += 2
		}
	}
	// The comparison means little if libphonenumber rejected nearly all of it.
	if valid < total/10 {
		t.Fatalf("only %d of %d inputs are valid numbers", valid, total)
	}
	t.Logf("%d inputs, %d valid", total, valid)
}

func FuzzPhoneValid(f *testing.F) {
	scanners := make([]*Scanner, len(phoneRegions))
	for k, r := range phoneRegions {
		s, err := New(Config{DefaultRegion: r})
		if err != nil {
			f.Fatal(err)
		}
		scanners[k] = s
	}
	for _, seed := range []string{"4155552671", "14155552671", "442079460958", "0207946095", "3906698", "5491123456789",
		"01123456789", "8800555353", "80012345678"} {
		f.Add(seed, true, uint8(0))
		f.Add(seed, false, uint8(2))
	}
	f.Fuzz(func(t *testing.T, in string, plus bool, region uint8) {
		d := onlyDigits(in)
		if len(d) > 17 {
			d = d[:17]
		}
		s := scanners[int(region)%len(scanners)]
		var valid int
		checkPhone(t, s, d, plus, &valid)
	})
}
