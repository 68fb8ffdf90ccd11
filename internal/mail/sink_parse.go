//go:build !production

package mail

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	stdmail "net/mail"
	"net/textproto"
	"strings"
)

// maxMIMEDepth stops hostile or broken messages from recursing forever.
const maxMIMEDepth = 8

var wordDecoder = &mime.WordDecoder{}

// parseMessage extracts what tests and people look at. It returns as much as
// it could parse together with the first error.
func parseMessage(raw []byte) (Received, error) {
	var r Received
	msg, err := stdmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return r, fmt.Errorf("reading headers: %w", err)
	}
	r.Subject = decodeHeader(msg.Header.Get("Subject"))
	r.MessageID = strings.Trim(strings.TrimSpace(msg.Header.Get("Message-Id")), "<>")
	err = walkPart(&r, textproto.MIMEHeader(msg.Header), msg.Body, 0)
	return r, err
}

func decodeHeader(v string) string {
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		return d
	}
	return v
}

func walkPart(r *Received, h textproto.MIMEHeader, body io.Reader, depth int) error {
	if depth > maxMIMEDepth {
		return errors.New("MIME nesting too deep")
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=utf-8"
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ct, err)
	}

	if strings.HasPrefix(mediaType, "multipart/") {
		// NextRawPart: NextPart would silently decode quoted-printable
		// but not base64; decoding everything in one place is simpler.
		mr := multipart.NewReader(body, params["boundary"])
		var firstErr error
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return firstErr
			}
			if err != nil {
				return errors.Join(firstErr, fmt.Errorf("multipart: %w", err))
			}
			if err := walkPart(r, p.Header, p, depth+1); err != nil && firstErr == nil {
				firstErr = err
			}
		}
	}

	data, err := io.ReadAll(transferDecoder(h.Get("Content-Transfer-Encoding"), body))
	if err != nil {
		return fmt.Errorf("decoding %s part: %w", mediaType, err)
	}

	disposition, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	// go-mail puts RFC 2047 encoded words inside the quoted filename.
	name = decodeHeader(name)
	switch {
	case disposition == "attachment" || (name != "" && disposition != "inline"):
		r.Attachments = append(r.Attachments, Attachment{Name: name, ContentType: mediaType, Data: data})
	case mediaType == "text/plain" && r.Text == "":
		r.Text = string(data)
	case mediaType == "text/html" && r.HTML == "":
		r.HTML = string(data)
	default:
		r.Attachments = append(r.Attachments, Attachment{Name: name, ContentType: mediaType, Data: data})
	}
	return nil
}

func transferDecoder(cte string, body io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		return quotedprintable.NewReader(body)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, body) // skips CR/LF itself
	default:
		return body
	}
}
