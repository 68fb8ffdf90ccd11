package ksef_test

import (
	"testing"

	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/stretchr/testify/require"
)

func TestKsefNumberChecksumIsTheGuidesCRC8(t *testing.T) {
	// numer-ksef.md's example and the KSeF numbers of the Ministry's UPO examples.
	for _, n := range []string{
		"5265877635-20250826-0100001AF629-AF",
		"5265877635-20250916-0200A0D6723E-C2",
		"5265877635-20250916-010040741B3E-46",
		"5265877635-20250916-0100C002FF3E-D5",
		"5265877635-20250916-02000009FF3E-FB",
		"5265877635-20250916-020000583241-84",
	} {
		require.Equal(t, n[33:], ksef.KsefNumberChecksum(n[:32]), n)
		require.True(t, ksef.ValidKsefNumber(n), n)
	}
	for _, n := range []string{
		"5265877635-20250826-0100001AF629-AE",  // checksum off by one
		"5265877635-20250826-0100001AF628-AF",  // a changed digit
		"5265877635-20250826-0100001af629-AF",  // lower case
		"5265877635-20250826-0100001AF629-AF ", // 36 characters
		"5265877635-20250826-0100001AF629",
		"",
	} {
		require.False(t, ksef.ValidKsefNumber(n), n)
	}
}
