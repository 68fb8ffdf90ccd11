package document_test

import (
	"sync"
	"testing"

	"github.com/officeflow/officeflow/internal/document"
	"github.com/stretchr/testify/require"
)

// The worker renders documents in parallel (each issuing transaction, each
// KSeF acceptance renders its own): renders running at once share the
// prepared font (font.go), the Go font's bytes and the glyph set, and each
// still gives the bytes the same document gives alone. Run with -race.
func TestParallelRendersGiveTheSameBytes(t *testing.T) {
	cyrillic := sample() // set in the UTF-8 font, the others in the prepared one
	cyrillic.Buyer.Name = "България ЕООД"
	docs := []document.Document{sample(), correction(), accepted(), cyrillic}
	want := make([][]byte, len(docs))
	for i, d := range docs {
		pdf, err := document.Render(d)
		require.NoError(t, err)
		want[i] = pdf
	}
	const rounds = 4
	got := make([][]byte, rounds*len(docs))
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			pdf, err := document.Render(docs[i%len(docs)])
			if err != nil {
				t.Error(err)
			}
			got[i] = pdf
		})
	}
	wg.Wait()
	for i, pdf := range got {
		require.Equal(t, want[i%len(docs)], pdf, "render %d", i)
	}
}
