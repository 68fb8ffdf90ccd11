package document

import (
	"fmt"

	"github.com/go-pdf/fpdf"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/encoder"
)

// The KSeF codes' layout: each in a slot at the foot of the page, from the
// right margin leftwards, the label under it. The slot is wider than the
// code so a KSeF number (35 characters) fits under it at qrFont.
const (
	qrSide  = 35.0 // mm, the code with its quiet zone
	qrQuiet = 4    // modules of white around the code, as ISO/IEC 18004 wants
	qrSlot  = 50.0 // mm
	qrLabel = 4.0  // mm, the label's height
	qrFont  = 7.0  // pt
	qrFoot  = 10.0 // mm, the page's bottom margin
)

// qrTop is where the codes start: nothing else may reach below it.
const qrTop = 297 - qrFoot - qrLabel - qrSide

// codes draws the document's KSeF codes (kody-qr.md): KOD I with the KSeF
// number under it, or "OFFLINE" while there is none, and for a document
// issued offline KOD II with "CERTYFIKAT". Labels go through cell, as every
// text does.
func codes(p *fpdf.Fpdf, k *KSeF, cell func(w, h float64, s, border string, ln int, align string)) error {
	type code struct{ url, label string }
	list := []code{{k.VerifyURL, k.Number}}
	if k.Number == "" {
		list[0].label = "OFFLINE"
	}
	if k.CertificateURL != "" {
		list = append(list, code{k.CertificateURL, "CERTYFIKAT"})
	}
	// Below the content, never over it: should the lines run that far,
	// the codes get a page of their own.
	if p.GetY() > qrTop {
		p.AddPage()
	}
	p.SetFont("go", "", qrFont)
	for i, c := range list {
		x := 200 - float64(len(list)-i)*qrSlot
		if err := square(p, x+(qrSlot-qrSide)/2, qrTop, c.url); err != nil {
			return err
		}
		p.SetXY(x, qrTop+qrSide)
		cell(qrSlot, qrLabel, c.label, "", 0, "C")
	}
	return nil
}

// square draws text's QR code, error correction M, as filled black
// rectangles qrSide wide with its quiet zone, the zone's top left corner
// at x, y. Vectors, not an image: sharp at any zoom or printer, and the
// same bytes every time. The encoder is ZXing's, which picks the mask
// pattern by the standard's penalty rules (rsc.io/qr always uses mask 0).
func square(p *fpdf.Fpdf, x, y float64, text string) error {
	q, err := encoder.Encoder_encodeWithoutHint(text, decoder.ErrorCorrectionLevel_M)
	if err != nil {
		return fmt.Errorf("document: the QR code of %q: %w", text, err)
	}
	m := q.GetMatrix()
	n := m.GetWidth()
	mod := qrSide / float64(n+2*qrQuiet)
	x0, y0 := x+qrQuiet*mod, y+qrQuiet*mod
	p.SetFillColor(0, 0, 0)
	// A run of black modules in a row is one rectangle: fewer operators,
	// and no hairline seams between neighbours when it is rasterised.
	for r := 0; r < n; r++ {
		for c := 0; c < n; {
			if m.Get(c, r) != 1 {
				c++
				continue
			}
			start := c
			for c < n && m.Get(c, r) == 1 {
				c++
			}
			p.Rect(x0+float64(start)*mod, y0+float64(r)*mod, float64(c-start)*mod, mod, "F")
		}
	}
	return nil
}
