package intake

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/officeflow/officeflow/internal/order"
)

// ErrorBody is every error answer: {"error":{"code":..,"field":..,"message":..}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail names what went wrong and where.
type ErrorDetail struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	// Free is how many seats are free, where a lack of them is the error.
	Free *int `json:"free,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, field, msg string) {
	writeJSON(w, status, ErrorBody{Error: ErrorDetail{Code: code, Field: field, Message: msg}})
}

func writeFieldError(w http.ResponseWriter, fe *order.FieldError) {
	status := http.StatusBadRequest
	if fe.Code == "too_large" {
		status = http.StatusRequestEntityTooLarge
	}
	writeError(w, status, fe.Code, fe.Field, fe.Message)
}

// decodeStrict reads one JSON object, refusing unknown fields, trailing data
// and bodies over maxBody, and names the field at fault.
func decodeStrict(w http.ResponseWriter, r *http.Request, v any) *order.FieldError {
	// The body is JSON whatever Content-Type says: curl --data sends a form
	// type by default, and the body's own check names what is wrong.
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonFieldError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &order.FieldError{Code: "invalid_json", Message: "body must hold exactly one JSON object"}
	}
	return nil
}

func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64:
		return "number"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice:
		return "array"
	case reflect.Bool:
		return "boolean"
	}
	return "string"
}

func jsonFieldError(err error) *order.FieldError {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		return &order.FieldError{Code: "too_large", Message: "body too large"}
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return &order.FieldError{Code: "invalid_json", Message: "body must be a JSON object"}
		}
		return &order.FieldError{Field: field, Code: "invalid_type", Message: field + " must be a JSON " + jsonKind(typeErr.Type.Kind())}
	case errors.As(err, &syntaxErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &order.FieldError{Code: "invalid_json", Message: "body is not valid JSON"}
	}
	// encoding/json says `json: unknown field "x"` with no typed error.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return &order.FieldError{Field: name, Code: "unknown_field", Message: "unknown field " + name}
	}
	return &order.FieldError{Code: "invalid_json", Message: "body is not valid JSON"}
}
