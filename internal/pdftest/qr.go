package pdftest

import (
	"errors"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/multi/qrcode"
)

// QRCodes is the text of every QR code on the PDF's pages, as a phone
// would read them off paper: each page is rasterised at 300 dpi by
// pdftoppm (poppler-utils, like pdftotext) and decoded by ZXing's
// multi-code reader (gozxing). They come page by page, top to bottom, then
// left to right; none is an empty slice.
func QRCodes(t testing.TB, pdf []byte) []string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "doc.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-png", "-r", "300", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm (Debian's poppler-utils): %v: %s", err, out)
	}
	// page-1.png, or page-01.png when there are ten or more: the same
	// width on one run, so the names sort as the pages do.
	pages, err := filepath.Glob(filepath.Join(dir, "page-*.png"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("pdftoppm wrote no page: %v", err)
	}
	sort.Strings(pages)
	var texts []string
	for _, page := range pages {
		texts = append(texts, decode(t, page)...)
	}
	return texts
}

// decode reads the QR codes of one page's image.
func decode(t testing.TB, file string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	results, err := qrcode.NewQRCodeMultiReader().DecodeMultiple(bmp,
		map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if errors.As(err, new(gozxing.NotFoundException)) {
		return nil // a page without a code
	}
	if err != nil {
		t.Fatalf("%s: decoding its QR codes: %v", file, err)
	}
	type found struct {
		at   image.Point
		text string
	}
	codes := make([]found, 0, len(results))
	for _, r := range results {
		at := image.Point{X: 1 << 30, Y: 1 << 30}
		for _, p := range r.GetResultPoints() {
			at.X, at.Y = min(at.X, int(p.GetX())), min(at.Y, int(p.GetY()))
		}
		codes = append(codes, found{at, r.GetText()})
	}
	// Two codes side by side differ in x by far more than their finder
	// patterns differ in y; a row is codes within 10 mm (118 px) of height.
	sort.Slice(codes, func(i, j int) bool {
		a, b := codes[i].at, codes[j].at
		if d := a.Y - b.Y; d > 118 || d < -118 {
			return a.Y < b.Y
		}
		return a.X < b.X
	})
	texts := make([]string, len(codes))
	for i, c := range codes {
		texts[i] = c.text
	}
	return texts
}
