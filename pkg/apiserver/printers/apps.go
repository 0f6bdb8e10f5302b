package printers

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func deploymentColumns() []metav1.TableColumnDefinition {
	status := extensionsv1beta1.DeploymentStatus{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("Ready", "string", "Number of the pod with ready state"),
		col("Up-to-date", "string", status["updatedReplicas"]),
		col("Available", "string", status["availableReplicas"]),
		ageColumn(),
		containersColumn(),
		imagesColumn(),
		wideCol("Selector", "string", extensionsv1beta1.DeploymentSpec{}.SwaggerDoc()["selector"]),
	}
}

func printDeployment(d *appsv1.Deployment, e *env) metav1.TableRow {
	selector := "<invalid>"
	if s, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err == nil {
		selector = s.String()
	}
	names, images := layoutContainerCells(d.Spec.Template.Spec.Containers)
	return metav1.TableRow{Cells: []interface{}{
		d.Name,
		fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicasOrDefault(d.Spec.Replicas)),
		int64(d.Status.UpdatedReplicas),
		int64(d.Status.AvailableReplicas),
		e.since(d.CreationTimestamp),
		names,
		images,
		selector,
	}}
}

func replicaSetColumns() []metav1.TableColumnDefinition {
	spec := extensionsv1beta1.ReplicaSetSpec{}.SwaggerDoc()
	status := extensionsv1beta1.ReplicaSetStatus{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("Desired", "integer", spec["replicas"]),
		col("Current", "integer", status["replicas"]),
		col("Ready", "integer", status["readyReplicas"]),
		ageColumn(),
		containersColumn(),
		imagesColumn(),
		wideCol("Selector", "string", spec["selector"]),
	}
}

func printReplicaSet(rs *appsv1.ReplicaSet, e *env) metav1.TableRow {
	names, images := layoutContainerCells(rs.Spec.Template.Spec.Containers)
	return metav1.TableRow{Cells: []interface{}{
		rs.Name,
		int64(replicasOrDefault(rs.Spec.Replicas)),
		int64(rs.Status.Replicas),
		int64(rs.Status.ReadyReplicas),
		e.since(rs.CreationTimestamp),
		names,
		images,
		metav1.FormatLabelSelector(rs.Spec.Selector),
	}}
}

func daemonSetColumns() []metav1.TableColumnDefinition {
	status := extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("Desired", "integer", status["desiredNumberScheduled"]),
		col("Current", "integer", status["currentNumberScheduled"]),
		col("Ready", "integer", status["numberReady"]),
		col("Up-to-date", "integer", status["updatedNumberScheduled"]),
		col("Available", "integer", status["numberAvailable"]),
		col("Node Selector", "string", corev1.PodSpec{}.SwaggerDoc()["nodeSelector"]),
		ageColumn(),
		containersColumn(),
		imagesColumn(),
		wideCol("Selector", "string", extensionsv1beta1.DaemonSetSpec{}.SwaggerDoc()["selector"]),
	}
}

func printDaemonSet(ds *appsv1.DaemonSet, e *env) metav1.TableRow {
	names, images := layoutContainerCells(ds.Spec.Template.Spec.Containers)
	return metav1.TableRow{Cells: []interface{}{
		ds.Name,
		int64(ds.Status.DesiredNumberScheduled),
		int64(ds.Status.CurrentNumberScheduled),
		int64(ds.Status.NumberReady),
		int64(ds.Status.UpdatedNumberScheduled),
		int64(ds.Status.NumberAvailable),
		labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector),
		e.since(ds.CreationTimestamp),
		names,
		images,
		metav1.FormatLabelSelector(ds.Spec.Selector),
	}}
}

func statefulSetColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("Ready", "string", "Number of the pod with ready state"),
		ageColumn(),
		containersColumn(),
		imagesColumn(),
	}
}

func printStatefulSet(ss *appsv1.StatefulSet, e *env) metav1.TableRow {
	names, images := layoutContainerCells(ss.Spec.Template.Spec.Containers)
	return metav1.TableRow{Cells: []interface{}{
		ss.Name,
		fmt.Sprintf("%d/%d", ss.Status.ReadyReplicas, replicasOrDefault(ss.Spec.Replicas)),
		e.since(ss.CreationTimestamp),
		names,
		images,
	}}
}

func controllerRevisionColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("Controller", "string", "Controller of the object"),
		col("Revision", "string", appsv1.ControllerRevision{}.SwaggerDoc()["revision"]),
		ageColumn(),
	}
}

// printControllerRevision: CONTROLLER is the controlling owner as
// "<kind>.<group>/<name>" in lower case ("daemonset.apps/kube-proxy"), or
// "<none>"; REVISION is the number itself (upstream declares the column a
// string and prints an integer).
func printControllerRevision(cr *appsv1.ControllerRevision, e *env) metav1.TableRow {
	controller := "<none>"
	if ref := metav1.GetControllerOf(cr); ref != nil {
		controller = ref.Name
		// An unparsable apiVersion cannot be stored (metadata validation
		// parses it); the name alone is printed rather than failing the table.
		if gv, err := schema.ParseGroupVersion(ref.APIVersion); err == nil {
			if gk := gv.WithKind(ref.Kind).GroupKind(); !gk.Empty() {
				controller = strings.ToLower(gk.String()) + "/" + ref.Name
			}
		}
	}
	return metav1.TableRow{Cells: []interface{}{cr.Name, controller, cr.Revision, e.since(cr.CreationTimestamp)}}
}
