package activities

import (
	"context"

	"go.temporal.io/sdk/activity"
)

// Activity type names. Histories record them, so like the workflow names they never change: renaming
// one breaks every run in flight that has yet to call it, and every replay of one that has. The Go
// methods behind them may be renamed freely; the worker registers each method under its name here.
const (
	EnsureTicketName          = "EnsureTicket"
	AddIncidentCommentName    = "AddIncidentComment"
	UpdateIncidentName        = "UpdateIncident"
	SendPLCNotificationName   = "SendPLCNotification"
	FindPlannedChangeName     = "FindPlannedChange"
	RecipientsName            = "Recipients"
	SyncAlertStatusName       = "SyncAlertStatus"
	IncidentSettingsName      = "IncidentSettings"
	PrepareIncidentEventName  = "PrepareIncidentEvent"
	DescribeAssetsName        = "DescribeAssets"
	SendLineNotificationName  = "SendLineNotification"
	SendOwnerNotificationName = "SendOwnerNotification"
	FindDeviceCVEsName        = "FindDeviceCVEs"
	DeviceOwnersName          = "DeviceOwners"
)

// Names lists every activity type name, for the tests that check each is registered.
func Names() []string {
	return []string{
		EnsureTicketName, AddIncidentCommentName, UpdateIncidentName, SendPLCNotificationName, FindPlannedChangeName,
		RecipientsName, SyncAlertStatusName, IncidentSettingsName, PrepareIncidentEventName,
		DescribeAssetsName, SendLineNotificationName,
		SendOwnerNotificationName, FindDeviceCVEsName, DeviceOwnersName,
	}
}

// Type is an activity type: its pinned name with its request and result types. Workflows call an
// activity through its Type and the worker registers the method through it, so a call with the wrong
// request, or a method whose signature drifted, does not compile.
type Type[Req, Res any] struct{ Name string }

// The activity types the playbooks call with one request (IncidentSettings takes none).
var (
	EnsureTicket          = Type[EnsureTicketRequest, TicketResult]{EnsureTicketName}
	AddIncidentComment    = Type[CommentRequest, WriteResult]{AddIncidentCommentName}
	UpdateIncident        = Type[UpdateRequest, WriteResult]{UpdateIncidentName}
	SendPLCNotification   = Type[PLCNotification, NotificationResult]{SendPLCNotificationName}
	FindPlannedChange     = Type[PlannedChangeRequest, PlannedChange]{FindPlannedChangeName}
	LookupRecipients      = Type[RecipientsRequest, Recipients]{RecipientsName}
	SyncAlertStatus       = Type[AlertSyncRequest, AlertSyncResult]{SyncAlertStatusName}
	PrepareIncidentEvent  = Type[PrepareRequest, PrepareResult]{PrepareIncidentEventName}
	DescribeAssets        = Type[AssetsRequest, AssetsResult]{DescribeAssetsName}
	SendLineNotification  = Type[LineNotification, NotificationResult]{SendLineNotificationName}
	SendOwnerNotification = Type[OwnerNotification, NotificationResult]{SendOwnerNotificationName}
	FindDeviceCVEs        = Type[CVERequest, CVEResult]{FindDeviceCVEsName}
	DeviceOwners          = Type[DeviceOwnersRequest, DeviceOwnersResult]{DeviceOwnersName}
)

// Registry is where activities are registered: a worker, or a test environment.
type Registry interface {
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}

// Register registers fn as the activity t.
func (t Type[Req, Res]) Register(r Registry, fn func(context.Context, Req) (Res, error)) {
	r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: t.Name})
}
