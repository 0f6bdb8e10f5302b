package proxy_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/streaming/pkg/httpstream"
)

func TestIntegrationPortForward(t *testing.T) {
	e := setup(t)
	u := e.client.CoreV1().RESTClient().Post().Namespace(e.ns).Resource("pods").Name("web").SubResource("portforward").URL()
	transport, upgrader, err := spdy.RoundTripperFor(e.inst.Config)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := portforward.NewSPDYOverWebsocketDialerForStreaming(u, e.inst.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct {
		name   string
		dialer httpstream.Dialer
	}{
		{"spdy", spdy.NewDialerForStreaming(upgrader, &http.Client{Transport: transport}, "POST", u)},
		{"websocket", ws},
	} {
		t.Run(d.name, func(t *testing.T) {
			stop, ready := make(chan struct{}), make(chan struct{})
			var errOut bytes.Buffer
			fw, err := portforward.NewOnAddressesForStreaming(d.dialer, []string{"127.0.0.1"}, []string{"0:80"}, stop, ready, io.Discard, &errOut)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- fw.ForwardPorts() }()
			select {
			case <-ready:
			case err := <-done:
				t.Fatalf("port-forward ended: %v", err)
			case <-time.After(30 * time.Second):
				t.Fatal("port-forward not ready")
			}
			ports, err := fw.GetPorts()
			if err != nil || len(ports) != 1 {
				t.Fatalf("ports %v, %v", ports, err)
			}
			echo := func(try int) {
				t.Helper()
				c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0].Local))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(20 * time.Second))
				br := bufio.NewReader(c)
				if line, err := br.ReadString('\n'); line != "port 80\n" {
					t.Fatalf("connection %d greeting %q, %v", try, line, err)
				}
				msg := fmt.Sprintf("ping %d\n", try)
				if _, err := io.WriteString(c, msg); err != nil {
					t.Fatal(err)
				}
				if line, err := br.ReadString('\n'); line != msg {
					t.Fatalf("connection %d echo %q, %v", try, line, err)
				}
			}
			echo(1)
			echo(2)
			// Bulk: 32 MiB out and echoed back.
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0].Local))
			if err != nil {
				t.Fatal(err)
			}
			_ = c.SetDeadline(time.Now().Add(60 * time.Second))
			br := bufio.NewReader(c)
			if line, err := br.ReadString('\n'); line != "port 80\n" {
				t.Fatalf("bulk greeting %q, %v", line, err)
			}
			const size = 32 << 20
			start := time.Now()
			go func() { _, _ = io.Copy(c, io.LimitReader(zeros{}, size)) }()
			n, err := io.CopyN(io.Discard, br, size)
			c.Close()
			if n != size {
				t.Fatalf("bulk: %d of %d bytes back, %v", n, size, err)
			}
			t.Logf("%s: 32 MiB each way in %v", d.name, time.Since(start))
			close(stop)
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("ForwardPorts: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Error("port-forward did not stop")
			}
		})

		// A closed port reports its error on its own error stream and the
		// connection carries other ports on. (client-go's PortForwarder
		// closes the whole connection on such an error: that is the
		// client's choice, so streams are opened by hand here.)
		t.Run(d.name+"/closed port", func(t *testing.T) {
			conn, proto, err := d.dialer.Dial("portforward.k8s.io")
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			if proto != "portforward.k8s.io" {
				t.Errorf("protocol %q", proto)
			}
			pair := func(port, id string) (errStream, data httpstream.Stream) {
				t.Helper()
				h := http.Header{}
				h.Set("streamType", "error")
				h.Set("port", port)
				h.Set("requestID", id)
				if errStream, err = conn.CreateStream(h); err != nil {
					t.Fatal(err)
				}
				h.Set("streamType", "data")
				if data, err = conn.CreateStream(h); err != nil {
					t.Fatal(err)
				}
				return errStream, data
			}
			errStream, data := pair("1", "1")
			msg, err := io.ReadAll(errStream)
			if err != nil || !strings.Contains(string(msg), "connection refused") {
				t.Errorf("closed port: error stream %q, %v", msg, err)
			}
			data.Close()
			errStream, data = pair("80", "2")
			br := bufio.NewReader(data)
			if line, err := br.ReadString('\n'); line != "port 80\n" {
				t.Fatalf("after the closed port: greeting %q, %v", line, err)
			}
			if _, err := io.WriteString(data, "again\n"); err != nil {
				t.Fatal(err)
			}
			if line, err := br.ReadString('\n'); line != "again\n" {
				t.Errorf("after the closed port: echo %q, %v", line, err)
			}
			data.Close()
			errStream.Close()
		})
	}
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
