package workbook

import (
	"strings"
	"unicode"
)

// The MITRE ATT&CK for ICS catalogue (tactics in matrix order, techniques by name), as the matrix
// tile shows it. Deprecated techniques are left out; a technique under several tactics is listed under
// each. Source: github.com/mitre/cti ics-attack.
var icsTactics = [...]struct{ ID, Name string }{
	{"TA0108", "Initial Access"},
	{"TA0104", "Execution"},
	{"TA0110", "Persistence"},
	{"TA0111", "Privilege Escalation"},
	{"TA0103", "Evasion"},
	{"TA0102", "Discovery"},
	{"TA0109", "Lateral Movement"},
	{"TA0100", "Collection"},
	{"TA0101", "Command and Control"},
	{"TA0107", "Inhibit Response Function"},
	{"TA0106", "Impair Process Control"},
	{"TA0105", "Impact"},
}

// icsTechniques are the techniques with the tactic IDs they belong to.
var icsTechniques = [...]struct{ ID, Name, Tactics string }{
	{"T0800", "Activate Firmware Update Mode", "TA0107"},
	{"T0830", "Adversary-in-the-Middle", "TA0100"},
	{"T0878", "Alarm Suppression", "TA0107"},
	{"T0802", "Automated Collection", "TA0100"},
	{"T0895", "Autorun Image", "TA0104"},
	{"T0803", "Block Command Message", "TA0107"},
	{"T0804", "Block Reporting Message", "TA0107"},
	{"T0805", "Block Serial COM", "TA0107"},
	{"T0806", "Brute Force I/O", "TA0106"},
	{"T0892", "Change Credential", "TA0107"},
	{"T0858", "Change Operating Mode", "TA0104 TA0103"},
	{"T0807", "Command-Line Interface", "TA0104"},
	{"T0885", "Commonly Used Port", "TA0101"},
	{"T0884", "Connection Proxy", "TA0101"},
	{"T0879", "Damage to Property", "TA0105"},
	{"T0809", "Data Destruction", "TA0107"},
	{"T0811", "Data from Information Repositories", "TA0100"},
	{"T0893", "Data from Local System", "TA0100"},
	{"T0812", "Default Credentials", "TA0109"},
	{"T0813", "Denial of Control", "TA0105"},
	{"T0814", "Denial of Service", "TA0107"},
	{"T0815", "Denial of View", "TA0105"},
	{"T0868", "Detect Operating Mode", "TA0100"},
	{"T0816", "Device Restart/Shutdown", "TA0107"},
	{"T0817", "Drive-by Compromise", "TA0108"},
	{"T0871", "Execution through API", "TA0104"},
	{"T0819", "Exploit Public-Facing Application", "TA0108"},
	{"T0820", "Exploitation for Evasion", "TA0103"},
	{"T0890", "Exploitation for Privilege Escalation", "TA0111"},
	{"T0866", "Exploitation of Remote Services", "TA0108 TA0109"},
	{"T0822", "External Remote Services", "TA0108"},
	{"T0823", "Graphical User Interface", "TA0104"},
	{"T0891", "Hardcoded Credentials", "TA0109 TA0110"},
	{"T0874", "Hooking", "TA0104 TA0111"},
	{"T0877", "I/O Image", "TA0100"},
	{"T0872", "Indicator Removal on Host", "TA0103"},
	{"T0883", "Internet Accessible Device", "TA0108"},
	{"T0867", "Lateral Tool Transfer", "TA0109"},
	{"T0826", "Loss of Availability", "TA0105"},
	{"T0827", "Loss of Control", "TA0105"},
	{"T0828", "Loss of Productivity and Revenue", "TA0105"},
	{"T0837", "Loss of Protection", "TA0105"},
	{"T0880", "Loss of Safety", "TA0105"},
	{"T0829", "Loss of View", "TA0105"},
	{"T0835", "Manipulate I/O Image", "TA0107"},
	{"T0831", "Manipulation of Control", "TA0105"},
	{"T0832", "Manipulation of View", "TA0105"},
	{"T0849", "Masquerading", "TA0103"},
	{"T0838", "Modify Alarm Settings", "TA0107"},
	{"T0821", "Modify Controller Tasking", "TA0104"},
	{"T0836", "Modify Parameter", "TA0106"},
	{"T0889", "Modify Program", "TA0110"},
	{"T0839", "Module Firmware", "TA0110 TA0106"},
	{"T0801", "Monitor Process State", "TA0100"},
	{"T0834", "Native API", "TA0104"},
	{"T0840", "Network Connection Enumeration", "TA0102"},
	{"T0842", "Network Sniffing", "TA0102"},
	{"T0861", "Point & Tag Identification", "TA0100"},
	{"T0843", "Program Download", "TA0109"},
	{"T0845", "Program Upload", "TA0100"},
	{"T0873", "Project File Infection", "TA0110"},
	{"T0886", "Remote Services", "TA0108 TA0109"},
	{"T0846", "Remote System Discovery", "TA0102"},
	{"T0888", "Remote System Information Discovery", "TA0102"},
	{"T0847", "Replication Through Removable Media", "TA0108"},
	{"T0848", "Rogue Master", "TA0108"},
	{"T0851", "Rootkit", "TA0103 TA0107"},
	{"T0852", "Screen Capture", "TA0100"},
	{"T0853", "Scripting", "TA0104"},
	{"T0881", "Service Stop", "TA0107"},
	{"T0865", "Spearphishing Attachment", "TA0108"},
	{"T0856", "Spoof Reporting Message", "TA0103 TA0106"},
	{"T0869", "Standard Application Layer Protocol", "TA0101"},
	{"T0862", "Supply Chain Compromise", "TA0108"},
	{"T0894", "System Binary Proxy Execution", "TA0103"},
	{"T0857", "System Firmware", "TA0110 TA0107"},
	{"T0882", "Theft of Operational Information", "TA0105"},
	{"T0864", "Transient Cyber Asset", "TA0108"},
	{"T0855", "Unauthorized Command Message", "TA0106"},
	{"T0863", "User Execution", "TA0104"},
	{"T0859", "Valid Accounts", "TA0110 TA0109"},
	{"T0860", "Wireless Compromise", "TA0108"},
	{"T0887", "Wireless Sniffing", "TA0102 TA0100"},
}

// catalogue indexes the ATT&CK for ICS data for normalising an alert's tags.
type catalogue struct {
	tacticByKey map[string]string   // squashed name or ID -> tactic ID
	techniques  map[string][]string // technique ID -> tactic IDs
}

func newCatalogue() catalogue {
	c := catalogue{tacticByKey: map[string]string{}, techniques: map[string][]string{}}
	for _, t := range icsTactics {
		c.tacticByKey[squash(t.Name)] = t.ID
		c.tacticByKey[squash(t.ID)] = t.ID
	}
	for _, t := range icsTechniques {
		c.techniques[t.ID] = strings.Fields(t.Tactics)
	}
	return c
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
	if i := strings.IndexByte(id, '.'); i > 0 { // ICS has no sub-techniques; keep the parent
		id = id[:i]
	}
	if _, ok := c.techniques[id]; ok {
		return id
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
