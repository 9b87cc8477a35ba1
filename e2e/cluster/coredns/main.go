// CoreDNS for the cluster tier, with only the plugins its Corefile uses (e2e/cluster/cluster.ts:
// bind, errors, loadbalance, template, kubernetes). The full CoreDNS build compiles every cloud
// provider's SDK for plugins the tier never loads; this one compiles in about a quarter of the time.
// Built by e2e/cluster/build.sh; go.mod pins CoreDNS and, through go.sum, everything it uses.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/template"
)

// The order in which the plugins handle a query: CoreDNS's own order (its plugin.cfg) for
// these five.
func init() {
	dnsserver.Directives = []string{"bind", "errors", "loadbalance", "template", "kubernetes"}
}

func main() { coremain.Run() }
