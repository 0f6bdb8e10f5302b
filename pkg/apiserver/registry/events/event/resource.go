package event

import (
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes events.k8s.io/v1 Events, served from the storage of
// core/v1 events, converted on the way.
func Resource(_ registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: eventsv1.SchemeGroupVersion.WithKind("Event"), Name: "events", Singular: "event",
		ShortNames: []string{"ev"}, Namespaced: true,
		Verbs: registry.AllVerbs, KeyRoot: "/events",
		NewFunc: func() runtime.Object { return &eventsv1.Event{} }, NewList: func() runtime.Object { return &eventsv1.EventList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		Table:         printers.EventsV1(),
		TTLSeconds:    3600,
		SharedStorage: conversion(),
	}
}
