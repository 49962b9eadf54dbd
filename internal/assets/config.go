package assets

import (
	"fmt"

	"github.com/interlock-soar/interlock/internal/config"
)

// FromConfig loads the asset directory incidents.assetsFile names; nil when it names none.
func FromConfig(cfg config.Incidents) (*Directory, error) {
	if cfg.AssetsFile == "" {
		return nil, nil
	}
	dir, err := Load(cfg.AssetsFile)
	if err != nil {
		return nil, fmt.Errorf("incidents.assetsFile: %w", err)
	}
	return dir, nil
}
