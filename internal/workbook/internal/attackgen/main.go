// Command attackgen turns MITRE's ATT&CK for ICS STIX bundle into the compact catalogue the workbook
// embeds, so the heat map's tactics and techniques come from MITRE's published data, not from memory:
//
//	go run ./internal/workbook/internal/attackgen -source 'github.com/mitre-attack/attack-stix-data@<commit>:ics-attack/ics-attack-<ver>.json' ics-attack-<ver>.json
//
// The bundle (several MB) is not committed; its SHA-256 is recorded in the output.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "attackgen:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("attackgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "internal/workbook/attack_ics.json", "the catalogue file to write")
	source := fs.String("source", "", "where the bundle came from (default: attack-stix-data's path for its version)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: attackgen [-o file] [-source text] ics-attack.json")
	}
	raw, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("read the bundle: %w", err)
	}
	c, err := extract(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	sum := sha256.Sum256(raw)
	c.Domain, c.BundleSHA256, c.Source = "ics-attack", hex.EncodeToString(sum[:]), *source
	if c.Source == "" {
		c.Source = "github.com/mitre-attack/attack-stix-data:ics-attack/ics-attack-" + c.AttackVersion + ".json"
	}
	data, err := encode(c)
	if err != nil {
		return err
	}
	// Write beside the target and rename, so a failed run never leaves a truncated catalogue.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".attackgen-*")
	if err != nil {
		return fmt.Errorf("write the catalogue: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write the catalogue: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write the catalogue: %w", err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("write the catalogue: %w", err)
	}
	_, err = fmt.Fprintf(stderr, "attackgen: ATT&CK for ICS %s: %d tactics, %d techniques -> %s\n",
		c.AttackVersion, len(c.Tactics), len(c.Techniques), *out)
	return err
}

// encode writes the catalogue as JSON with one tactic or technique a line: small, and a new ATT&CK
// release shows in review as one changed line per changed technique.
func encode(c catalogue) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{\n")
	for _, f := range [][2]string{{"attack_version", c.AttackVersion}, {"domain", c.Domain},
		{"modified", c.Modified}, {"source", c.Source}, {"bundle_sha256", c.BundleSHA256}} {
		if err := writeItem(&b, "  "+quote(f[0])+": ", f[1], ",\n"); err != nil {
			return nil, err
		}
	}
	if err := writeList(&b, "tactics", c.Tactics, ",\n"); err != nil {
		return nil, err
	}
	if err := writeList(&b, "techniques", c.Techniques, "\n"); err != nil {
		return nil, err
	}
	b.WriteString("}\n")
	if !json.Valid(b.Bytes()) {
		return nil, fmt.Errorf("encode the catalogue: the output is not valid JSON")
	}
	return b.Bytes(), nil
}

func writeList[T any](b *bytes.Buffer, key string, items []T, end string) error {
	b.WriteString("  " + quote(key) + ": [\n")
	for i, it := range items {
		sep := ",\n"
		if i == len(items)-1 {
			sep = "\n"
		}
		if err := writeItem(b, "    ", it, sep); err != nil {
			return err
		}
	}
	b.WriteString("  ]" + end)
	return nil
}

// writeItem writes v as one line of JSON, leaving "&" as it is (the names have "ATT&CK", "Point & Tag").
func writeItem(b *bytes.Buffer, prefix string, v any, suffix string) error {
	var j bytes.Buffer
	enc := json.NewEncoder(&j)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode the catalogue: %w", err)
	}
	b.WriteString(prefix)
	b.Write(bytes.TrimSuffix(j.Bytes(), []byte("\n")))
	b.WriteString(suffix)
	return nil
}

func quote(s string) string {
	j, _ := json.Marshal(s) // a string always marshals
	return string(j)
}
