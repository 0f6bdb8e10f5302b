// Command kinc creates and manages local Kubernetes clusters whose nodes are
// Docker containers.
package main

import "github.com/kinc-dev/kinc/cmd/kinc/app"

func main() {
	app.Main()
}
