package printers

import (
	"fmt"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// env carries what every printer may read during one conversion.
type env struct {
	// now is read once per ConvertToTable so all rows of a table agree.
	now time.Time
}

// handler prints one object type and its list type.
type handler struct {
	columns []metav1.TableColumnDefinition
	// rows appends the rows for obj (one per object, one per list item) to dst.
	// Each row's Object is set to the source object; the Convertor reshapes it.
	rows func(obj runtime.Object, e *env, dst []metav1.TableRow) ([]metav1.TableRow, error)
}

// register adds a printer for the object type PT and its list type L to r. print
// returns a row with Cells (and optionally Conditions) filled in.
func register[T any, PT interface {
	*T
	runtime.Object
}, L runtime.Object](
	r map[reflect.Type]*handler,
	columns []metav1.TableColumnDefinition,
	items func(L) []T,
	print func(PT, *env) metav1.TableRow,
) {
	one := func(o PT, e *env) metav1.TableRow {
		row := print(o, e)
		row.Object = runtime.RawExtension{Object: o}
		return row
	}
	h := &handler{
		columns: columns,
		rows: func(obj runtime.Object, e *env, dst []metav1.TableRow) ([]metav1.TableRow, error) {
			switch o := obj.(type) {
			case PT:
				return append(dst, one(o, e)), nil
			case L:
				list := items(o)
				for i := range list {
					dst = append(dst, one(PT(&list[i]), e))
				}
				return dst, nil
			}
			return nil, fmt.Errorf("printers: unexpected type %T", obj)
		},
	}
	r[reflect.TypeFor[PT]()] = h
	r[reflect.TypeFor[L]()] = h
}

// newRegistry builds the printers of New, keyed by object and list type.
func newRegistry() map[reflect.Type]*handler {
	r := map[reflect.Type]*handler{}

	// core/v1
	register(r, podColumns(), func(l *corev1.PodList) []corev1.Pod { return l.Items }, printPod)
	register(r, nodeColumns(), func(l *corev1.NodeList) []corev1.Node { return l.Items }, printNode)
	register(r, namespaceColumns(), func(l *corev1.NamespaceList) []corev1.Namespace { return l.Items }, printNamespace)
	register(r, serviceColumns(), func(l *corev1.ServiceList) []corev1.Service { return l.Items }, printService)
	register(r, endpointsColumns(), func(l *corev1.EndpointsList) []corev1.Endpoints { return l.Items }, printEndpoints)
	register(r, configMapColumns(), func(l *corev1.ConfigMapList) []corev1.ConfigMap { return l.Items }, printConfigMap)
	register(r, secretColumns(), func(l *corev1.SecretList) []corev1.Secret { return l.Items }, printSecret)
	register(r, serviceAccountColumns(), func(l *corev1.ServiceAccountList) []corev1.ServiceAccount { return l.Items }, printServiceAccount)
	register(r, eventColumns(), func(l *corev1.EventList) []corev1.Event { return l.Items }, printCoreEvent)

	// events.k8s.io/v1 (upstream prints it through the same internal Event printer)
	register(r, eventColumns(), func(l *eventsv1.EventList) []eventsv1.Event { return l.Items }, printEventsV1Event)

	// apps/v1
	register(r, deploymentColumns(), func(l *appsv1.DeploymentList) []appsv1.Deployment { return l.Items }, printDeployment)
	register(r, replicaSetColumns(), func(l *appsv1.ReplicaSetList) []appsv1.ReplicaSet { return l.Items }, printReplicaSet)
	register(r, daemonSetColumns(), func(l *appsv1.DaemonSetList) []appsv1.DaemonSet { return l.Items }, printDaemonSet)
	register(r, statefulSetColumns(), func(l *appsv1.StatefulSetList) []appsv1.StatefulSet { return l.Items }, printStatefulSet)

	// batch/v1
	register(r, jobColumns(), func(l *batchv1.JobList) []batchv1.Job { return l.Items }, printJob)
	register(r, cronJobColumns(), func(l *batchv1.CronJobList) []batchv1.CronJob { return l.Items }, printCronJob)

	// coordination.k8s.io/v1
	register(r, leaseColumns(), func(l *coordinationv1.LeaseList) []coordinationv1.Lease { return l.Items }, printLease)

	// rbac.authorization.k8s.io/v1 (roles and clusterroles use the default table, as upstream)
	register(r, roleBindingColumns("roleBinding"), func(l *rbacv1.RoleBindingList) []rbacv1.RoleBinding { return l.Items }, printRoleBinding)
	register(r, roleBindingColumns("clusterRoleBinding"), func(l *rbacv1.ClusterRoleBindingList) []rbacv1.ClusterRoleBinding { return l.Items }, printClusterRoleBinding)
	return r
}

// newScheme returns a scheme with every group version whose types New prints; it
// is used to fill in apiVersion/kind for IncludeObject=Object.
func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, eventsv1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme,
		coordinationv1.AddToScheme, rbacv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			// AddToScheme of generated API packages only fails on programming errors.
			panic(fmt.Sprintf("printers: building scheme: %v", err))
		}
	}
	return s
}
