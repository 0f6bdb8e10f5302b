package printers

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func eventColumns() []metav1.TableColumnDefinition {
	doc := corev1.Event{}.SwaggerDoc()
	nameCol := nameColumn()
	nameCol.Priority = 1
	return []metav1.TableColumnDefinition{
		col("Last Seen", "string", doc["lastTimestamp"]),
		col("Type", "string", doc["type"]),
		col("Reason", "string", doc["reason"]),
		col("Object", "string", doc["involvedObject"]),
		wideCol("Subobject", "string", corev1.ObjectReference{}.SwaggerDoc()["fieldPath"]),
		wideCol("Source", "string", doc["source"]),
		col("Message", "string", doc["message"]),
		wideCol("First Seen", "string", doc["firstTimestamp"]),
		wideCol("Count", "string", doc["count"]),
		nameCol,
	}
}

// eventFields is what the event printer reads. Upstream converts both core/v1 and
// events.k8s.io/v1 events into one internal type and prints that; this is the
// subset of it the printer needs.
type eventFields struct {
	name                string
	involved            corev1.ObjectReference
	reason, message     string
	eventType           string
	source              corev1.EventSource
	first, last         metav1.Time
	eventTime           metav1.MicroTime
	count               int32
	series              *corev1.EventSeries
	reportingController string
	reportingInstance   string
}

func printCoreEvent(ev *corev1.Event, e *env) metav1.TableRow {
	return printEvent(&eventFields{
		name:                ev.Name,
		involved:            ev.InvolvedObject,
		reason:              ev.Reason,
		message:             ev.Message,
		eventType:           ev.Type,
		source:              ev.Source,
		first:               ev.FirstTimestamp,
		last:                ev.LastTimestamp,
		eventTime:           ev.EventTime,
		count:               ev.Count,
		series:              ev.Series,
		reportingController: ev.ReportingController,
		reportingInstance:   ev.ReportingInstance,
	}, e)
}

// printEventsV1Event maps fields as upstream's events.k8s.io/v1 -> internal
// conversion does: regarding -> involvedObject, note -> message, deprecated* -> the
// legacy source/timestamps/count.
func printEventsV1Event(ev *eventsv1.Event, e *env) metav1.TableRow {
	f := &eventFields{
		name:                ev.Name,
		involved:            ev.Regarding,
		reason:              ev.Reason,
		message:             ev.Note,
		eventType:           ev.Type,
		source:              ev.DeprecatedSource,
		first:               ev.DeprecatedFirstTimestamp,
		last:                ev.DeprecatedLastTimestamp,
		eventTime:           ev.EventTime,
		count:               ev.DeprecatedCount,
		reportingController: ev.ReportingController,
		reportingInstance:   ev.ReportingInstance,
	}
	if ev.Series != nil {
		f.series = &corev1.EventSeries{Count: ev.Series.Count, LastObservedTime: ev.Series.LastObservedTime}
	}
	return printEvent(f, e)
}

// printEvent is upstream's printEvent in wide mode: LAST SEEN falls back to the
// first timestamp (itself falling back to eventTime) and is overridden by a series;
// COUNT is the series count, or 1 for singleton events of the new API.
func printEvent(ev *eventFields, e *env) metav1.TableRow {
	firstTimestamp := e.since(ev.first)
	if ev.first.IsZero() {
		firstTimestamp = e.sinceMicro(ev.eventTime)
	}
	lastTimestamp := e.since(ev.last)
	if ev.last.IsZero() {
		lastTimestamp = firstTimestamp
	}
	count := ev.count
	if ev.series != nil {
		lastTimestamp = e.sinceMicro(ev.series.LastObservedTime)
		count = ev.series.Count
	} else if count == 0 {
		count = 1
	}
	target := strings.ToLower(ev.involved.Kind)
	if ev.involved.Name != "" {
		target = fmt.Sprintf("%s/%s", target, ev.involved.Name)
	}
	return metav1.TableRow{Cells: []interface{}{
		lastTimestamp,
		ev.eventType,
		ev.reason,
		target,
		ev.involved.FieldPath,
		formatEventSource(ev.source, ev.reportingController, ev.reportingInstance),
		strings.TrimSpace(ev.message),
		firstTimestamp,
		int64(count),
		ev.name,
	}}
}

// formatEventSource renders "component, host" (just "component" without a host),
// falling back to reportingController/reportingInstance for empty parts.
func formatEventSource(es corev1.EventSource, reportingController, reportingInstance string) string {
	component := es.Component
	if component == "" {
		component = reportingController
	}
	host := es.Host
	if host == "" {
		host = reportingInstance
	}
	if host == "" {
		return component
	}
	return component + ", " + host
}
