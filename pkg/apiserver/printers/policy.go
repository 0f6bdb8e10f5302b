package printers

import (
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func podDisruptionBudgetColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("Min Available", "string", "The minimum number of pods that must be available."),
		col("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
		col("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
		ageColumn(),
	}
}

// printPodDisruptionBudget: MIN AVAILABLE and MAX UNAVAILABLE as written
// ("1", "50%") or "N/A" when unset.
func printPodDisruptionBudget(pdb *policyv1.PodDisruptionBudget, e *env) metav1.TableRow {
	minAvailable, maxUnavailable := "N/A", "N/A"
	if v := pdb.Spec.MinAvailable; v != nil {
		minAvailable = v.String()
	}
	if v := pdb.Spec.MaxUnavailable; v != nil {
		maxUnavailable = v.String()
	}
	return metav1.TableRow{Cells: []interface{}{
		pdb.Name, minAvailable, maxUnavailable, int64(pdb.Status.DisruptionsAllowed), e.since(pdb.CreationTimestamp),
	}}
}
