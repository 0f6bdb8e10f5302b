package event

import (
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// conversion serves events.k8s.io/v1 Events from the storage of core/v1
// events (ToCore and FromCore).
func conversion() *registry.Conversion {
	return &registry.Conversion{
		Storage:       corev1.SchemeGroupVersion.WithResource("events"),
		ToStorage:     func(o runtime.Object) runtime.Object { return ToCore(o.(*eventsv1.Event)) },
		FromStorage:   func(o runtime.Object) runtime.Object { return FromCore(o.(*corev1.Event)) },
		NewStored:     func() runtime.Object { return &corev1.Event{} },
		NewStoredList: func() runtime.Object { return &corev1.EventList{} },
	}
}
