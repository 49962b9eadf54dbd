package worker

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/interlock-soar/interlock/workflows"
)

// RegisterSearchAttributes adds Interlock's custom search attributes to the namespace, skipping the ones
// already there, so runs can be filtered by incident, site and device in the Temporal UI.
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
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
