// Package layout holds no code: its tests check the shape of the
// repository as the go command sees it. No package imports one that imports
// it back, directly or through others, counting a folder's packages as part
// of it; nothing under internal/ imports the commands; and the production
// build (-tags production) of the worker and of starter links no embedded
// Temporal server, Web UI, fake or benchmark.
package layout
