package document_test

import (
	"testing"

	"github.com/officeflow/officeflow/internal/document"
)

func BenchmarkRender(b *testing.B) {
	d := sample()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := document.Render(d); err != nil {
			b.Fatal(err)
		}
	}
}
