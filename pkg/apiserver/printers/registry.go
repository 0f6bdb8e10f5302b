package printers

import (
	"fmt"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
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

// newPrinter returns the Printer of the object type PT and its list type L.
// print returns a row with Cells (and optionally Conditions) filled in.
func newPrinter[T any, PT interface {
	*T
	runtime.Object
}, L runtime.Object](
	columns []metav1.TableColumnDefinition,
	items func(L) []T,
	print func(PT, *env) metav1.TableRow,
) Printer {
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
	return Printer{named: true, types: []reflect.Type{reflect.TypeFor[PT](), reflect.TypeFor[L]()}, h: h}
}

// The printers of each kind, as upstream prints them.

func Pods() Printer {
	return newPrinter(podColumns(), func(l *corev1.PodList) []corev1.Pod { return l.Items }, printPod)
}
func Nodes() Printer {
	return newPrinter(nodeColumns(), func(l *corev1.NodeList) []corev1.Node { return l.Items }, printNode)
}
func Namespaces() Printer {
	return newPrinter(namespaceColumns(), func(l *corev1.NamespaceList) []corev1.Namespace { return l.Items }, printNamespace)
}
func Services() Printer {
	return newPrinter(serviceColumns(), func(l *corev1.ServiceList) []corev1.Service { return l.Items }, printService)
}
func Endpoints() Printer {
	return newPrinter(endpointsColumns(), func(l *corev1.EndpointsList) []corev1.Endpoints { return l.Items }, printEndpoints)
}
func ConfigMaps() Printer {
	return newPrinter(configMapColumns(), func(l *corev1.ConfigMapList) []corev1.ConfigMap { return l.Items }, printConfigMap)
}
func Secrets() Printer {
	return newPrinter(secretColumns(), func(l *corev1.SecretList) []corev1.Secret { return l.Items }, printSecret)
}
func ServiceAccounts() Printer {
	return newPrinter(serviceAccountColumns(), func(l *corev1.ServiceAccountList) []corev1.ServiceAccount { return l.Items }, printServiceAccount)
}
func Events() Printer {
	return newPrinter(eventColumns(), func(l *corev1.EventList) []corev1.Event { return l.Items }, printCoreEvent)
}

// EventsV1 prints events.k8s.io/v1 events (upstream prints them through the
// same internal Event printer as core events).
func EventsV1() Printer {
	return newPrinter(eventColumns(), func(l *eventsv1.EventList) []eventsv1.Event { return l.Items }, printEventsV1Event)
}
func Deployments() Printer {
	return newPrinter(deploymentColumns(), func(l *appsv1.DeploymentList) []appsv1.Deployment { return l.Items }, printDeployment)
}
func ReplicaSets() Printer {
	return newPrinter(replicaSetColumns(), func(l *appsv1.ReplicaSetList) []appsv1.ReplicaSet { return l.Items }, printReplicaSet)
}
func DaemonSets() Printer {
	return newPrinter(daemonSetColumns(), func(l *appsv1.DaemonSetList) []appsv1.DaemonSet { return l.Items }, printDaemonSet)
}
func StatefulSets() Printer {
	return newPrinter(statefulSetColumns(), func(l *appsv1.StatefulSetList) []appsv1.StatefulSet { return l.Items }, printStatefulSet)
}
func ControllerRevisions() Printer {
	return newPrinter(controllerRevisionColumns(), func(l *appsv1.ControllerRevisionList) []appsv1.ControllerRevision { return l.Items }, printControllerRevision)
}
func Jobs() Printer {
	return newPrinter(jobColumns(), func(l *batchv1.JobList) []batchv1.Job { return l.Items }, printJob)
}
func CronJobs() Printer {
	return newPrinter(cronJobColumns(), func(l *batchv1.CronJobList) []batchv1.CronJob { return l.Items }, printCronJob)
}
func EndpointSlices() Printer {
	return newPrinter(endpointSliceColumns(), func(l *discoveryv1.EndpointSliceList) []discoveryv1.EndpointSlice { return l.Items }, printEndpointSlice)
}
func CertificateSigningRequests() Printer {
	return newPrinter(certificateSigningRequestColumns(),
		func(l *certificatesv1.CertificateSigningRequestList) []certificatesv1.CertificateSigningRequest {
			return l.Items
		},
		printCertificateSigningRequest)
}
func PodDisruptionBudgets() Printer {
	return newPrinter(podDisruptionBudgetColumns(),
		func(l *policyv1.PodDisruptionBudgetList) []policyv1.PodDisruptionBudget { return l.Items }, printPodDisruptionBudget)
}
func Leases() Printer {
	return newPrinter(leaseColumns(), func(l *coordinationv1.LeaseList) []coordinationv1.Lease { return l.Items }, printLease)
}
func RoleBindings() Printer {
	return newPrinter(roleBindingColumns("roleBinding"), func(l *rbacv1.RoleBindingList) []rbacv1.RoleBinding { return l.Items }, printRoleBinding)
}
func ClusterRoleBindings() Printer {
	return newPrinter(roleBindingColumns("clusterRoleBinding"), func(l *rbacv1.ClusterRoleBindingList) []rbacv1.ClusterRoleBinding { return l.Items }, printClusterRoleBinding)
}

// all returns every printer of this package (roles and clusterroles use the
// default table, as upstream).
func all() []Printer {
	return []Printer{Pods(), Nodes(), Namespaces(), Services(), Endpoints(), ConfigMaps(), Secrets(), ServiceAccounts(),
		Events(), EventsV1(), Deployments(), ReplicaSets(), DaemonSets(), StatefulSets(), ControllerRevisions(), Jobs(), CronJobs(), EndpointSlices(), CertificateSigningRequests(),
		PodDisruptionBudgets(), Leases(),
		RoleBindings(), ClusterRoleBindings()}
}

// newRegistry builds the handlers of ps, keyed by object and list type.
func newRegistry(ps ...Printer) map[reflect.Type]*handler {
	r := map[reflect.Type]*handler{}
	for _, p := range ps {
		for _, t := range p.types {
			r[t] = p.h
		}
	}
	return r
}

// newScheme returns a scheme with every group version whose types New prints; it
// is used to fill in apiVersion/kind for IncludeObject=Object.
func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, eventsv1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme,
		coordinationv1.AddToScheme, rbacv1.AddToScheme, discoveryv1.AddToScheme,
		certificatesv1.AddToScheme, policyv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			// AddToScheme of generated API packages only fails on programming errors.
			panic(fmt.Sprintf("printers: building scheme: %v", err))
		}
	}
	return s
}
