package activities_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/activities"
	"github.com/interlock-soar/interlock/internal/assets"
	"github.com/interlock-soar/interlock/internal/incident"
)

func TestDeviceOwners(t *testing.T) {
	t.Parallel()
	dir, err := assets.Load("../testdata/assets.yaml")
	require.NoError(t, err)
	req := activities.DeviceOwnersRequest{Devices: []incident.Device{
		{IP: "10.20.1.10"},                           // an asset with its own owners
		{Name: "RIO-L3-01", Owners: []string{"x@y"}}, // the alert's owners are not the answer
		{Name: "UNKNOWN-1", IP: "10.99.0.1"},
	}}
	layer := &activities.IncidentLayer{Assets: dir}
	res, err := layer.DeviceOwners(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, [][]string{
		{"controls-l1@rotterdam.example.com", "ot-line1@rotterdam.example.com"},
		{"ot-line3@rotterdam.example.com"},
		nil,
	}, res.Owners)

	res, err = (&activities.IncidentLayer{}).DeviceOwners(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, [][]string{nil, nil, nil}, res.Owners, "no directory, no owners")
}
