// Command vulncheck reads govulncheck's JSON output on stdin, prints the
// vulnerabilities the code calls, and fails unless each is accepted in the
// file named by -accepted (one "ID reason" per line; # starts a comment).
// Findings only in imported packages or required modules are listed, not
// failed: govulncheck found no path from our code to them.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type frame struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Package  string `json:"package"`
	Function string `json:"function"`
}

type message struct {
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV          string  `json:"osv"`
		FixedVersion string  `json:"fixed_version"`
		Trace        []frame `json:"trace"`
	} `json:"finding"`
}

type vuln struct {
	id, summary, module, version, fixed string
	called, imported                    bool
}

func main() {
	acceptedFile := flag.String("accepted", ".ci/vuln-accepted.txt", "IDs accepted, with the reason")
	flag.Parse()
	accepted, err := readAccepted(*acceptedFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		os.Exit(2)
	}
	vulns := map[string]*vuln{}
	get := func(id string) *vuln {
		if vulns[id] == nil {
			vulns[id] = &vuln{id: id}
		}
		return vulns[id]
	}
	dec := json.NewDecoder(bufio.NewReader(os.Stdin))
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "vulncheck: reading govulncheck's output:", err)
			os.Exit(2)
		}
		if m.OSV != nil {
			get(m.OSV.ID).summary = m.OSV.Summary
		}
		if f := m.Finding; f != nil && len(f.Trace) > 0 {
			v := get(f.OSV)
			v.module, v.version, v.fixed = f.Trace[0].Module, f.Trace[0].Version, f.FixedVersion
			v.called = v.called || f.Trace[0].Function != ""
			v.imported = v.imported || f.Trace[0].Package != ""
		}
	}
	ids := make([]string, 0, len(vulns))
	for id, v := range vulns {
		if v.module != "" {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	failed, called := 0, 0
	for _, id := range ids {
		v := vulns[id]
		level := "module required"
		switch {
		case v.called:
			level = "CALLED"
			called++
		case v.imported:
			level = "package imported"
		}
		fixed := v.fixed
		if fixed == "" {
			fixed = "no fix"
		}
		verdict := ""
		if v.called {
			if why, ok := accepted[id]; ok {
				verdict = "accepted: " + why
			} else {
				verdict = "NOT ACCEPTED"
				failed++
			}
		}
		fmt.Printf("%-14s %-16s %s@%s (fixed in %s) %s\n    %s\n", id, level, v.module, v.version, fixed, verdict, v.summary)
	}
	fmt.Printf("vulncheck: %d vulnerabilities known in the build, %d reachable from our code, %d of them not accepted\n", len(ids), called, failed)
	if failed > 0 {
		os.Exit(1)
	}
}

func readAccepted(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, why, _ := strings.Cut(line, " ")
		if strings.TrimSpace(why) == "" {
			return nil, fmt.Errorf("%s: %s has no reason", path, id)
		}
		out[id] = strings.TrimSpace(why)
	}
	return out, nil
}
