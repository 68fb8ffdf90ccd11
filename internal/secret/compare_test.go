package secret_test

import (
	"go/ast"
	"go/token"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/officeflow/officeflow/internal/secret"
	"github.com/officeflow/officeflow/internal/srcscan"
	"github.com/stretchr/testify/require"
)

func TestEqual(t *testing.T) {
	require.True(t, secret.Equal("shop-key-1", "shop-key-1"))
	for _, presented := range []string{"", "shop-key-", "shop-key-12", "Shop-key-1", "shop-key-2", "shop-key-1 "} {
		require.False(t, secret.Equal(presented, "shop-key-1"), "%q", presented)
	}
}

// credential matches names of values that hold a key, token, secret or
// signature.
var credential = regexp.MustCompile(`(?i)(key|keys|token|secret|signature|sig|password)$`)

// No credential in the repository's code is compared with == or != (which
// stop at the first differing byte): only with secret.Equal or hmac.Equal.
// A comparison with "" or nil asks whether one is set, which is no secret.
func TestCredentialsAreComparedInConstantTime(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var found []string
	compared := 0
	files, err := srcscan.Parse(root, fset)
	require.NoError(t, err)
	for _, f := range files {
		ast.Inspect(f.AST, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				if n.Op != token.EQL && n.Op != token.NEQ {
					return true
				}
				if emptyOrNil(n.X) || emptyOrNil(n.Y) {
					return true
				}
				if credential.MatchString(name(n.X)) || credential.MatchString(name(n.Y)) {
					found = append(found, fset.Position(n.Pos()).String())
				}
			case *ast.CallExpr:
				if s, ok := n.Fun.(*ast.SelectorExpr); ok && s.Sel.Name == "Equal" {
					if p, ok := s.X.(*ast.Ident); ok && (p.Name == "secret" || p.Name == "hmac") {
						compared++
					}
				}
			}
			return true
		})
	}
	require.GreaterOrEqual(t, compared, 3, "the shop key, the codec token and the webhook signature are compared by secret.Equal or hmac.Equal")
	require.Empty(t, found, "a credential compared with == or !=; use secret.Equal")
}

// name is the last name in an identifier or selector (s.Keys -> Keys).
func name(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.IndexExpr:
		return name(e.X)
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); ok && id.Name == "string" && len(e.Args) == 1 {
			return name(e.Args[0])
		}
	}
	return ""
}

func emptyOrNil(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Value == `""` || e.Value == "``"
	case *ast.Ident:
		return e.Name == "nil"
	}
	return false
}
