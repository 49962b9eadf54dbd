package playbooks

import (
	"context"
	"errors"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/interlock-soar/interlock/activities"
)

// registerActivityTypes registers every activity the playbooks call under its pinned name, as the
// worker does, for onActivity to mock; the SDK wants registrations before any mock. A playbook that
// called another name would find no activity and fail its test.
func registerActivityTypes(env *testsuite.TestWorkflowEnvironment) {
	register(env, activities.EnsureTicket)
	register(env, activities.AddIncidentComment)
	register(env, activities.UpdateIncident)
	register(env, activities.SendPLCNotification)
	register(env, activities.FindPlannedChange)
	register(env, activities.LookupRecipients)
	register(env, activities.SyncAlertStatus)
	register(env, activities.DescribeAssets)
	register(env, activities.SendLineNotification)
	register(env, activities.SendOwnerNotification)
	register(env, activities.FindDeviceCVEs)
	register(env, activities.DeviceOwners)
}

func register[Req, Res any](env *testsuite.TestWorkflowEnvironment, t activities.Type[Req, Res]) {
	t.Register(env, func(context.Context, Req) (Res, error) {
		var zero Res
		return zero, errors.New("not mocked")
	})
}

// onActivity mocks the activity t for any request.
func onActivity[Req, Res any](env *testsuite.TestWorkflowEnvironment, t activities.Type[Req, Res]) *testsuite.MockCallWrapper {
	return env.OnActivity(t.Name, mock.Anything, mock.Anything)
}
