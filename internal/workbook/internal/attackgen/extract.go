package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// The STIX 2.1 fields of MITRE's bundle that the catalogue needs; everything else is ignored.
type bundle struct {
	Objects []stixObject `json:"objects"`
}

type stixObject struct {
	Type           string     `json:"type"`
	ID             string     `json:"id"`
	Name           string     `json:"name"`
	Modified       string     `json:"modified"`
	Revoked        bool       `json:"revoked"`
	Deprecated     bool       `json:"x_mitre_deprecated"`
	Version        string     `json:"x_mitre_version"`
	ShortName      string     `json:"x_mitre_shortname"`
	TacticRefs     []string   `json:"tactic_refs"`
	ExternalRefs   []extRef   `json:"external_references"`
	KillChainPhase []killPart `json:"kill_chain_phases"`
}

type extRef struct {
	SourceName string `json:"source_name"`
	ExternalID string `json:"external_id"`
}

type killPart struct {
	KillChainName string `json:"kill_chain_name"`
	PhaseName     string `json:"phase_name"`
}

// The compact catalogue the workbook embeds (internal/workbook/attack_ics.json).
type catalogue struct {
	AttackVersion string      `json:"attack_version"`
	Domain        string      `json:"domain"`
	Modified      string      `json:"modified"`
	Source        string      `json:"source"`
	BundleSHA256  string      `json:"bundle_sha256"`
	Tactics       []tactic    `json:"tactics"`
	Techniques    []technique `json:"techniques"`
}

type tactic struct {
	ID        string `json:"id"`
	ShortName string `json:"shortname"`
	Name      string `json:"name"`
}

type technique struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Tactics []string `json:"tactics"` // shortnames, in matrix order
}

const (
	icsKillChain = "mitre-ics-attack"
	attackSource = "mitre-attack"
)

// extract builds the catalogue from an ICS ATT&CK bundle: the matrix's tactics in its order, and every
// current (not revoked, not deprecated) technique with the ICS tactics it sits under, sorted by name
// as MITRE's matrix lists them.
func extract(raw []byte) (catalogue, error) {
	var b bundle
	if err := json.Unmarshal(raw, &b); err != nil {
		return catalogue{}, fmt.Errorf("parse the bundle: %w", err)
	}
	var c catalogue
	byRef := map[string]stixObject{}
	var matrices []stixObject
	for _, o := range b.Objects {
		switch o.Type {
		case "x-mitre-tactic":
			byRef[o.ID] = o
		case "x-mitre-matrix":
			if !o.Revoked && !o.Deprecated {
				matrices = append(matrices, o)
			}
		case "x-mitre-collection":
			c.AttackVersion, c.Modified = o.Version, o.Modified
		}
	}
	if c.AttackVersion == "" {
		return catalogue{}, errors.New("the bundle has no x-mitre-collection with an x_mitre_version")
	}
	if len(matrices) != 1 {
		return catalogue{}, fmt.Errorf("the bundle has %d current matrices, want 1", len(matrices))
	}
	tactics, err := matrixTactics(matrices[0], byRef)
	if err != nil {
		return catalogue{}, err
	}
	c.Tactics = tactics
	if c.Techniques, err = techniques(b.Objects, tactics); err != nil {
		return catalogue{}, err
	}
	return c, nil
}

// matrixTactics resolves the matrix's tactic_refs, which give the column order.
func matrixTactics(m stixObject, byRef map[string]stixObject) ([]tactic, error) {
	var out []tactic
	for _, ref := range m.TacticRefs {
		o, ok := byRef[ref]
		if !ok {
			return nil, fmt.Errorf("matrix %q names tactic %s, which the bundle lacks", m.Name, ref)
		}
		id := attackID(o)
		if id == "" || o.ShortName == "" {
			return nil, fmt.Errorf("tactic %s (%q) has no ATT&CK ID or shortname", ref, o.Name)
		}
		out = append(out, tactic{ID: id, ShortName: o.ShortName, Name: o.Name})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("matrix %q has no tactics", m.Name)
	}
	return out, nil
}

// techniques lists the current attack patterns with their ICS tactics in matrix order.
func techniques(objs []stixObject, tactics []tactic) ([]technique, error) {
	col := map[string]int{}
	for i, t := range tactics {
		col[t.ShortName] = i
	}
	seen := map[string]bool{}
	var out []technique
	for _, o := range objs {
		if o.Type != "attack-pattern" || o.Revoked || o.Deprecated {
			continue
		}
		id := attackID(o)
		if id == "" {
			return nil, fmt.Errorf("technique %s (%q) has no %s external ID", o.ID, o.Name, attackSource)
		}
		if seen[id] {
			return nil, fmt.Errorf("technique %s appears twice", id)
		}
		seen[id] = true
		te := technique{ID: id, Name: o.Name}
		for _, p := range o.KillChainPhase {
			if p.KillChainName != icsKillChain {
				continue
			}
			if _, ok := col[p.PhaseName]; !ok {
				return nil, fmt.Errorf("technique %s names phase %q, which is no tactic of the matrix", id, p.PhaseName)
			}
			if !slices.Contains(te.Tactics, p.PhaseName) {
				te.Tactics = append(te.Tactics, p.PhaseName)
			}
		}
		if len(te.Tactics) == 0 {
			return nil, fmt.Errorf("technique %s (%q) has no %s tactic", id, o.Name, icsKillChain)
		}
		slices.SortFunc(te.Tactics, func(a, b string) int { return col[a] - col[b] })
		out = append(out, te)
	}
	slices.SortFunc(out, func(a, b technique) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// attackID is the object's ATT&CK ID (TA0108, T0839), from its mitre-attack external reference.
func attackID(o stixObject) string {
	for _, r := range o.ExternalRefs {
		if r.SourceName == attackSource {
			return r.ExternalID
		}
	}
	return ""
}
