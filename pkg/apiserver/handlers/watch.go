package handlers

import (
	"encoding/json"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/watch"
)

// Watch durations: upstream picks a random timeout in [30m, 60m) when the
// client gives none; kinc uses the lower bound.
const defaultWatchTimeout = 30 * time.Minute

// watch streams events as newline-separated WatchEvent JSON objects over a
// chunked response, flushing each one. With a Table Accept header each event
// carries a one-row Table (column definitions in the first only).
func (a *API) watch(req *request) {
	opts, err := a.listOptions(req)
	if err != nil {
		a.fail(req, err)
		return
	}
	if opts.SendInitialEvents != nil {
		// kinc does not implement WatchList; client-go falls back to
		// list+watch on this answer, as with upstream servers that disable it.
		a.fail(req, apierrors.NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: "ListOptions"}, "",
			field.ErrorList{field.Forbidden(field.NewPath("sendInitialEvents"), "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled")}))
		return
	}
	if opts.FieldSelector == "" && req.info.Name != "" {
		opts.FieldSelector = "metadata.name=" + req.info.Name
	}
	timeout := defaultWatchTimeout
	if opts.TimeoutSeconds != nil && *opts.TimeoutSeconds > 0 {
		timeout = time.Duration(*opts.TimeoutSeconds) * time.Second
	}
	w, err := req.res.Store.Watch(req.ctx, req.info.Namespace, opts)
	if err != nil {
		a.fail(req, err)
		return
	}
	defer w.Stop()

	flusher, _ := req.w.(http.Flusher)
	req.w.Header().Set("Content-Type", req.out.mediaType)
	req.w.Header().Set("Transfer-Encoding", "chunked")
	req.w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	sentHeaders := false
	for {
		select {
		case <-req.ctx.Done():
			return
		case <-timer.C:
			return
		case ev, ok := <-w.ResultChan():
			if !ok {
				return
			}
			data, err := a.encodeEvent(req, ev, &sentHeaders)
			if err != nil {
				a.log.Error("encoding watch event", "path", req.r.URL.Path, "err", err)
				return
			}
			if _, err := req.w.Write(data); err != nil {
				return
			}
			if flusher != nil && len(w.ResultChan()) == 0 {
				flusher.Flush()
			}
		}
	}
}

// encodeEvent renders one watch event. Objects in events are shared with
// other watchers, so they are copied before apiVersion/kind are set.
func (a *API) encodeEvent(req *request, ev watch.Event, sentHeaders *bool) ([]byte, error) {
	var obj any
	switch {
	case ev.Type == watch.Error:
		if st, ok := ev.Object.(*metav1.Status); ok {
			c := st.DeepCopy()
			c.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}
			obj = c
		} else {
			obj = ErrorToStatus(apierrors.NewInternalError(errUnknownWatchError))
		}
	case req.out.kind == outputTable && ev.Type != watch.Bookmark:
		t, err := a.table(req, ev.Object, *sentHeaders)
		if err != nil {
			return nil, err
		}
		*sentHeaders = true
		obj = t
	case req.out.kind == outputMetadata:
		m, err := partialMetadata(ev.Object, req.out.tableGV)
		if err != nil {
			return nil, err
		}
		obj = m
	default:
		c := ev.Object.DeepCopyObject()
		if err := a.setKind(c); err != nil {
			return nil, err
		}
		obj = c
	}
	raw, err := encode(obj, false)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(metav1.WatchEvent{Type: string(ev.Type), Object: runtime.RawExtension{Raw: raw}})
	if err != nil {
		return nil, err
	}
	if req.out.yaml {
		// YAML watch streams are documents separated by "---".
		y, err := encode(json.RawMessage(data), true)
		if err != nil {
			return nil, err
		}
		return append([]byte("---\n"), y...), nil
	}
	return append(data, '\n'), nil
}

type watchError string

func (e watchError) Error() string { return string(e) }

const errUnknownWatchError = watchError("watch failed")
