package document

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/encoding/charmap"
)

// fpdf cannot share a parsed TrueType font between documents: each
// AddUTF8FontFromBytes parses the font, fingerprints it (JSON of a
// 65,536-entry width table, hashed), and each Output subsets the font and
// compresses it with a 128 KiB glyph map: about four fifths of a render's
// CPU. So the font is prepared once per process as fpdf's other kind of
// font, a TrueType font with a one-byte encoding (Windows-1250, which has
// every Polish letter), given as a definition and an already compressed
// font file that fpdf copies into each PDF as they are. A document with a
// character outside Windows-1250 (Greek, Cyrillic, Romanian ș) is rendered
// with the UTF-8 font as before: every character Printable keeps still
// prints.

// font is the prepared font: fpdf's definition of it (JSON), its font
// file (a subset of the Go font holding the Windows-1250 characters,
// zlib-compressed), and each character's one-byte code.
type font struct {
	def, file []byte
	code      map[rune]byte
}

// cp1250 names the glyph of each Windows-1250 code from 0x80, as the
// encoding's Differences need them (Adobe Glyph List names, those of
// fpdf's cp1250.map; "nbspace" for U+00A0, which the map calls "space").
// The five codes Windows-1250 leaves undefined are .notdef.
const cp1250 = "Euro .notdef quotesinglbase .notdef quotedblbase ellipsis dagger daggerdbl .notdef perthousand Scaron " +
	"guilsinglleft Sacute Tcaron Zcaron Zacute .notdef quoteleft quoteright quotedblleft quotedblright bullet endash emdash " +
	".notdef trademark scaron guilsinglright sacute tcaron zcaron zacute nbspace caron breve Lslash currency Aogonek " +
	"brokenbar section dieresis copyright Scedilla guillemotleft logicalnot hyphen registered Zdotaccent degree plusminus " +
	"ogonek lslash acute mu paragraph periodcentered cedilla aogonek scedilla guillemotright Lcaron hungarumlaut lcaron " +
	"zdotaccent Racute Aacute Acircumflex Abreve Adieresis Lacute Cacute Ccedilla Ccaron Eacute Eogonek Edieresis Ecaron " +
	"Iacute Icircumflex Dcaron Dcroat Nacute Ncaron Oacute Ocircumflex Ohungarumlaut Odieresis multiply Rcaron Uring " +
	"Uacute Uhungarumlaut Udieresis Yacute Tcommaaccent germandbls racute aacute acircumflex abreve adieresis lacute " +
	"cacute ccedilla ccaron eacute eogonek edieresis ecaron iacute icircumflex dcaron dcroat nacute ncaron oacute " +
	"ocircumflex ohungarumlaut odieresis divide rcaron uring uacute uhungarumlaut udieresis yacute tcommaaccent dotaccent"

// prepared is the font, made on the first render. An error leaves every
// document to the UTF-8 font (a test checks there is none).
var prepared = sync.OnceValues(prepare)

// prepare makes the font with fpdf itself, once: a page in the UTF-8 font
// showing every Windows-1250 character the Go font has gives the font's
// subset, compressed, and each character's width, as fpdf would embed and
// measure them in any document.
func prepare() (*font, error) {
	names := strings.Fields(cp1250)
	if len(names) != 128 {
		return nil, errors.New("document: the Windows-1250 glyph names are not 128")
	}
	f := &font{code: map[rune]byte{}}
	set := glyphs()
	var text []rune
	for c := 0x20; c < 0x100; c++ {
		r := charmap.Windows1250.DecodeByte(byte(c))
		if r == 0x7f || r == '\ufffd' || set[r/64]&(1<<(r%64)) == 0 {
			continue
		}
		f.code[r] = byte(c)
		text = append(text, r)
	}
	p := fpdf.New("P", "pt", "A4", "")
	p.AddUTF8FontFromBytes("go", "", goregular.TTF)
	p.AddPage()
	p.SetFont("go", "", 10)
	p.Text(10, 20, string(text))
	desc := p.GetFontDesc("go", "")
	cw := make([]int, 256)
	for c := range cw {
		cw[c] = desc.MissingWidth
	}
	for r, c := range f.code {
		cw[c] = p.GetStringSymbolWidth(string(r))
	}
	var out bytes.Buffer
	if err := p.Output(&out); err != nil {
		return nil, err
	}
	file, size, err := fontFile(out.Bytes())
	if err != nil {
		return nil, err
	}
	f.file = file
	// A one-byte encoding maps codes to glyphs through their names and the
	// font's Unicode cmap: not symbolic (flag 6), non-symbolic (flag 3).
	desc.Flags = desc.Flags&^4 | 32
	var diff strings.Builder
	diff.WriteString("128")
	for _, n := range names {
		diff.WriteString(" /" + n)
	}
	f.def, err = json.Marshal(map[string]any{
		"Tp": "TrueType", "Name": "GoRegular", "Desc": desc, "Up": -100, "Ut": 50, "Cw": cw,
		"Enc": "cp1250", "Diff": diff.String(), "File": "goregular-cp1250.z", "OriginalSize": size,
	})
	return f, err
}

// fontFile is the compressed font file fpdf embedded in pdf and its size
// uncompressed. fpdf writes it as the one object with a /Length1:
// "<</Length N\n/Filter /FlateDecode\n/Length1 M\n>>\nstream\n" and N bytes.
// The bytes are checked to inflate to a font that has the Polish letters.
func fontFile(pdf []byte) ([]byte, int, error) {
	bad := errors.New("document: no font file in fpdf's PDF")
	i := bytes.Index(pdf, []byte("/Length1 "))
	j := bytes.LastIndex(pdf[:max(i, 0)], []byte("<</Length "))
	if i < 0 || j < 0 {
		return nil, 0, bad
	}
	// The number that starts b.
	num := func(b []byte) (int, error) {
		end := bytes.IndexFunc(b, func(r rune) bool { return r < '0' || r > '9' })
		return strconv.Atoi(string(b[:max(end, 0)]))
	}
	n, err1 := num(pdf[j+len("<</Length "):])
	size, err2 := num(pdf[i+len("/Length1 "):])
	k := bytes.Index(pdf[i:], []byte("stream\n"))
	if err1 != nil || err2 != nil || k < 0 || i+k+len("stream\n")+n > len(pdf) {
		return nil, 0, bad
	}
	file := pdf[i+k+len("stream\n"):][:n]
	zr, err := zlib.NewReader(bytes.NewReader(file))
	if err != nil {
		return nil, 0, err
	}
	ttf, err := io.ReadAll(zr)
	if err != nil || len(ttf) != size {
		return nil, 0, errors.Join(bad, err)
	}
	sf, err := sfnt.Parse(ttf)
	if err != nil {
		return nil, 0, err
	}
	var buf sfnt.Buffer
	for _, r := range "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ" {
		if g, err := sf.GlyphIndex(&buf, r); err != nil || g == 0 {
			return nil, 0, errors.Join(errors.New("document: the prepared font has no "+string(r)), err)
		}
	}
	return bytes.Clone(file), size, nil
}

// encode is s in the font's codes; false if s has a character the font
// has no code for.
func (f *font) encode(s string) (string, bool) {
	plain := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r < 0x80 {
			b = append(b, byte(r))
			continue
		}
		c, ok := f.code[r]
		if !ok {
			return "", false
		}
		b = append(b, c)
	}
	return string(b), true
}
