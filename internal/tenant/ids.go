package tenant

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"math/big"
	"strconv"
)

// requestIDNamespace keeps officeflow's derived ids apart from any other
// name-based UUIDs built from the same strings.
var requestIDNamespace = [16]byte{
	0x6f, 0x1a, 0x0c, 0x9e, 0x3b, 0x7d, 0x4e, 0x42,
	0x9a, 0x61, 0x0f, 0x7c, 0x2d, 0x8b, 0x4e, 0x15,
}

// RequestID derives a stable, UUID-formatted (version 5) id from parts such as
// (orderID, step). The same parts always give the same id, so a retried call
// carries the MS-RequestId the server saw the first time.
func RequestID(parts ...string) string {
	h := sha1.New()
	h.Write(requestIDNamespace[:])
	// Length-prefixing keeps ("ab","c") and ("a","bc") distinct.
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return formatUUID(u)
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails since Go 1.24
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return formatUUID(u)
}

func formatUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// Look-alike characters are left out because admins may type the temporary
// password by hand; quotes and backslashes are left out so it survives shells
// and templates unescaped.
const (
	pwLower   = "abcdefghijkmnopqrstuvwxyz"
	pwUpper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	pwDigits  = "23456789"
	pwSymbols = "!@#$%*-_+=?"
	pwLength  = 20
)

// NewPassword returns a temporary password that satisfies Microsoft's
// complexity rules: every character class appears at least once.
func NewPassword() string {
	classes := []string{pwLower, pwUpper, pwDigits, pwSymbols}
	all := pwLower + pwUpper + pwDigits + pwSymbols
	b := make([]byte, pwLength)
	for i := range b {
		set := all
		if i < len(classes) {
			set = classes[i]
		}
		b[i] = set[randIndex(len(set))]
	}
	// Shuffle so the guaranteed characters are not always at the front.
	for i := len(b) - 1; i > 0; i-- {
		j := randIndex(i + 1)
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

func randIndex(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic("tenant: crypto/rand failed: " + err.Error())
	}
	return int(v.Int64())
}
