package workers_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Workers run the areas' rules, never their pages: a `pulso work` node
// needs neither HTTP nor sockets, and a rule written in a handler would be
// out of a job's reach. An area's web package importing into the workers'
// graph is how that starts (app/orders once held its pages).
func TestWorkersImportNoWebFramework(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "pulso/workers").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/gofiber/") || strings.HasPrefix(pkg, "github.com/fasthttp/websocket") || pkg == "pulso/app/web" {
			t.Errorf("workers depend on %s", pkg)
		}
	}
}
