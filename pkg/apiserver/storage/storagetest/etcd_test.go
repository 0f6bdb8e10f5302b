package storagetest

import (
	"context"
	"testing"
)

func TestIntegrationRunEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	c := RunEtcd(t)
	if _, err := c.Put(context.Background(), "a", "b"); err != nil {
		t.Fatal(err)
	}
}
