package activities

import (
	"context"

	"github.com/interlock-soar/interlock/internal/assets"
	"github.com/interlock-soar/interlock/internal/incident"
)

// AssetPlacer finds a device's place in the asset directory (an *assets.Directory).
type AssetPlacer interface {
	Place(dev incident.Device, sensor string) (assets.Place, bool)
}

// AssetsRequest asks what the asset directory knows about an incident's devices.
type AssetsRequest struct {
	Incident incident.Incident `json:"incident"`
}

// AssetsResult is the incident's devices as the directory sees them.
type AssetsResult struct {
	// Configured is false when no asset directory is configured: then Devices are the incident's own,
	// without places.
	Configured bool `json:"configured"`
	// Devices are the incident's devices, enriched from the directory (only empty fields are filled;
	// known assets the alerts name by address are added), each with its place when the directory has one.
	Devices []PlacedDevice `json:"devices,omitempty"`
}

// PlacedDevice is a device with its place in the directory; Place is nil when the directory does not
// know where it belongs.
type PlacedDevice struct {
	Device incident.Device `json:"device"`
	Place  *assets.Place   `json:"place,omitempty"`
}

// DescribeAssets answers what the asset directory knows about the incident's devices: their OT context
// and their production line with its mailbox. The directory is read here, not in the workflow, because
// it changes while runs wait and a workflow may not read files.
func (a *IncidentLayer) DescribeAssets(_ context.Context, req AssetsRequest) (AssetsResult, error) {
	inc := req.Incident
	var out AssetsResult
	if a.Assets != nil {
		a.Assets.Enrich(&inc)
		out.Configured = true
	}
	sensor := inc.Sensor()
	for _, d := range inc.Devices {
		pd := PlacedDevice{Device: d}
		if a.Places != nil {
			if p, ok := a.Places.Place(d, sensor); ok {
				pd.Place = &p
			}
		}
		out.Devices = append(out.Devices, pd)
	}
	return out, nil
}
