package activities_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/activities"
)

const feedCSV = "\ufeffDevice Id,Device Name,IP Address,CVE ID,CVSS Score,Severity,Description,Remediation\n" +
	"dev-42,PLC-L3-01,10.20.3.10,CVE-2022-38465,9.3,Critical,Global private key exposure,Update to V3.0\n" +
	"dev-42,PLC-L3-01,10.20.3.10,CVE-2022-38465,9.3,Critical,duplicate row,Update to V3.0\n" +
	"dev-43,HMI-L3-01,10.20.3.20,CVE-2021-1234,5.0,Medium,Info leak,Patch\n"

const feedJSON = `{"value":[
 {"id":"/subscriptions/x/vulnerabilities/1","name":"1","properties":{"deviceId":"dev-42","vulnerabilityId":"CVE-2022-38465","severityScore":"Critical","cvssScore":9.3,"description":"Global private key exposure","remediation":"Update to V3.0"}},
 {"deviceName":"HMI-L3-01","cveId":"CVE-2021-1234","severity":"Medium","description":null}
]}`

func writeFeed(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(data), 0o600))
	return p
}

func TestCVEFeedFindsDeviceCVEs(t *testing.T) {
	t.Parallel()
	for name, data := range map[string]string{"feed.csv": feedCSV, "feed.json": feedJSON} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := activities.NewCVEFeed(writeFeed(t, name, data), nil)
			require.NoError(t, err)
			res, err := f.FindDeviceCVEs(context.Background(), activities.CVERequest{Devices: []activities.CVEDevice{
				{ID: "DEV-42"}, {Name: "hmi-l3-01"}, {Name: "ENG-WS-07", IP: "10.20.3.45"},
			}})
			require.NoError(t, err)
			require.True(t, res.Configured)
			require.Len(t, res.Devices, 3)
			require.Len(t, res.Devices[0], 1, "duplicate rows count once")
			require.Equal(t, "CVE-2022-38465", res.Devices[0][0].ID)
			require.Equal(t, "9.3", res.Devices[0][0].CVSS)
			require.Equal(t, "Update to V3.0", res.Devices[0][0].Remediation)
			require.True(t, activities.IsCriticalCVE(res.Devices[0][0], 9))
			require.Len(t, res.Devices[1], 1)
			require.False(t, activities.IsCriticalCVE(res.Devices[1][0], 9))
			require.Empty(t, res.Devices[2])
		})
	}
}

// The feed is read again when the file changes; a broken new file keeps the old contents; a feed that
// never loaded is refused at start.
func TestCVEFeedReloads(t *testing.T) {
	t.Parallel()
	path := writeFeed(t, "feed.csv", feedCSV)
	f, err := activities.NewCVEFeed(path, nil)
	require.NoError(t, err)
	req := activities.CVERequest{Devices: []activities.CVEDevice{{Name: "ENG-WS-07"}}}
	res, err := f.FindDeviceCVEs(context.Background(), req)
	require.NoError(t, err)
	require.Empty(t, res.Devices[0])

	require.NoError(t, os.WriteFile(path, []byte(feedCSV+"dev-7,ENG-WS-07,,CVE-2020-0001,10,,x,y\n"), 0o600))
	future := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(path, future, future))
	res, err = f.FindDeviceCVEs(context.Background(), req)
	require.NoError(t, err)
	require.Len(t, res.Devices[0], 1)
	require.True(t, activities.IsCriticalCVE(res.Devices[0][0], 9), "CVSS 10 is critical without a severity")

	require.NoError(t, os.WriteFile(path, []byte("CVE ID\nCVE-1\n"), 0o600))
	res, err = f.FindDeviceCVEs(context.Background(), req)
	require.NoError(t, err, "a broken reload keeps the previous feed")
	require.Len(t, res.Devices[0], 1)

	_, err = activities.NewCVEFeed(path, nil)
	require.ErrorContains(t, err, "needs a CVE id and a device")
	_, err = activities.NewCVEFeed(writeFeed(t, "x.csv", "Device Name,CVE ID,CVSS\na,CVE-1,high\n"), nil)
	require.ErrorContains(t, err, "not a number")

	none, err := activities.NewCVEFeed("", nil)
	require.NoError(t, err)
	res, err = none.FindDeviceCVEs(context.Background(), req)
	require.NoError(t, err)
	require.False(t, res.Configured)
}
