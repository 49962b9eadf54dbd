package workbook

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// attackICS is the MITRE ATT&CK for ICS catalogue the matrix tile shows: ATT&CK v18.1, from
// github.com/mitre-attack/attack-stix-data ics-attack/ics-attack-18.1.json (commit b4eb2b8), as the
// file's header records. attackgen writes it from MITRE's bundle, so a new release is one command:
//
//	go run ./internal/workbook/internal/attackgen -source 'github.com/mitre-attack/attack-stix-data@<commit>:ics-attack/ics-attack-<ver>.json' ics-attack-<ver>.json
//
//go:embed attack_ics.json
var attackICS string

// icsTactic is a matrix column.
type icsTactic struct{ ID, ShortName, Name string }

// icsTechnique is a technique with the IDs of the tactics it sits under, in matrix order (the file
// names them by shortname; parseCatalogue turns those into IDs, which is what the store records).
type icsTechnique struct {
	ID, Name string
	Tactics  []string
}

// catalogue is the ATT&CK for ICS data: the matrix in order, and indexes for normalising an alert's tags.
type catalogue struct {
	version     string
	tactics     []icsTactic    // matrix order
	techniques  []icsTechnique // by name, as MITRE's matrix lists them
	tacticByKey map[string]string
	tacticsOf   map[string][]string // technique ID -> tactic IDs
}

var (
	tacticIDPattern    = regexp.MustCompile(`^TA0[0-9]{3}$`)
	techniqueIDPattern = regexp.MustCompile(`^T0[0-9]{3}(\.[0-9]{3})?$`)
)

// newCatalogue parses the embedded catalogue; each store parses its own (a few KB, once at Open).
func newCatalogue() (catalogue, error) { return parseCatalogue([]byte(attackICS)) }

func parseCatalogue(data []byte) (catalogue, error) {
	var f struct {
		Version    string `json:"attack_version"`
		Tactics    []icsTactic
		Techniques []icsTechnique
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return catalogue{}, fmt.Errorf("workbook: parse the ATT&CK catalogue: %w", err)
	}
	if f.Version == "" || len(f.Tactics) == 0 || len(f.Techniques) == 0 {
		return catalogue{}, fmt.Errorf("workbook: the ATT&CK catalogue is incomplete (version %q, %d tactics, %d techniques)",
			f.Version, len(f.Tactics), len(f.Techniques))
	}
	c := catalogue{version: f.Version, tactics: f.Tactics, techniques: f.Techniques,
		tacticByKey: map[string]string{}, tacticsOf: map[string][]string{}}
	byShort := map[string]string{}
	for _, t := range f.Tactics {
		if !tacticIDPattern.MatchString(t.ID) || t.Name == "" || byShort[t.ShortName] != "" || c.tacticByKey[squash(t.ID)] != "" {
			return catalogue{}, fmt.Errorf("workbook: ATT&CK catalogue: bad or repeated tactic %+v", t)
		}
		byShort[t.ShortName] = t.ID
		for _, k := range []string{t.ID, t.Name, t.ShortName} {
			c.tacticByKey[squash(k)] = t.ID
		}
	}
	for i, te := range c.techniques {
		if !techniqueIDPattern.MatchString(te.ID) || te.Name == "" || c.tacticsOf[te.ID] != nil || len(te.Tactics) == 0 {
			return catalogue{}, fmt.Errorf("workbook: ATT&CK catalogue: bad or repeated technique %+v", te)
		}
		ids := make([]string, len(te.Tactics))
		for j, sn := range te.Tactics {
			if ids[j] = byShort[sn]; ids[j] == "" {
				return catalogue{}, fmt.Errorf("workbook: ATT&CK catalogue: technique %s names unknown tactic %q", te.ID, sn)
			}
		}
		c.techniques[i].Tactics, c.tacticsOf[te.ID] = ids, ids
	}
	return c, nil
}

// squash lowercases s and drops everything but letters and digits: "InhibitResponseFunction",
// "Inhibit Response Function" and "inhibit-response-function" are one key.
func squash(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// tactic returns the catalogue's tactic ID for an alert's tactic name, or "" when it is not an ICS one.
func (c catalogue) tactic(name string) string { return c.tacticByKey[squash(name)] }

// technique returns the catalogue's technique ID for an alert's tag ("t0839", " T0839 "), or "".
func (c catalogue) technique(tag string) string {
	id := strings.ToUpper(strings.TrimSpace(tag))
	if c.tacticsOf[id] != nil {
		return id
	}
	// A sub-technique the catalogue lacks (ICS has none as of v18.1) counts under its parent.
	if i := strings.IndexByte(id, '.'); i > 0 && c.tacticsOf[id[:i]] != nil {
		return id[:i]
	}
	return ""
}

// splitTags splits the tag lists of a payload, which come as lists or as "T0839, T0889" strings.
func splitTags(list []string) []string {
	var out []string
	for _, s := range list {
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}
