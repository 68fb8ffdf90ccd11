// Package srcscan parses the repository's own Go code for the tests that
// check it as text: no SQL built at run time, no credential compared with
// ==. Test files and testdata are left out.
package srcscan

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
)

// File is one parsed source file; Rel is its path from the root, with
// forward slashes.
type File struct {
	Rel string
	AST *ast.File
}

// Parse parses every non-test .go file under root into fset.
func Parse(root string, fset *token.FileSet) ([]File, error) {
	var files []File
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		files = append(files, File{Rel: filepath.ToSlash(rel), AST: f})
		return nil
	})
	return files, err
}
