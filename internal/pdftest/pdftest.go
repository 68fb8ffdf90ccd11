// Package pdftest reads back what a PDF says, as tests check documents:
// through pdftotext from Debian's poppler-utils, which .ci/run installs.
package pdftest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Text is the PDF's text as pdftotext lays it out; pages end with \f.
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	in := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", in, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext (Debian's poppler-utils): %v: %s", err, out)
	}
	return string(out)
}
