package config

import (
	"encoding/json"
	"fmt"
	"net/url"

	"go.uber.org/zap/zapcore"
)

// A Config holds keys, tokens and passwords. However it is printed (fmt's
// verbs, encoding/json, zap) it shows the settings and only whether each
// secret is set, so that a debug line or a crash dump cannot leak them.

// shown is a Config as it may be printed.
type shown struct {
	Dev                                    bool
	TemporalAddress, TemporalNamespace     string
	TaskQueue, TemporalTLS, TemporalAPIKey string
	MetricsAddr, OTLPEndpoint              string
	DatabaseURL, HTTPAddr                  string
	SMTPHost                               string
	SMTPPort                               int
	SMTPUsername, SMTPPassword, SMTPTLS    string
	SMTPFrom                               string
	PartnerAPIURL, PartnerAPIToken         string
	WebhookSecret                          string
	IntakeKeys                             int
	PaymentDeadline                        string
	PaymentReminders                       []string
	CredentialsKey, BillingPanelURL        string
	PayloadKeyIDs                          []string
	CodecToken, CodecAddr                  string
	CodecOrigins                           []string
	P24URL                                 string
	P24MerchantID, P24PosID                int
	P24APIKey, P24CRC                      string
	KSeFMode, KSeFURL, KSeFToken           string
}

func set[T string | []byte](v T) string {
	if len(v) == 0 {
		return "[unset]"
	}
	return "[set]"
}

func (c Config) shown() shown {
	s := shown{
		Dev: c.Dev, TemporalAddress: c.TemporalAddress, TemporalNamespace: c.TemporalNamespace, TaskQueue: c.TaskQueue,
		TemporalTLS: "off", TemporalAPIKey: set(c.Temporal.APIKey),
		MetricsAddr: c.MetricsAddr, OTLPEndpoint: c.OTLPEndpoint,
		DatabaseURL: redactURL(c.DatabaseURL), HTTPAddr: c.HTTPAddr,
		SMTPHost: c.SMTP.Host, SMTPPort: c.SMTP.Port, SMTPUsername: c.SMTP.Username, SMTPPassword: set(c.SMTP.Password),
		SMTPTLS: c.SMTP.TLS, SMTPFrom: c.SMTP.From,
		PartnerAPIURL: redactURL(c.PartnerAPIURL), PartnerAPIToken: set(c.PartnerAPIToken),
		WebhookSecret: set(c.WebhookSecret), IntakeKeys: len(c.IntakeKeys),
		PaymentDeadline: c.PaymentDeadline.String(),
		CredentialsKey:  set(c.CredentialsKey), BillingPanelURL: c.BillingPanelURL,
		CodecToken: set(c.CodecToken), CodecAddr: c.CodecAddr, CodecOrigins: c.CodecOrigins,
		P24URL: c.P24.URL, P24MerchantID: c.P24.MerchantID, P24PosID: c.P24.PosID,
		P24APIKey: set(c.P24.APIKey), P24CRC: set(c.P24.CRC),
		KSeFMode: c.KSeF.Mode, KSeFURL: c.KSeF.URL, KSeFToken: set(c.KSeF.Token),
	}
	if c.Temporal.TLS != nil {
		s.TemporalTLS = "on"
	}
	for _, r := range c.PaymentReminders {
		s.PaymentReminders = append(s.PaymentReminders, r.String())
	}
	for _, k := range c.PayloadKeys {
		s.PayloadKeyIDs = append(s.PayloadKeyIDs, k.ID)
	}
	return s
}

// redactURL hides a password in a URL; one that does not parse is hidden
// whole, since it cannot be told where its secret is.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparsable]"
	}
	return u.Redacted()
}

// Format serves every fmt verb: %v, %+v, %#v and %s alike.
func (c Config) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "config.Config%+v", c.shown())
}

// MarshalJSON writes the printable view.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.shown()) }

// MarshalLogObject serves zap.Object and zap.Any.
func (c Config) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return enc.AddReflected("settings", c.shown())
}
