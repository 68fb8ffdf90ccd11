package stack

import (
	"fmt"

	sdklog "go.temporal.io/sdk/log"
	"go.uber.org/zap"
)

// sdkLogger hands the Temporal SDK's key-value logging to zap, so that the
// worker, the client and our own code write one structured log.
type sdkLogger struct{ z *zap.SugaredLogger }

// SDKLogger adapts zap to the SDK's logger interface.
func SDKLogger(z *zap.Logger) sdklog.Logger {
	return sdkLogger{z: z.WithOptions(zap.AddCallerSkip(1)).Sugar()}
}

func (l sdkLogger) Debug(msg string, kv ...any) { l.z.Debugw(msg, fields(kv)...) }
func (l sdkLogger) Info(msg string, kv ...any)  { l.z.Infow(msg, fields(kv)...) }
func (l sdkLogger) Warn(msg string, kv ...any)  { l.z.Warnw(msg, fields(kv)...) }
func (l sdkLogger) Error(msg string, kv ...any) { l.z.Errorw(msg, fields(kv)...) }

func (l sdkLogger) With(kv ...any) sdklog.Logger { return sdkLogger{z: l.z.With(fields(kv)...)} }

// fields makes sure every key is a string: the SDK passes some as other
// types, which zap's sugar would report as errors.
func fields(kv []any) []any {
	out := make([]any, 0, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			k = fmt.Sprint(kv[i])
		}
		out = append(out, k, kv[i+1])
	}
	if len(kv)%2 == 1 {
		out = append(out, "extra", kv[len(kv)-1])
	}
	return out
}
