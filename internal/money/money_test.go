package money

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVATRoundsHalfUp(t *testing.T) {
	cases := map[Grosze]Grosze{
		10000: 2300, // 100.00 -> 23.00
		1:     0,    // 0.23 grosz
		2:     0,    // 0.46
		3:     1,    // 0.69
		50:    12,   // 11.5 -> 12
		2600:  598,
		1730:  398, // 397.9
	}
	for net, want := range cases {
		require.Equal(t, want, VAT(net), "net %d", net)
	}
}

func TestParseAndString(t *testing.T) {
	good := map[string]Grosze{"123.00": 12300, "123": 12300, "0.5": 50, "1.05": 105, "664.20": 66420}
	for s, want := range good {
		g, err := Parse(s)
		require.NoError(t, err, s)
		require.Equal(t, want, g, s)
	}
	require.Equal(t, "664.20", Grosze(66420).String())
	require.Equal(t, "-0.05", Grosze(-5).String())
	for _, bad := range []string{"", ".5", "1.", "1.234", "-1", "+1", "1e3", "1,00", " 1", "abc", "9999999999999999"} {
		_, err := Parse(bad)
		require.ErrorIs(t, err, ErrFormat, bad)
	}
}

func TestLocal(t *testing.T) {
	require.Equal(t, "332,10", Grosze(33210).Local("pl"))
	require.Equal(t, "1\u00a0234\u00a0567,05", Grosze(123456705).Local("pl"))
	require.Equal(t, "1,234,567.05", Grosze(123456705).Local("en"))
	require.Equal(t, "0.05", Grosze(5).Local("en"))
	require.Equal(t, "-1\u00a0000,00", Grosze(-100000).Local("pl"))
}

func TestAmountsAreJSONStrings(t *testing.T) {
	type doc struct{ Gross, Back Grosze }
	raw, err := json.Marshal(doc{Gross: 33210, Back: -33210})
	if err != nil || string(raw) != `{"Gross":"332.10","Back":"-332.10"}` {
		t.Fatalf("%s %v", raw, err)
	}
	var d doc
	if err := json.Unmarshal(raw, &d); err != nil || d.Gross != 33210 || d.Back != -33210 {
		t.Fatalf("%+v %v", d, err)
	}
	if err := json.Unmarshal([]byte(`{"Gross":"3.3.2"}`), &d); err == nil {
		t.Fatal("a malformed amount is refused")
	}
}
