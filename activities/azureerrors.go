package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"go.temporal.io/sdk/temporal"

	"github.com/interlock-soar/interlock/activities/arm"
)

// Error types of Azure calls.
const (
	FailureAzureSignIn      = "AzureSignInFailed"
	FailureAzureForbidden   = "AzureForbidden"
	FailureAzureNotFound    = "AzureNotFound"
	FailureAzureRejected    = "AzureRejected"
	FailureAzureThrottled   = "AzureThrottled"
	FailureAzureUnavailable = "AzureUnavailable"
	FailureAzureConflict    = "AzureConflict"
)

// azureError turns an error of a Resource Manager call into an activity error that Temporal retries,
// or not, as it deserves. role names the role the identity needs, for the 403 message.
func azureError(op, role string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	if af, ok := errors.AsType[*azidentity.AuthenticationFailedError](err); ok {
		// Entra ID said no (bad secret, unknown app, wrong tenant): retrying will not change its mind.
		if af.RawResponse != nil && af.RawResponse.StatusCode >= 400 && af.RawResponse.StatusCode < 500 &&
			af.RawResponse.StatusCode != http.StatusTooManyRequests {
			return temporal.NewNonRetryableApplicationError(op+": Microsoft Entra ID refused the sign-in; check azure.tenantID, azure.clientID and the credential",
				FailureAzureSignIn, errors.New(entraMessage(af)))
		}
		return temporal.NewApplicationErrorWithCause(op+": Microsoft Entra ID sign-in failed", FailureAzureUnavailable, errors.New(entraMessage(af)))
	}
	ae, ok := errors.AsType[*arm.Error](err)
	if !ok {
		return temporal.NewApplicationErrorWithCause(op, FailureAzureUnavailable, err)
	}
	switch {
	case ae.Status == http.StatusUnauthorized:
		return temporal.NewNonRetryableApplicationError(op+": Resource Manager did not accept the token", FailureAzureSignIn, err)
	case ae.Status == http.StatusForbidden:
		return temporal.NewNonRetryableApplicationError(op+": the identity lacks permission; it needs "+role, FailureAzureForbidden, err)
	case ae.Status == http.StatusNotFound:
		return temporal.NewNonRetryableApplicationError(op+": not found", FailureAzureNotFound, err)
	case ae.Status == http.StatusPreconditionFailed || ae.Status == http.StatusConflict:
		return temporal.NewApplicationErrorWithCause(op+": changed by someone else meanwhile", FailureAzureConflict, err)
	case !ae.Retryable():
		return temporal.NewNonRetryableApplicationError(op, FailureAzureRejected, err)
	case ae.RetryAfter > 0:
		t := FailureAzureUnavailable
		if ae.Status == http.StatusTooManyRequests {
			t = FailureAzureThrottled
		}
		return temporal.NewApplicationErrorWithOptions(op, t, temporal.ApplicationErrorOptions{Cause: err, NextRetryDelay: ae.RetryAfter})
	default:
		return temporal.NewApplicationErrorWithCause(op, FailureAzureUnavailable, err)
	}
}

// entraMessage is Entra ID's own explanation of a failed sign-in ("invalid_client: AADSTS7000215: …"),
// which names the problem without the request (whose body carried the secret).
func entraMessage(af *azidentity.AuthenticationFailedError) string {
	if af.RawResponse != nil {
		if body, err := runtime.Payload(af.RawResponse); err == nil {
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if json.Unmarshal(body, &e) == nil && e.Error != "" {
				return arm.Clip(fmt.Sprintf("%d %s: %s", af.RawResponse.StatusCode, e.Error, e.Description))
			}
		}
		return fmt.Sprintf("Microsoft Entra ID answered %d", af.RawResponse.StatusCode)
	}
	return arm.Clip(af.Error())
}
