package config

import (
	"strings"
	"time"
)

// Workbook configures the workbook's read model (GET /workbook on the intake).
type Workbook struct {
	Enabled      bool          `yaml:"enabled" doc:"Keep the workbook's store: the intake records accepted incidents and serves /workbook/api/summary, the worker projects the playbook runs from Temporal." default:"true"`
	Database     string        `yaml:"database" doc:"SQLite file of the store, or a postgres:// DSN for PostgreSQL (put the password in PGPASSWORD or ~/.pgpass, not here); empty means workbook.db in the state directory (.state for interlock dev)."`
	PollInterval time.Duration `yaml:"pollInterval" doc:"How often the worker reads new and changed runs from Temporal into the store." default:"2s"`
}

func (w *Workbook) validate(errs *Errors) {
	if !w.Enabled {
		return
	}
	if w.PollInterval < 100*time.Millisecond || w.PollInterval > time.Hour {
		errs.add("workbook.pollInterval", "must be from 100ms to 1h")
	}
	if strings.Contains(w.Database, "://") && !strings.HasPrefix(w.Database, "postgres://") && !strings.HasPrefix(w.Database, "postgresql://") {
		errs.add("workbook.database", "must be a file path or a postgres:// DSN")
	}
}

// DatabaseOr is the configured database, or the SQLite file workbook.db in stateDir.
func (w Workbook) DatabaseOr(stateDir string) string {
	if w.Database != "" {
		return w.Database
	}
	return strings.TrimRight(stateDir, "/") + "/workbook.db"
}
