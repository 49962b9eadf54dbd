package incident

// Impact is an incident's business impact: which site, production lines and assets it touches, who
// owns them and what is at stake, computed from the asset directory (internal/assets). Devices the
// directory does not know are listed in Unknown, never guessed.
type Impact struct {
	// Statement is the one-line summary tickets, emails and comments show, e.g. "Rotterdam Plant / Line 3
	// packaging: safety PLC PLC-L3-01 (Purdue 1, criticality high), owner ot-line3@…; production stop
	// risk high".
	Statement string   `json:"statement"`
	Site      string   `json:"site,omitempty"`
	Lines     []string `json:"lines,omitempty"`
	Zones     []string `json:"zones,omitempty"`
	// Assets are the incident's devices the directory knows, most critical first.
	Assets []ImpactAsset `json:"assets,omitempty"`
	// Unknown are the incident's device names or addresses the directory does not know.
	Unknown []string `json:"unknown,omitempty"`
	// Risk is the production stop risk: high, medium, low, or unknown when no asset is known.
	Risk string `json:"risk"`
	// Safety says a safety-relevant asset is involved.
	Safety bool     `json:"safety,omitempty"`
	Owners []string `json:"owners,omitempty"`
}

// ImpactAsset is one directory asset an incident involves.
type ImpactAsset struct {
	Name        string   `json:"name"`
	Type        string   `json:"type,omitempty"`
	Address     string   `json:"address,omitempty"` // the IP, MAC or name the incident named it by
	Site        string   `json:"site,omitempty"`
	Line        string   `json:"line,omitempty"`
	Zone        string   `json:"zone,omitempty"`
	PurdueLevel string   `json:"purdueLevel,omitempty"`
	Criticality string   `json:"criticality,omitempty"` // high, medium or low
	Safety      bool     `json:"safety,omitempty"`
	Owners      []string `json:"owners,omitempty"`
}
