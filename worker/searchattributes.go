package worker

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/interlock-soar/interlock/workflows"
)

// RegisterSearchAttributes adds Interlock's custom search attributes to the namespace, skipping the ones
// already there, so runs can be filtered by incident, site and device in the Temporal UI. Replicas
// starting together all register: on SQL visibility the server refuses all but one of concurrent
// adds, so a failed add is retried after listing again, when the winner's attributes are there.
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return err
			case <-time.After(time.Duration(attempt) * time.Second):
			}
		}
		if err = registerSearchAttributes(ctx, c, namespace); err == nil {
			return nil
		}
	}
	return err
}

func registerSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	ops := c.OperatorService()
	have, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, sa := range workflows.SearchAttributes() {
		typ, err := enumspb.IndexedValueTypeFromString(sa.Type)
		if err != nil {
			return fmt.Errorf("search attribute %s: %w", sa.Name, err)
		}
		if got, ok := have.GetCustomAttributes()[sa.Name]; ok {
			if got != typ {
				return fmt.Errorf("search attribute %s exists with type %s, Interlock needs %s", sa.Name, got, typ)
			}
			continue
		}
		missing[sa.Name] = typ
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing}); err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}
