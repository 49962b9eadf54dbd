package rules

// KQL's `has` operator matches whole terms, not substrings: "Scan" is in "Port Scan Detected" but not in
// "Scanner Found". A term is a maximal run of ASCII letters and digits; everything else (spaces,
// punctuation, non-ASCII) separates terms. A phrase of several terms matches where its terms appear
// consecutively, compared case-insensitively, so "Read/Write Command (AMS Index Group)" matches the same
// title whatever the punctuation between its terms.

func isTermByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// nextTerm returns the bounds of the first term of s at or after i; start == len(s) when there is none.
func nextTerm(s string, i int) (start, end int) {
	for i < len(s) && !isTermByte(s[i]) {
		i++
	}
	start = i
	for i < len(s) && isTermByte(s[i]) {
		i++
	}
	return start, i
}

// splitTerms returns the terms of s, lowered. It is for load time; the hot path uses termBuf.
func splitTerms(s string) []string {
	var out []string
	for i := 0; ; {
		start, end := nextTerm(s, i)
		if start == end {
			return out
		}
		b := make([]byte, end-start)
		for j := range b {
			b[j] = lowerByte(s[start+j])
		}
		out = append(out, string(b))
		i = end
	}
}

// termBuf is a title split into lowered terms, reused between decisions so that splitting allocates
// nothing once the buffers have grown.
type termBuf struct {
	lower []byte   // the title, ASCII-lowered
	spans [][2]int // terms, as offsets into lower
	ascii bool     // the title is all ASCII, so lower is its exact lower-case form
}

func (t *termBuf) reset(title string) {
	t.lower, t.spans, t.ascii = t.lower[:0], t.spans[:0], true
	for i := 0; i < len(title); i++ {
		c := title[i]
		if c >= 0x80 {
			t.ascii = false
		}
		t.lower = append(t.lower, lowerByte(c))
	}
	s := t.lower
	for i := 0; i < len(s); {
		for i < len(s) && !isTermByte(s[i]) {
			i++
		}
		start := i
		for i < len(s) && isTermByte(s[i]) {
			i++
		}
		if start < i {
			t.spans = append(t.spans, [2]int{start, i})
		}
	}
}

// term is the i-th term. The conversion in a comparison or map index does not allocate.
func (t *termBuf) term(i int) []byte { return t.lower[t.spans[i][0]:t.spans[i][1]] }

// hasTermsAt reports whether the lowered terms of a phrase appear consecutively from term i on.
func (t *termBuf) hasTermsAt(i int, phrase []string) bool {
	if i+len(phrase) > len(t.spans) {
		return false
	}
	for j, w := range phrase {
		if string(t.term(i+j)) != w {
			return false
		}
	}
	return true
}

// hasPhrase reports whether the title has the phrase, which is split on the fly (for titleHas, whose list
// is only known at run time). A phrase without terms matches nothing.
func (t *termBuf) hasPhrase(phrase string) bool {
	first, firstEnd := nextTerm(phrase, 0)
	if first == firstEnd {
		return false
	}
	for i := range t.spans {
		if !equalFoldASCII(t.term(i), phrase[first:firstEnd]) {
			continue
		}
		ok, k, p := true, i+1, firstEnd
		for {
			s, e := nextTerm(phrase, p)
			if s == e {
				break
			}
			if k >= len(t.spans) || !equalFoldASCII(t.term(k), phrase[s:e]) {
				ok = false
				break
			}
			k, p = k+1, e
		}
		if ok {
			return true
		}
	}
	return false
}

// equalFoldASCII compares a lowered term with a term of any case.
func equalFoldASCII(lowered []byte, s string) bool {
	if len(lowered) != len(s) {
		return false
	}
	for i := range lowered {
		if lowered[i] != lowerByte(s[i]) {
			return false
		}
	}
	return true
}

// phraseSet is a titlesHave list compiled for matching: phrases indexed by their first term, so a title
// is checked with one map look-up per term, however long the list.
type phraseSet struct {
	byFirst map[string][][]string
}

func newPhraseSet(phrases [][]string) phraseSet {
	ps := phraseSet{byFirst: make(map[string][][]string, len(phrases))}
	for _, p := range phrases {
		ps.byFirst[p[0]] = append(ps.byFirst[p[0]], p)
	}
	return ps
}

func (ps *phraseSet) match(t *termBuf) bool {
	if len(ps.byFirst) == 0 {
		return false
	}
	for i := range t.spans {
		for _, p := range ps.byFirst[string(t.term(i))] {
			if t.hasTermsAt(i, p) {
				return true
			}
		}
	}
	return false
}
