package config

import (
	"os"
	"strings"
	"time"
)

// Incidents configures the incidents Interlock keeps itself (POST /v1/alerts): one per Defender for
// IoT alert ID, for plants without a cloud SIEM. The creation rules live in the rules file.
type Incidents struct {
	AssetsFile         string        `yaml:"assetsFile" doc:"Asset directory for business impact: site → production lines → zones → assets (YAML, or CSV exported from a CMDB); empty maps no impact."`
	KeepClosedFor      time.Duration `yaml:"keepClosedFor" doc:"How long a closed incident still takes later records of its alerts and can be reopened; after that its workflow ends and later records are answered as duplicates." default:"720h"`
	MaxHistoryEvents   int           `yaml:"maxHistoryEvents" doc:"History length at which an incident's workflow continues as new (Temporal warns at 10240 events)." default:"8000"`
	MaxAlertBatchBytes int64         `yaml:"maxAlertBatchBytes" doc:"Largest POST /v1/alerts body (413 above): room for a few thousand SecurityAlert records." default:"33554432"`
}

func (in *Incidents) validate(errs *Errors) {
	const key = "incidents."
	if in.AssetsFile != "" {
		if _, err := os.Stat(in.AssetsFile); err != nil {
			errs.add(key+"assetsFile", "%v", err)
		} else if l := strings.ToLower(in.AssetsFile); !strings.HasSuffix(l, ".yaml") && !strings.HasSuffix(l, ".yml") && !strings.HasSuffix(l, ".csv") {
			errs.add(key+"assetsFile", "must end in .yaml, .yml or .csv, not %q", in.AssetsFile)
		}
	}
	if in.KeepClosedFor < time.Minute {
		errs.add(key+"keepClosedFor", "must be at least 1m")
	}
	if in.MaxHistoryEvents < 500 || in.MaxHistoryEvents > 40000 {
		errs.add(key+"maxHistoryEvents", "must be from 500 to 40000")
	}
	if in.MaxAlertBatchBytes < 1024 {
		errs.add(key+"maxAlertBatchBytes", "must be at least 1024")
	}
}
