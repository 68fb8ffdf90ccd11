package ksef

import (
	"fmt"
	"regexp"
)

// ksefNumberPattern is the 35-character KSeF number of numer-ksef.md:
// the seller's NIP, the date KSeF took the invoice for processing
// (YYYYMMDD), 12 upper-case hex digits of its own and a CRC-8 of the 32
// characters before it, in two upper-case hex digits.
var ksefNumberPattern = regexp.MustCompile(`^[0-9]{10}-[0-9]{8}-[0-9A-F]{12}-[0-9A-F]{2}$`)

// KsefNumberChecksum is the CRC-8 of numer-ksef.md (polynomial 0x07,
// initial value 0x00, no reflection, no final XOR) of data, the first 32
// characters of a KSeF number, as two upper-case hex digits.
func KsefNumberChecksum(data string) string {
	var crc byte
	for i := 0; i < len(data); i++ {
		crc ^= data[i]
		for range 8 {
			if crc&0x80 != 0 {
				crc = crc<<1 ^ 0x07
			} else {
				crc <<= 1
			}
		}
	}
	return fmt.Sprintf("%02X", crc)
}

// ValidKsefNumber tells whether s is a KSeF number as KSeF 2.0 gives them:
// 35 characters of the documented shape whose last two are the CRC-8 of
// the first 32.
func ValidKsefNumber(s string) bool {
	return ksefNumberPattern.MatchString(s) && KsefNumberChecksum(s[:32]) == s[33:]
}
