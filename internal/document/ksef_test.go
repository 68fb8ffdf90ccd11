package document_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/officeflow/officeflow/internal/document"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/stretchr/testify/require"
)

// Links as long as the real ones: KOD II signed with RSA 2048 is about 470
// characters, the densest code a document carries.
const (
	verifyURL  = "https://qr-test.ksef.mf.gov.pl/invoice/5260250995/25-11-2026/UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE"
	ksefNumber = "5260250995-20261125-0100001AF629-AF"
)

var certificateURL = "https://qr-test.ksef.mf.gov.pl/certificate/Nip/5260250995/5260250995/01F20A5D352AE590/UtQp9Gpc51y-u3xApZjIjgkpZ01js-J8KflSPW8WzIE/" +
	strings.Repeat("mSkm_XmM9fq7PgAJwiL32L9ujhyguOEV48cDB0ncemD2r9TMGa3lr0iRoFk588agCi8QPsOuscUY1rZ7ff76STbGquO-", 4)[:342]

// An invoice KSeF accepted carries KOD I, its KSeF number under the code
// and by the header, and no KOD II.
func TestAcceptedInvoicePrintsKODIAndTheKSeFNumber(t *testing.T) {
	d := sample()
	d.KSeF = &document.KSeF{Number: ksefNumber, VerifyURL: verifyURL}
	pdf, err := document.Render(d)
	require.NoError(t, err)
	text := pdftest.Text(t, pdf)
	require.Contains(t, text, "Numer KSeF: "+ksefNumber, "the PDF's text:\n%s", text)
	require.Equal(t, 2, strings.Count(text, ksefNumber), "by the header and under the code:\n%s", text)
	require.NotContains(t, text, "OFFLINE")
	require.NotContains(t, text, "CERTYFIKAT")
	require.Equal(t, 1, strings.Count(text, "\f"), "one page")
	require.Equal(t, []string{verifyURL}, pdftest.QRCodes(t, pdf))
}

// An invoice issued offline and not yet in KSeF carries KOD I marked
// OFFLINE and KOD II marked CERTYFIKAT, and no KSeF number.
func TestOfflineInvoicePrintsKODIAndKODII(t *testing.T) {
	d := sample()
	d.KSeF = &document.KSeF{VerifyURL: verifyURL, CertificateURL: certificateURL}
	pdf, err := document.Render(d)
	require.NoError(t, err)
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = model.ValidationStrict
	require.NoError(t, api.Validate(bytes.NewReader(pdf), conf), "pdfcpu validate (strict)")
	text := pdftest.Text(t, pdf)
	require.Contains(t, text, "OFFLINE", "the PDF's text:\n%s", text)
	require.Contains(t, text, "CERTYFIKAT")
	require.NotContains(t, text, "Numer KSeF")
	require.Equal(t, []string{verifyURL, certificateURL}, pdftest.QRCodes(t, pdf), "KOD I, then KOD II on its right")

	// Once accepted, the same invoice prints its number instead.
	d.KSeF.Number = ksefNumber
	pdf, err = document.Render(d)
	require.NoError(t, err)
	text = pdftest.Text(t, pdf)
	require.Contains(t, text, "Numer KSeF: "+ksefNumber)
	require.NotContains(t, text, "OFFLINE")
	require.Equal(t, []string{verifyURL, certificateURL}, pdftest.QRCodes(t, pdf))
}

// A document without a KSeF mark (a pro-forma, KSeF off) has no code.
func TestDocumentWithoutKSeFPrintsNoQR(t *testing.T) {
	pdf, err := document.Render(sample())
	require.NoError(t, err)
	require.Empty(t, pdftest.QRCodes(t, pdf))
	text := pdftest.Text(t, pdf)
	for _, s := range []string{"KSeF", "OFFLINE", "CERTYFIKAT"} {
		require.NotContains(t, text, s)
	}
}

func TestKSeFCodesSameBytes(t *testing.T) {
	d := sample()
	d.KSeF = &document.KSeF{VerifyURL: verifyURL, CertificateURL: certificateURL}
	a, err := document.Render(d)
	require.NoError(t, err)
	b, err := document.Render(d)
	require.NoError(t, err)
	require.Equal(t, a, b, "a document rendered again is byte for byte the one stored")
}

// The codes sit at the foot of the page: lines enough to reach it push
// them to a page of their own rather than under the table.
func TestKSeFCodesNeverOverlapTheLines(t *testing.T) {
	d := sample()
	d.KSeF = &document.KSeF{Number: ksefNumber, VerifyURL: verifyURL, CertificateURL: certificateURL}
	for len(d.Lines) < 25 {
		d.Lines = append(d.Lines, d.Lines[0])
	}
	pdf, err := document.Render(d)
	require.NoError(t, err)
	text := pdftest.Text(t, pdf)
	require.Equal(t, 2, strings.Count(text, "\f"), "the codes on a second page:\n%s", text)
	require.Equal(t, []string{verifyURL, certificateURL}, pdftest.QRCodes(t, pdf))
}
