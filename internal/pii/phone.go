package pii

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Phone validation answers exactly what phonenumbers.Parse followed by
// validPhone answers, for the only inputs the scanner produces: ASCII digits,
// optionally after a '+'. For those inputs most of Parse is dead weight (the
// extension, punctuation, RFC 3966 and alpha-number regexps cannot match
// digits) and the rest keys libphonenumber's regexp cache by concatenating and
// hashing multi-kilobyte patterns on every call. phonePlan holds one region's
// metadata with its patterns compiled once; phoneValid walks the same steps
// as parseHelper and IsValidNumberForRegion over it. The paths that need
// more of libphonenumber (an unknown calling code after '+', a national
// number that starts with the region's international prefix or calling code)
// are handed to the library itself. TestPhoneValidMatchesLibrary and
// FuzzPhoneValid compare the two.

// phoneDesc is a PhoneNumberDesc with its national-number pattern compiled.
type phoneDesc struct {
	lengths []int32
	re      *regexp.Regexp // ^(?:pattern)$
}

func newPhoneDesc(d *phonenumbers.PhoneNumberDesc) phoneDesc {
	return phoneDesc{lengths: d.GetPossibleLength(), re: regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$")}
}

// match is libphonenumber's isNumberMatchingDesc.
func (d *phoneDesc) match(nsn string) bool {
	if len(d.lengths) > 0 && !slices.Contains(d.lengths, int32(len(nsn))) {
		return false
	}
	return d.re.MatchString(nsn)
}

// phonePlan is the metadata of one region or non-geographic calling code.
type phonePlan struct {
	meta *phonenumbers.PhoneMetadata
	once sync.Once

	cc        int32
	ccPrefix  string         // cc in decimal
	idd       *regexp.Regexp // ^(?:international prefix)
	npfp      *regexp.Regexp // ^(?:national prefix for parsing), nil if none
	transform string
	lengths   []int32 // general possible lengths
	local     []int32 // general local-only lengths
	leading   *regexp.Regexp
	// general first, then the types in getNumberTypeHelper's order up to
	// fixed line; mobile is separate.
	general, fixed, mobile phoneDesc
	special                [8]phoneDesc
	sameMobileFixed        bool
}

func (p *phonePlan) compile() *phonePlan {
	p.once.Do(func() {
		m := p.meta
		p.cc = m.GetCountryCode()
		p.ccPrefix = strconv.Itoa(int(p.cc))
		p.idd = regexp.MustCompile("^(?:" + m.GetInternationalPrefix() + ")")
		if np := m.GetNationalPrefixForParsing(); np != "" {
			p.npfp = regexp.MustCompile("^(?:" + np + ")")
		}
		p.transform = m.GetNationalPrefixTransformRule()
		p.lengths = m.GetGeneralDesc().GetPossibleLength()
		p.local = m.GetGeneralDesc().GetPossibleLengthLocalOnly()
		if ld := m.GetLeadingDigits(); ld != "" {
			p.leading = regexp.MustCompile("^(?:" + ld + ")")
		}
		p.general = newPhoneDesc(m.GetGeneralDesc())
		for k, d := range []*phonenumbers.PhoneNumberDesc{m.GetPremiumRate(), m.GetTollFree(), m.GetSharedCost(),
			m.GetVoip(), m.GetPersonalNumber(), m.GetPager(), m.GetUan(), m.GetVoicemail()} {
			p.special[k] = newPhoneDesc(d)
		}
		p.fixed = newPhoneDesc(m.GetFixedLine())
		p.mobile = newPhoneDesc(m.GetMobile())
		p.sameMobileFixed = m.GetSameMobileAndFixedLinePattern()
	})
	return p
}

// known is getNumberTypeHelper(nsn) != UNKNOWN.
func (p *phonePlan) known(nsn string) bool {
	if !p.general.match(nsn) {
		return false
	}
	for k := range p.special {
		if p.special[k].match(nsn) {
			return true
		}
	}
	if p.fixed.match(nsn) {
		return true
	}
	return !p.sameMobileFixed && p.mobile.match(nsn)
}

// stripNationalPrefix is maybeStripNationalPrefixAndCarrierCode without the
// carrier code.
func (p *phonePlan) stripNationalPrefix(n string) string {
	if len(n) == 0 || p.npfp == nil {
		return n
	}
	groups := p.npfp.FindStringSubmatchIndex(n)
	if groups == nil {
		return n
	}
	viable := p.general.re.MatchString(n)
	numGroups := len(groups)/2 - 1
	if p.transform == "" || groups[numGroups*2] < 0 {
		if viable && !p.general.re.MatchString(n[groups[1]:]) {
			return n
		}
		return n[groups[1]:]
	}
	t := p.npfp.ReplaceAllString(n, p.transform)
	if viable && !p.general.re.MatchString(t) {
		return n
	}
	return t
}

// lengthUsable reports whether testNumberLength(n, UNKNOWN) is IS_POSSIBLE or
// TOO_LONG, the results for which parseHelper keeps the stripped number.
func (p *phonePlan) lengthUsable(n string) bool {
	l := int32(len(n))
	switch {
	case len(p.lengths) == 0 || p.lengths[0] == -1: // INVALID_LENGTH
		return false
	case slices.Contains(p.local, l): // IS_POSSIBLE_LOCAL_ONLY
		return false
	case p.lengths[0] == l: // IS_POSSIBLE
		return true
	case p.lengths[0] > l: // TOO_SHORT
		return false
	case p.lengths[len(p.lengths)-1] < l: // TOO_LONG
		return true
	}
	return slices.Contains(p.lengths[1:], l)
}

var phonePlans = sync.OnceValues(func() (map[string]*phonePlan, map[int32]*phonePlan) {
	regions, nonGeo := map[string]*phonePlan{}, map[int32]*phonePlan{}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil { // the library panics at init before this can happen
		return regions, nonGeo
	}
	supported := phonenumbers.GetSupportedRegions()
	for _, m := range coll.GetMetadata() {
		switch id := m.GetId(); {
		case id == "001":
			nonGeo[m.GetCountryCode()] = &phonePlan{meta: m}
		case supported[id]:
			regions[id] = &phonePlan{meta: m}
		}
	}
	return regions, nonGeo
})

// regionPlan is getMetadataForRegion, compiled; nil for unknown regions.
func regionPlan(region string) *phonePlan {
	regions, _ := phonePlans()
	if p := regions[region]; p != nil {
		return p.compile()
	}
	return nil
}

// planFor is getMetadataForRegionOrCallingCode, compiled.
func planFor(cc int32, region string) *phonePlan {
	if region == "001" {
		if len(phonenumbers.GetRegionCodesForCountryCode(int(cc))) == 0 {
			return nil
		}
		_, nonGeo := phonePlans()
		if p := nonGeo[cc]; p != nil {
			return p.compile()
		}
		return nil
	}
	return regionPlan(region)
}

// phoneValid reports whether digits (ASCII, after a '+' when plus) parse in
// the scanner's default region and are a valid number: for a national
// number, valid in that region; for an international one, valid in the
// main region of its calling code or in any region sharing it.
func (s *Scanner) phoneValid(digits string, plus bool) bool {
	home := s.phonePlan
	if home == nil {
		return s.phoneValidSlow(digits, plus)
	}
	var plan *phonePlan
	var main string
	var cc int32
	var nat string
	if plus {
		if len(digits) <= 2 || digits[0] == '0' {
			return s.phoneValidSlow(digits, plus)
		}
		for k := 1; k <= 3 && k <= len(digits); k++ {
			v, _ := strconv.Atoi(digits[:k])
			if len(phonenumbers.GetRegionCodesForCountryCode(v)) > 0 {
				cc, nat = int32(v), digits[k:]
				break
			}
		}
		if cc == 0 {
			return s.phoneValidSlow(digits, plus)
		}
		main = phonenumbers.GetRegionCodeForCountryCode(int(cc))
		plan = planFor(cc, main)
	} else {
		if home.idd.MatchString(digits) || strings.HasPrefix(digits, home.ccPrefix) {
			return s.phoneValidSlow(digits, plus)
		}
		plan, cc, nat = home, home.cc, digits
	}
	if len(nat) < phonenumbers.MIN_LENGTH_FOR_NSN {
		return false
	}
	if plan != nil {
		if p := plan.stripNationalPrefix(nat); plan.lengthUsable(p) {
			nat = p
		}
	}
	if len(nat) < phonenumbers.MIN_LENGTH_FOR_NSN || len(nat) > phonenumbers.MAX_LENGTH_FOR_NSN {
		return false
	}
	// Parse stores nat as an integer plus its count of leading zeros, and
	// GetNationalSignificantNumber rebuilds exactly nat from them.
	if !plus {
		return home.known(nat)
	}
	if plan != nil && (main == "001" || plan.cc == cc) && plan.known(nat) {
		return true
	}
	// IsValidNumber: the region whose leading digits match, else the first
	// region the number is valid in.
	regions := phonenumbers.GetRegionCodesForCountryCode(int(cc))
	if len(regions) < 2 {
		return false // the only region is the main one, checked above
	}
	for _, r := range regions {
		p := regionPlan(r)
		if p == nil || p.cc != cc {
			continue
		}
		if p.leading != nil {
			if p.leading.MatchString(nat) {
				return p.known(nat)
			}
		} else if p.known(nat) {
			return true
		}
	}
	return false
}

// phoneValidSlow asks libphonenumber.
func (s *Scanner) phoneValidSlow(digits string, plus bool) bool {
	in := digits
	if plus {
		in = "+" + digits
	}
	num, err := phonenumbers.Parse(in, s.region)
	return err == nil && validPhone(num, plus, s.region)
}

// validPhone checks the country's main region first: IsValidNumber walks
// every region sharing the calling code (two dozen for +1).
func validPhone(num *phonenumbers.PhoneNumber, plus bool, region string) bool {
	if !plus {
		return phonenumbers.IsValidNumberForRegion(num, region)
	}
	main := phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode()))
	return phonenumbers.IsValidNumberForRegion(num, main) || phonenumbers.IsValidNumber(num)
}
