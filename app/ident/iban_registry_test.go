package ident

import "testing"

// The registry states each length twice (the IBAN length and the BBAN
// structure); a typo in either shows here.
func TestIBANRegistry(t *testing.T) {
	t.Parallel()
	sepa := 0
	for cc, c := range ibanRegistry {
		n := 0
		for i := 0; i < len(c.bban); {
			k := 0
			for ; c.bban[i] >= '0' && c.bban[i] <= '9'; i++ {
				k = k*10 + int(c.bban[i]-'0')
			}
			if k == 0 || (c.bban[i] != 'n' && c.bban[i] != 'a' && c.bban[i] != 'c') {
				t.Errorf("%s: bad structure %q", cc, c.bban)
				break
			}
			n += k
			i++
		}
		if n+4 != c.length {
			t.Errorf("%s: length %d, structure %q adds up to %d", cc, c.length, c.bban, n+4)
		}
		if c.length < 15 || c.length > 34 {
			t.Errorf("%s: length %d outside ISO 13616's 15–34", cc, c.length)
		}
		if c.sepa {
			sepa++
		}
	}
	// 27 EU + IS, LI, NO + CH, GB, MC, SM, VA, AD, GI + AL, ME, MD, MK, RS.
	if sepa != 42 {
		t.Errorf("%d SEPA IBAN countries, want 42", sepa)
	}
	if l := ibanRegistry["ES"].length; l != 24 {
		t.Errorf("ES length %d, want 24 (RULES.md)", l)
	}
}
