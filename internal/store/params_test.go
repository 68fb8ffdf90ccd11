package store_test

import (
	"go/ast"
	"go/printer"
	"go/token"
	"maps"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/officeflow/officeflow/internal/srcscan"
	"github.com/stretchr/testify/require"
)

// Every SQL statement the repository sends is a constant: values go as
// parameters ($1...), never into the text. The only text built at run time
// is an identifier quoted by pgx.Identifier.Sanitize (DDL takes no
// parameters) and schema files the binary embeds, listed here with why.
//
// A helper that takes the statement as a parameter is trusted in its body
// when every call of it passes a constant (sqlParams: name -> argument).
var sqlParams = map[string]int{"undo": 4}

var trustedSQL = map[string]string{
	"internal/store/compensation.go:sql":  "undo's statement, a constant at every call (sqlParams)",
	"internal/store/store.go:string(sql)": "the numbered migration files embedded in the binary",
	"internal/devserver/postgres.go:stmt": "Temporal's own schema files, shipped with the server module",
}

func TestAllSQLIsParameterised(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	fset := token.NewFileSet()
	calls := 0
	var found []string
	files, err := srcscan.Parse(root, fset)
	require.NoError(t, err)
	// A package's constants, from any of its files: a statement may be
	// built from constants declared beside another query of the package.
	pkgConsts := map[string]map[string]bool{}
	for _, file := range files {
		dir := path.Dir(file.Rel)
		if pkgConsts[dir] == nil {
			pkgConsts[dir] = map[string]bool{}
		}
		maps.Copy(pkgConsts[dir], constNames(file.AST))
	}
	for _, file := range files {
		f, rel := file.AST, file.Rel
		consts := pkgConsts[path.Dir(rel)]
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if i, ok := sqlParams[sel.Sel.Name]; ok {
				calls++
				if i >= len(call.Args) || !constantSQL(call.Args[i], consts) {
					found = append(found, fset.Position(call.Pos()).String()+": "+sel.Sel.Name+" without a constant statement")
				}
				return true
			}
			switch sel.Sel.Name {
			case "Exec", "Query", "QueryRow", "Queue", "Prepare":
			default:
				return true
			}
			sql := call.Args[0]
			if len(call.Args) > 1 && isContext(call.Args[0]) {
				sql = call.Args[1]
			}
			calls++
			text := exprText(fset, sql)
			if constantSQL(sql, consts) {
				return true
			}
			if _, ok := trustedSQL[rel+":"+text]; ok {
				return true
			}
			found = append(found, fset.Position(sql.Pos()).String()+": "+text)
			return true
		})
	}
	require.Greater(t, calls, 30, "the scan found the repository's SQL calls")
	require.Empty(t, found, "SQL text built at run time; pass values as $n parameters")
}

func isContext(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "ctx"
	case *ast.CallExpr:
		if s, ok := e.Fun.(*ast.SelectorExpr); ok {
			if p, ok := s.X.(*ast.Ident); ok && p.Name == "context" {
				return true
			}
		}
	}
	return false
}

// constantSQL: string literals and the package's constants, joined by +, and
// identifiers quoted by pgx.Identifier{...}.Sanitize().
func constantSQL(e ast.Expr, consts map[string]bool) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Kind == token.STRING
	case *ast.Ident:
		return consts[e.Name]
	case *ast.ParenExpr:
		return constantSQL(e.X, consts)
	case *ast.BinaryExpr:
		return e.Op == token.ADD && constantSQL(e.X, consts) && constantSQL(e.Y, consts)
	case *ast.CallExpr:
		s, ok := e.Fun.(*ast.SelectorExpr)
		if !ok || s.Sel.Name != "Sanitize" {
			return false
		}
		lit, ok := s.X.(*ast.CompositeLit)
		if !ok {
			return false
		}
		typ, ok := lit.Type.(*ast.SelectorExpr)
		return ok && typ.Sel.Name == "Identifier"
	}
	return false
}

func constNames(f *ast.File) map[string]bool {
	out := map[string]bool{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			for _, n := range s.(*ast.ValueSpec).Names {
				out[n.Name] = true
			}
		}
	}
	return out
}

func exprText(fset *token.FileSet, e ast.Expr) string {
	var b strings.Builder
	_ = printer.Fprint(&b, fset, e)
	return b.String()
}
