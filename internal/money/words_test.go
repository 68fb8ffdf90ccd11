package money

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWords(t *testing.T) {
	for g, want := range map[Grosze]string{
		33210:     "trzysta trzydzieści dwa złote 10/100",
		100:       "jeden złoty 00/100",
		0:         "zero złotych 00/100",
		5:         "zero złotych 05/100",
		1200:      "dwanaście złotych 00/100",
		2200:      "dwadzieścia dwa złote 00/100",
		1400:      "czternaście złotych 00/100",
		50000:     "pięćset złotych 00/100",
		100000:    "tysiąc złotych 00/100",
		200000:    "dwa tysiące złotych 00/100",
		500000:    "pięć tysięcy złotych 00/100",
		1200000:   "dwanaście tysięcy złotych 00/100",
		2212399:   "dwadzieścia dwa tysiące sto dwadzieścia trzy złote 99/100",
		100000000: "milion złotych 00/100",
		123456789: "milion dwieście trzydzieści cztery tysiące pięćset sześćdziesiąt siedem złotych 89/100",
		-33210:    "minus trzysta trzydzieści dwa złote 10/100",
		1911100:   "dziewiętnaście tysięcy sto jedenaście złotych 00/100",
		30000000:  "trzysta tysięcy złotych 00/100",
		400000000: "cztery miliony złotych 00/100",
	} {
		require.Equal(t, want, g.Words(), "%d grosze", int64(g))
	}
}
