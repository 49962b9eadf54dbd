package rules

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

func (p *parser) actions(rc ruleCtx, v *yaml.Node) []action {
	if v.Kind != yaml.SequenceNode {
		p.add(rc, v, "actions: want a list, got %s", describe(v))
		return nil
	}
	switch {
	case len(v.Content) == 0:
		p.add(rc, v, "actions: empty; a rule needs at least one action")
		return nil
	case len(v.Content) > maxActions:
		p.add(rc, v, "actions: %d actions; the limit is %d", len(v.Content), maxActions)
		return nil
	}
	out := make([]action, 0, len(v.Content))
	for i, n := range v.Content {
		if a, ok := p.action(rc, i+1, resolve(n)); ok {
			out = append(out, a)
		}
	}
	return out
}

func (p *parser) action(rc ruleCtx, num int, n *yaml.Node) (action, bool) {
	before := len(p.problems)
	if n.Kind != yaml.MappingNode {
		p.add(rc, n, "action %d: want one of %s, got %s", num, strings.Join(actionVerbs, ", "), describe(n))
		return action{}, false
	}
	ak, ok := p.actionKeys(rc, num, n)
	if !ok {
		return action{}, false
	}
	if len(ak.closure) > 0 && ak.verb != "setStatus" {
		p.add(rc, ak.closureNode, "action %d: classification belongs with setStatus: Closed, not %s", num, ak.verb)
	}
	a := p.actionValue(rc, num, n, ak)
	if a.kind == actRunPlaybooks {
		for _, pb := range a.playbooks {
			if !contains(p.known, pb) {
				p.add(rc, ak.v, "action %d: %s: unknown playbook %q (%s)", num, ak.verb, pb, knownList(p.known))
			}
		}
	}
	return a, len(p.problems) == before
}

// actionParts are an action's keys, sorted out: its one verb and the closure keys that go with it.
type actionParts struct {
	verb        string
	v           *yaml.Node // the verb's value
	closure     map[string]*yaml.Node
	closureNode *yaml.Node // the first closure key, where a misplaced closure is reported
}

// actionKeys sorts an action mapping's keys; it fails unless there is exactly one verb.
func (p *parser) actionKeys(rc ruleCtx, num int, n *yaml.Node) (actionParts, bool) {
	before := len(p.problems)
	ak := actionParts{closure: map[string]*yaml.Node{}}
	var verbs []string
	p.eachKey(rc, n, func(key string, k, v *yaml.Node) {
		switch {
		case contains(actionVerbs, key):
			verbs = append(verbs, key)
			ak.v = v
		case contains(closureKeys, key):
			ak.closure[key] = v
			if ak.closureNode == nil {
				ak.closureNode = k
			}
		default:
			p.add(rc, k, "action %d: unknown key %q (want one of %s)", num, key, strings.Join(actionVerbs, ", "))
		}
	})
	switch len(verbs) {
	case 0:
		if len(p.problems) == before {
			p.add(rc, n, "action %d: no action; want one of %s", num, strings.Join(actionVerbs, ", "))
		}
		return ak, false
	case 1:
		ak.verb = verbs[0]
		return ak, true
	}
	p.add(rc, n, "action %d: has %s; write one action per list item", num, strings.Join(verbs, " and "))
	return ak, false
}

// actionValue reads the verb's value into an action.
func (p *parser) actionValue(rc ruleCtx, num int, n *yaml.Node, ak actionParts) action {
	var a action
	verb, v := ak.verb, ak.v
	switch verb {
	case "runPlaybook":
		a.kind = actRunPlaybooks
		if name, ok := p.scalar(rc, num, verb, v); ok {
			a.playbooks = []string{name}
		}
	case "runPlaybooks":
		a.kind = actRunPlaybooks
		a.playbooks = p.stringList(rc, num, verb, v)
	case "setSeverity":
		a.kind = actSetSeverity
		a.value = p.enum(rc, num, verb, v, severities)
	case "setStatus":
		a.kind = actSetStatus
		a.value = p.enum(rc, num, verb, v, statuses)
		p.closure(rc, num, &a, n, ak.closure)
	case "setOwner":
		a.kind = actSetOwner
		if s, ok := p.scalar(rc, num, verb, v); ok {
			if msg := checkOwner(s); msg != "" {
				p.add(rc, v, "action %d: setOwner: %q %s", num, s, msg)
			}
			a.value = s
		}
	case "addTags":
		a.kind = actAddTags
		if v.Kind == yaml.ScalarNode && v.ShortTag() != "!!null" {
			a.tags = []string{strings.TrimSpace(v.Value)} // a single tag need not be written as a list
		} else {
			a.tags = p.stringList(rc, num, verb, v)
		}
		p.checkTags(rc, num, v, a.tags)
	}
	return a
}

