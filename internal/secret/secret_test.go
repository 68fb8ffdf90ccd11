package secret

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSealOpen(t *testing.T) {
	b, err := NewBox(bytes.Repeat([]byte{7}, 32))
	require.NoError(t, err)
	sealed, err := b.Seal("Tmp#Pass123", "order-1")
	require.NoError(t, err)
	require.NotContains(t, string(sealed), "Tmp#Pass123")
	got, err := b.Open(sealed, "order-1")
	require.NoError(t, err)
	require.Equal(t, "Tmp#Pass123", got)

	_, err = b.Open(sealed, "order-2")
	require.ErrorIs(t, err, ErrOpen, "a value moved to another order must not open")
	other, _ := NewBox(bytes.Repeat([]byte{8}, 32))
	_, err = other.Open(sealed, "order-1")
	require.ErrorIs(t, err, ErrOpen)
	_, err = b.Open([]byte{1, 2}, "order-1")
	require.ErrorIs(t, err, ErrOpen)

	_, err = NewBox([]byte("short"))
	require.Error(t, err)
}

func TestTokenIsStablePerPurpose(t *testing.T) {
	b, _ := NewBox(bytes.Repeat([]byte{7}, 32))
	require.Equal(t, b.Token("billing", "o1"), b.Token("billing", "o1"))
	require.NotEqual(t, b.Token("billing", "o1"), b.Token("billing", "o2"))
	require.NotEqual(t, b.Token("billing", "o1"), b.Token("other", "o1"))
	require.Len(t, Hash("x"), 32)
}
