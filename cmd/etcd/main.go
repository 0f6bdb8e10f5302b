// Command etcd is the real etcd server, built from go.etcd.io/etcd/server/v3.
// kinc runs it as the etcd static pod on control-plane nodes.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