func knownList(known []string) string {
	if len(known) == 0 {
		return "no playbooks are registered"
	}
	return "known: " + strings.Join(known, ", ")
}

func (p *parser) scalar(rc ruleCtx, num int, verb string, v *yaml.Node) (string, bool) {
	if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" || strings.TrimSpace(v.Value) == "" {
		p.add(rc, v, "action %d: %s: want a value, got %s", num, verb, describe(v))
		return "", false
	}
	return strings.TrimSpace(v.Value), true
}

func (p *parser) stringList(rc ruleCtx, num int, verb string, v *yaml.Node) []string {
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		p.add(rc, v, "action %d: %s: want a non-empty list, got %s", num, verb, describe(v))
		return nil
	}
	out := make([]string, 0, len(v.Content))
	for _, it := range v.Content {
		if s, ok := p.scalar(rc, num, verb, resolve(it)); ok {
			out = append(out, s)
		}
	}
	return out
}

// enum requires Sentinel's exact spelling: the value is written back to Sentinel as is.
func (p *parser) enum(rc ruleCtx, num int, verb string, v *yaml.Node, allowed []string) string {
	s, ok := p.scalar(rc, num, verb, v)
	if !ok {
		return ""
	}
	if !contains(allowed, s) {
		p.add(rc, v, "action %d: %s: %q is not one of %s%s", num, verb, s, strings.Join(allowed, ", "), didYouMean(v, allowed))
		return ""
	}
	return s
}

func (p *parser) closure(rc ruleCtx, num int, a *action, n *yaml.Node, closure map[string]*yaml.Node) {
	cls, hasCls := closure["classification"]
	if a.value != "Closed" {
		if len(closure) > 0 && a.value != "" {
			p.add(rc, n, "action %d: setStatus: %s takes no classification; only Closed does", num, a.value)
		}
		return
	}
	if !hasCls {
		p.add(rc, n, "action %d: setStatus: Closed needs a classification (%s), as in Sentinel", num, strings.Join(classifications, ", "))
		return
	}
	c := p.enum(rc, num, "classification", cls, classifications)
	a.classification.Classification = c
	if rn, ok := closure["classificationReason"]; ok {
		r, _ := p.scalar(rc, num, "classificationReason", rn)
		allowed, known := reasonsFor[c]
		switch {
		case !known:
		case len(allowed) == 0:
			p.add(rc, rn, "action %d: classificationReason: %s takes no reason", num, c)
		case r != "" && !contains(allowed, r):
			p.add(rc, rn, "action %d: classificationReason: %q does not go with %s; want %s", num, r, c, strings.Join(allowed, " or "))
		default:
			a.classification.Reason = r
		}
	}
	if cn, ok := closure["classificationComment"]; ok {
		if cn.Kind != yaml.ScalarNode {
			p.add(rc, cn, "action %d: classificationComment: want text, got %s", num, describe(cn))
		} else if len(cn.Value) > maxCommentLen {
			p.add(rc, cn, "action %d: classificationComment: longer than %d bytes", num, maxCommentLen)
		} else {
			a.classification.Comment = strings.TrimSpace(cn.Value)
		}
	}
}

// checkOwner accepts an email address or user principal name: one word, local@domain.
func checkOwner(s string) string {
	at := strings.IndexByte(s, '@')
	switch {
	case len(s) > maxOwnerLen:
		return fmt.Sprintf("is longer than %d characters", maxOwnerLen)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return "contains spaces or control characters"
	case at <= 0 || at == len(s)-1 || strings.Count(s, "@") != 1 || !strings.Contains(s[at+1:], "."):
		return "is not an email address or user principal name (user@example.com)"
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	}
	return ""
}

func (p *parser) checkTags(rc ruleCtx, num int, v *yaml.Node, tags []string) {
	for i, t := range tags {
		switch {
		case t == "":
			p.add(rc, v, "action %d: addTags: empty tag", num)
		case utf8.RuneCountInString(t) > maxTagLen:
			p.add(rc, v, "action %d: addTags: tag longer than %d characters", num, maxTagLen)
		case !utf8.ValidString(t) || strings.IndexFunc(t, unicode.IsControl) >= 0:
			p.add(rc, v, "action %d: addTags: tag %q contains control characters or invalid UTF-8", num, t)
		}
		for _, prev := range tags[:i] {
			if strings.EqualFold(prev, t) && t != "" {
				p.add(rc, v, "action %d: addTags: %q is listed twice", num, t)
			}
		}
	}
}
