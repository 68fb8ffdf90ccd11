// Package codec encrypts Temporal payloads (workflow inputs, results,
// activity arguments, signals, updates, queries) with AES-256-GCM, so that
// what a customer told us is ciphertext in history, and serves the codec
// endpoint through which the Web UI shows operators the plaintext.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
)

// Payload metadata the codec writes; the key id lets old payloads be read
// after the current key changes.
const (
	EncodingEncrypted = "binary/encrypted"
	MetadataKeyID     = "encryption-key-id"
)

// Key is one AES-256 key and the id history refers to it by.
type Key struct {
	ID     string
	Secret []byte
}

// Format prints the key's id only, whatever the verb: a key in a log line
// or an error is a key given away.
func (k Key) Format(f fmt.State, verb rune) { fmt.Fprintf(f, "codec.Key{ID:%s}", k.ID) }

// MarshalJSON writes the key's id only.
func (k Key) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(k.ID)), nil }

// Codec is a converter.PayloadCodec. Encode uses the current key; Decode any
// key it knows by id.
type Codec struct {
	current string
	aeads   map[string]cipher.AEAD
}

var _ converter.PayloadCodec = (*Codec)(nil)

var keyIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// New makes a codec; keys[0] is current, the rest only decode.
func New(keys ...Key) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("no payload key")
	}
	c := &Codec{current: keys[0].ID, aeads: map[string]cipher.AEAD{}}
	for _, k := range keys {
		if !keyIDRe.MatchString(k.ID) {
			return nil, fmt.Errorf("payload key id %q: use 1-64 letters, digits, '.', '_' or '-'", k.ID)
		}
		if len(k.Secret) != 32 {
			return nil, fmt.Errorf("payload key %s: %d bytes, want 32 (AES-256)", k.ID, len(k.Secret))
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("payload key %s given twice", k.ID)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, err
		}
		if c.aeads[k.ID], err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// ParseKeys reads "id:base64key,id2:base64key", the current key first.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, b64, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("%q: want id:base64-key", redact(part))
		}
		secret, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("payload key %s: not base64", id)
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	if len(keys) == 0 {
		return nil, errors.New("no payload key")
	}
	return keys, nil
}

// redact keeps a key out of an error message.
func redact(part string) string {
	if len(part) > 8 {
		return part[:4] + "…"
	}
	return "…"
}

// Encode encrypts each whole payload (data and metadata) with the current key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.current]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, err
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(c.current),
			},
			// The key id is authenticated too: a payload cannot be passed
			// off as sealed under another key.
			Data: aead.Seal(nonce, nonce, plain, []byte(c.current)),
		}
	}
	return out, nil
}

// Decode decrypts payloads this codec encrypted and passes others through
// (e.g. those written before encryption was turned on).
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.aeads[id]
		if !ok {
			return nil, fmt.Errorf("payload encrypted with unknown key %q", id)
		}
		data := p.GetData()
		if len(data) < aead.NonceSize() {
			return nil, errors.New("encrypted payload too short")
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("payload under key %q: %w", id, err)
		}
		var dp commonpb.Payload
		if err := proto.Unmarshal(plain, &dp); err != nil {
			return nil, err
		}
		out[i] = &dp
	}
	return out, nil
}

// DataConverter wraps the SDK's default converter with the codec.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}
