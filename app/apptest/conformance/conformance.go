// Package conformance finds the project's conformance set: the official
// schemas, samples and test vectors that generated documents (VERI*FACTU,
// Facturae, SEPA, UBL, CFDI) are checked against in tests.
//
// The repository does not copy them (ARCHITECTURE.md, test rules): they
// live in $PULSO_CONFORMANCE_DIR, by default ../shared/conformance beside
// the repository. A test that needs them and cannot find them fails, with
// a message saying where they were looked for; it never skips, since a
// skipped check passes without checking anything.
package conformance

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Dir is the conformance set's directory.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("PULSO_CONFORMANCE_DIR")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			tb.Fatalf("conformance: %v", err)
		}
		dir = filepath.Join(root, "..", "shared", "conformance")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(abs, "RULES.md")); err != nil {
		tb.Fatalf("conformance: the official schemas and samples are not at %s (set PULSO_CONFORMANCE_DIR): %v", abs, err)
	}
	return abs
}

// Path is a file of the set, by its path inside it ("verifactu/xsd/SuministroLR.xsd").
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	return filepath.Join(Dir(tb), filepath.FromSlash(rel))
}

// Read is the contents of a file of the set.
func Read(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(Path(tb, rel))
	if err != nil {
		tb.Fatalf("conformance: %v", err)
	}
	return b
}

// repoRoot is the directory holding go.mod, found upwards from the test's
// working directory (its package directory).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

// XMLLint validates doc against a schema of the set ("verifactu/xsd/SuministroLR.xsd")
// and returns xmllint's complaint, or "" when the document is valid. The
// set's catalog (verifactu/catalog.xml) maps the xmldsig import to its
// copy, so xmllint works offline (--nonet). Without xmllint the test
// fails: a skipped validation would pass without checking anything (CI
// installs libxml2-utils).
func XMLLint(tb testing.TB, schema string, doc []byte) string {
	tb.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		tb.Fatalf("xmllint is not installed, so the XML cannot be validated against the official schemas: install it (Debian: apt-get install libxml2-utils)")
	}
	f := filepath.Join(tb.TempDir(), "doc.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "--nonet", "--noout", "--schema", Path(tb, schema), f)
	cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+Path(tb, "verifactu/catalog.xml"))
	out, err := cmd.CombinedOutput()
	if err == nil {
		if !strings.Contains(string(out), "validates") {
			tb.Fatalf("xmllint exited 0 without saying the document validates: %s", out)
		}
		return ""
	}
	if _, ok := err.(*exec.ExitError); !ok {
		tb.Fatalf("running xmllint: %v", err)
	}
	if len(out) == 0 {
		return err.Error()
	}
	return string(out)
}

// MustValidate fails the test when doc does not validate against schema.
func MustValidate(tb testing.TB, schema string, doc []byte) {
	tb.Helper()
	if msg := XMLLint(tb, schema, doc); msg != "" {
		tb.Fatalf("does not validate against %s:\n%s\n--- document:\n%s", schema, msg, doc)
	}
}
