package config_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/officeflow/officeflow/internal/config"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// However a Config is printed, no secret it holds shows.
func TestConfigNeverPrintsItsSecrets(t *testing.T) {
	clearEnv(t)
	cred, payload := key32(t), key32(t)
	secrets := map[string]string{
		"PAYMENT_WEBHOOK_SECRET": "webhook-s3cret-7d1c",
		"INTAKE_API_KEYS":        "shop-key-9a8b7c",
		"CREDENTIALS_KEY":        cred,
		"PAYLOAD_KEYS":           "k2:" + payload,
		"CODEC_TOKEN":            "codec-token-5e6f",
		"SMTP_PASSWORD":          "smtp-pass-1f2e",
		"PARTNER_API_TOKEN":      "partner-token-3d4c",
		"TEMPORAL_API_KEY":       "temporal-key-8g9h",
		"DATABASE_URL":           "postgres://app:db-pass-0x1y@127.0.0.1:5432/officeflow",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	c, err := config.Load(false)
	require.NoError(t, err)

	var zapOut strings.Builder
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(&zapOut), zap.DebugLevel))
	log.Info("starting", zap.Any("config", c), zap.Object("object", c), zap.Reflect("reflect", c))
	js, err := json.Marshal(c)
	require.NoError(t, err)
	printed := map[string]string{
		"%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c), "%#v": fmt.Sprintf("%#v", c),
		"%s": fmt.Sprintf("%s", c), "Sprint": fmt.Sprint(c), "pointer %v": fmt.Sprintf("%v", &c),
		"json": string(js), "zap": zapOut.String(),
	}
	hidden := []string{"webhook-s3cret-7d1c", "shop-key-9a8b7c", cred, payload, "codec-token-5e6f", "smtp-pass-1f2e",
		"partner-token-3d4c", "temporal-key-8g9h", "db-pass-0x1y"}
	for how, out := range printed {
		require.Contains(t, out, "TemporalNamespace", "%s prints the settings", how)
		require.Contains(t, out, "k2", "%s names the payload key by id", how)
		for _, s := range hidden {
			require.NotContains(t, out, s, "%s printed a secret", how)
		}
	}
}
