package intake

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/interlock-soar/interlock/internal/incident"
	"github.com/interlock-soar/interlock/internal/workbook"
)

type brokenRecorder struct{ calls int }

func (b *brokenRecorder) Record(context.Context, incident.Incident) error {
	b.calls++
	return errors.New("disk full")
}

// The intake records the accepted incident in the real workbook store, and a failing store never
// fails the POST.
func TestIntakeRecordsAcceptedIncidents(t *testing.T) {
	store, err := workbook.Open(context.Background(), workbook.StoreOptions{Database: filepath.Join(t.TempDir(), "wb.db")})
	require.NoError(t, err)
	defer store.Close()
	station := fixture(t, fixtureStation)
	env := newTestEnv(t, func(o *Options) { o.Recorder = store })
	a := do(t, http.MethodPost, env.url+"/v1/incidents", station, bearerJSON)
	require.Equal(t, http.StatusAccepted, a.code, "body: %s", a.body)
	sum, err := store.Summary(context.Background(), workbook.Range{From: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Now().Add(48 * time.Hour)})
	require.NoError(t, err)
	require.Equal(t, 1, sum.Totals.Incidents)

	broken := &brokenRecorder{}
	env = newTestEnv(t, func(o *Options) { o.Recorder = broken })
	a = do(t, http.MethodPost, env.url+"/v1/incidents", station, bearerJSON)
	require.Equal(t, http.StatusAccepted, a.code, "body: %s", a.body)
	require.Equal(t, 1, broken.calls)
}
